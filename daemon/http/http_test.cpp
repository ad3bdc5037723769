// The parts of daemon/http that need no daemon: request parsing, routing, the embedded files,
// multipart, login throttling, sessions, password hashes, the Prometheus text, and the server
// itself over real loopback sockets with a test handler (limits, timeouts, the connection cap,
// event streams, TLS with a certificate made here with openssl).

#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "daemon/http/event_hub.hpp"
#include "daemon/http/login_throttle.hpp"
#include "daemon/http/multipart.hpp"
#include "daemon/http/passwords.hpp"
#include "daemon/http/prometheus.hpp"
#include "daemon/http/request_parts.hpp"
#include "daemon/http/router.hpp"
#include "daemon/http/server.hpp"
#include "daemon/http/sessions.hpp"
#include "daemon/http/static_files.hpp"
#include "daemon/http/work_pool.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fw::http::LoginThrottle;

// --- request parts ---

TEST_CASE("listen addresses: IPv4 and bracketed IPv6 with a port, nothing else") {
    const auto v4 = fw::http::parse_listen_address("127.0.0.1:8080");
    REQUIRE(v4);
    CHECK(v4->port == 8080);
    CHECK(v4->loopback());
    CHECK(v4->to_string() == "127.0.0.1:8080");
    const auto v6 = fw::http::parse_listen_address("[::1]:8443");
    REQUIRE(v6);
    CHECK(v6->loopback());
    CHECK(v6->to_string() == "[::1]:8443");
    const auto any = fw::http::parse_listen_address("0.0.0.0:80");
    REQUIRE(any);
    CHECK_FALSE(any->loopback());
    for (const char* bad : {"localhost:8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                            "::1:8080", "[::1]8080", "127.0.0.1:80x", "300.1.1.1:80", ""}) {
        CAPTURE(bad);
        CHECK_FALSE(fw::http::parse_listen_address(bad));
    }
}

TEST_CASE("targets: path kept raw, query decoded, the last of a repeated key wins") {
    const auto target = fw::http::split_target("/api/v1/orders?state=in_review&q=a+b%26c&q=x");
    CHECK(target.path == "/api/v1/orders");
    CHECK(target.query.at("state") == "in_review");
    CHECK(target.query.at("q") == "x");
    CHECK(fw::http::split_target("/a?q=a+b%26c").query.at("q") == "a b&c");
    CHECK(fw::http::split_target("/a?bad=%zz&ok=1").query.size() == 1);
    CHECK(fw::http::percent_decode("%41%42", false) == "AB");
    CHECK_FALSE(fw::http::percent_decode("%4", false));
    CHECK_FALSE(fw::http::percent_decode("%", false));
    CHECK(fw::http::percent_decode("a+b", false) == "a+b");
}

TEST_CASE("path segments: decoded, and nothing that could walk out of a path") {
    const auto segments = fw::http::path_segments("/api/v1/orders/PRS%2D1/actions");
    REQUIRE(segments);
    CHECK(*segments == std::vector<std::string>{"api", "v1", "orders", "PRS-1", "actions"});
    CHECK(fw::http::path_segments("/")->empty());
    CHECK(fw::http::path_segments("/api/v1/orders/")->size() == 3);
    for (const char* hostile : {"/api/../etc", "/api/%2e%2e/etc", "/api/%2E%2E", "/a//b", "/a/./b",
                                "/a/%2F/b", "/a/%5c/b", "/a/b%00", "relative", "/a/%"}) {
        CAPTURE(hostile);
        CHECK_FALSE(fw::http::path_segments(hostile));
    }
}

TEST_CASE("cookies and origins") {
    fw::http::RequestHeader header;
    header.set(bhttp::field::cookie, "theme=dark; fw_session=abc123 ; other=x");
    header.set(bhttp::field::host, "gw.example:8443");
    CHECK(fw::http::cookie_value(header, "fw_session") == "abc123");
    CHECK(fw::http::cookie_value(header, "missing").empty());
    CHECK(fw::http::own_origin(header, true) == "https://gw.example:8443");
    CHECK(fw::http::own_origin(header, false) == "http://gw.example:8443");
    CHECK(fw::http::request_origin(header).empty());
    header.set(bhttp::field::referer, "https://gw.example:8443/index.html#/orders");
    CHECK(fw::http::request_origin(header) == "https://gw.example:8443");
    header.set(bhttp::field::origin, "https://evil.example");
    CHECK(fw::http::request_origin(header) == "https://evil.example");
}

TEST_CASE("router: literal and {param} segments, 405 with Allow for another method") {
    fw::http::Router<std::string> router;
    router.add(bhttp::verb::get, "/api/v1/orders", "list");
    router.add(bhttp::verb::get, "/api/v1/orders/{id}", "show");
    router.add(bhttp::verb::post, "/api/v1/orders/{id}/actions", "act");
    router.add(bhttp::verb::post, "/api/v1/alarms/{rule}/{equipment}/{action}", "alarm");
    auto found = router.match(bhttp::verb::get, {"api", "v1", "orders", "PRS-1"});
    REQUIRE(found.action != nullptr);
    CHECK(*found.action == "show");
    CHECK(found.params == std::vector<std::string>{"PRS-1"});
    found = router.match(bhttp::verb::head, {"api", "v1", "orders"});
    REQUIRE(found.action != nullptr);
    CHECK(*found.action == "list");
    found = router.match(bhttp::verb::post, {"api", "v1", "alarms", "r1", "press-1", "ack"});
    REQUIRE(found.action != nullptr);
    CHECK(found.params == std::vector<std::string>{"r1", "press-1", "ack"});
    found = router.match(bhttp::verb::delete_, {"api", "v1", "orders", "x", "actions"});
    CHECK(found.action == nullptr);
    CHECK(found.allow == "POST");
    found = router.match(bhttp::verb::get, {"api", "v1", "nothing"});
    CHECK(found.action == nullptr);
    CHECK(found.allow.empty());
}

// --- embedded files ---

TEST_CASE("embedded files: every file of web/ but its README, and Chart.js, sorted") {
    const char* source = std::getenv("FW_SOURCE_DIR");
    REQUIRE(source != nullptr);
    std::set<std::string> expected{"/vendor/chart.js"};
    const fs::path web = fs::path(source) / "web";
    for (const auto& entry : fs::recursive_directory_iterator(web)) {
        if (!entry.is_regular_file()) continue;
        const std::string relative = "/" + fs::relative(entry.path(), web).generic_string();
        if (relative != "/README.md") expected.insert(relative);
    }
    std::set<std::string> embedded;
    std::string previous;
    for (const auto& file : fw::http::embedded_files()) {
        CHECK(file.path > previous);  // the lookup bisects
        previous = std::string(file.path);
        embedded.insert(std::string(file.path));
        CHECK(file.etag.size() == 34);
        CHECK(file.etag.front() == '"');
        if (file.path != "/vendor/chart.js") {
            CHECK(std::string(file.bytes) ==
                  fw::test::read_text_file(web / std::string(file.path.substr(1))));
        }
    }
    CHECK(embedded == expected);
    const auto* index = fw::http::find_embedded_file("/");
    REQUIRE(index != nullptr);
    CHECK(index->path == "/index.html");
    CHECK(index->media_type == "text/html; charset=utf-8");
    CHECK(fw::http::find_embedded_file("/js/app.js")->media_type ==
          "text/javascript; charset=utf-8");
    CHECK(fw::http::find_embedded_file("/i18n/zh-CN.json")->media_type == "application/json");
    CHECK(fw::http::find_embedded_file("/vendor/chart.js")->bytes.size() > 100000);
    for (const char* absent : {"/README.md", "/js/../index.html", "/js/%2e%2e/index.html",
                               "//index.html", "/js\\app.js", "/index.html/", "/etc/passwd"}) {
        CAPTURE(absent);
        CHECK(fw::http::find_embedded_file(absent) == nullptr);
    }
}

TEST_CASE("embedded files are revalidated: ETag, no-cache, 304 when unchanged") {
    const auto* file = fw::http::find_embedded_file("/css/app.css");
    REQUIRE(file != nullptr);
    fw::http::RequestHeader request;
    auto response = fw::http::static_file_response(*file, request);
    CHECK(response.result_int() == 200);
    CHECK(response[bhttp::field::etag] == file->etag);
    CHECK(response[bhttp::field::cache_control] == "no-cache");
    CHECK(response[bhttp::field::content_type] == "text/css; charset=utf-8");
    CHECK(response.body().size() == file->bytes.size());
    request.set(bhttp::field::if_none_match,
                std::string("\"other\", W/") + std::string(file->etag));
    response = fw::http::static_file_response(*file, request);
    CHECK(response.result_int() == 304);
    CHECK(response.body().empty());
}

// --- multipart ---

TEST_CASE("multipart: the named file part, its name without folders; refusals in words") {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"C:\\\\photos\\\\a.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n-XyZ\r\n--XyZ--\r\n";
    const auto found = fw::http::find_file_part("multipart/form-data; boundary=XyZ", body, "file");
    REQUIRE(found.file);
    CHECK(found.file->file_name == "a.jpg");
    CHECK(found.file->bytes == "\xff\xd8\xff\r\n-XyZ");
    const auto quoted =
        fw::http::find_file_part("Multipart/Form-Data; boundary=\"XyZ\"", body, "note");
    REQUIRE(quoted.file);
    CHECK(quoted.file->bytes == "hello");
    CHECK(fw::http::find_file_part("application/json", body, "file").problem ==
          "send the file as multipart/form-data");
    CHECK(fw::http::find_file_part("multipart/form-data", body, "file").problem ==
          "the multipart/form-data body has no boundary");
    CHECK(fw::http::find_file_part("multipart/form-data; boundary=XyZ", body, "photo").problem ==
          "the request has no file in the form field 'photo'");
    CHECK_FALSE(
        fw::http::find_file_part("multipart/form-data; boundary=XyZ", "--XyZ\r\ntruncated", "file")
            .file);
}

// --- login throttling ---

TEST_CASE("login throttling: 5 failures lock for 1 minute, then 2, 4; success clears") {
    LoginThrottle throttle;
    auto now = LoginThrottle::Clock::time_point{} + 24h;
    for (int i = 0; i < 4; ++i) {
        const auto failure = throttle.record_failure("tech1", "10.0.0.5", now);
        CHECK_FALSE(failure.user_locked);
        now += 10s;
    }
    CHECK(throttle.wait_before_attempt("tech1", "10.0.0.5", now) ==
          LoginThrottle::Clock::duration{});
    auto failure = throttle.record_failure("tech1", "10.0.0.5", now);
    CHECK(failure.user_locked);
    CHECK(failure.address_locked);
    CHECK(failure.lock == 1min);
    CHECK(throttle.wait_before_attempt("tech1", "10.0.0.9", now + 30s) == 30s);
    CHECK(throttle.wait_before_attempt("other", "10.0.0.5", now + 30s) == 30s);
    CHECK(throttle.wait_before_attempt("other", "10.0.0.9", now) ==
          LoginThrottle::Clock::duration{});
    now += 61s;
    CHECK(throttle.wait_before_attempt("tech1", "10.0.0.5", now) ==
          LoginThrottle::Clock::duration{});
    for (int i = 0; i < 4; ++i) throttle.record_failure("tech1", "10.0.0.5", now);
    failure = throttle.record_failure("tech1", "10.0.0.5", now);
    CHECK(failure.lock == 2min);
    now += 3min;
    for (int i = 0; i < 5; ++i) failure = throttle.record_failure("tech1", "10.0.0.5", now);
    CHECK(failure.lock == 4min);
    throttle.record_success("tech1", "10.0.0.5");
    CHECK(throttle.wait_before_attempt("tech1", "10.0.0.5", now) ==
          LoginThrottle::Clock::duration{});
    CHECK(throttle.tracked() == 0);
}

TEST_CASE("login throttling: failures older than the window do not count; the map is bounded") {
    LoginThrottle::Policy policy;
    policy.max_tracked = 10;
    LoginThrottle throttle(policy);
    auto now = LoginThrottle::Clock::time_point{} + 24h;
    for (int i = 0; i < 4; ++i) throttle.record_failure("a", "1.1.1.1", now);
    now += 16min;
    CHECK_FALSE(throttle.record_failure("a", "1.1.1.1", now).user_locked);
    for (int i = 0; i < 50; ++i) {
        throttle.record_failure("user" + std::to_string(i), "2.2.2." + std::to_string(i), now);
    }
    CHECK(throttle.tracked() <= 10);
}

// --- sessions ---

TEST_CASE("sessions: a token opens its session; idle, absolute and revoked sessions end") {
    fw::http::SessionTable table(std::chrono::hours(12));
    const std::int64_t t0 = 1'800'000'000'000;
    auto opened = table.open("safety1", "10.0.0.5", t0);
    CHECK(opened.token.size() == 64);
    CHECK(opened.session.id_hash == fw::http::sha256_hex_of(opened.token));
    CHECK(opened.session.csrf.size() == 64);
    CHECK(opened.session.expires_ms == t0 + 7LL * 24 * 3600 * 1000);
    auto found = table.find(opened.token, t0 + 1000);
    REQUIRE(found.session != nullptr);
    CHECK(found.session->user == "safety1");
    CHECK_FALSE(found.store_last_seen);
    found = table.find(opened.token, t0 + 61'000);
    CHECK(found.store_last_seen);
    CHECK(found.session->last_seen_ms == t0 + 61'000);
    // In use every 40 s with a 60 s idle lifetime: alive long past 60 s after sign-in.
    fw::http::SessionTable short_lived(std::chrono::seconds(60));
    const auto brief = short_lived.open("tech2", "10.0.0.7", t0);
    for (std::int64_t at = t0 + 40'000; at <= t0 + 200'000; at += 40'000) {
        CHECK_MESSAGE(short_lived.find(brief.token, at).session != nullptr,
                      "at t0 + " << (at - t0));
    }
    CHECK(short_lived.find(brief.token, t0 + 200'000 + 61'000).session == nullptr);
    CHECK(table.find(std::string(64, 'a'), t0).session == nullptr);
    CHECK(table.find("short", t0).session == nullptr);
    // Idle for longer than the lifetime.
    CHECK(table.find(opened.token, t0 + 61'000 + 12LL * 3600 * 1000).session == nullptr);

    // Used every few hours, still ends 7 days after login.
    auto busy = table.open("tech1", "10.0.0.6", t0);
    std::int64_t now = t0;
    while (now < t0 + 7LL * 24 * 3600 * 1000 - 3600'000) {
        now += 3LL * 3600 * 1000;
        if (now >= t0 + 7LL * 24 * 3600 * 1000) break;
        REQUIRE(table.find(busy.token, now).session != nullptr);
    }
    CHECK(table.find(busy.token, t0 + 7LL * 24 * 3600 * 1000).session == nullptr);

    auto a = table.open("tech1", "x", t0);
    auto b = table.open("tech1", "y", t0);
    auto c = table.open("safety1", "z", t0);
    CHECK(table.revoke_user("tech1") >= 2);
    CHECK(table.find(a.token, t0).session == nullptr);
    CHECK(table.find(b.token, t0).session == nullptr);
    CHECK(table.find(c.token, t0).session != nullptr);
    CHECK(table.close(c.token) == c.session.id_hash);
    CHECK_FALSE(table.close(c.token));
    CHECK(table.find(c.token, t0).session == nullptr);
}

TEST_CASE("sessions: load keeps live rows; sweep returns the ended ones") {
    fw::http::SessionTable table(std::chrono::hours(1));
    const std::int64_t t0 = 1'800'000'000'000;
    fw::http::Session live{"h1", "u", "c", "a", t0, t0, t0 + 100'000'000, false};
    fw::http::Session revoked{"h2", "u", "c", "a", t0, t0, t0 + 100'000'000, true};
    fw::http::Session idle{"h3", "u", "c", "a", t0 - 7200'000, t0 - 7200'000, t0 + 100, false};
    table.load({live, revoked, idle}, t0);
    CHECK(table.live(t0).size() == 1);
    CHECK(table.sweep(t0 + 3600'000) == std::vector<std::string>{"h1"});
    CHECK(table.live(t0).empty());
}

// --- passwords ---

TEST_CASE("passwords: Argon2id hashes verify, others do not; rules for new passwords") {
    const std::string hash = fw::http::hash_password("correct horse");
    CHECK(hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$"));
    CHECK(fw::http::is_password_hash(hash));
    CHECK(fw::http::verify_password(hash, "correct horse"));
    CHECK_FALSE(fw::http::verify_password(hash, "correct hors"));
    CHECK_FALSE(fw::http::verify_password("plain text", "plain text"));
    CHECK_FALSE(fw::http::is_password_hash("$argon2i$v=19$m=4096,t=3,p=1$abc$def"));
    CHECK(fw::http::hash_password("correct horse") != hash);  // salted
    CHECK(fw::http::password_problem("short") == "a password needs at least 8 characters");
    CHECK(fw::http::password_problem(std::string(1025, 'x')) ==
          "a password may have at most 1024 characters");
    CHECK(fw::http::password_problem("long enough").empty());
    CHECK(fw::http::random_hex(32).size() == 64);
    CHECK(fw::http::random_hex(32) != fw::http::random_hex(32));
    CHECK(fw::http::sha256_hex_of("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(fw::http::equal_in_constant_time("abc", "abc"));
    CHECK_FALSE(fw::http::equal_in_constant_time("abc", "abd"));
    CHECK_FALSE(fw::http::equal_in_constant_time("abc", "abcd"));
}

// --- Prometheus ---

TEST_CASE("Prometheus text: HELP, TYPE, labels escaped, values, a histogram in seconds") {
    fw::http::PrometheusText text;
    text.family("fw_things_total", "counter", "Things, with a \\ and\na newline.");
    text.sample("fw_things_total", std::uint64_t{42}, {{"device", "press-\"1\"\n\\"}});
    text.family("fw_ratio", "gauge", "A ratio.");
    text.sample("fw_ratio", 0.25);
    text.sample("fw_ratio", std::numeric_limits<double>::infinity(), {{"a", "b"}, {"c", "d"}});
    fw::LatencyHistogram histogram;
    histogram.record(300us);
    histogram.record(3ms);
    histogram.record(20s);
    text.histogram("fw_commit_seconds", "Commit latency.", histogram.snapshot());
    const std::string& out = text.text();
    CHECK(out.find("# HELP fw_things_total Things, with a \\\\ and\\na newline.\n"
                   "# TYPE fw_things_total counter\n"
                   "fw_things_total{device=\"press-\\\"1\\\"\\n\\\\\"} 42\n") == 0);
    CHECK(out.find("fw_ratio 0.25\n") != std::string::npos);
    CHECK(out.find("fw_ratio{a=\"b\",c=\"d\"} +Inf\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_bucket{le=\"0.0005\"} 1\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_bucket{le=\"0.005\"} 2\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_bucket{le=\"10\"} 2\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_sum 20.0033\n") != std::string::npos);
    CHECK(out.find("fw_commit_seconds_count 3\n") != std::string::npos);
}

// --- the server over real sockets ---

// Runs a core io_context on its own thread, as floorwatchd's core.
struct Core {
    asio::io_context context{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard{context.get_executor()};
    std::thread thread{[this] { context.run(); }};
    ~Core() {
        guard.reset();
        context.stop();
        thread.join();
    }
    template <typename Function>
    auto on_core(Function function) {
        std::packaged_task<decltype(function())()> task(std::move(function));
        auto result = task.get_future();
        asio::post(context, [&task] { task(); });
        return result.get();
    }
};

// Answers by path: /hello, /slow-answer (from another thread after 200 ms), /drop (never
// answers), /stream (an event stream the test feeds), /echo (the body back).
class TestHandler final : public fw::http::Handler {
  public:
    std::uint64_t body_limit(const fw::http::RequestHeader& header) override {
        return header.target().starts_with("/upload") ? 4096 : 64;
    }
    void handle(fw::http::Incoming request, fw::http::Responder responder) override {
        const std::string target(request.message.target());
        last_remote = request.remote_address;
        if (target == "/hello") {
            fw::http::Response response{bhttp::status::ok, 11};
            response.set(bhttp::field::content_type, "text/plain");
            response.body() = "hello";
            responder.send(std::move(response));
        } else if (target == "/slow-answer") {
            std::thread([responder] {
                std::this_thread::sleep_for(200ms);
                fw::http::Response response{bhttp::status::ok, 11};
                response.body() = "late";
                responder.send(response);
                responder.send(response);  // a second answer is ignored
            }).detach();
        } else if (target == "/drop") {
            // The responder goes out of scope unanswered.
        } else if (target == "/stream") {
            fw::http::Response head{bhttp::status::ok, 11};
            head.set(bhttp::field::content_type, "text/event-stream");
            hub.add(responder.open_event_stream(std::move(head)));
        } else if (target.starts_with("/upload") || target == "/echo") {
            fw::http::Response response{bhttp::status::ok, 11};
            response.body() = request.message.body();
            responder.send(std::move(response));
        } else {
            responder.send(fw::http::error_response(404, "nothing here"));
        }
    }
    fw::http::EventHub hub;
    std::string last_remote;
};

struct TestServer {
    explicit TestServer(fw::http::ServerOptions options = defaults()) {
        server = core.on_core(
            [&] { return std::make_unique<fw::http::Server>(core.context, options, handler); });
        port = core.on_core([&] { return server->local_endpoints().front().port(); });
    }
    ~TestServer() {
        try {
            core.on_core([&] {
                server->close();
                server.reset();
                return 0;
            });
        } catch (...) {
            // The core thread is gone already; the server went with it. A destructor must not
            // throw.
        }
    }
    static fw::http::ServerOptions defaults() {
        fw::http::ServerOptions options;
        options.listen = {*fw::http::parse_listen_address("127.0.0.1:0")};
        options.request_timeout = 1s;
        return options;
    }
    fw::http::ServerStats stats() {
        return core.on_core([&] { return server->stats(); });
    }
    Core core;
    TestHandler handler;
    std::unique_ptr<fw::http::Server> server;
    std::uint16_t port = 0;
};

TEST_CASE("server: answers with the security headers, keeps the connection alive") {
    TestServer test;
    fw::test::HttpClient client(test.port);
    auto response = client.get("/hello");
    CHECK(response.status == 200);
    CHECK(response.body == "hello");
    CHECK(response.header("content-security-policy") ==
          "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors "
          "'none'; base-uri 'none'");
    CHECK(response.header("x-content-type-options") == "nosniff");
    CHECK(response.header("referrer-policy") == "same-origin");
    CHECK(response.header("x-frame-options") == "DENY");
    CHECK(response.header("cache-control") == "no-store");
    CHECK(client.get("/hello").status == 200);
    CHECK(client.send({"HEAD", "/hello", {}, ""}).header("content-length") == "5");
    CHECK(client.get("/missing").json().at("error") == "nothing here");
    const auto stats = test.stats();
    CHECK(stats.connections_accepted == 1);  // four requests, one connection
    CHECK(stats.responses_by_status.at(200) == 3);
    CHECK(stats.responses_by_status.at(404) == 1);
    CHECK(test.handler.last_remote == "127.0.0.1");
}

TEST_CASE("server: an answer from another thread; a dropped request gets 500, not a hang") {
    TestServer test;
    fw::test::HttpClient client(test.port);
    auto response = client.get("/slow-answer");
    CHECK(response.status == 200);
    CHECK(response.body == "late");
    response = client.get("/drop");
    CHECK(response.status == 500);
    CHECK(response.json().at("error") == "the server dropped this request without an answer");
    CHECK(client.get("/hello").status == 200);
}

TEST_CASE("server: a body larger than the route allows is refused with 413 before it is read") {
    TestServer test;
    fw::test::RawConnection connection(test.port);
    // Only the header: the server must answer without waiting for the 100000 bytes.
    REQUIRE(connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
    const auto response = fw::test::parse_raw_response(connection.read_until_close(2s));
    CHECK(response.status == 413);
    CHECK(response.body.find("the request body is 100000 bytes; at most 64 are accepted here") !=
          std::string::npos);
    CHECK(response.header("connection") == "close");

    // A chunked body has no length up front: refused when it passes the limit.
    fw::test::RawConnection chunked(test.port);
    REQUIRE(
        chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "50\r\n" +
                     std::string(80, 'x') + "\r\n0\r\n\r\n"));
    CHECK(fw::test::parse_raw_response(chunked.read_until_close(2s)).status == 413);

    // Within the limit, with Expect: 100-continue as curl sends it for large bodies.
    fw::test::RawConnection expecting(test.port);
    REQUIRE(
        expecting.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    CHECK(expecting.read_some(2s).starts_with("HTTP/1.1 100 Continue"));
    REQUIRE(expecting.send("12345"));
    const auto echoed = fw::test::parse_raw_response(expecting.read_some(2s));
    CHECK(echoed.status == 200);
    CHECK(echoed.body == "12345");
}

TEST_CASE("server: an oversized header is 431, garbage is 400") {
    TestServer test;
    fw::test::RawConnection big(test.port);
    big.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " +
             std::string(std::size_t{17} * 1024, 'a') + "\r\n\r\n");
    CHECK(fw::test::parse_raw_response(big.read_until_close(2s)).status == 431);
    fw::test::RawConnection garbage(test.port);
    garbage.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(fw::test::parse_raw_response(garbage.read_until_close(2s)).status == 400);
}

TEST_CASE("server: a slow client is cut off after request_timeout; others are served meanwhile") {
    TestServer test;
    fw::test::RawConnection slow(test.port);
    REQUIRE(slow.send("GET /hello HTTP/1.1\r\nHo"));
    fw::test::HttpClient client(test.port);
    CHECK(client.get("/hello").status == 200);
    CHECK(slow.closed_within(3s));
    // Beast closes the socket from its timer, then completes the read: the count comes after.
    CHECK(fw::test::eventually([&] { return test.stats().timeouts == 1; }, 2s));
    // A body that stops halfway.
    fw::test::RawConnection stalling(test.port);
    REQUIRE(stalling.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"));
    CHECK(stalling.closed_within(3s));
    CHECK(fw::test::eventually([&] { return test.stats().timeouts == 2; }, 2s));
    // An idle keep-alive connection closes too, without counting as a timeout.
    fw::test::RawConnection idle(test.port);
    CHECK(idle.closed_within(3s));
    CHECK(test.stats().timeouts == 2);
}

TEST_CASE("server: over max_connections a client gets 503 at once") {
    auto options = TestServer::defaults();
    options.max_connections = 2;
    options.request_timeout = 10s;
    TestServer test(options);
    fw::test::RawConnection first(test.port);
    fw::test::RawConnection second(test.port);
    REQUIRE(fw::test::eventually([&] { return test.stats().connections_open == 2; }, 2s));
    fw::test::RawConnection third(test.port);
    const auto refused = fw::test::parse_raw_response(third.read_until_close(2s));
    CHECK(refused.status == 503);
    CHECK(refused.header("retry-after") == "5");
    CHECK(refused.body == "{\"error\":\"the server has too many connections; try again shortly\"}");
    CHECK(test.stats().connections_refused == 1);
    // A slot frees up when a connection ends.
    first.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(fw::test::parse_raw_response(first.read_until_close(2s)).status == 200);
    REQUIRE(fw::test::eventually([&] { return test.stats().connections_open == 1; }, 2s));
    fw::test::HttpClient client(test.port);
    CHECK(client.get("/hello").status == 200);
}

TEST_CASE("server: an event stream gets events and heartbeats, and ends when the client leaves") {
    TestServer test;
    auto stream = std::make_unique<fw::test::RawConnection>(test.port);
    REQUIRE(stream->send("GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
    std::string received = stream->read_some(2s);
    CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(received.find("Transfer-Encoding: chunked") != std::string::npos);
    CHECK(received.find("Content-Type: text/event-stream") != std::string::npos);
    REQUIRE(fw::test::eventually(
        [&] { return test.core.on_core([&] { return test.handler.hub.size(); }) == 1; }, 2s));
    test.core.on_core([&] {
        test.handler.hub.publish("orders");
        return 0;
    });
    REQUIRE(fw::test::eventually(
        [&] {
            received += stream->read_some(100ms);
            return received.find("event: orders\ndata: {}\n\n") != std::string::npos;
        },
        2s));
    // request_timeout is 1 s: heartbeats every 333 ms keep it open past it.
    REQUIRE(fw::test::eventually(
        [&] {
            received += stream->read_some(100ms);
            return received.find(": heartbeat\n\n") != std::string::npos;
        },
        2s));
    std::this_thread::sleep_for(1500ms);
    CHECK(test.stats().event_streams == 1);
    stream.reset();
    REQUIRE(fw::test::eventually([&] { return test.stats().event_streams == 0; }, 3s));
    test.core.on_core([&] {
        test.handler.hub.publish("alarms");
        return 0;
    });
    CHECK(test.core.on_core([&] { return test.handler.hub.size(); }) == 0);
}

TEST_CASE("server: close() ends every connection, streams included") {
    TestServer test;
    fw::test::RawConnection stream(test.port);
    stream.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(stream.read_some(2s).starts_with("HTTP/1.1 200"));
    test.core.on_core([&] {
        test.server->close();
        return 0;
    });
    CHECK(stream.closed_within(2s));
}

TEST_CASE("server: TLS with a certificate made by openssl; plain HTTP on it gets nothing") {
    fw::test::TempDir dir("fw-http-tls");
    const auto key = dir / "key.pem";
    const auto cert = dir / "cert.pem";
    auto openssl = fw::test::ChildProcess::spawn(
        "/usr/bin/openssl",
        {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"},
        {dir / "openssl.log", dir / "openssl.log", {}});
    REQUIRE(openssl.wait_exit(30s) == 0);

    auto options = TestServer::defaults();
    options.tls = fw::http::TlsFiles{cert.string(), key.string()};
    TestServer test(options);
    CHECK(test.core.on_core([&] { return test.server->secure(); }));
    fw::test::HttpClient client(test.port, cert.string());
    const auto response = client.get("/hello");
    CHECK(response.status == 200);
    CHECK(response.body == "hello");
    CHECK(client.get("/hello").status == 200);
    CHECK(test.stats().connections_accepted == 1);

    fw::test::RawConnection plain(test.port);
    plain.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(plain.read_until_close(3s).find("hello") == std::string::npos);
    REQUIRE(fw::test::eventually([&] { return test.stats().tls_handshake_failures == 1; }, 3s));

    auto broken = TestServer::defaults();
    broken.tls = fw::http::TlsFiles{(dir / "missing.pem").string(), key.string()};
    Core core;
    TestHandler handler;
    try {
        fw::http::Server server(core.context, broken, handler);
        FAIL("a missing certificate must be refused");
    } catch (const std::runtime_error& error) {
        CHECK(std::string(error.what())
                  .find("http.tls.cert " + (dir / "missing.pem").string() + ": cannot be used") ==
              0);
    }
}

TEST_CASE("server: a port in use is refused naming the address") {
    TestServer first;
    auto options = TestServer::defaults();
    options.listen = {*fw::http::parse_listen_address("127.0.0.1:" + std::to_string(first.port))};
    Core core;
    TestHandler handler;
    try {
        fw::http::Server server(core.context, options, handler);
        FAIL("binding a taken port must fail");
    } catch (const std::runtime_error& error) {
        CHECK(std::string(error.what())
                  .find("http.listen 127.0.0.1:" + std::to_string(first.port) +
                        ": cannot listen") == 0);
    }
}

TEST_CASE("work pool: jobs run on the workers, a full queue refuses") {
    std::promise<void> release;
    auto released = release.get_future().share();
    fw::http::WorkPool pool("test", 1, 2);
    std::atomic<int> ran{0};
    CHECK(pool.try_submit([&, released](std::size_t worker) {
        CHECK(worker == 0);
        released.wait();
        ++ran;
    }));
    REQUIRE(fw::test::eventually([&] { return pool.queued() == 0; }, 2s));
    CHECK(pool.try_submit([&](std::size_t) { ++ran; }));
    CHECK(pool.try_submit([&](std::size_t) { ++ran; }));
    CHECK_FALSE(pool.try_submit([&](std::size_t) { ++ran; }));
    release.set_value();
    REQUIRE(fw::test::eventually([&] { return ran == 3; }, 2s));
}

}  // namespace
