// fw::pg against a real PostgreSQL 15 started by the test (tests/support/postgres.hpp): one server
// for the binary, a fresh database per test case. Concurrency is made real with several
// connections and threads, and each wait is observed in pg_stat_activity / pg_locks rather than
// guessed with sleeps.

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/pg/connection.hpp"
#include "daemon/store/pg/migrations.hpp"
#include "daemon/store/pg/transaction.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

namespace pg = fw::pg;
using fw::test::PostgresDatabase;
using namespace std::chrono_literals;

namespace {

// Runs `body` on a thread and hands its exception, if any, back to the test's thread.
class TestThread {
  public:
    template <typename Body>
    explicit TestThread(Body body)
        : thread_([this, body = std::move(body)]() mutable {
              try {
                  body();
              } catch (...) {
                  failure_ = std::current_exception();
              }
          }) {}
    ~TestThread() {
        if (thread_.joinable()) thread_.join();
    }
    TestThread(const TestThread&) = delete;
    TestThread& operator=(const TestThread&) = delete;

    void join() {
        thread_.join();
        if (failure_) std::rethrow_exception(failure_);
    }

  private:
    std::exception_ptr failure_;
    std::thread thread_;
};

// Whether the session `pid` is waiting for a lock held by another transaction.
bool waits_for_lock(pg::Connection& observer, int pid) {
    const auto row =
        observer
            .execute_unprepared("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
            .first();
    return row && row->get<std::optional<std::string>>(0) == "Lock";
}

constexpr pg::Query kAddOne{"add_one", "UPDATE items SET value = value + 1 WHERE id = $1"};
constexpr pg::Query kReadValue{"read_value", "SELECT value FROM items WHERE id = $1"};
constexpr pg::Query kReadValueForUpdate{"read_value_for_update",
                                        "SELECT value FROM items WHERE id = $1 FOR UPDATE"};
constexpr pg::Query kSetValue{"set_value", "UPDATE items SET value = $2 WHERE id = $1"};
constexpr pg::Query kInsertItem{"insert_item", "INSERT INTO items (id, value) VALUES ($1, $2)"};

void create_items(pg::Connection& connection, int count) {
    connection.run_script("CREATE TABLE items (id BIGINT PRIMARY KEY, value BIGINT NOT NULL)",
                          "creating items");
    for (int id = 1; id <= count; ++id) connection.execute(kInsertItem, id, 0);
}

std::int64_t value_of(pg::Connection& connection, int id) {
    return connection.execute(kReadValue, id).single().get<std::int64_t>(0);
}

}  // namespace

TEST_CASE("pg fixture: a private server on a unix socket only, removed with its folder") {
    std::filesystem::path directory;
    std::string conninfo;
    {
        fw::test::PostgresServer server;
        directory = server.directory();
        conninfo = server.conninfo();
        pg::Connection connection(conninfo);
        CHECK(connection.execute_unprepared("SHOW listen_addresses")
                  .single()
                  .get<std::string>(0)
                  .empty());
        CHECK(connection.execute_unprepared("SHOW fsync").single().get<std::string>(0) == "off");
        CHECK(connection.execute_unprepared("SHOW server_version_num")
                  .single()
                  .get<std::string>(0)
                  .starts_with("15"));
        const std::string name = server.create_database("fixture");
        pg::Connection other(server.conninfo(name));
        CHECK(other.is_open());
    }
    CHECK_FALSE(std::filesystem::exists(directory));

    // The same conninfo with nobody listening: the message says where and what to check.
    try {
        pg::Connection unreachable(conninfo + " connect_timeout=2");
        FAIL("connected to a server that was stopped");
    } catch (const pg::Error& error) {
        const std::string message = error.what();
        CHECK(error.connection_lost());
        CHECK(error.sqlstate().empty());
        CHECK(message.find("connecting to PostgreSQL (database postgres on " + directory.string() +
                           ":5432 as postgres)") != std::string::npos);
        CHECK(message.find("Is the server running there") != std::string::npos);
    }
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg: parameters of every type round-trip") {
    pg::Connection connection(conninfo());
    connection.run_script(
        "CREATE TABLE every_type (id BIGINT PRIMARY KEY, i64 BIGINT, i32 INTEGER, f64 DOUBLE "
        "PRECISION, txt TEXT, blob BYTEA, flag BOOLEAN)",
        "creating every_type");
    constexpr pg::Query kInsert{"insert_every_type",
                                "INSERT INTO every_type VALUES ($1, $2, $3, $4, $5, $6, $7)"};
    constexpr pg::Query kSelect{"select_every_type",
                                "SELECT i64, i32, f64, txt, blob, flag FROM every_type "
                                "WHERE id = $1"};

    std::string all_bytes;
    for (int byte = 0; byte < 256; ++byte) all_bytes += static_cast<char>(byte);
    const std::string text = "Schweißnaht 焊缝 'quoted' \"double\" back\\slash\ttab\nline";
    const double tiny = std::numeric_limits<double>::denorm_min();
    const double inf = std::numeric_limits<double>::infinity();

    connection.execute(kInsert, 1, std::numeric_limits<std::int64_t>::min(),
                       std::numeric_limits<std::int32_t>::max(), 0.1, text,
                       pg::ByteaView{all_bytes}, true);
    connection.execute(kInsert, 2, std::numeric_limits<std::int64_t>::max(), -7, tiny,
                       std::string(), pg::ByteaView{}, false);
    connection.execute(kInsert, 3, std::uint64_t{42}, std::int16_t{-3}, -inf, "x",
                       pg::Bytea{std::string(1, '\0')}, std::optional<bool>(true));
    connection.execute(kInsert, 4, std::nullopt, std::optional<std::int32_t>(), std::nullopt,
                       std::optional<std::string>(), std::optional<pg::Bytea>(),
                       std::optional<bool>());
    connection.execute(kInsert, 5, 0, 0, std::nan(""), "", pg::ByteaView{"\\x00"}, false);

    const auto first = connection.execute(kSelect, 1).single();
    CHECK(first.get<std::int64_t>(0) == std::numeric_limits<std::int64_t>::min());
    CHECK(first.get<std::int32_t>("i32") == std::numeric_limits<std::int32_t>::max());
    CHECK(first.get<double>("f64") == 0.1);
    CHECK(first.get<std::string>("txt") == text);
    CHECK(first.get<std::string_view>("txt") == text);
    CHECK(first.get<pg::Bytea>("blob").bytes == all_bytes);
    CHECK(first.get<bool>("flag"));

    const auto second = connection.execute(kSelect, 2).single();
    CHECK(second.get<std::int64_t>(0) == std::numeric_limits<std::int64_t>::max());
    CHECK(second.get<std::int32_t>(1) == -7);
    CHECK(second.get<double>(2) == tiny);
    CHECK(second.get<std::string>(3).empty());
    CHECK(second.get<pg::Bytea>(4).bytes.empty());
    CHECK_FALSE(second.get<bool>(5));

    const auto third = connection.execute(kSelect, 3).single();
    CHECK(third.get<std::uint64_t>(0) == 42);
    CHECK(third.get<std::int32_t>(1) == -3);
    CHECK(third.get<double>(2) == -inf);
    CHECK(third.get<pg::Bytea>(4).bytes == std::string(1, '\0'));
    CHECK(third.get<std::optional<bool>>(5) == true);

    const auto fourth = connection.execute(kSelect, 4).single();
    for (int column = 0; column < 6; ++column) CHECK(fourth.is_null(column));
    CHECK_FALSE(fourth.get<std::optional<std::int64_t>>(0).has_value());
    CHECK_FALSE(fourth.get<std::optional<std::int32_t>>(1).has_value());
    CHECK_FALSE(fourth.get<std::optional<double>>(2).has_value());
    CHECK_FALSE(fourth.get<std::optional<std::string>>(3).has_value());
    CHECK_FALSE(fourth.get<std::optional<pg::Bytea>>(4).has_value());
    CHECK_FALSE(fourth.get<std::optional<bool>>(5).has_value());

    const auto fifth = connection.execute(kSelect, 5).single();
    CHECK(std::isnan(fifth.get<double>(2)));
    // Bytes that look like bytea's hex escape are sent in binary, so they stay as they are.
    CHECK(fifth.get<pg::Bytea>(4).bytes == "\\x00");
    CHECK(fifth.get<std::optional<std::int64_t>>(0) == 0);

    // Unprepared SQL gets bytea parameters typed for it, and rows iterate in order.
    CHECK(connection.execute_unprepared("SELECT length($1)", pg::ByteaView{all_bytes})
              .single()
              .get<std::int64_t>(0) == 256);
    std::vector<std::int64_t> ids;
    for (const auto row :
         connection.execute_unprepared("SELECT id FROM every_type WHERE id > $1 ORDER BY id", 2)) {
        ids.push_back(row.get<std::int64_t>("id"));
    }
    CHECK(ids == std::vector<std::int64_t>{3, 4, 5});
    CHECK(connection.execute_unprepared("UPDATE every_type SET flag = NOT flag WHERE id < $1", 3)
              .affected_rows() == 2);
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg: misuse is refused with the column or parameter named") {
    pg::Connection connection(conninfo());
    const auto result = connection.execute_unprepared(
        "SELECT NULL::bigint AS missing, 'abc'::text AS word, '\\x01'::bytea AS blob, "
        "5000000000::bigint AS big, -1::bigint AS negative");
    const auto row = result.single();
    CHECK_THROWS_WITH_AS(row.get<std::int64_t>("missing"),
                         doctest::Contains("reading column missing (#0) of row 0 as int64: it is "
                                           "NULL; read it as std::optional"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(row.get<std::int64_t>("word"),
                         doctest::Contains("not a smallint, integer or bigint column"), pg::Error);
    CHECK_THROWS_WITH_AS(row.get<std::string>("blob"),
                         doctest::Contains("it is a bytea column; read it as pg::Bytea"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(row.get<pg::Bytea>("word"), doctest::Contains("not a bytea column"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(row.get<std::int32_t>("big"), doctest::Contains("does not fit"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(row.get<std::uint64_t>("negative"), doctest::Contains("is negative"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(row.get<bool>("nothing"),
                         doctest::Contains("no such column (it has: missing, word, blob, big"),
                         pg::Error);
    CHECK_THROWS_AS(result[1], pg::Error);
    CHECK_THROWS_WITH_AS(connection.execute_unprepared("SELECT 1 WHERE false").single(),
                         doctest::Contains("expected exactly one row, got 0"), pg::Error);
    CHECK_FALSE(connection.execute_unprepared("SELECT 1 WHERE false").first().has_value());

    CHECK_THROWS_WITH_AS(connection.execute_unprepared("SELECT $1::text", std::string("a\0b", 3)),
                         doctest::Contains("text cannot contain NUL bytes"), pg::Error);
    CHECK_THROWS_WITH_AS(connection.execute_unprepared("SELECT $1::bigint",
                                                       std::numeric_limits<std::uint64_t>::max()),
                         doctest::Contains("does not fit in a bigint"), pg::Error);

    connection.execute(pg::Query{"one", "SELECT 1"});
    CHECK_THROWS_WITH_AS(connection.execute(pg::Query{"one", "SELECT 2"}),
                         doctest::Contains("already prepared that name with different SQL"),
                         pg::Error);
    // The same statement again is prepared only once.
    CHECK(connection.execute(pg::Query{"one", "SELECT 1"}).single().get<std::int32_t>(0) == 1);
    CHECK(connection
              .execute_unprepared("SELECT count(*) FROM pg_prepared_statements WHERE name = 'one'")
              .single()
              .get<std::int64_t>(0) == 1);
}

TEST_CASE_FIXTURE(PostgresDatabase,
                  "pg: errors carry the SQLSTATE, the server's words and what "
                  "was being done") {
    pg::Connection connection(conninfo());
    create_items(connection, 1);
    try {
        connection.execute(kInsertItem, 1, 5);
        FAIL("a duplicate key was inserted");
    } catch (const pg::Error& error) {
        CHECK(error.sqlstate() == pg::sqlstate::kUniqueViolation);
        CHECK(error.info().constraint == "items_pkey");
        CHECK(error.info().detail == "Key (id)=(1) already exists.");
        CHECK(error.doing() == "running insert_item");
        CHECK_FALSE(error.connection_lost());
        CHECK_FALSE(error.is_transient());
        CHECK(std::string(error.what()) ==
              "running insert_item: duplicate key value violates unique constraint "
              "\"items_pkey\" (Key (id)=(1) already exists.) [SQLSTATE 23505]");
    }
    CHECK_THROWS_WITH_AS(connection.run_script("SELEKT 1", "testing a typo"),
                         doctest::Contains("testing a typo: syntax error at or near \"SELEKT\" "
                                           "[SQLSTATE 42601]"),
                         pg::Error);
    CHECK_THROWS_WITH_AS(connection.execute(pg::Query{"bad", "SELECT nope FROM items"}),
                         doctest::Contains("preparing bad: column \"nope\" does not exist"),
                         pg::Error);
    // The connection is still good after errors outside a transaction.
    CHECK(value_of(connection, 1) == 0);
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg: transactions commit when told, roll back otherwise") {
    pg::Connection connection(conninfo());
    create_items(connection, 0);

    SUBCASE("an exception leaving the scope rolls back") {
        try {
            pg::Transaction transaction(connection);
            transaction.execute(kInsertItem, 1, 10);
            throw std::runtime_error("the work failed half way");
        } catch (const std::runtime_error&) {
        }
        CHECK_FALSE(connection.in_transaction());
        CHECK(connection.execute_unprepared("SELECT count(*) FROM items").single().get<int>(0) ==
              0);
    }
    SUBCASE("commit stores, and a second commit is refused") {
        pg::Transaction transaction(connection);
        transaction.execute(kInsertItem, 1, 10);
        transaction.commit();
        CHECK(value_of(connection, 1) == 10);
        CHECK_THROWS_WITH_AS(transaction.commit(), doctest::Contains("already committed"),
                             pg::Error);
    }
    SUBCASE("commit after a failed statement is an error, not a silent rollback") {
        pg::Transaction transaction(connection);
        transaction.execute(kInsertItem, 1, 10);
        CHECK_THROWS_AS(transaction.execute(kInsertItem, 1, 11), pg::Error);
        CHECK_THROWS_WITH_AS(transaction.commit(),
                             doctest::Contains("the server rolled it back instead"), pg::Error);
        CHECK_FALSE(connection.in_transaction());
        CHECK(connection.execute_unprepared("SELECT count(*) FROM items").single().get<int>(0) ==
              0);
    }
    SUBCASE("transactions do not nest") {
        pg::Transaction transaction(connection);
        CHECK_THROWS_WITH_AS(pg::Transaction{connection}, doctest::Contains("do not nest"),
                             pg::Error);
    }
    SUBCASE("with_transaction commits, returns the work's value, and passes other errors on") {
        const auto stored = pg::with_transaction(connection, [](pg::Transaction& transaction) {
            transaction.execute(kInsertItem, 1, 7);
            return value_of(transaction.connection(), 1);
        });
        CHECK(stored == 7);
        int attempts = 0;
        CHECK_THROWS_AS(pg::with_transaction(connection,
                                             [&](pg::Transaction& transaction) {
                                                 ++attempts;
                                                 transaction.execute(kInsertItem, 2, 8);
                                                 transaction.execute(kInsertItem, 1, 9);
                                             }),
                        pg::Error);
        CHECK(attempts == 1);
        CHECK(connection.execute_unprepared("SELECT count(*) FROM items").single().get<int>(0) ==
              1);
    }
    SUBCASE("with_transaction gives up on a transient error after max_attempts") {
        int attempts = 0;
        std::vector<int> retried;
        CHECK_THROWS_WITH_AS(
            pg::with_transaction(
                connection,
                [&](pg::Transaction& transaction) {
                    ++attempts;
                    transaction.execute(kInsertItem, attempts, 1);
                    throw pg::Error({.doing = "simulating",
                                     .message = "conflict",
                                     .sqlstate = std::string(pg::sqlstate::kSerializationFailure)});
                },
                {.max_attempts = 3,
                 .on_retry = [&](const pg::Error&, int attempt) { retried.push_back(attempt); }}),
            doctest::Contains("gave up after 3 attempts"), pg::Error);
        CHECK(attempts == 3);
        CHECK(retried == std::vector<int>{1, 2});
        CHECK(connection.execute_unprepared("SELECT count(*) FROM items").single().get<int>(0) ==
              0);
    }
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg: with_transaction retries a real serialization failure") {
    pg::Connection first(conninfo());
    pg::Connection second(conninfo());
    create_items(first, 1);

    std::vector<std::string> retried_for;
    int attempts = 0;
    pg::with_transaction(
        second,
        [&](pg::Transaction& transaction) {
            ++attempts;
            const auto seen = transaction.execute(kReadValue, 1).single().get<std::int64_t>(0);
            if (attempts == 1) {
                // Another session changes the row after this snapshot read it and commits.
                pg::with_transaction(first,
                                     [](pg::Transaction& other) { other.execute(kAddOne, 1); },
                                     {.isolation = pg::Isolation::serializable});
            }
            transaction.execute(kSetValue, 1, seen + 1);
        },
        {.isolation = pg::Isolation::serializable, .on_retry = [&](const pg::Error& error, int) {
             retried_for.push_back(error.sqlstate());
         }});

    CHECK(attempts == 2);
    CHECK(retried_for ==
          std::vector<std::string>{std::string(pg::sqlstate::kSerializationFailure)});
    // Both increments count: the retry read the other's value.
    CHECK(value_of(first, 1) == 2);
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg: with_transaction retries a real deadlock") {
    pg::Connection setup(conninfo());
    create_items(setup, 2);

    // Each side locks its first row, waits until the other has too, then asks for the other's:
    // a cycle the server breaks (after deadlock_timeout) by failing one side with 40P01.
    std::barrier both_hold_one_row(2);
    std::atomic<int> retries{0};
    std::vector<std::string> sqlstates(2);
    auto cross_update = [&](int side, int first_row, int second_row) {
        pg::Connection connection(conninfo());
        int attempts = 0;
        pg::with_transaction(connection,
                             [&](pg::Transaction& transaction) {
                                 ++attempts;
                                 transaction.execute(kAddOne, first_row);
                                 if (attempts == 1) both_hold_one_row.arrive_and_wait();
                                 transaction.execute(kAddOne, second_row);
                             },
                             {.on_retry = [&](const pg::Error& error, int) {
                                 ++retries;
                                 sqlstates[static_cast<std::size_t>(side)] = error.sqlstate();
                             }});
    };
    TestThread a([&] { cross_update(0, 1, 2); });
    TestThread b([&] { cross_update(1, 2, 1); });
    a.join();
    b.join();

    CHECK(retries == 1);
    CHECK((sqlstates[0] + sqlstates[1]) == pg::sqlstate::kDeadlockDetected);
    // Both transactions are in: each row was incremented by both sides, once.
    CHECK(value_of(setup, 1) == 2);
    CHECK(value_of(setup, 2) == 2);
}

TEST_CASE_FIXTURE(PostgresDatabase,
                  "pg: SELECT ... FOR UPDATE holds a second connection until "
                  "commit") {
    pg::Connection holder(conninfo());
    pg::Connection observer(conninfo());
    create_items(holder, 1);

    pg::Transaction holding(holder);
    CHECK(holding.execute(kReadValueForUpdate, 1).single().get<std::int64_t>(0) == 0);

    SUBCASE("the second waits, then reads what the first committed") {
        std::atomic<int> waiter_pid{0};
        std::atomic<bool> waiter_done{false};
        std::int64_t waiter_saw = -1;
        TestThread waiter([&] {
            pg::Connection connection(conninfo());
            waiter_pid = connection.backend_pid();
            waiter_saw = pg::with_transaction(connection, [](pg::Transaction& transaction) {
                return transaction.execute(kReadValueForUpdate, 1).single().get<std::int64_t>(0);
            });
            waiter_done = true;
        });
        REQUIRE(fw::test::eventually(
            [&] { return waiter_pid != 0 && waits_for_lock(observer, waiter_pid); }, 10s));
        CHECK_FALSE(waiter_done);
        holding.execute(kSetValue, 1, 42);
        holding.commit();
        waiter.join();
        CHECK(waiter_saw == 42);
    }
    SUBCASE("with a lock timeout the second gives up with 55P03") {
        pg::Connection impatient(conninfo());
        pg::Transaction transaction(impatient);
        transaction.set_lock_timeout(50ms);
        try {
            transaction.execute(kReadValueForUpdate, 1);
            FAIL("the row lock was not held");
        } catch (const pg::Error& error) {
            CHECK(error.sqlstate() == pg::sqlstate::kLockNotAvailable);
        }
    }
}

TEST_CASE_FIXTURE(PostgresDatabase,
                  "pg migrations: 0001 applies once, then there is nothing to do") {
    pg::Connection connection(conninfo());
    CHECK(pg::schema_version(connection) == 0);
    REQUIRE(pg::latest_schema_version() >= 1);
    CHECK(pg::embedded_migrations().front().name == "0001_central.sql");

    const auto applied = pg::migrate(connection);
    CHECK(applied.from_version == 0);
    CHECK(applied.to_version == pg::latest_schema_version());
    CHECK(pg::schema_version(connection) == pg::latest_schema_version());

    const auto again = pg::migrate(connection);
    CHECK(again.from_version == pg::latest_schema_version());
    CHECK(again.to_version == pg::latest_schema_version());
    CHECK(connection.execute_unprepared("SELECT count(*) FROM schema_version")
              .single()
              .get<std::int64_t>(0) == pg::latest_schema_version());

    for (const char* table :
         {"store_identity", "order_events", "central_orders", "order_writer", "order_keys",
          "order_number_counters", "order_attachments", "recorded_incidents", "central_gateways",
          "central_down_cursor", "central_down", "central_quarantine", "central_integrity",
          "central_wanted", "central_wanted_chunks"}) {
        CAPTURE(table);
        CHECK(connection.execute_unprepared("SELECT to_regclass($1) IS NOT NULL", table)
                  .single()
                  .get<bool>(0));
    }
    const auto incarnation = connection.execute_unprepared("SELECT incarnation FROM store_identity")
                                 .single()
                                 .get<std::string>(0);
    CHECK(incarnation.size() == 32);
    CHECK(incarnation.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(connection.execute_unprepared("SELECT length(value) FROM order_keys")
              .single()
              .get<std::int32_t>(0) == 64);

    // An event from a gateway and its order row, as the central store will write them.
    connection.execute_unprepared(
        "INSERT INTO order_events (origin, sequence, order_id, type, actor, role, wall_ms, "
        "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash, gateway, "
        "received_ms) VALUES ($1, $2, $3, 'reported', 'system', 'system', $4, $5, $4, 0, 1, "
        "'{}', '', $6, $1, $7)",
        "plant.gw-1", std::uint64_t{1}, "plant.gw-1:1", std::int64_t{1764547200000}, true,
        std::string(64, 'a'), std::int64_t{1764547201000});
    CHECK_THROWS_WITH_AS(
        connection.execute_unprepared(
            "INSERT INTO order_events (origin, sequence, order_id, type, actor, role, wall_ms, "
            "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash, received_ms) "
            "VALUES ('plant.gw-1', 1, 'x', 'reported', 'system', 'system', 0, false, 0, 0, 1, "
            "'{}', '', 'b', 0)"),
        doctest::Contains("SQLSTATE 23505"), pg::Error);

    SUBCASE("a database newer than this build is refused, untouched") {
        connection.execute_unprepared(
            "INSERT INTO schema_version (version, name, applied_ms) VALUES (99, 'future.sql', 0)");
        CHECK_THROWS_WITH_AS(pg::migrate(connection),
                             doctest::Contains("it is at version 99, newer than this floorwatch"),
                             pg::Error);
        CHECK(pg::schema_version(connection) == 99);
    }
}

TEST_CASE_FIXTURE(PostgresDatabase, "pg migrations: a failing migration leaves nothing behind") {
    pg::Connection connection(conninfo());
    constexpr std::array<pg::Migration, 2> kBroken{{
        {1, "0001_fine.sql", "CREATE TABLE fine (id BIGINT PRIMARY KEY);"},
        {2, "0002_broken.sql", "CREATE TABLE broken (id BIGINT PRIMARY KEY, id BIGINT);"},
    }};
    CHECK_THROWS_WITH_AS(pg::migrate(connection, kBroken),
                         doctest::Contains("applying migration 0002_broken.sql: column \"id\" "
                                           "specified more than once"),
                         pg::Error);
    CHECK(pg::schema_version(connection) == 0);
    CHECK_FALSE(connection.execute_unprepared("SELECT to_regclass('fine') IS NOT NULL")
                    .single()
                    .get<bool>(0));
}

TEST_CASE_FIXTURE(PostgresDatabase,
                  "pg migrations: two processes migrating at once apply each "
                  "migration once") {
    // A third session holds the migration lock until both migrators are queued behind it, so the
    // two really run at the same time.
    pg::Connection gate(conninfo());
    pg::Connection observer(conninfo());
    pg::Transaction holding(gate);
    holding.execute_unprepared("SELECT pg_advisory_xact_lock($1)", pg::kMigrationLockKey);

    std::array<pg::MigrationOutcome, 2> outcomes;
    auto migrate_into = [&](std::size_t index) {
        pg::Connection connection(conninfo());
        outcomes[index] = pg::migrate(connection);
    };
    TestThread a([&] { migrate_into(0); });
    TestThread b([&] { migrate_into(1); });
    REQUIRE(fw::test::eventually(
        [&] {
            return observer
                       .execute_unprepared(
                           "SELECT count(*) FROM pg_locks WHERE locktype = "
                           "'advisory' AND NOT granted AND database = "
                           "(SELECT oid FROM pg_database WHERE datname = "
                           "current_database())")
                       .single()
                       .get<std::int64_t>(0) == 2;
        },
        10s));
    holding.rollback();
    a.join();
    b.join();

    const int latest = pg::latest_schema_version();
    CHECK(outcomes[0].to_version == latest);
    CHECK(outcomes[1].to_version == latest);
    // One of them migrated from nothing; the other found it done.
    CHECK(outcomes[0].from_version + outcomes[1].from_version == latest);
    CHECK(observer.execute_unprepared("SELECT count(*) FROM schema_version")
              .single()
              .get<std::int64_t>(0) == latest);
    CHECK(observer.execute_unprepared("SELECT count(*) FROM store_identity")
              .single()
              .get<std::int64_t>(0) == 1);
}
