#pragma once
// The central store's schema on PostgreSQL: the numbered files of schemas/postgresql/, embedded at
// build time (cmake/FwEmbed.cmake), applied in order by migrate() and recorded in the table
// schema_version, one row per migration.

#include <cstdint>
#include <span>
#include <string_view>

#include "daemon/store/pg/connection.hpp"

namespace fw::pg {

// The advisory lock migrate() holds for its transaction: "floorwat" in ASCII, so that it reads as
// floorwatch's in pg_locks and no other application's lock is likely to share it.
inline constexpr std::int64_t kMigrationLockKey = 0x666c6f6f72776174;

// One numbered file of schemas/postgresql/.
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Defined in the generated fw_pg_migrations.cpp, in version order 1, 2, 3, ...
std::span<const Migration> embedded_migrations();

// The version the embedded migrations bring a database to.
int latest_schema_version();

// The highest migration recorded in the connection's database; 0 when none ever ran.
int schema_version(Connection& connection);

struct MigrationOutcome {
    int from_version = 0;
    int to_version = 0;
};

// Applies every migration newer than the database's version, all in one transaction that also
// records them, under a transaction-scoped advisory lock: when several central processes start at
// once, one migrates and the others wait, then find nothing left to do. Throws Error (the
// transaction rolled back, the database unchanged) when a migration fails, and when the database
// is newer than `migrations` (a newer floorwatch migrated it).
MigrationOutcome migrate(Connection& connection,
                         std::span<const Migration> migrations = embedded_migrations());

}  // namespace fw::pg
