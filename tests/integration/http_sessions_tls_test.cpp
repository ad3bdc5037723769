// The web server's sessions and TLS end to end, against a real floorwatchd over real sockets:
// a session not used for http.session_lifetime (its minimum, 1 minute: the test waits it out, as
// the project's tests use no fake clock) answers 401 and is deleted from the store by the sweep;
// `floorwatch user revoke` ends a user's sessions at once; with http.tls (a self-signed
// certificate made with `openssl req` in the test's folder) /healthz and sign-in work over TLS,
// the session cookie carries Secure, and plain HTTP to the TLS port gets no API answer.
//
// Not tested here: the warning for a non-loopback listener without TLS, which needs the daemon to
// listen on an address other than 127.0.0.1 (integration tests never do, docs/testing.md).

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/web_harness.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::HttpClient;
using fw::test::read_text_file;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

// A daemon without devices: what these tests need is its HTTP server, control socket and store.
std::string config_for(const TempDir& dir, const std::string& http) {
    return "gateway: {site: test-plant, node: gw-1, log_level: debug}\n"
           "store: {path: " +
           (dir / "fw.db").string() +
           ", commit_interval: 100ms}\n"
           "control: {socket: " +
           (dir / "control.sock").string() +
           "}\n"
           "equipment:\n  - {id: press-1, area: stamping}\n"
           "workflow:\n"
           "  prefixes: [{area: stamping, prefix: PRS}]\n"
           "  users:\n"
           "    - {name: sam, roles: team_lead}\n"
           "    - {name: sara, roles: safety}\n" +
           http;
}

// Rows of http_sessions for `user` in the store, read from a read-only connection.
long long stored_sessions(const fs::path& db, const std::string& user) {
    sqlite3* handle = nullptr;
    long long rows = -1;
    if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* select = nullptr;
        if (sqlite3_prepare_v2(handle, "SELECT count(*) FROM http_sessions WHERE user = ?1", -1,
                               &select, nullptr) == SQLITE_OK) {
            sqlite3_bind_text(select, 1, user.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(select) == SQLITE_ROW) rows = sqlite3_column_int64(select, 0);
        }
        sqlite3_finalize(select);
    }
    sqlite3_close(handle);
    return rows;
}

// `floorwatch user sessions --json`: the users with a live session, one entry per session.
std::vector<std::string> live_session_users(const TempDir& dir) {
    const auto listed = fw::test::run(
        dir, FW_CLI_BINARY, {"user", "sessions", "--json", "--config", (dir / "fw.yaml").string()});
    REQUIRE_MESSAGE(listed.exit_code == 0, listed.err);
    std::vector<std::string> users;
    const auto answer = json::parse(listed.out);
    for (const auto& row : answer.at("sessions").as_array()) {
        users.emplace_back(row.at("user").as_string());
    }
    return users;
}

}  // namespace

TEST_CASE("web sessions: a revoked session and an idle one past http.session_lifetime answer 401") {
    TempDir dir("fw-http-sessions");
    write_text_file(dir / "fw.yaml",
                    config_for(dir, "http: {listen: ['127.0.0.1:0'], session_lifetime: 60s}\n"));
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    const std::uint16_t port = fw::test::web_port(daemon.log);
    fw::test::set_password(dir, dir / "fw.yaml", "sam", "sam-secret-1");
    fw::test::set_password(dir, dir / "fw.yaml", "sara", "sara-secret-1");

    HttpClient sam(port);
    REQUIRE(sam.login("sam", "sam-secret-1").status == 200);
    HttpClient sara(port);
    REQUIRE(sara.login("sara", "sara-secret-1").status == 200);
    CHECK(sam.get("/api/v1/orders").status == 200);
    const auto sam_last_used = std::chrono::steady_clock::now();
    CHECK(sara.get("/api/v1/orders").status == 200);
    // A sign-in is answered before its session row is committed (a lost row costs a sign-in,
    // nothing else), so the rows are waited for.
    CHECK(fw::test::eventually([&] { return stored_sessions(dir / "fw.db", "sam") == 1; }, 10s));
    CHECK(fw::test::eventually([&] { return stored_sessions(dir / "fw.db", "sara") == 1; }, 10s));

    // Revoked: refused at once, gone from the list and from the store; sam's session lives on.
    const auto revoked = fw::test::run(
        dir, FW_CLI_BINARY, {"user", "revoke", "sara", "--config", (dir / "fw.yaml").string()});
    REQUIRE_MESSAGE(revoked.exit_code == 0, revoked.err);
    CHECK(revoked.out.find("1 web session(s) of sara ended") != std::string::npos);
    auto answer = sara.get("/api/v1/orders");
    CHECK(answer.status == 401);
    CHECK(sara.get("/api/v1/session").json().at("user").is_null());
    CHECK(stored_sessions(dir / "fw.db", "sara") == 0);
    CHECK(live_session_users(dir) == std::vector<std::string>{"sam"});

    // Idle past the lifetime: 1 minute after its last use.
    std::this_thread::sleep_until(sam_last_used + 62s);
    answer = sam.get("/api/v1/orders");
    CHECK(answer.status == 401);
    CHECK(answer.json().at("error").is_string());
    CHECK(sam.get("/api/v1/session").json().at("user").is_null());
    CHECK(live_session_users(dir).empty());
    // The sweep (every minute) deletes the ended session from the store.
    CHECK_MESSAGE(
        fw::test::eventually([&] { return stored_sessions(dir / "fw.db", "sam") == 0; }, 75s),
        read_text_file(daemon.log));
    // Signing in again opens a new session.
    CHECK(sam.login("sam", "sam-secret-1").status == 200);
    CHECK(sam.get("/api/v1/orders").status == 200);
}

TEST_CASE("web over TLS: /healthz, sign-in, a Secure cookie, and no answer to plain HTTP") {
    TempDir dir("fw-http-tls");
    const fs::path cert = dir / "cert.pem";
    const fs::path key = dir / "key.pem";
    const auto made =
        fw::test::run(dir, "/usr/bin/openssl",
                      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                       "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                       "-keyout", key.string(), "-out", cert.string()});
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    write_text_file(dir / "fw.yaml",
                    config_for(dir,
                               "http:\n  listen: ['127.0.0.1:0']\n"
                               "  tls: {cert: " +
                                   cert.string() + ", key: " + key.string() + "}\n"));
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    const std::uint16_t port = fw::test::web_port(daemon.log, "https");
    CHECK(read_text_file(daemon.log).find("without TLS") == std::string::npos);
    fw::test::set_password(dir, dir / "fw.yaml", "sam", "sam-secret-1");

    HttpClient sam(port, cert.string());
    CHECK(sam.origin() == "https://127.0.0.1:" + std::to_string(port));
    auto answer = sam.get("/healthz");
    CHECK(answer.status == 200);
    CHECK(sam.get("/api/v1/orders").status == 401);
    answer = sam.login("sam", "sam-secret-1");
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(std::string(answer.json().at("user").as_string()) == "sam");
    bool secure = false;
    for (const auto& cookie : answer.set_cookies) {
        if (cookie.starts_with("fw_session=") && cookie.find("; Secure") != std::string::npos &&
            cookie.find("HttpOnly") != std::string::npos) {
            secure = true;
        }
    }
    CHECK_MESSAGE(secure, "Set-Cookie: " << (answer.set_cookies.empty() ? std::string()
                                                                        : answer.set_cookies[0]));
    CHECK(sam.get("/api/v1/orders").status == 200);

    // curl, trusting only the test's certificate, sees the same server.
    const auto curl = fw::test::run(
        dir, "/usr/bin/curl",
        {"-sS", "--cacert", cert.string(), "https://localhost:" + std::to_string(port) + "/healthz",
         "--resolve", "localhost:" + std::to_string(port) + ":127.0.0.1", "-o",
         (dir / "healthz.out").string(), "-w", "%{http_code}"});
    CHECK_MESSAGE(curl.exit_code == 0, curl.err);
    CHECK(curl.out == "200");

    // Plain HTTP to the TLS port: no HTTP answer at all, let alone the API's.
    fw::test::RawConnection plain(port);
    plain.send("GET /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const std::string bytes = plain.read_until_close(5s);
    CHECK(bytes.find("HTTP/1.1") == std::string::npos);
    CHECK(bytes.find("\"language\"") == std::string::npos);
    // And the server still serves TLS afterwards.
    CHECK(sam.get("/healthz").status == 200);
}
