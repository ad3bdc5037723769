// The central store's SQLite backend: the gateway store file with every migration applied,
// statements cached by name, write transactions as BEGIN IMMEDIATE.

#include <fmt/format.h>
#include <sqlite3.h>

#include <stdexcept>
#include <unordered_map>

#include "daemon/central/sql.hpp"
#include "daemon/core/log.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::central {
namespace {

constexpr std::string_view kInstance = "central:store";
// A CLI reading the file holds no lock that long; a second writer (not supported) would.
constexpr int kBusyTimeoutMs = 5000;

std::string without_row_locks(std::string_view text) {
    // BEGIN IMMEDIATE already serialises writers on the whole file.
    std::string sql(text);
    constexpr std::string_view kForUpdate = " FOR UPDATE";
    for (auto at = sql.find(kForUpdate); at != std::string::npos; at = sql.find(kForUpdate)) {
        sql.erase(at, kForUpdate.size());
    }
    return sql;
}

// SQLite's rows, copied out as the statement steps (a stepped statement cannot be read twice).
class SqliteRows final : public SqlRows {
  public:
    struct Cell {
        int type = SQLITE_NULL;
        std::int64_t integer = 0;
        double real = 0;
        std::string bytes;  // text or blob
    };

    SqliteRows(std::string_view statement, std::vector<std::vector<Cell>> rows,
               std::int64_t affected)
        : statement_(statement), rows_(std::move(rows)), affected_(affected) {}

    std::size_t size() const override { return rows_.size(); }
    bool is_null(std::size_t row, int column) const override {
        return cell(row, column).type == SQLITE_NULL;
    }
    std::int64_t integer(std::size_t row, int column) const override {
        const Cell& found = value(row, column, "an integer");
        if (found.type == SQLITE_INTEGER) return found.integer;
        if (found.type == SQLITE_FLOAT) return static_cast<std::int64_t>(found.real);
        fail(row, column, "an integer");
    }
    double real(std::size_t row, int column) const override {
        const Cell& found = value(row, column, "a number");
        if (found.type == SQLITE_FLOAT) return found.real;
        if (found.type == SQLITE_INTEGER) return static_cast<double>(found.integer);
        fail(row, column, "a number");
    }
    bool boolean(std::size_t row, int column) const override { return integer(row, column) != 0; }
    std::string text(std::size_t row, int column) const override {
        const Cell& found = value(row, column, "text");
        if (found.type == SQLITE_TEXT || found.type == SQLITE_BLOB) return found.bytes;
        if (found.type == SQLITE_INTEGER) return std::to_string(found.integer);
        fail(row, column, "text");
    }
    std::string bytes(std::size_t row, int column) const override {
        const Cell& found = value(row, column, "bytes");
        if (found.type == SQLITE_TEXT || found.type == SQLITE_BLOB) return found.bytes;
        fail(row, column, "bytes");
    }
    std::int64_t affected() const override { return affected_; }

  private:
    const Cell& cell(std::size_t row, int column) const {
        if (row >= rows_.size() || column < 0 ||
            static_cast<std::size_t>(column) >= rows_[row].size()) {
            throw std::runtime_error(
                fmt::format("{}: no row {} column {} in the result", statement_, row, column));
        }
        return rows_[row][static_cast<std::size_t>(column)];
    }
    const Cell& value(std::size_t row, int column, std::string_view as) const {
        const Cell& found = cell(row, column);
        if (found.type == SQLITE_NULL) {
            throw std::runtime_error(fmt::format("{}: column {} of row {} is NULL, read as {}",
                                                 statement_, column, row, as));
        }
        return found;
    }
    [[noreturn]] void fail(std::size_t row, int column, std::string_view as) const {
        throw std::runtime_error(fmt::format("{}: column {} of row {} cannot be read as {}",
                                             statement_, column, row, as));
    }

    std::string statement_;
    std::vector<std::vector<Cell>> rows_;
    std::int64_t affected_;
};

class SqliteSession final : public SqlSession {
  public:
    SqliteSession(std::string path, store::Connection connection)
        : path_(std::move(path)),
          description_("SQLite " + path_),
          connection_(std::move(connection)) {}

    ~SqliteSession() override {
        for (auto& [name, statement] : statements_) sqlite3_finalize(statement);
    }

    void transaction(SqlAccess access, const std::function<void()>& work) override {
        store::Transaction transaction(connection_.get(),
                                       access == SqlAccess::write
                                           ? store::Transaction::Kind::immediate
                                           : store::Transaction::Kind::deferred,
                                       "a central store transaction in " + path_);
        work();
        transaction.commit();
    }

    const std::string& description() const override { return description_; }
    bool broken() const override { return false; }

  protected:
    std::unique_ptr<SqlRows> execute(const Sql& sql, std::span<const SqlParam> params) override {
        sqlite3* db = connection_.get();
        sqlite3_stmt* statement = prepared(sql);
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        for (std::size_t index = 0; index < params.size(); ++index) {
            bind(statement, sql, index + 1, params[index]);
        }
        std::vector<std::vector<SqliteRows::Cell>> rows;
        const int columns = sqlite3_column_count(statement);
        int rc = SQLITE_OK;
        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
            auto& row = rows.emplace_back(static_cast<std::size_t>(columns));
            for (int column = 0; column < columns; ++column) {
                auto& cell = row[static_cast<std::size_t>(column)];
                cell.type = sqlite3_column_type(statement, column);
                switch (cell.type) {
                    case SQLITE_INTEGER:
                        cell.integer = sqlite3_column_int64(statement, column);
                        break;
                    case SQLITE_FLOAT:
                        cell.real = sqlite3_column_double(statement, column);
                        break;
                    case SQLITE_TEXT:
                    case SQLITE_BLOB: {
                        const void* data =
                            cell.type == SQLITE_TEXT
                                ? static_cast<const void*>(sqlite3_column_text(statement, column))
                                : sqlite3_column_blob(statement, column);
                        const int size = sqlite3_column_bytes(statement, column);
                        if (data != nullptr && size > 0) {
                            cell.bytes.assign(static_cast<const char*>(data),
                                              static_cast<std::size_t>(size));
                        }
                        break;
                    }
                    default:
                        break;
                }
            }
        }
        if (rc != SQLITE_DONE) {
            const std::string message = sqlite3_errmsg(db);
            sqlite3_reset(statement);
            throw store::StoreError(fmt::format("running {} on {}: {}", sql.name, path_, message));
        }
        const std::int64_t affected = sqlite3_changes64(db);
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        return std::make_unique<SqliteRows>(sql.name, std::move(rows), affected);
    }

  private:
    sqlite3_stmt* prepared(const Sql& sql) {
        const auto found = statements_.find(std::string(sql.name));
        if (found != statements_.end()) return found->second;
        const std::string text = without_row_locks(sql.text);
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v3(connection_.get(), text.c_str(), static_cast<int>(text.size()),
                               SQLITE_PREPARE_PERSISTENT, &statement, nullptr) != SQLITE_OK) {
            throw store::StoreError(fmt::format("preparing {} on {}: {}", sql.name, path_,
                                                sqlite3_errmsg(connection_.get())));
        }
        statements_.emplace(std::string(sql.name), statement);
        return statement;
    }

    void bind(sqlite3_stmt* statement, const Sql& sql, std::size_t number, const SqlParam& param) {
        // Parameters are written $1, $2, ...: SQLite numbers named parameters by first
        // appearance, so each is looked up by its name.
        const std::string name = "$" + std::to_string(number);
        const int index = sqlite3_bind_parameter_index(statement, name.c_str());
        if (index == 0) {
            throw store::StoreError(
                fmt::format("{}: the statement has no parameter {}", sql.name, name));
        }
        std::visit(
            [&](const auto& value) {
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::nullopt_t>) {
                    sqlite3_bind_null(statement, index);
                } else if constexpr (std::is_same_v<T, std::int64_t>) {
                    sqlite3_bind_int64(statement, index, value);
                } else if constexpr (std::is_same_v<T, double>) {
                    sqlite3_bind_double(statement, index, value);
                } else if constexpr (std::is_same_v<T, bool>) {
                    sqlite3_bind_int64(statement, index, value ? 1 : 0);
                } else if constexpr (std::is_same_v<T, std::string_view>) {
                    sqlite3_bind_text64(statement, index, value.data(), value.size(),
                                        SQLITE_TRANSIENT, SQLITE_UTF8);
                } else {
                    sqlite3_bind_blob64(statement, index, value.bytes.data(), value.bytes.size(),
                                        SQLITE_TRANSIENT);
                }
            },
            param);
    }

    std::string path_;
    std::string description_;
    store::Connection connection_;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

std::unique_ptr<SqlSession> open_sqlite_session(const std::string& path, bool read_only) {
    auto connection = store::open_store_file(
        path, read_only ? store::OpenMode::read_only : store::OpenMode::read_write_create,
        !read_only);
    sqlite3* db = connection.get();
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (!read_only) {
        store::execute(db, "PRAGMA journal_mode = WAL", "enabling WAL");
        store::execute(db, "PRAGMA synchronous = FULL", "setting synchronous");
        store::execute(db, "PRAGMA foreign_keys = ON", "enabling foreign keys");
        const auto outcome = store::migrate(db, path, store::embedded_migrations());
        log_info(kInstance, "{}: opened as the central store (schema v{})", path,
                 outcome.to_version);
    } else if (store::read_user_version(db, path) < store::latest_schema_version()) {
        throw store::StoreError(fmt::format(
            "{} has no central tables yet (schema v{}, this floorwatch writes v{}); start "
            "floorwatchd with role: central once so that it migrates the file",
            path, store::read_user_version(db, path), store::latest_schema_version()));
    }
    return std::make_unique<SqliteSession>(path, std::move(connection));
}

}  // namespace fw::central
