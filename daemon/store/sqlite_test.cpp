// The SQLite helper on its own, on in-memory and temporary databases: binds and column readers,
// the error type, checked statements and transactions.

#include "daemon/store/sqlite.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <optional>
#include <string>

using fw::store::Blob;
using fw::store::Connection;
using fw::store::execute;
using fw::store::OpenMode;
using fw::store::SqliteError;
using fw::store::Statement;
using fw::store::StoreError;
using fw::store::Transaction;

namespace {

Connection memory_database() {
    Connection connection = Connection::open(":memory:", OpenMode::read_write_create);
    execute(connection.get(), "CREATE TABLE t (a, b, c)", "creating the test table");
    return connection;
}

std::int64_t count_rows(sqlite3* db) {
    Statement count(db, "SELECT count(*) FROM t");
    REQUIRE(count.next_row("counting"));
    const auto rows = count.column_int64(0);
    count.reset();
    return rows;
}

bool in_transaction(sqlite3* db) {
    return sqlite3_get_autocommit(db) == 0;
}

}  // namespace

TEST_CASE("every bind reads back through its column reader") {
    Connection connection = memory_database();
    sqlite3* db = connection.get();
    Statement insert(db, "INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)");
    const std::string text("text with a \0 inside", 20);
    const std::string bytes("\x00\x01\xff", 3);
    insert.bind(1, std::numeric_limits<std::int64_t>::min());
    insert.bind(2, std::uint64_t{1} << 62);
    insert.bind(3, 2.5);
    insert.execute("inserting numbers");
    insert.bind(1, text);
    insert.bind(2, Blob{bytes});
    insert.bind(3, "a literal");
    insert.execute("inserting text and bytes");
    insert.bind(1, std::optional<double>(7.25));
    insert.bind(2, std::optional<std::int64_t>());
    insert.bind(3, std::nullopt);
    insert.execute("inserting optionals");
    insert.bind(1, std::string_view("view"));
    insert.bind_null(2);
    insert.execute("inserting a view and a null");

    Statement select(db, "SELECT a, b, c FROM t ORDER BY rowid");
    REQUIRE(select.next_row("reading"));
    CHECK(select.column_int64(0) == std::numeric_limits<std::int64_t>::min());
    CHECK(select.column_int64(1) == std::int64_t{1} << 62);
    CHECK(select.column_double(2) == 2.5);
    REQUIRE(select.next_row("reading"));
    CHECK(select.column_text(0) == text);
    CHECK(select.column_blob(1) == bytes);
    CHECK(select.column_text(2) == "a literal");
    REQUIRE(select.next_row("reading"));
    CHECK(select.column_optional_double(0) == 7.25);
    CHECK(select.column_is_null(1));
    CHECK(select.column_optional_int64(1) == std::nullopt);
    CHECK(select.column_optional_double(2) == std::nullopt);
    CHECK(select.column_text(2).empty());
    CHECK(select.column_blob(2).empty());
    REQUIRE(select.next_row("reading"));
    CHECK(select.column_text(0) == "view");
    CHECK(select.column_is_null(1));
    CHECK_FALSE(select.next_row("reading"));
    // At the end the statement was reset: it runs again from the first row.
    REQUIRE(select.next_row("reading"));
    CHECK(select.column_int64(0) == std::numeric_limits<std::int64_t>::min());
    select.reset();
}

TEST_CASE("a failure carries SQLite's code, its message and what was being done") {
    Connection connection = memory_database();
    sqlite3* db = connection.get();
    execute(db, "CREATE UNIQUE INDEX t_a ON t (a)", "indexing");
    Statement insert(db, "INSERT INTO t (a) VALUES (?1)");
    insert.bind(1, std::int64_t{1});
    insert.execute("inserting the first row");
    insert.bind(1, std::int64_t{1});
    try {
        insert.execute("inserting row 1 again");
        FAIL("a repeated unique key was accepted");
    } catch (const SqliteError& error) {
        CHECK(error.code() == SQLITE_CONSTRAINT_UNIQUE);
        CHECK(error.primary_code() == SQLITE_CONSTRAINT);
        CHECK(error.doing() == "inserting row 1 again");
        CHECK(error.sqlite_message() == "UNIQUE constraint failed: t.a");
        CHECK(std::string(error.what()) == "inserting row 1 again: UNIQUE constraint failed: t.a");
    }
    // The failed statement was reset and is usable again.
    insert.bind(1, std::int64_t{2});
    insert.execute("inserting row 2");
    CHECK(count_rows(db) == 2);

    CHECK_THROWS_WITH_AS(Statement(db, "SELECT x FROM nowhere"),
                         doctest::Contains("(SELECT x FROM nowhere): no such table: nowhere"),
                         SqliteError);
    CHECK_THROWS_WITH_AS(execute(db, "DROP TABLE nowhere", "dropping a table"),
                         "dropping a table: no such table: nowhere", SqliteError);
    // Whoever catches the store's own errors catches these too.
    CHECK_THROWS_AS(execute(db, "DROP TABLE nowhere", "dropping a table"), StoreError);
}

TEST_CASE("opening a file that is not there read-only fails with SQLITE_CANTOPEN") {
    try {
        Connection::open("/nonexistent-floorwatch-dir/fw.db", OpenMode::read_only);
        FAIL("opened a missing file");
    } catch (const SqliteError& error) {
        CHECK(error.primary_code() == SQLITE_CANTOPEN);
        CHECK(error.doing() == "opening /nonexistent-floorwatch-dir/fw.db");
    }
}

TEST_CASE("a transaction commits, and rolls back when its scope is left without commit()") {
    Connection connection = memory_database();
    sqlite3* db = connection.get();
    {
        Transaction transaction(db, Transaction::Kind::immediate, "the first row");
        execute(db, "INSERT INTO t (a) VALUES (1)", "inserting");
        transaction.commit();
    }
    CHECK(count_rows(db) == 1);
    CHECK_FALSE(in_transaction(db));
    try {
        Transaction transaction(db, Transaction::Kind::deferred, "a row that is not kept");
        execute(db, "INSERT INTO t (a) VALUES (2)", "inserting");
        execute(db, "INSERT INTO nowhere VALUES (3)", "inserting elsewhere");
        transaction.commit();
    } catch (const SqliteError&) {
    }
    CHECK(count_rows(db) == 1);
    CHECK_FALSE(in_transaction(db));
}

TEST_CASE("BEGIN inside a transaction throws and leaves the outer transaction alone") {
    Connection connection = memory_database();
    sqlite3* db = connection.get();
    execute(db, "BEGIN", "the outer transaction");
    execute(db, "INSERT INTO t (a) VALUES (1)", "inserting");
    CHECK_THROWS_WITH_AS(Transaction(db, Transaction::Kind::deferred, "reading t"),
                         doctest::Contains("within a transaction"), SqliteError);
    REQUIRE(in_transaction(db));
    execute(db, "ROLLBACK", "the outer transaction");
    CHECK(count_rows(db) == 0);
}

TEST_CASE("a COMMIT that fails throws, and the transaction is rolled back") {
    Connection connection = Connection::open(":memory:", OpenMode::read_write_create);
    sqlite3* db = connection.get();
    execute(db,
            "PRAGMA foreign_keys = ON; CREATE TABLE parent (id INTEGER PRIMARY KEY); "
            "CREATE TABLE child (parent REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
            "creating the tables");
    {
        Transaction transaction(db, Transaction::Kind::immediate, "an orphan");
        // A deferred foreign key is only checked at COMMIT.
        execute(db, "INSERT INTO child VALUES (42)", "inserting an orphan");
        try {
            transaction.commit();
            FAIL("an orphan was committed");
        } catch (const SqliteError& error) {
            CHECK(error.primary_code() == SQLITE_CONSTRAINT);
            CHECK(error.doing() == "committing an orphan");
        }
        CHECK_FALSE(in_transaction(db));
    }
    Statement count(db, "SELECT count(*) FROM child");
    REQUIRE(count.next_row("counting"));
    CHECK(count.column_int64(0) == 0);
}
