#pragma once
// A throwaway PostgreSQL 15 server for tests: a cluster made by initdb in a fresh temporary
// folder, the server listening only on a unix socket in that folder (listen_addresses = ''),
// fsync off, trust authentication for the superuser `postgres`. The server runs as the test's user,
// or as `nobody` when the test runs as root (initdb refuses root); Debian installs its programs in
// /usr/lib/postgresql/15/bin, off PATH.
//
// The fixture runs `postgres` itself as its child rather than through `pg_ctl start`, so that the
// server goes with the test whatever happens: the destructor shuts it down (fast shutdown) and
// removes the folder, also when the test failed, and a parent-death signal set with setpriv stops
// it (immediate shutdown) when the test process dies without running destructors (a crash, kill -9,
// ctest's timeout). Create it on the thread that keeps it: that signal follows the creating thread.
//
// Usage, one server per test binary and one database per test case:
//   TEST_CASE_FIXTURE(fw::test::PostgresDatabase, "...") {
//       fw::pg::Connection connection(conninfo());
//   }

#include <filesystem>
#include <string>
#include <string_view>

#include "tests/support/process.hpp"

namespace fw::test {

class PostgresServer {
  public:
    // initdb and start; throws std::runtime_error with initdb's or the server's output if either
    // fails, or if the server does not accept connections within 30 s.
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // One server for the whole test binary, started on first use and stopped at exit.
    static PostgresServer& shared();

    // libpq conninfo for `database` on this server: "host=<folder> port=5432 user=postgres ...".
    std::string conninfo(std::string_view database = "postgres") const;
    // CREATE DATABASE with a name unique on this server, starting with `prefix`; returns the name.
    std::string create_database(std::string_view prefix = "test");
    // DROP DATABASE ... WITH (FORCE): also ends the sessions still connected to it.
    void drop_database(std::string_view name);

    const std::filesystem::path& directory() const { return directory_; }
    // The server's log (stderr), for failure messages.
    std::string log() const;

  private:
    void run_sql(const std::string& sql) const;

    std::filesystem::path directory_;
    ChildProcess server_;
};

// A fresh database on PostgresServer::shared() for one test case, dropped at its end.
class PostgresDatabase {
  public:
    PostgresDatabase();
    ~PostgresDatabase();
    PostgresDatabase(const PostgresDatabase&) = delete;
    PostgresDatabase& operator=(const PostgresDatabase&) = delete;

    const std::string& conninfo() const { return conninfo_; }
    const std::string& database_name() const { return name_; }
    PostgresServer& server() const { return server_; }

  private:
    PostgresServer& server_;
    std::string name_;
    std::string conninfo_;
};

}  // namespace fw::test
