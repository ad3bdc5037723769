#include "daemon/store/pg/migrations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "daemon/core/log.hpp"
#include "daemon/store/pg/transaction.hpp"

namespace fw::pg {
namespace {

constexpr std::string_view kLogInstance = "postgresql";

constexpr Query kTakeMigrationLock{"fw_migration_lock", "SELECT pg_advisory_xact_lock($1)"};
constexpr Query kSchemaVersionTableExists{"fw_schema_version_table_exists",
                                          "SELECT to_regclass('schema_version') IS NOT NULL"};
constexpr Query kReadSchemaVersion{"fw_read_schema_version",
                                   "SELECT COALESCE(MAX(version), 0) FROM schema_version"};
constexpr Query kRecordMigration{
    "fw_record_migration",
    "INSERT INTO schema_version (version, name, applied_ms) "
    "VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"};

constexpr std::string_view kCreateSchemaVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_ms BIGINT NOT NULL)";

int read_version(Connection& connection) {
    if (!connection.execute(kSchemaVersionTableExists).single().get<bool>(0)) return 0;
    return connection.execute(kReadSchemaVersion).single().get<std::int32_t>(0);
}

}  // namespace

int latest_schema_version() {
    const auto migrations = embedded_migrations();
    return migrations.empty() ? 0 : migrations.back().version;
}

int schema_version(Connection& connection) {
    return read_version(connection);
}

MigrationOutcome migrate(Connection& connection, std::span<const Migration> migrations) {
    MigrationOutcome outcome;
    const int target = migrations.empty() ? 0 : migrations.back().version;
    with_transaction(connection, [&](Transaction& transaction) {
        // Waits here while another process migrates; it commits (or rolls back) before we read.
        transaction.execute(kTakeMigrationLock, kMigrationLockKey);
        connection.run_script(kCreateSchemaVersionTable, "creating the schema_version table");
        outcome.from_version = read_version(connection);
        outcome.to_version = std::max(outcome.from_version, target);
        if (outcome.from_version > target) {
            throw Error(
                {.doing = "checking the schema of " + connection.description(),
                 .message = fmt::format(
                     "it is at version {}, newer than this floorwatch knows (version {}): a "
                     "newer floorwatch migrated it. Upgrade this one; nothing was changed",
                     outcome.from_version, target)});
        }
        for (const Migration& migration : migrations) {
            if (migration.version <= outcome.from_version) continue;
            try {
                connection.run_script(migration.sql,
                                      "applying migration " + std::string(migration.name));
            } catch (const Error& failure) {
                ErrorInfo info = failure.info();
                info.message += ". The migration was rolled back; the database is unchanged";
                throw Error(std::move(info));
            }
            transaction.execute(kRecordMigration, migration.version, migration.name);
        }
    });
    if (outcome.to_version != outcome.from_version) {
        log_info(kLogInstance, "{}: schema migrated from v{} to v{}", connection.description(),
                 outcome.from_version, outcome.to_version);
    }
    return outcome;
}

}  // namespace fw::pg
