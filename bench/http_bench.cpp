// The web server of floorwatchd on a store with many work orders: requests/s and p50/p99 latency of
// GET /api/v1/orders (the page's default list) and GET /metrics over keep-alive connections,
// against a bare Boost.Beast "hello world" server started inside this process (same machine, same
// client code, same run); the daemon's RSS with and without the HTTP server; and the bytes the web
// page loads. Prints figures; asserts nothing about speed.
//
//   http_bench [ORDERS] [REQUESTS] [DIRECTORY]   (defaults 10000, 400, a new folder under /tmp)
//
// The store: floorwatchd is started on a fresh folder with http on 127.0.0.1 (a free port), users
// get passwords with `floorwatch user passwd --stdin`, and ORDERS hazard reports are made through
// the real path, POST /api/v1/reports as a signed-in reporter over 4 connections: every order is
// written by the daemon's own command handler and answered once durable, as the page does it.
// Nothing is seeded behind the daemon's back. With DIRECTORY the folder is kept, and a store
// already in it (bench.db) is reused instead of reporting again.
//
// Then, on the same store:
//   1. floorwatchd without `http:`: VmRSS after 5 s idle;
//   2. floorwatchd with `http:`: VmRSS after 5 s idle, then REQUESTS requests of each kind on 1 and
//      on 4 keep-alive connections (the total split between them), VmRSS and VmHWM afterwards;
//   3. the baseline: the same client against the in-process Beast server answering "hello world";
//   4. the page: index.html, every stylesheet and script it references, every JS module those
//      import (static and dynamic), and both language catalogs, fetched from the daemon; the
//      chart library (/vendor/chart.js) is left out. Summed against the 300 KB target.

#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace fs = std::filesystem;
using Tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kReportConnections = 4;
const std::vector<int> kConnectionCounts{1, 4};

// ---- the client: one keep-alive connection, synchronous Beast ----

struct Answer {
    unsigned status = 0;
    std::string body;
    std::vector<std::string> set_cookies;
};

class Connection {
  public:
    explicit Connection(std::uint16_t port) : port_(port) { open(); }

    Answer send(bhttp::verb method, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        bhttp::request<bhttp::string_body> request{method, target, 11};
        request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
        request.keep_alive(true);
        if (!cookie_.empty()) request.set(bhttp::field::cookie, "fw_session=" + cookie_);
        for (const auto& [name, value] : headers) request.set(name, value);
        if (!body.empty()) {
            request.body() = body;
            request.prepare_payload();
        }
        for (int attempt = 0;; ++attempt) {
            try {
                bhttp::write(*stream_, request);
                bhttp::response_parser<bhttp::string_body> parser;
                parser.body_limit(1ULL << 30);
                bhttp::read(*stream_, buffer_, parser);
                auto response = parser.release();
                Answer answer{response.result_int(), std::move(response.body()), {}};
                for (const auto& field : response) {
                    if (field.name() == bhttp::field::set_cookie) {
                        answer.set_cookies.emplace_back(field.value());
                    }
                }
                if (!response.keep_alive()) open();
                return answer;
            } catch (const boost::system::system_error&) {
                if (attempt > 0) throw;
                open();  // the server closed an idle connection: once more on a new one
            }
        }
    }

    // POST /api/v1/login; keeps the session cookie and the CSRF token.
    void login(const std::string& user, const std::string& password) {
        const auto answer = send(
            bhttp::verb::post, "/api/v1/login",
            boost::json::serialize(boost::json::object{{"user", user}, {"password", password}}),
            {{"Content-Type", "application/json"}, {"Origin", origin()}});
        if (answer.status != 200) {
            throw std::runtime_error("login of " + user + ": " + std::to_string(answer.status) +
                                     " " + answer.body);
        }
        for (const auto& cookie : answer.set_cookies) {
            if (cookie.starts_with("fw_session=")) {
                cookie_ = cookie.substr(11, cookie.find(';') - 11);
            }
        }
        csrf_ = std::string(boost::json::parse(answer.body).at("csrf").as_string());
    }

    Answer post_json(const std::string& target, const boost::json::object& body) {
        return send(
            bhttp::verb::post, target, boost::json::serialize(body),
            {{"Content-Type", "application/json"}, {"Origin", origin()}, {"X-CSRF-Token", csrf_}});
    }

  private:
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void open() {
        stream_ = std::make_unique<beast::tcp_stream>(context_);
        stream_->connect(Tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        buffer_.clear();
    }

    std::uint16_t port_;
    asio::io_context context_;
    std::unique_ptr<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    std::string cookie_;
    std::string csrf_;
};

// ---- the baseline: a bare Beast server, one thread, keep-alive, "hello world" ----

class HelloServer {
  public:
    HelloServer() : acceptor_(context_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept();
        thread_ = std::thread([this] { context_.run(); });
    }
    ~HelloServer() {
        context_.stop();
        thread_.join();
    }
    HelloServer(const HelloServer&) = delete;
    HelloServer& operator=(const HelloServer&) = delete;

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  private:
    struct Session : std::enable_shared_from_this<Session> {
        explicit Session(Tcp::socket socket) : stream(std::move(socket)) {}

        void read() {
            request = {};
            bhttp::async_read(stream, buffer, request,
                              [self = shared_from_this()](beast::error_code error, std::size_t) {
                                  if (!error) self->answer();
                              });
        }
        void answer() {
            response = {bhttp::status::ok, request.version()};
            response.set(bhttp::field::content_type, "text/plain");
            response.keep_alive(request.keep_alive());
            response.body() = "hello world\n";
            response.prepare_payload();
            bhttp::async_write(stream, response,
                               [self = shared_from_this()](beast::error_code error, std::size_t) {
                                   if (!error && self->response.keep_alive()) self->read();
                               });
        }

        beast::tcp_stream stream;
        beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> request;
        bhttp::response<bhttp::string_body> response;
    };

    void accept() {
        acceptor_.async_accept([this](beast::error_code error, Tcp::socket socket) {
            if (!error) std::make_shared<Session>(std::move(socket))->read();
            accept();
        });
    }

    asio::io_context context_;
    Tcp::acceptor acceptor_;
    std::thread thread_;
};

// ---- load ----

struct Figures {
    double per_second = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    std::size_t bytes = 0;  // of the last answer
    std::size_t failures = 0;
};

double percentile(std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) return 0;
    const auto at = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
    return sorted[at];
}

// `requests` GETs of `target` split over `connections` keep-alive connections, one thread each;
// `prepare` signs a connection in (or not) before the clock starts.
template <typename Prepare>
Figures run_load(std::uint16_t port, const std::string& target, int connections, int requests,
                 const Prepare& prepare) {
    std::vector<std::unique_ptr<Connection>> clients;
    clients.reserve(static_cast<std::size_t>(connections));
    for (int i = 0; i < connections; ++i) {
        clients.push_back(std::make_unique<Connection>(port));
        prepare(*clients.back());
        clients.back()->send(bhttp::verb::get, target);  // warm: one answer before timing
    }
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
    std::vector<std::size_t> failures(static_cast<std::size_t>(connections), 0);
    std::vector<std::size_t> bytes(static_cast<std::size_t>(connections), 0);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(connections));
    const auto start = Clock::now();
    for (int i = 0; i < connections; ++i) {
        const auto slot = static_cast<std::size_t>(i);
        const int share = requests / connections + (i < requests % connections ? 1 : 0);
        threads.emplace_back([&, slot, share] {
            for (int n = 0; n < share; ++n) {
                const auto sent = Clock::now();
                const auto answer = clients[slot]->send(bhttp::verb::get, target);
                latencies[slot].push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
                if (answer.status != 200) ++failures[slot];
                bytes[slot] = answer.body.size();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    Figures figures;
    for (std::size_t i = 0; i < latencies.size(); ++i) {
        all.insert(all.end(), latencies[i].begin(), latencies[i].end());
        figures.failures += failures[i];
        figures.bytes = bytes[i];
    }
    std::ranges::sort(all);
    figures.per_second = static_cast<double>(all.size()) / seconds;
    figures.p50_ms = percentile(all, 0.50);
    figures.p99_ms = percentile(all, 0.99);
    return figures;
}

// ---- the daemon ----

long status_kib(pid_t pid, const std::string& key) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    }
    return 0;
}

std::string config_text(const fs::path& dir, bool with_http) {
    std::string text =
        "gateway: {site: bench, node: gw-1, log_level: info}\n"
        "store: {path: " +
        (dir / "bench.db").string() +
        ", commit_interval: 100ms}\n"
        "control: {socket: " +
        (dir / "control.sock").string() +
        "}\n"
        "equipment:\n";
    for (int i = 1; i <= 10; ++i) {
        text += "  - {id: press-" + std::to_string(i) + ", area: stamping}\n";
        text += "  - {id: weld-" + std::to_string(i) + ", area: welding}\n";
        text += "  - {id: crane-" + std::to_string(i) + ", area: logistics}\n";
    }
    text +=
        "workflow:\n"
        "  prefixes: [{area: stamping, prefix: PRS}, {area: welding, prefix: WLD}, "
        "{area: logistics, prefix: LOG}]\n"
        "  users:\n"
        "    - {name: rita, roles: reporter}\n"
        "    - {name: sam, roles: team_lead}\n"
        "    - {name: sara, roles: safety}\n";
    if (with_http) text += "http: {listen: ['127.0.0.1:0'], max_connections: 64}\n";
    return text;
}

struct Daemon {
    fw::test::ChildProcess process;
    std::uint16_t port = 0;
};

Daemon start_daemon(const fs::path& dir, bool with_http) {
    const fs::path config = dir / (with_http ? "http.yaml" : "no-http.yaml");
    const fs::path log = dir / (with_http ? "floorwatchd-http.log" : "floorwatchd.log");
    fw::test::write_text_file(config, config_text(dir, with_http));
    fs::remove(log);
    fw::test::SpawnOptions logs;
    logs.stdout_path = log;
    logs.stderr_path = log;
    Daemon daemon{
        fw::test::ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()}, logs), 0};
    static const std::regex kLine(R"(web page at http://127\.0\.0\.1:(\d+)/)");
    const bool started = fw::test::eventually(
        [&] {
            const std::string text = fw::test::read_text_file(log);
            if (!daemon.process.running()) return true;
            if (text.find("ready") == std::string::npos) return false;
            std::smatch match;
            if (!with_http) return true;
            if (!std::regex_search(text, match, kLine)) return false;
            daemon.port = static_cast<std::uint16_t>(std::stoi(match[1].str()));
            return true;
        },
        60s);
    if (!started || !daemon.process.running()) {
        throw std::runtime_error("floorwatchd did not start:\n" + fw::test::read_text_file(log));
    }
    return daemon;
}

void set_password(const fs::path& dir, const std::string& user, const std::string& password) {
    const fs::path input = dir / ("password-" + user);
    fw::test::write_text_file(input, password + "\n");
    const std::string command = std::string(FW_CLI_BINARY) + " user passwd " + user +
                                " --stdin --config " + (dir / "http.yaml").string() + " < " +
                                input.string() + " > /dev/null";
    auto shell = fw::test::ChildProcess::spawn("/bin/sh", {"-c", command});
    if (shell.wait_exit(60s).value_or(-1) != 0) {
        throw std::runtime_error("floorwatch user passwd " + user + " failed");
    }
}

// ORDERS hazard reports through POST /api/v1/reports, over kReportConnections connections.
void report_orders(std::uint16_t port, int orders) {
    static const std::vector<std::string> kRisks{"low", "medium", "high", "red"};
    static const std::vector<std::string> kTypes{"guarding", "vibration", "housekeeping", "leak"};
    static const std::vector<std::string> kKinds{"press-", "weld-", "crane-"};
    std::vector<std::thread> threads;
    threads.reserve(kReportConnections);
    std::vector<std::string> errors(kReportConnections);
    const auto start = Clock::now();
    for (int c = 0; c < kReportConnections; ++c) {
        threads.emplace_back([&, c] {
            try {
                Connection rita(port);
                rita.login("rita", "rita-bench-secret");
                for (int i = c; i < orders; i += kReportConnections) {
                    const auto n = static_cast<std::size_t>(i);
                    const std::string equipment =
                        kKinds[n % kKinds.size()] + std::to_string(n % 10 + 1);
                    const auto answer = rita.post_json(
                        "/api/v1/reports",
                        {{"equipment", equipment},
                         {"hazard_type", kTypes[n % kTypes.size()]},
                         {"risk", kRisks[(n / 3) % kRisks.size()]},
                         {"title", "Bench hazard " + std::to_string(i)},
                         {"description", "Loose guard near the infeed, report number " +
                                             std::to_string(i) + " of the benchmark."}});
                    if (answer.status != 200) {
                        throw std::runtime_error("report " + std::to_string(i) + ": " +
                                                 std::to_string(answer.status) + " " + answer.body);
                    }
                }
            } catch (const std::exception& error) {
                errors[static_cast<std::size_t>(c)] = error.what();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& error : errors) {
        if (!error.empty()) throw std::runtime_error(error);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("store: %d orders reported through POST /api/v1/reports in %.1f s (%.0f/s)\n",
                orders, seconds, static_cast<double>(orders) / seconds);
}

// ---- the page ----

std::vector<std::string> references(const std::string& path, const std::string& text) {
    std::vector<std::string> found;
    const auto base = path.substr(0, path.rfind('/') + 1);
    const auto add = [&](const std::string& reference) {
        if (reference.starts_with("/")) {
            found.push_back(reference);
        } else if (reference.starts_with("./")) {
            found.push_back(base + reference.substr(2));
        }
    };
    if (path.ends_with(".html")) {
        static const std::regex kHtml(R"#((?:src|href)="([^"#:]+)")#");
        for (std::sregex_iterator it(text.begin(), text.end(), kHtml), end; it != end; ++it) {
            add((*it)[1].str());
        }
    }
    if (path.ends_with(".js")) {
        static const std::regex kImport(R"#((?:from|import)\s*\(?\s*'([^']+\.js)')#");
        for (std::sregex_iterator it(text.begin(), text.end(), kImport), end; it != end; ++it) {
            add((*it)[1].str());
        }
    }
    return found;
}

void page_size(std::uint16_t port) {
    Connection client(port);
    std::vector<std::string> queue{"/", "/i18n/en.json", "/i18n/zh-CN.json"};
    std::set<std::string> seen(queue.begin(), queue.end());
    std::size_t total = 0;
    std::printf("\npage transfer (bodies as served, no compression; /vendor/chart.js left out):\n");
    for (std::size_t i = 0; i < queue.size(); ++i) {
        const std::string path = queue[i];
        const auto answer = client.send(bhttp::verb::get, path);
        if (answer.status != 200) {
            std::printf("  %-24s answered %u\n", path.c_str(), answer.status);
            continue;
        }
        total += answer.body.size();
        std::printf("  %-24s %8zu bytes\n", path.c_str(), answer.body.size());
        for (const auto& reference : references(path == "/" ? "/index.html" : path, answer.body)) {
            if (reference.starts_with("/vendor/") || reference.starts_with("/api/")) continue;
            if (seen.insert(reference).second) queue.push_back(reference);
        }
    }
    std::printf("  %-24s %8zu bytes = %.1f KB (target <= 300 KB): %zu files\n", "total", total,
                static_cast<double>(total) / 1000.0, seen.size());
}

void print_row(const char* what, int connections, const Figures& figures, const Figures& base) {
    std::printf(
        "%-22s %2d conn %9.0f req/s  p50 %8.2f ms  p99 %8.2f ms  %9zu B/answer  "
        "x%.3g of baseline req/s, p99 x%.3g%s\n",
        what, connections, figures.per_second, figures.p50_ms, figures.p99_ms, figures.bytes,
        figures.per_second / base.per_second, figures.p99_ms / base.p99_ms,
        figures.failures != 0 ? "  (SOME ANSWERS NOT 200)" : "");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const int orders = argc > 1 ? std::stoi(argv[1]) : 10000;
        const int requests = argc > 2 ? std::stoi(argv[2]) : 400;
        std::optional<fw::test::TempDir> temp;
        fs::path dir;
        if (argc > 3) {
            dir = argv[3];
            fs::create_directories(dir);
        } else {
            temp.emplace("fw-http-bench");
            dir = temp->path();
        }
        std::printf("http_bench: %d orders, %d requests per measurement, in %s\n", orders, requests,
                    dir.c_str());

        if (!fs::exists(dir / "bench.db")) {
            auto seeding = start_daemon(dir, true);
            for (const auto* user : {"rita", "sam", "sara"}) {
                set_password(dir, user, std::string(user) + "-bench-secret");
            }
            report_orders(seeding.port, orders);
            seeding.process.stop(30s);
        } else {
            std::printf("store: reusing %s\n", (dir / "bench.db").c_str());
        }

        long rss_without = 0;
        {
            auto daemon = start_daemon(dir, false);
            std::this_thread::sleep_for(5s);
            rss_without = status_kib(daemon.process.pid(), "VmRSS");
            daemon.process.stop(30s);
        }

        auto daemon = start_daemon(dir, true);
        std::this_thread::sleep_for(5s);
        const long rss_idle = status_kib(daemon.process.pid(), "VmRSS");

        const HelloServer hello;
        const auto no_login = [](Connection&) {};
        const auto sam = [](Connection& connection) {
            connection.login("sam", "sam-bench-secret");
        };
        std::printf("\n%-22s %7s %15s %17s %17s %16s\n", "GET", "", "rate", "", "", "size");
        for (const int connections : kConnectionCounts) {
            const auto base = run_load(hello.port(), "/", connections, requests * 10, no_login);
            print_row("baseline hello world", connections, base, base);
            const auto metrics = run_load(daemon.port, "/metrics", connections, requests, no_login);
            print_row("/metrics", connections, metrics, base);
            const auto list = run_load(daemon.port, "/api/v1/orders", connections, requests, sam);
            print_row("/api/v1/orders", connections, list, base);
        }
        const long rss_after = status_kib(daemon.process.pid(), "VmRSS");
        const long hwm_after = status_kib(daemon.process.pid(), "VmHWM");

        std::printf("\ndaemon RSS on this store (VmRSS):\n");
        std::printf("  without http, 5 s idle:          %8ld KiB\n", rss_without);
        std::printf("  with http, 5 s idle:             %8ld KiB  (+%ld KiB)\n", rss_idle,
                    rss_idle - rss_without);
        std::printf("  with http, after the bursts:     %8ld KiB  (+%ld KiB; peak VmHWM %ld KiB)\n",
                    rss_after, rss_after - rss_without, hwm_after);

        page_size(daemon.port);
        daemon.process.stop(30s);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "http_bench: %s\n", error.what());
        return 1;
    }
}
