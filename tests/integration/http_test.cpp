// The web page's API end to end, over real sockets against a real floorwatchd and simulator:
// passwords set with `floorwatch user passwd --stdin`, sign-in, CSRF and Origin refusals, an
// alarm's order walked to closed by the users whose roles allow each step (and refused for a
// role that does not), a photo upload, the event stream telling a page that orders changed,
// /metrics parsed line by line, /healthz and /readyz, and login throttling.

#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/web_harness.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::eventually;
using fw::test::HttpClient;
using fw::test::HttpRequest;
using fw::test::HttpResponse;
using fw::test::read_text_file;
using fw::test::TempDir;
using fw::test::web_port;
using fw::test::write_text_file;

namespace {

const std::string kSim = R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-2
    unit_id: 2
    values:
      - {table: input_register, address: 0, type: float32, profile: {kind: constant, value: 2.0}}
)";

std::string config_for(const TempDir& dir, std::uint16_t modbus_port) {
    const std::string devices = R"(        - name: press-2-sensors
          unit_id: 2
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {channel: press2.vibration, equipment: press-2, table: input_register, address: 0, type: float32, unit: mm/s}
)";
    return fw::test::daemon_config(dir / "fw.db",
                                   fw::test::tcp_bus("line1", modbus_port, devices)) +
           "control: {socket: " + (dir / "control.sock").string() + "}\n" +
           R"(http: {listen: ['127.0.0.1:0'], session_lifetime: 1h}
rules:
  - id: press2-vibration
    kind: threshold
    channel: press2.vibration
    limits: [{above: 4.5, severity: alarm}]
    on_delay: 300ms
    off_delay: 300ms
    hazard: {type: vibration, risk: medium, title: Press 2 vibration in zone D}
workflow:
  prefixes: [{area: stamping, prefix: PRS}]
  users:
    - {name: rita, roles: reporter}
    - {name: sam, roles: team_lead}
    - {name: sara, roles: safety}
    - {name: tom, roles: technician}
)";
}

// `floorwatch user passwd NAME --stdin` with the password on its stdin.
void set_password(const TempDir& dir, const std::string& user, const std::string& password) {
    fw::test::set_password(dir, dir / "fw.yaml", user, password);
}

std::string text(const json::value& value) {
    return std::string(value.as_string());
}

json::object detail(HttpClient& client, const std::string& id) {
    const auto answer = client.get("/api/v1/orders/" + id);
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    return answer.json().as_object();
}

std::vector<std::string> actions_of(const json::object& order_detail) {
    std::vector<std::string> names;
    for (const auto& action : order_detail.at("actions").as_array()) {
        names.push_back(text(action.at("action")));
    }
    return names;
}

HttpResponse act(HttpClient& client, const std::string& id, const json::object& body) {
    return client.post_json("/api/v1/orders/" + id + "/actions", body);
}

bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

TEST_CASE("the web API: sign-in, CSRF, an order walked to closed, events, metrics, throttling") {
    TempDir dir("fw-http");
    auto sim = fw::test::start_sim(dir, "sim", kSim);
    write_text_file(dir / "fw.yaml", config_for(dir, sim.port));
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    const std::uint16_t port = web_port(daemon.log);
    for (const auto* user : {"rita", "sam", "sara", "tom"}) {
        set_password(dir, user, std::string(user) + "-secret-1");
    }

    HttpClient anonymous(port);
    // Signed out: 200 with no user (the page asks on every load), the API itself 401.
    auto answer = anonymous.get("/api/v1/session");
    REQUIRE(answer.status == 200);
    CHECK(answer.json().at("user").is_null());
    CHECK(text(answer.json().at("language")) == "en");
    CHECK(anonymous.get("/api/v1/orders").status == 401);
    CHECK(anonymous.get("/healthz").status == 200);
    CHECK(anonymous.get("/readyz").status == 200);
    answer = anonymous.get("/");
    CHECK(answer.status == 200);
    CHECK(answer.header("content-type").starts_with("text/html"));

    // Wrong password: one answer for a wrong password and an unknown user.
    answer = anonymous.login("sam", "not-his-password");
    CHECK(answer.status == 401);
    CHECK(text(answer.json().at("error")) == "wrong user name or password");
    CHECK(anonymous.login("nobody", "whatever-at-all").status == 401);

    HttpClient sam(port);
    answer = sam.login("sam", "sam-secret-1");
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    const auto session = answer.json().as_object();
    CHECK(text(session.at("user")) == "sam");
    CHECK(session.at("roles").as_array() == json::array{"team_lead"});
    CHECK(text(session.at("csrf")).size() == 64);
    CHECK(text(session.at("node").at("role")) == "gateway");
    CHECK(text(session.at("node").at("site")) == "test-plant");
    bool http_only = false;
    for (const auto& cookie : answer.set_cookies) {
        if (cookie.starts_with("fw_session=") &&
            cookie.find("HttpOnly; SameSite=Strict; Path=/") != std::string::npos) {
            http_only = true;
        }
    }
    CHECK(http_only);
    CHECK(sam.get("/api/v1/session").json().at("user") == "sam");
    const auto users = sam.get("/api/v1/users").json().at("users").as_array();
    CHECK(users.size() == 4);

    HttpClient sara(port);
    REQUIRE(sara.login("sara", "sara-secret-1").status == 200);
    HttpClient tom(port);
    REQUIRE(tom.login("tom", "tom-secret-1").status == 200);

    // The event stream of an open page, as the browser keeps it.
    fw::test::RawConnection stream(port);
    REQUIRE(stream.send("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: fw_session=" +
                        sara.session_cookie() + "\r\nAccept: text/event-stream\r\n\r\n"));
    std::string streamed = stream.read_some(2s);
    CHECK(streamed.find("text/event-stream") != std::string::npos);

    // Zone D: the alarm opens a medium-risk order.
    REQUIRE(fw::test::sim_control(sim, {"value", "press-2", "input_register", "0", "5.2"}) == 0);
    json::object listed;
    std::string last_answer;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto list = sam.get("/api/v1/orders");
                            last_answer = std::to_string(list.status) + " " + list.body;
                            if (list.status != 200) return false;
                            const auto body = list.json();
                            const auto& orders = body.at("orders").as_array();
                            if (orders.size() != 1) return false;
                            listed = orders[0].as_object();
                            return true;
                        },
                        20s),
                    last_answer << "\n"
                                << read_text_file(daemon.log));
    const std::string id = text(listed.at("id"));
    CHECK(text(listed.at("status")) == "reported");
    CHECK(text(listed.at("risk")) == "medium");
    CHECK(listed.at("overdue") == false);
    const auto counts = sam.get("/api/v1/orders?state=reported").json().at("counts");
    CHECK(counts.at("total") == 1);
    CHECK(counts.at("by_state").at("reported") == 1);
    CHECK(sam.get("/api/v1/orders?state=closed").json().at("counts").at("total") == 0);
    // One page of the list: the counts cover every match, the page holds what is asked.
    const auto first_page = sam.get("/api/v1/orders?limit=1").json();
    CHECK(first_page.at("orders").as_array().size() == 1);
    CHECK(first_page.at("more") == false);
    CHECK(first_page.at("limit") == 1);
    const auto past_end = sam.get("/api/v1/orders?offset=1&limit=1").json();
    CHECK(past_end.at("orders").as_array().empty());
    CHECK(past_end.at("counts").at("total") == 1);
    for (const auto* bad : {"limit=0", "limit=5001", "limit=ten", "offset=-1", "limit=1x"}) {
        CHECK_MESSAGE(sam.get(std::string("/api/v1/orders?") + bad).status == 400, bad);
    }
    CHECK(eventually(
        [&] {
            streamed += stream.read_some(500ms);
            return streamed.find("event: orders") != std::string::npos;
        },
        10s));

    // What each may do is what the workflow allows them, and nothing else goes through.
    auto shown = detail(sam, id);
    CHECK(text(shown.at("order").at("number")).starts_with("PRS-"));
    CHECK(shown.at("timeline").as_array().size() == 1);
    CHECK(shown.at("approval_chain").as_array().size() == 2);
    CHECK(text(shown.at("approval_chain").at(0).at("role")) == "team_lead");
    CHECK(text(shown.at("alarm").at("rule")) == "press2-vibration");
    CHECK(text(shown.at("alarm").at("channel")) == "press2.vibration");
    CHECK(has(actions_of(shown), "approve"));
    CHECK(actions_of(detail(tom, id)).empty());
    answer = act(tom, id, {{"action", "approve"}});
    CHECK(answer.status == 403);
    CHECK(text(answer.json().at("error")).find("team_lead") != std::string::npos);

    // CSRF: without the token, with a wrong one, and from a foreign page.
    HttpRequest forged;
    forged.method = "POST";
    forged.target = "/api/v1/orders/" + id + "/actions";
    forged.headers = {{"Content-Type", "application/json"}, {"X-CSRF-Token", ""}};
    forged.body = R"({"action": "approve"})";
    CHECK(sam.send(forged).status == 403);
    forged.headers = {{"Content-Type", "application/json"}, {"X-CSRF-Token", std::string(64, 'a')}};
    CHECK(sam.send(forged).status == 403);
    forged.headers = {{"Content-Type", "application/json"},
                      {"X-CSRF-Token", sam.csrf()},
                      {"Origin", "https://evil.example"}};
    CHECK(sam.send(forged).status == 403);
    CHECK(text(detail(sam, id).at("order").at("status")) == "reported");

    // Review, assignment, a rejected submission, the second submission with a photo, closed.
    answer = act(sam, id, {{"action", "approve"}});
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(text(answer.json().at("order").at("status")) == "in_review");
    answer = act(sam, id, {{"action", "approve"}});
    CHECK(answer.status == 403);
    CHECK(text(answer.json().at("error")).find("safety") != std::string::npos);
    REQUIRE(act(sara, id, {{"action", "approve"}}).status == 200);
    CHECK(has(actions_of(detail(sam, id)), "assign"));
    answer = act(sam, id, {{"action", "assign"}, {"assignee", "tom"}});
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(text(answer.json().at("order").at("assignee")) == "tom");
    const auto mine = tom.get("/api/v1/orders?mine=1").json().at("orders").as_array();
    REQUIRE(mine.size() == 1);
    CHECK(has(actions_of(detail(tom, id)), "submit"));

    answer = tom.post_file("/api/v1/attachments", "notes.txt", "not a photo at all");
    CHECK(answer.status == 415);
    const std::string photo = std::string("\xff\xd8\xff\xe0", 4) + std::string(3000, 'j');
    answer = tom.post_file("/api/v1/attachments", "after.jpg", photo);
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    const std::string sha256 = text(answer.json().at("sha256"));
    CHECK(text(answer.json().at("media_type")) == "image/jpeg");
    CHECK(answer.json().at("size") == 3004);

    REQUIRE(act(tom, id, {{"action", "submit"}, {"note", "bolts replaced"}}).status == 200);
    answer = act(sara, id, {{"action", "reject"}});
    CHECK(answer.status == 409);
    REQUIRE(act(sara, id, {{"action", "reject"}, {"reason", "bolts not torqued"}}).status == 200);
    answer = act(
        tom, id,
        {{"action", "submit"}, {"note", "torqued to 80 Nm"}, {"attachments", json::array{sha256}}});
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(act(tom, id, {{"action", "accept"}}).status == 403);
    REQUIRE(act(sara, id, {{"action", "accept"}, {"note", "checked on site"}}).status == 200);

    shown = detail(sam, id);
    CHECK(text(shown.at("order").at("status")) == "closed");
    CHECK(actions_of(shown).empty());
    const auto& after = shown.at("photos").at("after").as_array();
    REQUIRE(after.size() == 2);
    CHECK(after[0].at("photos").as_array().empty());
    CHECK(text(after[1].at("by")) == "tom");
    CHECK(text(after[1].at("photos").at(0).at("sha256")) == sha256);
    std::vector<std::string> types;
    std::vector<std::string> actors;
    for (const auto& event : shown.at("timeline").as_array()) {
        types.push_back(text(event.at("type")));
        actors.push_back(text(event.at("actor")));
    }
    CHECK(types == std::vector<std::string>{"reported", "approved", "approved", "assigned",
                                            "submitted", "rejected", "submitted", "accepted"});
    CHECK(actors ==
          std::vector<std::string>{"system", "sam", "sara", "sam", "tom", "sara", "tom", "sara"});

    answer = sam.get("/api/v1/attachments/" + sha256);
    CHECK(answer.status == 200);
    CHECK(answer.header("content-type") == "image/jpeg");
    CHECK(answer.header("content-disposition") == "inline; filename=\"after.jpg\"");
    CHECK(answer.header("x-content-type-options") == "nosniff");
    CHECK(answer.body == photo);

    // A hazard report from the page, answered with the new order.
    answer = sam.post_json("/api/v1/reports", {{"equipment", "press-1"},
                                               {"hazard_type", "guarding"},
                                               {"risk", "high"},
                                               {"description", "<script>alert(1)</script>"}});
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(text(answer.json().at("order").at("description")) == "<script>alert(1)</script>");

    // Readings and alarms for the charts and the alarm list.
    const auto channels = sam.get("/api/v1/channels").json().at("channels").as_array();
    REQUIRE(channels.size() == 1);
    CHECK(text(channels[0].at("channel")) == "press2.vibration");
    const auto samples = sam.get("/api/v1/channels/press2.vibration/samples?since=1h").json();
    CHECK(text(samples.at("unit")) == "mm/s");
    CHECK(!samples.at("points").as_array().empty());
    CHECK(sam.get("/api/v1/channels/nope/samples").status == 404);
    const auto alarms = sam.get("/api/v1/alarms").json().at("alarms").as_array();
    REQUIRE(alarms.size() == 1);
    CHECK(text(alarms[0].at("rule")) == "press2-vibration");
    answer = sam.post_json("/api/v1/alarms/press2-vibration/press-2/ack", json::object{});
    CHECK_MESSAGE(answer.status == 200, answer.body);
    CHECK(sam.get("/api/v1/kpi?since=30d").status == 200);
    const auto weekly = sam.get("/api/v1/reports/weekly").json();
    CHECK(weekly.at("markdown").as_string().size() > 0);
    CHECK(weekly.at("this_week").at("reported") == 2);

    // /metrics: every line a comment or `name{labels} value`.
    answer = anonymous.get("/metrics");
    REQUIRE(answer.status == 200);
    CHECK(answer.header("content-type").starts_with("text/plain; version=0.0.4"));
    static const std::regex kSample(
        R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [+-]?Inf$)");
    std::istringstream lines(answer.body);
    std::string line;
    std::size_t samples_seen = 0;
    while (std::getline(lines, line)) {
        if (line.empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
        CHECK_MESSAGE(std::regex_match(line, kSample), line);
        ++samples_seen;
    }
    CHECK(samples_seen > 20);
    CHECK(answer.body.find("floorwatch_orders{state=\"closed\"} 1\n") != std::string::npos);
    CHECK(answer.body.find("floorwatch_store_commit_seconds_bucket{le=\"+Inf\"}") !=
          std::string::npos);
    CHECK(answer.body.find("floorwatch_device_online{driver=\"modbus\",bus=\"line1\"") !=
          std::string::npos);

    // Logout ends the session; the cookie no longer opens anything.
    REQUIRE(tom.post_json("/api/v1/logout", json::object{}).status == 200);
    CHECK(tom.get("/api/v1/orders").status == 401);

    // Plant IT ends a user's sessions from the gateway.
    const auto revoked = fw::test::run(
        dir, FW_CLI_BINARY, {"user", "revoke", "sara", "--config", (dir / "fw.yaml").string()});
    CHECK_MESSAGE(revoked.exit_code == 0, revoked.err);
    CHECK(revoked.out.find("1 web session(s) of sara ended") != std::string::npos);
    CHECK(sara.get("/api/v1/orders").status == 401);

    // Sessions survive a restart of the daemon.
    daemon.process.send_signal(SIGTERM);
    REQUIRE(daemon.process.wait_exit(15s).has_value());
    fs::remove(daemon.log);
    daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    HttpClient sam_again(web_port(daemon.log));
    sam_again.set_session(sam.session_cookie(), sam.csrf());
    CHECK(sam_again.get("/api/v1/session").json().at("user") == "sam");

    // Throttling: five wrong passwords lock the name, even against the right one.
    for (int i = 0; i < 5; ++i) CHECK(sam_again.login("rita", "wrong-password").status == 401);
    answer = sam_again.login("rita", "rita-secret-1");
    CHECK(answer.status == 429);
    CHECK(!answer.header("retry-after").empty());
}

TEST_CASE("a listener reachable from the network without TLS is warned about at start") {
    // The daemon listens on every IPv4 address for a moment; the test itself only talks to
    // 127.0.0.1, and the loopback listener of the case above logs no such warning.
    TempDir dir("fw-http-exposed");
    auto sim = fw::test::start_sim(dir, "sim", kSim);
    std::string config = config_for(dir, sim.port);
    const std::string loopback = "listen: ['127.0.0.1:0']";
    config.replace(config.find(loopback), loopback.size(), "listen: ['0.0.0.0:0']");
    write_text_file(dir / "fw.yaml", config);
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    const std::regex line(R"(web page at http://0\.0\.0\.0:(\d+)/)");
    std::smatch match;
    std::string log;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            log = read_text_file(daemon.log);
                            return std::regex_search(log, match, line);
                        },
                        10s),
                    log);
    const auto port = static_cast<std::uint16_t>(std::stoi(match[1].str()));
    CHECK_MESSAGE(log.find("0.0.0.0:" + match[1].str() +
                           " is reachable from the network without TLS") != std::string::npos,
                  log);
    HttpClient client(port);
    CHECK(client.get("/healthz").status == 200);
    CHECK(daemon.process.stop() == 0);
}
