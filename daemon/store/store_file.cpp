#include "daemon/store/store_file.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>
#include <vector>

#include "daemon/core/log.hpp"

namespace fw::store {

int latest_schema_version() {
    return embedded_migrations().back().version;
}

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

// Runs a query that checks the file and hands each row to `read_row`; a failure is reported as the
// file's problem (not a database, damaged, unreadable).
template <typename ReadRow>
void read_check_rows(sqlite3* db, const std::string& path, std::string_view sql, ReadRow read_row) {
    try {
        Statement query(db, sql);
        while (query.next_row(sql)) read_row(query);
    } catch (const SqliteError& error) {
        throw_open_failure(path, error.code(), error.sqlite_message());
    }
}

void check_quick(sqlite3* db, const std::string& path) {
    std::vector<std::string> problems;
    read_check_rows(db, path, "PRAGMA quick_check", [&](const Statement& row) {
        std::string line = row.column_text(0);
        if (line != "ok") problems.push_back(std::move(line));
    });
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

int read_user_version(sqlite3* db, const std::string& path) {
    std::optional<int> version;
    read_check_rows(db, path, "PRAGMA user_version",
                    [&](const Statement& row) { version = static_cast<int>(row.column_int64(0)); });
    if (!version) throw_open_failure(path, SQLITE_ERROR, "PRAGMA user_version returned no row");
    return *version;
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

    Connection connection;
    try {
        connection = Connection::open(path, mode);
    } catch (const SqliteError& failure) {
        throw_open_failure(path, failure.code(), failure.sqlite_message());
    }
    sqlite3* raw = connection.get();
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
    std::string backup_path = first_free_backup_path(path, target_version);
    Connection destination;
    try {
        destination = Connection::open(backup_path, OpenMode::read_write_create);
    } catch (const SqliteError& error) {
        throw StoreError(fmt::format(
            "cannot create the backup {} before migrating {}: {}; nothing was changed. Free some "
            "space or check the directory's permissions",
            backup_path, path, error.sqlite_message()));
    }
    sqlite3_backup* backup = sqlite3_backup_init(destination.get(), "main", db, "main");
    if (backup == nullptr) {
        throw StoreError(fmt::format("cannot start the backup of {} to {}: {}", path, backup_path,
                                     sqlite3_errmsg(destination.get())));
    }
    const int rc = sqlite3_backup_step(backup, -1);
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

    Transaction transaction(db, Transaction::Kind::immediate, fmt::format("migrating {}", path));
    try {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        const int current = read_user_version(db, path);
        for (const Migration& migration : migrations) {
            if (migration.version <= current) continue;
            execute(db, migration.sql,
                    fmt::format("applying migration {} on {}", migration.name, path));
        }
        execute(db, fmt::format("PRAGMA user_version = {}", outcome.to_version),
                fmt::format("recording the schema version on {}", path));
        transaction.commit();
    } catch (const StoreError& failure) {
        // Leaving the scope rolls the transaction back (a failed commit() already has).
        throw StoreError(fmt::format("{}. The migration was rolled back; the file is unchanged",
                                     failure.what()));
    }
    log_info(kLogInstance, "{}: schema migrated from v{} to v{}", path, outcome.from_version,
             outcome.to_version);
    return outcome;
}

}  // namespace fw::store
