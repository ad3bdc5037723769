#include "daemon/store/sqlite_util.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/store/store.hpp"

namespace fw::store {

int latest_schema_version() {
    return detail::embedded_migrations().back().version;
}

namespace detail {
namespace {

constexpr std::string_view kLogInstance = "store";
constexpr int kReaderBusyTimeoutMs = 5000;
constexpr std::size_t kQuickCheckProblemsShown = 3;

std::string move_aside_advice(const std::string& path) {
    return fmt::format(
        "Nothing was deleted. Move it aside (mv {0} {0}.corrupt) to start with an empty store, or "
        "restore a backup ({0}.pre-v*.bak if there is one)",
        path);
}

// Turns an SQLite failure while checking the file into a message for plant IT.
[[noreturn]] void throw_open_failure(const std::string& path, int code, std::string_view detail) {
    switch (code & 0xff) {
        case SQLITE_NOTADB:
            throw StoreError(
                fmt::format("{} is not a floorwatch store: it is not an SQLite database "
                            "({}). {}",
                            path, detail, move_aside_advice(path)));
        case SQLITE_CORRUPT:
            throw StoreError(
                fmt::format("{} is damaged: {}. {}", path, detail, move_aside_advice(path)));
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
        case SQLITE_READONLY:
            throw StoreError(fmt::format(
                "cannot open the store {}: {}. Check that the user floorwatch runs as can read and "
                "write the file and its directory (ls -l), or set store.path to another file",
                path, detail));
        default:
            throw StoreError(fmt::format(
                "cannot read the store {}: {}. Nothing was changed. Check the disk (dmesg) and the "
                "file's permissions; if the file is damaged, move it aside (mv {} {}.corrupt)",
                path, detail, path, path));
    }
}

void check_quick(sqlite3* db, const std::string& path) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &raw, nullptr);
    if (rc != SQLITE_OK) throw_open_failure(path, rc, sqlite3_errmsg(db));
    std::vector<std::string> problems;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
        std::string line = text == nullptr ? "" : text;
        if (line != "ok") problems.push_back(std::move(line));
    }
    std::string error = sqlite3_errmsg(db);
    sqlite3_finalize(raw);
    if (rc != SQLITE_DONE) throw_open_failure(path, rc, error);
    if (problems.empty()) return;
    std::string summary;
    for (std::size_t i = 0; i < problems.size() && i < kQuickCheckProblemsShown; ++i) {
        if (!summary.empty()) summary += "; ";
        summary += problems[i];
    }
    if (problems.size() > kQuickCheckProblemsShown) {
        summary += fmt::format(" (and {} more)", problems.size() - kQuickCheckProblemsShown);
    }
    throw_open_failure(path, SQLITE_CORRUPT, fmt::format("PRAGMA quick_check found {}", summary));
}

void check_directory(const std::string& path) {
    namespace fs = std::filesystem;
    fs::path directory = fs::path(path).parent_path();
    if (directory.empty()) directory = ".";
    std::error_code error;
    if (!fs::is_directory(directory, error)) {
        throw StoreError(fmt::format(
            "cannot create the store {}: the directory {} does not exist. Create it (owned by the "
            "user floorwatch runs as) or set store.path to a file in an existing directory",
            path, directory.string()));
    }
}

std::string first_free_backup_path(const std::string& path, int target_version) {
    namespace fs = std::filesystem;
    std::string candidate = fmt::format("{}.pre-v{}.bak", path, target_version);
    std::error_code error;
    for (int attempt = 2; fs::exists(candidate, error) || error; ++attempt) {
        if (error) {
            throw StoreError(fmt::format("cannot check for an existing backup {}: {}", candidate,
                                         error.message()));
        }
        candidate = fmt::format("{}.pre-v{}.{}.bak", path, target_version, attempt);
    }
    return candidate;
}

}  // namespace

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        db_ = other.db_;
        other.db_ = nullptr;
    }
    return *this;
}

void Connection::close() {
    if (db_ != nullptr) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

Statement::Statement(sqlite3* db, std::string_view sql) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        const char* file = sqlite3_db_filename(db, "main");
        throw StoreError(fmt::format("cannot prepare a query on {} ({}): {}",
                                     file == nullptr ? "the store" : file, sql,
                                     sqlite3_errmsg(db)));
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

int read_user_version(sqlite3* db, const std::string& path) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr);
    if (rc != SQLITE_OK) throw_open_failure(path, rc, sqlite3_errmsg(db));
    rc = sqlite3_step(raw);
    const int version = rc == SQLITE_ROW ? sqlite3_column_int(raw, 0) : 0;
    std::string error = sqlite3_errmsg(db);
    sqlite3_finalize(raw);
    if (rc != SQLITE_ROW) throw_open_failure(path, rc, error);
    return version;
}

void exec_or_throw(sqlite3* db, const std::string& path, std::string_view sql,
                   std::string_view what) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        std::string text = message != nullptr ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        throw StoreError(fmt::format("{} on {} failed: {}", what, path, text));
    }
}

Connection open_store_file(const std::string& path, OpenMode mode, bool run_quick_check) {
    namespace fs = std::filesystem;
    std::error_code error;
    if (mode == OpenMode::read_write_create) {
        check_directory(path);
    } else if (!fs::exists(path, error)) {
        throw StoreError(fmt::format(
            "no floorwatch store at {}: is the path right? floorwatchd creates it when it first "
            "starts",
            path));
    }
    if (fs::is_directory(path, error)) {
        throw StoreError(fmt::format(
            "the store path {} is a directory; set store.path to a file inside it, e.g. "
            "{}/floorwatch.db",
            path, path));
    }

    const int flags = (mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Connection connection(raw);
    if (rc != SQLITE_OK) {
        throw_open_failure(path, rc, raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, kReaderBusyTimeoutMs);
    if (mode == OpenMode::read_write_create && sqlite3_db_readonly(raw, "main") == 1) {
        throw StoreError(fmt::format(
            "the store {} can only be opened read-only by this user; nothing was changed. Give "
            "the user floorwatch runs as write access to the file and its directory",
            path));
    }

    const int version = read_user_version(raw, path);
    if (run_quick_check) check_quick(raw, path);
    if (version > latest_schema_version()) {
        throw StoreError(fmt::format(
            "{} was written by a newer floorwatch (schema v{}, this build knows up to v{}); "
            "nothing was changed. Upgrade floorwatch, or set store.path to another file",
            path, version, latest_schema_version()));
    }
    return connection;
}

std::string backup_before_migration(sqlite3* db, const std::string& path, int target_version) {
    const std::string backup_path = first_free_backup_path(path, target_version);
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(backup_path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    Connection destination(raw);
    if (rc != SQLITE_OK) {
        throw StoreError(fmt::format(
            "cannot create the backup {} before migrating {}: {}; nothing was changed. Free some "
            "space or check the directory's permissions",
            backup_path, path, raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_backup* backup = sqlite3_backup_init(raw, "main", db, "main");
    if (backup == nullptr) {
        throw StoreError(fmt::format("cannot start the backup of {} to {}: {}", path, backup_path,
                                     sqlite3_errmsg(raw)));
    }
    rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
        throw StoreError(fmt::format(
            "the backup of {} to {} failed: {}; nothing was migrated. Free some space or check the "
            "directory's permissions",
            path, backup_path, sqlite3_errstr(rc)));
    }
    return backup_path;
}

MigrationOutcome migrate(sqlite3* db, const std::string& path,
                         std::span<const Migration> migrations) {
    MigrationOutcome outcome;
    outcome.from_version = read_user_version(db, path);
    outcome.to_version = migrations.empty() ? 0 : migrations.back().version;
    if (outcome.from_version >= outcome.to_version) {
        outcome.to_version = outcome.from_version;
        return outcome;
    }
    if (outcome.from_version >= 1) {
        outcome.backup_path = backup_before_migration(db, path, outcome.to_version);
        log_info(kLogInstance, "backed up {} (schema v{}) to {} before migrating to v{}", path,
                 outcome.from_version, *outcome.backup_path, outcome.to_version);
    }

    exec_or_throw(db, path, "BEGIN IMMEDIATE", "starting the migration transaction");
    try {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        const int current = read_user_version(db, path);
        for (const Migration& migration : migrations) {
            if (migration.version <= current) continue;
            exec_or_throw(db, path, migration.sql,
                          fmt::format("applying migration {}", migration.name));
        }
        exec_or_throw(db, path, fmt::format("PRAGMA user_version = {}", outcome.to_version),
                      "recording the schema version");
        exec_or_throw(db, path, "COMMIT", "committing the migration");
    } catch (const StoreError& failure) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw StoreError(fmt::format("{}. The migration was rolled back; the file is unchanged",
                                     failure.what()));
    }
    log_info(kLogInstance, "{}: schema migrated from v{} to v{}", path, outcome.from_version,
             outcome.to_version);
    return outcome;
}

}  // namespace detail
}  // namespace fw::store
