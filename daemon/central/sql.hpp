#pragma once
// The one seam between the central store's SQL and its two databases (README.md "Two backends,
// one SQL"). The central tables are written once, in SQL that SQLite 3.40 and PostgreSQL 15 both
// run: `$1`-numbered parameters, `INSERT ... ON CONFLICT ... DO UPDATE`, `RETURNING`, and
// `SELECT ... FOR UPDATE` to lock a row until commit (PostgreSQL; SQLite drops the clause, since
// its write transactions are BEGIN IMMEDIATE and so already one at a time). A session runs a
// statement and hands back typed cells; each backend converts its own types (booleans, blobs).
//
// A session is one connection, used by one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace fw::central {

// Bytes bound as a BLOB (SQLite) or bytea (PostgreSQL), never as text.
struct SqlBlob {
    std::string_view bytes;
};

using SqlParam =
    std::variant<std::nullopt_t, std::int64_t, double, bool, std::string_view, SqlBlob>;

// A statement: `name` is unique among the central store's statements (PostgreSQL prepares it
// under that name, SQLite caches it by name); `text` uses $1, $2, ...
struct Sql {
    std::string_view name;
    std::string_view text;
};

// The rows a statement returned; cells converted on request. Reading a NULL as a plain value, or
// a column the statement does not have, throws std::runtime_error naming the statement.
class SqlRows {
  public:
    virtual ~SqlRows() = default;
    virtual std::size_t size() const = 0;
    virtual bool is_null(std::size_t row, int column) const = 0;
    virtual std::int64_t integer(std::size_t row, int column) const = 0;
    virtual double real(std::size_t row, int column) const = 0;
    virtual bool boolean(std::size_t row, int column) const = 0;
    virtual std::string text(std::size_t row, int column) const = 0;
    virtual std::string bytes(std::size_t row, int column) const = 0;
    // Rows an INSERT, UPDATE or DELETE changed.
    virtual std::int64_t affected() const = 0;
};

// One row of a result. It shares the result's rows, so `db.run(...)[0]` stays valid after the
// statement's SqlResult is gone.
class SqlRow {
  public:
    SqlRow(std::shared_ptr<const SqlRows> rows, std::size_t index)
        : rows_(std::move(rows)), index_(index) {}
    bool is_null(int column) const { return rows_->is_null(index_, column); }
    std::int64_t integer(int column) const { return rows_->integer(index_, column); }
    std::uint64_t count(int column) const;  // a non-negative integer (sequence, size, count)
    double real(int column) const { return rows_->real(index_, column); }
    bool boolean(int column) const { return rows_->boolean(index_, column); }
    std::string text(int column) const { return rows_->text(index_, column); }
    std::string bytes(int column) const { return rows_->bytes(index_, column); }
    std::optional<std::int64_t> optional_integer(int column) const;
    std::optional<std::string> optional_text(int column) const;

  private:
    std::shared_ptr<const SqlRows> rows_;
    std::size_t index_;
};

class SqlResult {
  public:
    explicit SqlResult(std::unique_ptr<SqlRows> rows) : rows_(std::move(rows)) {}

    class Iterator {
      public:
        Iterator(std::shared_ptr<const SqlRows> rows, std::size_t index)
            : rows_(std::move(rows)), index_(index) {}
        SqlRow operator*() const { return SqlRow(rows_, index_); }
        Iterator& operator++() {
            ++index_;
            return *this;
        }
        bool operator==(const Iterator& other) const { return index_ == other.index_; }

      private:
        std::shared_ptr<const SqlRows> rows_;
        std::size_t index_;
    };

    std::size_t size() const { return rows_->size(); }
    bool empty() const { return size() == 0; }
    std::int64_t affected() const { return rows_->affected(); }
    SqlRow operator[](std::size_t index) const { return SqlRow(rows_, index); }
    std::optional<SqlRow> first() const {
        if (empty()) return std::nullopt;
        return SqlRow(rows_, 0);
    }
    Iterator begin() const { return Iterator(rows_, 0); }
    Iterator end() const { return Iterator(rows_, size()); }

  private:
    std::shared_ptr<const SqlRows> rows_;
};

enum class SqlAccess {
    read,   // a consistent snapshot; nothing written
    write,  // one writer at a time per locked row (PostgreSQL) or per file (SQLite)
};

// Where a store is, for messages: "SQLite /var/lib/floorwatch/central.db",
// "PostgreSQL database floorwatch on /run/postgresql:5432 as floorwatch".
class SqlSession {
  public:
    virtual ~SqlSession() = default;

    // Runs `work` in one transaction and commits it. When the database rolled it back because of
    // another transaction (PostgreSQL: serialization failure or deadlock), `work` runs again from
    // the start, so it must do nothing outside the database that cannot happen twice. Any other
    // failure rolls back and throws.
    virtual void transaction(SqlAccess access, const std::function<void()>& work) = 0;

    // Inside transaction(): runs one statement.
    template <typename... Args>
    SqlResult run(const Sql& sql, const Args&... args) {
        std::vector<SqlParam> params;
        params.reserve(sizeof...(args));
        (add_param(params, args), ...);
        return SqlResult(execute(sql, params));
    }

    virtual const std::string& description() const = 0;
    // Whether the connection was lost and a new session is needed (PostgreSQL; SQLite never).
    virtual bool broken() const = 0;

  protected:
    virtual std::unique_ptr<SqlRows> execute(const Sql& sql, std::span<const SqlParam> params) = 0;

  private:
    static void add_param(std::vector<SqlParam>& params, std::nullopt_t) {
        params.emplace_back(std::nullopt);
    }
    static void add_param(std::vector<SqlParam>& params, bool value) { params.emplace_back(value); }
    static void add_param(std::vector<SqlParam>& params, double value) {
        params.emplace_back(value);
    }
    template <typename Integer>
    requires(std::is_integral_v<Integer> &&
             !std::is_same_v<Integer, bool>) static void add_param(std::vector<SqlParam>& params,
                                                                   Integer value) {
        params.emplace_back(static_cast<std::int64_t>(value));
    }
    static void add_param(std::vector<SqlParam>& params, std::string_view text) {
        params.emplace_back(text);
    }
    static void add_param(std::vector<SqlParam>& params, const std::string& text) {
        params.emplace_back(std::string_view(text));
    }
    static void add_param(std::vector<SqlParam>& params, const char* text) {
        params.emplace_back(std::string_view(text));
    }
    static void add_param(std::vector<SqlParam>& params, SqlBlob blob) {
        params.emplace_back(blob);
    }
    template <typename T>
    static void add_param(std::vector<SqlParam>& params, const std::optional<T>& value) {
        if (value) {
            add_param(params, *value);
        } else {
            params.emplace_back(std::nullopt);
        }
    }
};

// Opens the central store in an SQLite store file: the normal gateway store, every migration of
// schemas/ applied (the central tables included), so `floorwatch orders --db` reads it as it
// reads a gateway's. `read_only` opens an existing file without migrating (the CLI). Throws
// store::StoreError naming the file.
std::unique_ptr<SqlSession> open_sqlite_session(const std::string& path, bool read_only);

// Opens the central store in PostgreSQL (libpq conninfo), applying the migrations of
// schemas/postgresql/ unless `read_only`; a read-only session refuses a database that was never
// migrated. Throws pg::Error / std::runtime_error saying what to check.
std::unique_ptr<SqlSession> open_postgresql_session(const std::string& conninfo, bool read_only);

}  // namespace fw::central
