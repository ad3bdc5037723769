#include "daemon/store/sqlite.hpp"

#include <fmt/format.h>

namespace fw::store {

SqliteError::SqliteError(std::string doing, int code, std::string message)
    : StoreError(fmt::format("{}: {}", doing, message)),
      code_(code),
      doing_(std::move(doing)),
      message_(std::move(message)) {}

SqliteError SqliteError::of(sqlite3* db, int code, std::string_view doing) {
    // sqlite3_errmsg describes the last call on the connection; a code from elsewhere (the
    // connection could not even be made) only has SQLite's generic text.
    const int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
    const bool same_failure = (extended & 0xff) == (code & 0xff);
    return SqliteError(std::string(doing), same_failure ? extended : code,
                       same_failure && db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        db_ = other.db_;
        other.db_ = nullptr;
    }
    return *this;
}

Connection Connection::open(const std::string& path, OpenMode mode) {
    const int flags = (mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Connection connection(raw);
    if (rc != SQLITE_OK) throw SqliteError::of(raw, rc, fmt::format("opening {}", path));
    sqlite3_extended_result_codes(raw, 1);
    return connection;
}

void Connection::close() {
    if (db_ != nullptr) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

void execute(sqlite3* db, std::string_view sql, std::string_view doing) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return;
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw SqliteError(std::string(doing), sqlite3_extended_errcode(db), std::move(text));
}

Statement::Statement(sqlite3* db, std::string_view sql) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        const char* file = sqlite3_db_filename(db, "main");
        throw SqliteError::of(db, rc,
                              fmt::format("cannot prepare a query on {} ({})",
                                          file == nullptr ? "the store" : file, sql));
    }
}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = other.stmt_;
        other.stmt_ = nullptr;
    }
    return *this;
}

bool Statement::next_row(std::string_view doing) {
    const int rc = step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(stmt_);
        return false;
    }
    SqliteError error = SqliteError::of(database(), rc, doing);
    sqlite3_reset(stmt_);
    throw error;
}

void Statement::execute(std::string_view doing) {
    int rc = step();
    while (rc == SQLITE_ROW) rc = step();
    if (rc == SQLITE_DONE) {
        reset();
        return;
    }
    SqliteError error = SqliteError::of(database(), rc, doing);
    reset();
    throw error;
}

int Statement::run() {
    int rc = step();
    while (rc == SQLITE_ROW) rc = step();
    reset();
    return rc;
}

std::string Statement::column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (text == nullptr) return {};
    return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::column_blob(int column) const {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    if (bytes == nullptr) return {};
    return std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
    if (column_is_null(column)) return std::nullopt;
    return column_int64(column);
}

std::optional<double> Statement::column_optional_double(int column) const {
    if (column_is_null(column)) return std::nullopt;
    return column_double(column);
}

Transaction::Transaction(sqlite3* db, Kind kind, std::string doing)
    : db_(db), doing_(std::move(doing)) {
    execute(db_, kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN",
            fmt::format("starting the transaction for {}", doing_));
}

Transaction::~Transaction() {
    // A failed statement may have ended the transaction already (SQLITE_FULL, SQLITE_IOERR).
    if (open_ && sqlite3_get_autocommit(db_) == 0) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    open_ = false;
    try {
        execute(db_, "COMMIT", fmt::format("committing {}", doing_));
    } catch (const SqliteError&) {
        // A COMMIT that fails (SQLITE_BUSY, a deferred foreign key) leaves the transaction open.
        if (sqlite3_get_autocommit(db_) == 0) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
}

}  // namespace fw::store
