// The central store's PostgreSQL backend: fw::pg underneath, every statement prepared once per
// connection by name, write transactions READ COMMITTED with row locks and retried on 40001/40P01
// (daemon/store/pg/README.md), reads REPEATABLE READ so that one read sees one snapshot.

#include <fmt/format.h>

#include <optional>
#include <stdexcept>

#include "daemon/central/sql.hpp"
#include "daemon/core/log.hpp"
#include "daemon/store/pg/connection.hpp"
#include "daemon/store/pg/migrations.hpp"
#include "daemon/store/pg/transaction.hpp"

namespace fw::central {
namespace {

constexpr std::string_view kInstance = "central:store";

class PgRows final : public SqlRows {
  public:
    PgRows(std::string_view statement, pg::Result result)
        : statement_(statement), result_(std::move(result)) {}

    std::size_t size() const override { return result_.size(); }
    bool is_null(std::size_t row, int column) const override {
        return result_[row].is_null(column);
    }
    std::int64_t integer(std::size_t row, int column) const override {
        return result_[row].get<std::int64_t>(column);
    }
    double real(std::size_t row, int column) const override {
        return result_[row].get<double>(column);
    }
    bool boolean(std::size_t row, int column) const override {
        return result_[row].get<bool>(column);
    }
    std::string text(std::size_t row, int column) const override {
        return result_[row].get<std::string>(column);
    }
    std::string bytes(std::size_t row, int column) const override {
        return result_[row].get<pg::Bytea>(column).bytes;
    }
    std::int64_t affected() const override { return result_.affected_rows(); }

  private:
    std::string statement_;
    pg::Result result_;
};

class PgSession final : public SqlSession {
  public:
    explicit PgSession(std::unique_ptr<pg::Connection> connection)
        : connection_(std::move(connection)),
          description_("PostgreSQL " + connection_->description()) {}

    void transaction(SqlAccess access, const std::function<void()>& work) override {
        pg::TransactionOptions options;
        options.isolation = access == SqlAccess::write ? pg::Isolation::read_committed
                                                       : pg::Isolation::repeatable_read;
        options.on_retry = [this](const pg::Error& error, int attempt) {
            log_debug(kInstance,
                      "{}: transaction attempt {} rolled back by the server ({}); "
                      "running it again",
                      description_, attempt, error.what());
        };
        pg::with_transaction(
            *connection_, [&](pg::Transaction&) { work(); }, options);
    }

    const std::string& description() const override { return description_; }
    bool broken() const override { return !connection_->is_open(); }

  protected:
    std::unique_ptr<SqlRows> execute(const Sql& sql, std::span<const SqlParam> values) override {
        pg::Params params;
        params.reserve(values.size());
        for (const auto& value : values) {
            std::visit(
                [&](const auto& item) {
                    using T = std::decay_t<decltype(item)>;
                    if constexpr (std::is_same_v<T, SqlBlob>) {
                        params.add(pg::ByteaView{item.bytes});
                    } else {
                        params.add(item);
                    }
                },
                value);
        }
        return std::make_unique<PgRows>(
            sql.name, connection_->execute(pg::Query{sql.name, sql.text}, params));
    }

  private:
    std::unique_ptr<pg::Connection> connection_;
    std::string description_;
};

}  // namespace

std::unique_ptr<SqlSession> open_postgresql_session(const std::string& conninfo, bool read_only) {
    auto connection = std::make_unique<pg::Connection>(conninfo);
    if (read_only) {
        const int version = pg::schema_version(*connection);
        if (version == 0) {
            throw std::runtime_error(fmt::format(
                "{} holds no central store yet: start floorwatchd with role: central and this "
                "sync.postgresql once so that it creates the tables",
                connection->description()));
        }
    } else {
        const auto outcome = pg::migrate(*connection);
        if (outcome.from_version != outcome.to_version) {
            log_info(kInstance, "PostgreSQL {}: schema migrated from v{} to v{}",
                     connection->description(), outcome.from_version, outcome.to_version);
        }
    }
    return std::make_unique<PgSession>(std::move(connection));
}

}  // namespace fw::central
