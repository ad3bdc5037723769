#pragma once
// The one way floorwatch code talks to SQLite: an owned connection, prepared statements with typed
// binds and column readers, checked transactions, and one error type that carries SQLite's result
// code, the database's message and what was being done. The writer and the reader, the alarm and
// order stores, the CLI, the tests and the benchmarks all use it (daemon/store/README.md).
//
// A statement runs in one of two ways, for two kinds of caller:
//  - checked: next_row() and execute() throw SqliteError. Startup, read-only queries, write jobs
//    (a job that throws fails alone; see WriteJob in store.hpp).
//  - raw: step() and run() return SQLite's result code. The writer's own hot path counts, logs
//    and retries a failed transaction instead of unwinding.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/store/store.hpp"

namespace fw::store {

// A failed SQLite call. what() reads "<doing>: <SQLite's message>".
class SqliteError : public StoreError {
  public:
    SqliteError(std::string doing, int code, std::string message);

    // The failure of the last call on `db` that returned `code`.
    static SqliteError of(sqlite3* db, int code, std::string_view doing);

    // The extended result code (SQLITE_CONSTRAINT_UNIQUE, SQLITE_IOERR_WRITE, ...) when the
    // connection reports them (every Connection does), else the primary one.
    int code() const { return code_; }
    int primary_code() const { return code_ & 0xff; }
    const std::string& doing() const { return doing_; }
    const std::string& sqlite_message() const { return message_; }

  private:
    int code_;
    std::string doing_;
    std::string message_;
};

enum class OpenMode { read_write_create, read_only };

// An open database handle, closed when it goes out of scope.
class Connection {
  public:
    Connection() = default;
    explicit Connection(sqlite3* db) : db_(db) {}
    Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    // Opens `path` as it is, with extended result codes on; throws SqliteError naming the file.
    // A store file is opened with open_store_file() (store_file.hpp), which checks it first.
    static Connection open(const std::string& path, OpenMode mode);

    sqlite3* get() const { return db_; }
    void close();

  private:
    sqlite3* db_ = nullptr;
};

// Runs SQL that returns no rows (pragmas, migration scripts, BEGIN ...); throws SqliteError.
void execute(sqlite3* db, std::string_view sql, std::string_view doing);

// Bytes bound as a BLOB rather than as TEXT.
struct Blob {
    std::string_view bytes;
};

// A prepared statement, reused by binding and running it again. Parameters are numbered from 1
// (?1, ?2, ...) and columns from 0. Text and blobs are bound without a copy: what they point to
// must live until the statement has run.
class Statement {
  public:
    Statement() = default;
    // Prepares `sql` on `db`; throws SqliteError naming the SQL when it does not prepare.
    Statement(sqlite3* db, std::string_view sql);
    Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement() { sqlite3_finalize(stmt_); }

    void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
    void bind(int index, std::uint64_t value) {
        // Counters are stored as SQLite integers (signed 64-bit); 2^63 events is out of reach.
        sqlite3_bind_int64(stmt_, index, static_cast<std::int64_t>(value));
    }
    void bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
    void bind(int index, std::string_view text) {
        sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    }
    void bind(int index, const std::string& text) { bind(index, std::string_view(text)); }
    void bind(int index, const char* text) { bind(index, std::string_view(text)); }
    // A temporary string would be gone before the statement runs.
    void bind(int index, std::string&& text) = delete;
    void bind(int index, Blob blob) {
        sqlite3_bind_blob64(stmt_, index, blob.bytes.data(), blob.bytes.size(), SQLITE_STATIC);
    }
    void bind(int index, std::nullopt_t) { bind_null(index); }
    template <typename T>
    void bind(int index, const std::optional<T>& value) {
        if (value) {
            bind(index, *value);
        } else {
            bind_null(index);
        }
    }
    void bind_null(int index) { sqlite3_bind_null(stmt_, index); }
    // Binds each value to ?1, ?2, ... in order, with the overloads above (so a temporary string
    // is refused here too): insert.bind_all(event.id, event.name, Blob{event.payload});
    template <typename... Values>
    void bind_all(Values&&... values) {
        int index = 0;
        (bind(++index, std::forward<Values>(values)), ...);
    }

    // Checked: true with a row to read, false at the end (the statement is then reset, ready for
    // the next use). Throws SqliteError with `doing` on a failure, after resetting. A caller
    // that stops before the end calls reset(), so that no read stays open.
    bool next_row(std::string_view doing);
    // Checked: runs to the end and resets, bindings cleared. Throws SqliteError with `doing`.
    void execute(std::string_view doing);

    // Raw: SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return sqlite3_step(stmt_); }
    // Raw: runs to the end and resets (bindings cleared); SQLITE_DONE on success.
    int run();
    // Ready for the next use, bindings cleared.
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    // Hot path: ready for the next row, bindings kept because every one is bound again.
    void rewind() { sqlite3_reset(stmt_); }

    std::int64_t column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
    double column_double(int column) const { return sqlite3_column_double(stmt_, column); }
    bool column_is_null(int column) const {
        return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
    }
    std::string column_text(int column) const;  // "" for NULL
    // Without a copy: valid until the next step, reset or column call on this column.
    std::string_view column_text_view(int column) const {
        const auto* text = sqlite3_column_text(stmt_, column);
        const int size = sqlite3_column_bytes(stmt_, column);
        if (text == nullptr) return {};
        return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
    }
    std::string column_blob(int column) const;  // the bytes; "" for NULL
    std::optional<std::int64_t> column_optional_int64(int column) const;
    std::optional<double> column_optional_double(int column) const;

    sqlite3* database() const { return sqlite3_db_handle(stmt_); }

  private:
    sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN ... COMMIT. Leaving the scope without commit() (an exception, an early return) rolls it
// back. Each step is checked: a BEGIN that fails (e.g. inside another transaction) throws
// SqliteError from the constructor instead of letting the reads or writes run outside the
// transaction; a COMMIT that fails rolls back and throws from commit().
class Transaction {
  public:
    enum class Kind {
        deferred,   // BEGIN: a read snapshot, or a write that takes the lock when it first writes
        immediate,  // BEGIN IMMEDIATE: takes the write lock at once
    };

    // `doing` names the work in errors ("reading the work orders").
    Transaction(sqlite3* db, Kind kind, std::string doing);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit();

  private:
    sqlite3* db_;
    std::string doing_;
    bool open_ = true;
};

}  // namespace fw::store
