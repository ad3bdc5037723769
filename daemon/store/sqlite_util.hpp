#pragma once
// Private to the store: thin RAII wrappers over the SQLite C API, opening a store file with the
// checks every opener needs (exists, is a database, not damaged, not newer than this build), and
// the migrations embedded from schemas/ at build time.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fw::store::detail {

// One numbered file of schemas/, embedded by cmake/FwEmbed.cmake.
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Defined in the generated <target>_migrations.cpp, in version order 1, 2, 3, ...
std::span<const Migration> embedded_migrations();

class Connection {
  public:
    Connection() = default;
    explicit Connection(sqlite3* db) : db_(db) {}
    Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    sqlite3* get() const { return db_; }
    void close();

  private:
    sqlite3* db_ = nullptr;
};

// A prepared statement, reset after each use. Failures are return codes: the writer's hot path
// turns them into counted, logged errors; startup code turns them into StoreError.
class Statement {
  public:
    Statement() = default;
    Statement(sqlite3* db, std::string_view sql);  // throws StoreError if the SQL does not prepare
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
    void bind_null(int index) { sqlite3_bind_null(stmt_, index); }

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return sqlite3_step(stmt_); }
    // Makes the statement ready for the next use (bindings cleared).
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    // Hot path: ready for the next row, bindings kept because every one is bound again.
    void rewind() { sqlite3_reset(stmt_); }
    // Steps once to completion and resets; SQLITE_DONE on success.
    int run();

    std::int64_t column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
    double column_double(int column) const { return sqlite3_column_double(stmt_, column); }
    bool column_is_null(int column) const {
        return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
    }
    std::string column_text(int column) const;

  private:
    sqlite3_stmt* stmt_ = nullptr;
};

// The writer's page cache. Each commit touches the newest index page of every channel; SQLite's
// default 2 MiB holds the tails of only a few hundred channels, and past that every insert misses
// the cache. 8 MiB keeps ~2000 channels' tails resident, small enough for a gateway.
constexpr int kWriterCacheSizeKiB = 8192;

enum class OpenMode { read_write_create, read_only };

// Opens a store file and checks it before anything writes to it: the directory exists (create
// mode), the file exists (read-only mode), it is an SQLite database, `PRAGMA quick_check` passes
// (when run_quick_check), and its schema is not newer than this build. Throws StoreError naming the
// file, what is wrong and what to do; never changes the file.
Connection open_store_file(const std::string& path, OpenMode mode, bool run_quick_check);

int read_user_version(sqlite3* db, const std::string& path);

// Executes SQL that returns no rows (pragmas, migration scripts); throws StoreError with `what`.
void exec_or_throw(sqlite3* db, const std::string& path, std::string_view sql,
                   std::string_view what);

// Copies the database with SQLite's online backup API to `<path>.pre-v<target_version>.bak`
// (or `.pre-v<N>.<k>.bak` if that name is taken: nothing is overwritten). Returns the copy's path.
std::string backup_before_migration(sqlite3* db, const std::string& path, int target_version);

struct MigrationOutcome {
    int from_version = 0;
    int to_version = 0;
    std::optional<std::string> backup_path;
};

// Applies every migration newer than the file's user_version in one BEGIN IMMEDIATE transaction
// that also sets user_version. Files at version >= 1 are backed up first. Throws StoreError (the
// transaction rolled back) on failure.
MigrationOutcome migrate(sqlite3* db, const std::string& path,
                         std::span<const Migration> migrations);

}  // namespace fw::store::detail
