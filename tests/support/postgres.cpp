#include "tests/support/postgres.hpp"

#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace fw::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kPostgresBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kSetpriv = "/usr/bin/setpriv";
// With listen_addresses = '' the port only names the socket file (.s.PGSQL.5432) in the folder,
// which is the test's own: no clash with another server.
constexpr int kPort = 5432;
// sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

// Who runs initdb and the server when the test runs as root.
struct ServerAccount {
    uid_t uid = 0;
    gid_t gid = 0;
};

std::optional<ServerAccount> account_for_root() {
    if (::geteuid() != 0) return std::nullopt;
    const passwd* user = ::getpwnam("nobody");
    const group* group = ::getgrnam("nogroup");
    if (user == nullptr || group == nullptr) {
        throw std::runtime_error(
            "the PostgreSQL test fixture runs the server as user nobody, group nogroup when the "
            "test runs as root (initdb refuses root), and this system lacks one of them");
    }
    return ServerAccount{user->pw_uid, group->gr_gid};
}

// Whether a user other than the owner can walk down to `folder`.
bool everyone_can_enter(const fs::path& folder) {
    for (fs::path path = fs::absolute(folder); !path.empty(); path = path.parent_path()) {
        struct stat status {};
        if (::stat(path.c_str(), &status) != 0 || (status.st_mode & S_IXOTH) == 0) return false;
        if (path == path.root_path()) break;
    }
    return true;
}

fs::path make_directory(bool for_another_user) {
    const char* tmpdir = std::getenv("TMPDIR");
    fs::path base = tmpdir != nullptr && *tmpdir != '\0' ? fs::path(tmpdir) : fs::path("/tmp");
    // nobody must reach the folder: a TMPDIR under root's home would stop the server at the door.
    if (for_another_user && !everyone_can_enter(base)) base = "/tmp";
    std::string pattern = (base / "fw-postgres-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("cannot create a folder for PostgreSQL under " + base.string() +
                                 ": " + std::strerror(errno));
    }
    return pattern;
}

// Runs `program` as the server's account (under root) with a parent-death signal: setpriv changes
// user and group and sets the signal, then executes the program in the same process.
ChildProcess spawn_as_server(const std::optional<ServerAccount>& account, const fs::path& program,
                             const std::vector<std::string>& args, const fs::path& log_path,
                             const std::string& death_signal) {
    std::vector<std::string> setpriv_args;
    if (account) {
        setpriv_args = {"--reuid=" + std::to_string(account->uid),
                        "--regid=" + std::to_string(account->gid), "--clear-groups"};
    }
    setpriv_args.insert(setpriv_args.end(), {"--pdeathsig", death_signal, "--", program.string()});
    setpriv_args.insert(setpriv_args.end(), args.begin(), args.end());
    SpawnOptions options;
    options.stdout_path = log_path;
    options.stderr_path = log_path;
    return ChildProcess::spawn(kSetpriv, setpriv_args, options);
}

// A conninfo value in single quotes, so that a folder with spaces or quotes still works.
std::string conninfo_value(std::string_view value) {
    std::string text = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') text += '\\';
        text += c;
    }
    return text + "'";
}

struct PgConnFinish {
    void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct PgResultClear {
    void operator()(PGresult* result) const { PQclear(result); }
};

}  // namespace

PostgresServer::PostgresServer() {
    const auto account = account_for_root();
    directory_ = make_directory(account.has_value());
    try {
        if ((directory_ / ".s.PGSQL.5432").string().size() > kMaxSocketPath) {
            throw std::runtime_error("the socket path under " + directory_.string() +
                                     " is too long for a unix socket; set TMPDIR shorter");
        }
        if (account && ::chown(directory_.c_str(), account->uid, account->gid) != 0) {
            throw std::runtime_error("cannot give " + directory_.string() +
                                     " to the server's user: " + std::strerror(errno));
        }
        const fs::path data = directory_ / "data";
        auto initdb =
            spawn_as_server(account, kPostgresBin / "initdb",
                            {"--pgdata=" + data.string(), "--username=postgres", "--auth=trust",
                             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                            directory_ / "initdb.log", "SIGKILL");
        const auto initdb_exit = initdb.wait_exit(120s);
        if (initdb_exit != 0) {
            throw std::runtime_error("initdb failed (exit " +
                                     (initdb_exit ? std::to_string(*initdb_exit) : "timeout") +
                                     "):\n" + read_text_file(directory_ / "initdb.log"));
        }
        // SIGQUIT is PostgreSQL's immediate shutdown: if the test dies, the server follows.
        server_ = spawn_as_server(
            account, kPostgresBin / "postgres",
            {"-D", data.string(), "-k", directory_.string(), "-p", std::to_string(kPort), "-c",
             "listen_addresses=",
             // A throwaway cluster: durability buys nothing, speed does.
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             // Deadlock tests wait this long before the server detects the cycle.
             "-c", "deadlock_timeout=100ms", "-c", "max_connections=50", "-c",
             "shared_buffers=32MB"},
            directory_ / "postgres.log", "SIGQUIT");
        const std::string ping_conninfo = conninfo() + " connect_timeout=2";
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (PQping(ping_conninfo.c_str()) != PQPING_OK) {
            if (!server_.running()) {
                throw std::runtime_error("PostgreSQL exited at start:\n" + log());
            }
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("PostgreSQL did not accept connections within 30 s:\n" +
                                         log());
            }
            std::this_thread::sleep_for(20ms);
        }
    } catch (...) {
        if (server_.running()) server_.stop(5s);
        std::error_code ignored;
        fs::remove_all(directory_, ignored);
        throw;
    }
}

PostgresServer::~PostgresServer() {
    // Fast shutdown: sessions still open are ended, no waiting for them as SIGTERM would.
    server_.send_signal(SIGINT);
    if (!server_.wait_exit(30s)) server_.stop(2s);
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
}

PostgresServer& PostgresServer::shared() {
    static PostgresServer server;
    return server;
}

std::string PostgresServer::conninfo(std::string_view database) const {
    return "host=" + conninfo_value(directory_.string()) + " port=" + std::to_string(kPort) +
           " user=postgres dbname=" + conninfo_value(database);
}

std::string PostgresServer::log() const {
    return read_text_file(directory_ / "postgres.log");
}

void PostgresServer::run_sql(const std::string& sql) const {
    const std::unique_ptr<PGconn, PgConnFinish> connection(
        PQconnectdb(conninfo("postgres").c_str()));
    if (PQstatus(connection.get()) != CONNECTION_OK) {
        throw std::runtime_error("cannot connect to the test's PostgreSQL: " +
                                 std::string(PQerrorMessage(connection.get())) + "\n" + log());
    }
    const std::unique_ptr<PGresult, PgResultClear> result(PQexec(connection.get(), sql.c_str()));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error(sql + ": " + PQerrorMessage(connection.get()));
    }
}

std::string PostgresServer::create_database(std::string_view prefix) {
    for (const char c : prefix) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            throw std::invalid_argument("database prefix '" + std::string(prefix) +
                                        "': use a-z, 0-9 and _");
        }
    }
    static std::atomic<int> created{0};
    std::string name = std::string(prefix) + "_" + std::to_string(++created);
    // From the pristine template by copying its files: several times faster than PostgreSQL 15's
    // default (WAL_LOG), whose crash safety a throwaway server does not need.
    run_sql("CREATE DATABASE \"" + name + "\" TEMPLATE template0 STRATEGY = FILE_COPY");
    return name;
}

void PostgresServer::drop_database(std::string_view name) {
    run_sql("DROP DATABASE IF EXISTS \"" + std::string(name) + "\" WITH (FORCE)");
}

PostgresDatabase::PostgresDatabase()
    : server_(PostgresServer::shared()),
      name_(server_.create_database("test")),
      conninfo_(server_.conninfo(name_)) {}

PostgresDatabase::~PostgresDatabase() {
    try {
        server_.drop_database(name_);
    } catch (const std::exception&) {
        // The server is removed with its folder at exit anyway.
    }
}

}  // namespace fw::test
