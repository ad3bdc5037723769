#pragma once
// Opening a store file with the checks every opener needs (exists, is a database, not damaged, not
// newer than this build), and the schema migrations embedded from schemas/ at build time. The
// writer opens read-write and migrates; the reader, the alarm and order stores and the CLI open
// read-only.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/store/sqlite.hpp"

namespace fw::store {

// One numbered file of schemas/, embedded by cmake/FwEmbed.cmake.
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Defined in the generated <target>_migrations.cpp, in version order 1, 2, 3, ...
std::span<const Migration> embedded_migrations();

// The writer's page cache. Each commit touches the newest index page of every channel; SQLite's
// default 2 MiB holds the tails of only a few hundred channels, and past that every insert misses
// the cache. 8 MiB keeps ~2000 channels' tails resident, small enough for a gateway.
constexpr int kWriterCacheSizeKiB = 8192;

// Opens a store file and checks it before anything writes to it: the directory exists (create
// mode), the file exists (read-only mode), it is an SQLite database, `PRAGMA quick_check` passes
// (when run_quick_check), and its schema is not newer than this build. Throws StoreError naming the
// file, what is wrong and what to do; never changes the file.
Connection open_store_file(const std::string& path, OpenMode mode, bool run_quick_check);

// The file's schema version (PRAGMA user_version); throws StoreError naming the file.
int read_user_version(sqlite3* db, const std::string& path);

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

}  // namespace fw::store
