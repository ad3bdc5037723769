// A plant end to end: two real gateways (floorwatchd gw-1 and gw-2, each with its own folder,
// store and control socket), one real centre (floorwatchd with `role: central` on SQLite) and one
// real Mosquitto between them. People act through the CLI on either side, the simulator drives a
// rule into alarm on gw-1, and the test then reads every store: each event is held once, by the
// gateway whose order it is and by the centre, with the same hash, and both sides fold each order
// to the same state; an approval given at the centre reaches only its gateway, and a number both
// gateways gave an order is refused there. The second case takes the broker away while both
// sides keep working, makes the floor accept and the office reject the same order from the same
// version, and checks that after the broker returns every event is held once, the reject wins on
// both sides and the accept is kept as superseded.

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::RunResult;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

// The people. On the gateways each acts under their own uid (through setpriv); at the centre the
// test's own uid is Lea of the safety office.
constexpr int kRita = 0;     // reporter
constexpr int kSam = 1001;   // team lead
constexpr int kSara = 1002;  // safety
constexpr int kMax = 1003;   // manager
constexpr int kTom = 1004;   // technician
constexpr int kLea = 0;      // safety, at the centre

const std::string kSite = "test-plant";
const std::string kCentreOrigin = kSite + ".central-1";

// press-2 in vibration zone B until the test moves it into zone D.
const std::string kSimConfig = R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-2
    unit_id: 2
    values:
      - {table: input_register, address: 0, type: float32, profile: {kind: constant, value: 2.0}}
      - {table: coil, address: 0, type: bool, profile: {kind: constant, value: 1}}
)";

std::string broker_section(const std::string& broker_uri) {
    return "sync:\n"
           "  broker: {uri: '" +
           broker_uri +
           "', reconnect_min: 100ms, reconnect_max: 500ms}\n"
           "  ack_timeout: 1s\n";
}

// A gateway; with a simulator port it polls press-2 and its rule opens a high-risk order.
std::string gateway_config(const fs::path& dir, const std::string& node,
                           const std::string& broker_uri, std::optional<std::uint16_t> sim_port) {
    std::string config = "gateway: {site: " + kSite + ", node: " + node +
                         ", log_level: debug}\n"
                         "store: {path: " +
                         (dir / "fw.db").string() +
                         ", commit_interval: 50ms}\n"
                         "control: {socket: " +
                         (dir / "control.sock").string() +
                         ", mode: '0666'}\n"
                         "equipment:\n"
                         "  - {id: press-1, area: stamping}\n"
                         "  - {id: press-2, area: stamping}\n";
    if (sim_port) {
        config += "modbus:\n  buses:\n" +
                  fw::test::tcp_bus("line1", *sim_port,
                                    R"(        - name: press-2-sensors
          unit_id: 2
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {channel: press2.vibration, equipment: press-2, table: input_register, address: 0, type: float32, unit: mm/s}
            - {channel: press2.running, equipment: press-2, table: coil, address: 0}
)") + R"(rules:
  - id: press2-vibration
    kind: threshold
    channel: press2.vibration
    limits: [{above: 4.5, severity: alarm}]
    deadband: 0.2
    on_delay: 500ms
    off_delay: 500ms
    hazard: {type: vibration, risk: high, title: Press 2 vibration in ISO 10816-3 zone D}
)";
    }
    config += R"(workflow:
  prefixes: [{area: stamping, prefix: PRS}]
  users:
    - {name: rita, uid: 0, roles: reporter}
    - {name: sam, uid: 1001, roles: team_lead}
    - {name: sara, uid: 1002, roles: safety}
    - {name: max, uid: 1003, roles: manager}
    - {name: tom, uid: 1004, roles: technician}
)";
    return config + broker_section(broker_uri);
}

std::string central_config(const fs::path& dir, const std::string& broker_uri) {
    return fw::test::central_test_config(dir, "uri: '" + broker_uri + "'",
                                         "  users:\n    - {name: lea, uid: 0, roles: safety}\n",
                                         "debug", kSite);
}

// One floorwatchd of the plant: its own folder (the harness runs everything in a TempDir), config,
// store and log.
struct Node {
    std::string name;
    std::string origin;  // "<site>.<node>"
    std::unique_ptr<TempDir> folder;
    fs::path dir;
    fs::path config;
    fs::path db;
    fw::test::Daemon daemon;
};

// One event as a store holds it, read with sqlite3.
struct StoredEvent {
    std::string origin;
    std::uint64_t sequence = 0;
    std::string hash;
    std::string order_id;

    auto operator<=>(const StoredEvent&) const = default;
};

std::string text(const json::value& value) {
    return std::string(value.as_string());
}

// The last `limit` characters of a log: enough to see why, without pages of debug lines.
std::string tail_of(const fs::path& log, std::size_t limit = 12'000) {
    const std::string all = read_text_file(log);
    return all.size() <= limit ? all : "..." + all.substr(all.size() - limit);
}

// A read-only query with /usr/bin/sqlite3 against a store a daemon is writing (WAL allows it);
// one row per line, columns separated by '|'.
std::vector<std::vector<std::string>> query(const Node& node, const std::string& sql) {
    const auto result = fw::test::run(*node.folder, "/usr/bin/sqlite3",
                                      {"-readonly", "-separator", "|", node.db.string(), sql});
    REQUIRE_MESSAGE(result.exit_code == 0, node.name << ": " << sql << ": " << result.err);
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> columns;
        std::istringstream cells(line);
        std::string cell;
        while (std::getline(cells, cell, '|')) columns.push_back(cell);
        if (line.ends_with('|')) columns.emplace_back();
        rows.push_back(std::move(columns));
    }
    return rows;
}

std::uint64_t query_count(const Node& node, const std::string& sql) {
    const auto rows = query(node, sql);
    REQUIRE(rows.size() == 1);
    return std::stoull(rows[0].at(0));
}

// Every event row of a store, in (origin, sequence) order; duplicates kept, so a test can see
// them. With `gateway`, only the events of that gateway's orders (a centre holds all of them).
std::vector<StoredEvent> stored_events(const Node& node,
                                       const std::optional<std::string>& gateway = std::nullopt) {
    std::string sql = "SELECT e.origin, e.sequence, e.hash, e.order_id FROM order_events e";
    if (gateway) {
        sql += " JOIN central_orders o ON o.order_id = e.order_id WHERE o.gateway = '" + *gateway +
               "'";
    }
    sql += " ORDER BY e.origin, e.sequence, e.id";
    std::vector<StoredEvent> events;
    for (const auto& row : query(node, sql)) {
        REQUIRE(row.size() == 4);
        events.push_back({row[0], std::stoull(row[1]), row[2], row[3]});
    }
    return events;
}

// Each (origin, sequence) at most once, and a gateway's own sequences 1..N without a gap.
void check_each_event_once(const Node& node, const std::vector<StoredEvent>& events) {
    std::set<std::pair<std::string, std::uint64_t>> keys;
    std::map<std::string, std::uint64_t> highest;
    for (const auto& event : events) {
        CHECK_MESSAGE(
            keys.insert({event.origin, event.sequence}).second,
            node.name << " holds " << event.origin << ":" << event.sequence << " more than once");
        highest[event.origin] = std::max(highest[event.origin], event.sequence);
    }
    for (const auto& [origin, last] : highest) {
        std::uint64_t count = 0;
        for (const auto& event : events) count += event.origin == origin ? 1U : 0U;
        if (origin != kCentreOrigin) {
            CHECK_MESSAGE(count == last, node.name << " holds " << count << " events of " << origin
                                                   << " up to sequence " << last);
        }
    }
}

// A plant in fresh folders: the broker, the centre, gw-1 (optionally with a simulator) and gw-2,
// each in a folder of its own.
class Plant {
  public:
    explicit Plant(bool with_simulator) {
        centre_ = make_node("centre", kCentreOrigin);
        centre_.db = centre_.dir / "central.db";
        write_text_file(centre_.config, central_config(centre_.dir, broker_.uri()));
        centre_.daemon = fw::test::start_daemon(*centre_.folder, centre_.config, "central.log");
        REQUIRE_MESSAGE(eventually([&] { return fs::exists(centre_.dir / "central.sock"); }, 15s),
                        tail_of(centre_.daemon.log));

        gw1_ = make_node("gw-1", kSite + ".gw-1");
        gw2_ = make_node("gw-2", kSite + ".gw-2");
        std::optional<std::uint16_t> sim_port;
        if (with_simulator) {
            sim_ = fw::test::start_sim(*gw1_.folder, "sim", kSimConfig);
            sim_port = sim_->port;
        }
        for (Node* gateway : {&gw1_, &gw2_}) {
            write_text_file(gateway->config,
                            gateway_config(gateway->dir, gateway->name, broker_.uri(),
                                           gateway == &gw1_ ? sim_port : std::nullopt));
            gateway->daemon = fw::test::start_daemon(*gateway->folder, gateway->config);
        }
    }

    Node& centre() { return centre_; }
    Node& gw1() { return gw1_; }
    Node& gw2() { return gw2_; }
    fw::test::Mosquitto& broker() { return broker_; }
    const fw::test::Sim& sim() const { return *sim_; }

    // Every daemon's recent log and the broker's, for a failure message.
    std::string logs() const {
        std::string all;
        for (const Node* node : {&centre_, &gw1_, &gw2_}) {
            all += "\n===== " + node->name + " =====\n" + tail_of(node->daemon.log);
        }
        return all + "\n===== mosquitto =====\n" + broker_.log();
    }

    // The CLI as one person on one node.
    static RunResult cli(const Node& node, int uid, std::vector<std::string> args) {
        args.push_back("--config");
        args.push_back(node.config.string());
        return fw::test::run_as(*node.folder, uid, uid, FW_CLI_BINARY, args);
    }

    // `floorwatch orders act` that must succeed.
    void act(const Node& node, int uid, const std::string& id, std::vector<std::string> action) {
        std::vector<std::string> args{"orders", "act", id};
        args.insert(args.end(), action.begin(), action.end());
        const auto done = cli(node, uid, args);
        REQUIRE_MESSAGE(done.exit_code == 0,
                        node.name << ": " << action.at(0) << " " << id << ": " << done.err);
    }

    // A report made on a gateway through the CLI; returns the new order's id.
    std::string report(const Node& gateway, int uid, const std::string& risk,
                       const std::string& description, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"report", "--type", "guarding", "--equipment",   "press-1",
                                      "--risk", risk,     "--json",   "--description", description};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto done = cli(gateway, uid, args);
        REQUIRE_MESSAGE(done.exit_code == 0, gateway.name << ": report: " << done.err);
        return text(json::parse(done.out).at("order").at("id"));
    }

    json::array orders(const Node& node) {
        const auto listed = cli(node, kRita, {"orders", "list", "--all", "--json"});
        REQUIRE_MESSAGE(listed.exit_code == 0, node.name << ": " << listed.err);
        return json::parse(listed.out).as_array();
    }

    json::object show(const Node& node, const std::string& id) {
        const auto shown = cli(node, kRita, {"orders", "show", id, "--json"});
        REQUIRE_MESSAGE(shown.exit_code == 0, node.name << ": show " << id << ": " << shown.err);
        return json::parse(shown.out).as_object();
    }

    json::object sync_state(const Node& gateway) {
        const auto shown = cli(gateway, kRita, {"sync", "--json"});
        REQUIRE_MESSAGE(shown.exit_code == 0, gateway.name << ": " << shown.err);
        return json::parse(shown.out).as_array().at(0).as_object();
    }

    // Both gateways sent everything and had it acknowledged, the centre's down queues are
    // acknowledged to the end, and each gateway holds exactly the events the centre holds of its
    // orders. Says what is still missing in `why`.
    bool converged(std::string& why) {
        for (Node* gateway : {&gw1_, &gw2_}) {
            const auto state = sync_state(*gateway);
            const auto next = state.at("next_sequence").to_number<std::uint64_t>();
            const auto acked = state.at("acked").to_number<std::uint64_t>();
            const auto backlog = state.at("backlog").to_number<std::uint64_t>();
            if (backlog != 0 || acked + 1 != next) {
                why = gateway->name + ": backlog " + std::to_string(backlog) + ", acked " +
                      std::to_string(acked) + " of " + std::to_string(next - 1);
                return false;
            }
        }
        for (const auto& row :
             query(centre_, "SELECT gateway, down_next, down_acked FROM central_down_cursor")) {
            if (std::stoull(row.at(1)) != std::stoull(row.at(2)) + 1) {
                why = "centre: down queue of " + row.at(0) + " acknowledged to " + row.at(2) +
                      " of " + std::to_string(std::stoull(row.at(1)) - 1);
                return false;
            }
        }
        for (Node* gateway : {&gw1_, &gw2_}) {
            if (stored_events(*gateway) != stored_events(centre_, gateway->origin)) {
                why = gateway->name + " and the centre hold different events of its orders";
                return false;
            }
        }
        return true;
    }

    void wait_until_converged() {
        std::string why;
        REQUIRE_MESSAGE(eventually([&] { return converged(why); }, 40s),
                        "not converged: " << why << logs());
    }

    // Every order of each gateway is at the centre under that gateway, and the two fold it to the
    // same state and timeline (ids, hashes, superseded reasons, head). Returns the centre's views.
    std::map<std::string, json::object> check_same_folds() {
        std::map<std::string, json::object> central;
        const auto central_orders = orders(centre_);
        for (const auto& listed : central_orders) {
            const std::string id = text(listed.at("id"));
            central.emplace(id, show(centre_, id));
        }
        std::size_t gateway_orders = 0;
        for (Node* gateway : {&gw1_, &gw2_}) {
            for (const auto& listed : orders(*gateway)) {
                ++gateway_orders;
                const std::string id = text(listed.at("id"));
                CHECK_MESSAGE(id.starts_with(gateway->origin + "."), id);
                const auto found = central.find(id);
                REQUIRE_MESSAGE(found != central.end(), id << " is not at the centre");
                CHECK(text(found->second.at("gateway")) == gateway->origin);
                CHECK_MESSAGE(fold_of(show(*gateway, id)) == fold_of(found->second),
                              gateway->name << " and the centre fold " << id << " differently:\n"
                                            << json::serialize(show(*gateway, id)) << "\n"
                                            << json::serialize(found->second));
            }
        }
        CHECK(central.size() == gateway_orders);
        return central;
    }

    // What both sides must agree on: the order's state and timeline. Not `overdue` (judged
    // against the reader's clock) nor `gateway` (only a centre says whose it is).
    static json::object fold_of(json::object view) {
        view.erase("overdue");
        view.erase("gateway");
        return view;
    }

    // Each event once on every side, nothing quarantined, no integrity alarm, and every event a
    // gateway holds is on one of its own orders: the centre sends a gateway only its orders'
    // events.
    void check_stores() {
        check_each_event_once(centre_, stored_events(centre_));
        CHECK(query_count(centre_, "SELECT count(*) FROM central_quarantine") == 0);
        CHECK(query_count(centre_, "SELECT count(*) FROM central_integrity") == 0);
        CHECK(query_count(centre_,
                          "SELECT count(*) FROM order_events e LEFT JOIN central_orders o ON "
                          "o.order_id = e.order_id WHERE o.gateway IS NULL") == 0);
        for (Node* gateway : {&gw1_, &gw2_}) {
            const auto events = stored_events(*gateway);
            check_each_event_once(*gateway, events);
            for (const auto& event : events) {
                CHECK_MESSAGE(event.order_id.starts_with(gateway->origin + "."),
                              gateway->name << " holds " << event.origin << ":" << event.sequence
                                            << " of another gateway's order " << event.order_id);
                CHECK_MESSAGE((event.origin == gateway->origin || event.origin == kCentreOrigin),
                              gateway->name << " holds an event of " << event.origin);
            }
            CHECK(query_count(*gateway, "SELECT count(*) FROM sync_quarantine") == 0);
            CHECK(sync_state(*gateway).at("wanted_attachments").as_array().empty());
        }
    }

    void check_verify() {
        for (Node* node : {&centre_, &gw1_, &gw2_}) {
            const auto verified = cli(*node, kRita, {"verify"});
            CHECK_MESSAGE(verified.exit_code == 0,
                          node->name << ": " << verified.out << verified.err);
        }
    }

    void check_running() {
        for (Node* node : {&centre_, &gw1_, &gw2_}) {
            CHECK_MESSAGE(node->daemon.process.running(), node->name << " exited" << logs());
        }
    }

  private:
    Node make_node(const std::string& name, const std::string& origin) {
        Node node;
        node.name = name;
        node.origin = origin;
        node.folder = std::make_unique<TempDir>("fw-sync-plant-" + name);
        node.dir = node.folder->path();
        // The people's uids must reach the control socket and read the config in the folder.
        fs::permissions(node.dir, fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
        node.config = node.dir / (name + ".yaml");
        node.db = node.dir / "fw.db";
        return node;
    }

    TempDir broker_dir_{"fw-sync-plant-broker"};
    fw::test::Mosquitto broker_{broker_dir_.path()};
    Node centre_;
    Node gw1_;
    Node gw2_;
    std::optional<fw::test::Sim> sim_;
};

// The timeline entry of an order's event of a type; fails the test when there is none.
json::object entry_of(const json::object& shown, const std::string& type) {
    for (const auto& entry : shown.at("timeline").as_array()) {
        if (text(entry.at("type")) == type) return entry.as_object();
    }
    FAIL("no " << type << " event in " << json::serialize(shown));
    return {};
}

std::vector<std::string> timeline_types(const json::object& shown) {
    std::vector<std::string> types;
    for (const auto& entry : shown.at("timeline").as_array())
        types.push_back(text(entry.at("type")));
    return types;
}

bool holds_event(const Node& node, const std::string& event_id) {
    for (const auto& event : stored_events(node)) {
        if (event.origin + ":" + std::to_string(event.sequence) == event_id) return true;
    }
    return false;
}

// The prev_hash an event was made with (the version its author saw), from a store.
std::string prev_hash_of(const Node& node, const std::string& event_id) {
    const auto colon = event_id.rfind(':');  // "<origin>:<sequence>"
    const auto rows = query(node, "SELECT prev_hash FROM order_events WHERE origin = '" +
                                      event_id.substr(0, colon) +
                                      "' AND sequence = " + event_id.substr(colon + 1));
    REQUIRE_MESSAGE(rows.size() == 1, node.name << " holds no event " << event_id);
    return rows[0].at(0);
}

// A real PNG (tests/integration/data/guard-photo.png), as a phone would send it.
std::string real_photo() {
    const char* source = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    std::string bytes = read_text_file(fs::path(source) / "tests/integration/data/guard-photo.png");
    REQUIRE(bytes.starts_with("\x89PNG"));
    return bytes;
}

}  // namespace

TEST_CASE(
    "sync plant: two gateways' orders converge at the centre; an approval there reaches only its "
    "gateway") {
    Plant plant(true);
    auto& centre = plant.centre();
    auto& gw1 = plant.gw1();
    auto& gw2 = plant.gw2();

    // Reports on both floors, by different people, and an order the rule opens from an alarm.
    const std::string gw1_guard = plant.report(gw1, kRita, "low", "gw-1: guard rail loose");
    plant.report(gw1, kTom, "medium", "gw-1: light curtain taped over");
    const std::string gw2_guard = plant.report(gw2, kRita, "low", "gw-2: guard rail loose");
    plant.report(gw2, kSam, "high", "gw-2: two-hand control bridged");
    REQUIRE(fw::test::sim_control(plant.sim(),
                                  {"value", "press-2", "input_register", "0", "5.2"}) == 0);
    std::string from_alarm;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            for (const auto& order : plant.orders(gw1)) {
                                const auto& source = order.at("source").as_object();
                                if (source.contains("rule_id") &&
                                    text(source.at("rule_id")) == "press2-vibration") {
                                    from_alarm = text(order.at("id"));
                                }
                            }
                            return !from_alarm.empty();
                        },
                        30s),
                    "no order from the alarm" << plant.logs());

    plant.wait_until_converged();
    auto central = plant.check_same_folds();
    CHECK(central.size() == 5);
    CHECK(text(central.at(from_alarm).at("gateway")) == gw1.origin);
    CHECK(text(central.at(from_alarm).at("risk")) == "high");
    CHECK(text(central.at(gw2_guard).at("gateway")) == gw2.origin);

    // Both floors number their orders alike (prefix PRS, the same day): each gateway's first
    // report has the same number. At the centre that number names two orders, so acting by it is
    // refused, naming both ids, rather than approving whichever the store finds first.
    const std::string shared_number = text(central.at(gw1_guard).at("number"));
    REQUIRE(text(central.at(gw2_guard).at("number")) == shared_number);
    const auto ambiguous = Plant::cli(centre, kLea, {"orders", "act", shared_number, "approve"});
    CHECK(ambiguous.exit_code == 1);
    CHECK_MESSAGE(ambiguous.err.find(gw1_guard) != std::string::npos, ambiguous.err);
    CHECK_MESSAGE(ambiguous.err.find(gw2_guard) != std::string::npos, ambiguous.err);
    // Showing it is refused the same way: one of the two would be the wrong order.
    const auto ambiguous_show = Plant::cli(centre, kLea, {"orders", "show", shared_number});
    CHECK(ambiguous_show.exit_code == 1);
    CHECK_MESSAGE(ambiguous_show.err.find("several orders") != std::string::npos,
                  ambiguous_show.err);
    CHECK_MESSAGE(ambiguous_show.err.find(gw1_guard) != std::string::npos, ambiguous_show.err);
    CHECK_MESSAGE(ambiguous_show.err.find(gw2_guard) != std::string::npos, ambiguous_show.err);
    for (const auto& id : {gw1_guard, gw2_guard}) {
        CHECK(timeline_types(plant.show(centre, id)) == std::vector<std::string>{"reported"});
    }

    // Lea (safety) approves gw-2's low-risk order at the centre: one level, the review is done.
    plant.act(centre, kLea, gw2_guard, {"approve"});
    const auto approved_at_centre = plant.show(centre, gw2_guard);
    const std::string approval = text(entry_of(approved_at_centre, "approved").at("event_id"));
    CHECK(approval.starts_with(kCentreOrigin + ":"));
    plant.wait_until_converged();
    central = plant.check_same_folds();
    const auto on_floor = plant.show(gw2, gw2_guard);
    REQUIRE(on_floor.at("approvals").as_array().size() == 1);
    CHECK(text(on_floor.at("approvals").at(0).at("user")) == "lea");
    CHECK(text(on_floor.at("status")) == "in_review");
    CHECK(on_floor.at("review").at("approved_levels").as_int64() == 1);
    CHECK(holds_event(gw2, approval));
    CHECK(plant.sync_state(gw2).at("down_applied").to_number<std::uint64_t>() == 1);
    // gw-1 never holds it: nothing came down to gw-1, and its own low-risk order is untouched.
    CHECK_FALSE(holds_event(gw1, approval));
    CHECK(plant.sync_state(gw1).at("down_applied").to_number<std::uint64_t>() == 0);
    CHECK(query_count(centre, "SELECT count(*) FROM central_down WHERE gateway = '" + gw1.origin +
                                  "'") == 0);
    CHECK(timeline_types(plant.show(gw1, gw1_guard)) == std::vector<std::string>{"reported"});

    plant.check_stores();
    plant.check_verify();
    plant.check_running();
}

TEST_CASE(
    "sync plant: through a broker outage both sides keep working; after it everything converges "
    "once and reject wins over accept") {
    Plant plant(false);
    auto& centre = plant.centre();
    auto& gw1 = plant.gw1();
    auto& gw2 = plant.gw2();

    // Before the outage. On gw-1 an order walked to awaiting acceptance (the conflict); on gw-2
    // one assigned to Tom (he submits his rectification during the outage) and one waiting for
    // the safety office's approval.
    const std::string conflict = plant.report(gw1, kRita, "low", "gw-1: guard bolts missing");
    plant.act(gw1, kSara, conflict, {"approve"});
    plant.act(gw1, kSam, conflict, {"assign", "--assignee", "tom", "--deadline", "3d"});
    plant.act(gw1, kTom, conflict, {"submit", "--note", "bolts fitted"});
    const std::string rectify = plant.report(gw2, kRita, "low", "gw-2: chain guard cracked");
    plant.act(gw2, kSara, rectify, {"approve"});
    plant.act(gw2, kSam, rectify, {"assign", "--assignee", "tom", "--deadline", "3d"});
    const std::string to_approve = plant.report(gw2, kTom, "low", "gw-2: oil on the walkway");
    plant.wait_until_converged();
    plant.check_same_folds();
    const auto conflict_before = plant.show(centre, conflict);
    REQUIRE(text(conflict_before.at("status")) == "awaiting_acceptance");

    // The outage: both sides keep working.
    plant.broker().stop();
    const std::string gw1_new = plant.report(gw1, kRita, "medium", "gw-1: forklift horn broken");
    const std::string gw2_new = plant.report(gw2, kSam, "high", "gw-2: emergency stop stuck");
    plant.act(centre, kLea, to_approve, {"approve"});
    const std::string photo = real_photo();
    const fs::path photo_path = gw2.dir / "chain-guard.png";
    write_text_file(photo_path, photo);
    plant.act(gw2, kTom, rectify,
              {"submit", "--note", "chain guard replaced", "--photo", photo_path.string()});
    // The conflicting pair, made from the same version: the floor accepts, the office rejects.
    plant.act(gw1, kMax, conflict, {"accept", "--note", "looks fine from here"});
    plant.act(centre, kLea, conflict, {"reject", "--reason", "bolts not torqued"});
    CHECK(text(plant.show(gw1, conflict).at("status")) == "closed");
    const auto rejected_at_centre = plant.show(centre, conflict);
    CHECK(text(rejected_at_centre.at("status")) == "rectifying");
    CHECK(plant.sync_state(gw1).at("backlog").to_number<std::uint64_t>() == 2);
    CHECK(plant.sync_state(gw2).at("backlog").to_number<std::uint64_t>() == 2);
    const std::string rejection = text(entry_of(rejected_at_centre, "rejected").at("event_id"));
    const std::string acceptance =
        text(entry_of(plant.show(gw1, conflict), "accepted").at("event_id"));
    const std::string head_before =
        text(conflict_before.at("timeline").as_array().back().at("hash"));

    plant.broker().start();
    plant.wait_until_converged();
    const auto central = plant.check_same_folds();
    for (const auto& id : {gw1_new, gw2_new}) CHECK(central.contains(id));

    // Reject wins over accept on both sides; the accept is kept, superseded, with the reason.
    for (Node* node : {&centre, &gw1}) {
        const auto shown = plant.show(*node, conflict);
        CHECK_MESSAGE(text(shown.at("status")) == "rectifying", node->name);
        CHECK(shown.at("rejections").as_int64() == 1);
        CHECK_FALSE(shown.contains("closed_ms"));
        const auto& timeline = shown.at("timeline").as_array();
        REQUIRE(timeline.size() == 6);
        CHECK(timeline_types(shown) == std::vector<std::string>{"reported", "approved", "assigned",
                                                                "submitted", "rejected",
                                                                "accepted"});
        const auto& rejected = timeline[4].as_object();
        const auto& accepted = timeline[5].as_object();
        CHECK(text(rejected.at("event_id")) == rejection);
        CHECK_FALSE(rejected.contains("superseded"));
        CHECK(text(accepted.at("event_id")) == acceptance);
        REQUIRE(accepted.contains("superseded"));
        CHECK_MESSAGE(text(accepted.at("superseded"))
                          .starts_with("made from the same version as " + rejection +
                                       " (rejected over accepted)"),
                      text(accepted.at("superseded")));
        // Both were made from the version the floor and the office saw before the outage.
        CHECK(prev_hash_of(*node, rejection) == head_before);
        CHECK(prev_hash_of(*node, acceptance) == head_before);
    }
    CHECK(plant.show(gw1, conflict).at("timeline").as_array().back().at("hash") ==
          plant.show(centre, conflict).at("timeline").as_array().back().at("hash"));

    // The approval given centrally during the outage reached gw-2, and only gw-2.
    const auto approved = plant.show(gw2, to_approve);
    REQUIRE(approved.at("approvals").as_array().size() == 1);
    CHECK(text(approved.at("approvals").at(0).at("user")) == "lea");
    const std::string approval = text(entry_of(approved, "approved").at("event_id"));
    CHECK(approval.starts_with(kCentreOrigin + ":"));
    CHECK_FALSE(holds_event(gw1, approval));
    CHECK(holds_event(gw1, rejection));
    CHECK_FALSE(holds_event(gw2, rejection));

    // Tom's rectification and its photo reached the centre.
    const auto& rectified = central.at(rectify);
    CHECK(text(rectified.at("status")) == "awaiting_acceptance");
    const auto& evidence = rectified.at("evidence").as_array();
    REQUIRE(evidence.size() == 1);
    CHECK(text(evidence[0].at("media_type")) == "image/png");
    const std::string sha256 = text(evidence[0].at("sha256"));
    const fs::path at_centre = centre.dir / "at-centre.png";
    REQUIRE_MESSAGE(
        eventually(
            [&] {
                return Plant::cli(centre, kLea,
                                  {"orders", "attachment", sha256, "--out", at_centre.string()})
                           .exit_code == 0;
            },
            30s),
        "the photo did not reach the centre" << plant.logs());
    CHECK(read_text_file(at_centre) == photo);

    // The order carries on from the version both sides now share (its head is the superseded
    // accept): Tom submits again on the floor, Lea accepts at the centre; closed on both sides.
    plant.act(gw1, kTom, conflict, {"submit", "--note", "bolts torqued to 80 Nm"});
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return text(plant.show(centre, conflict).at("status")) ==
                                   "awaiting_acceptance";
                        },
                        30s),
                    "the second submission did not reach the centre" << plant.logs());
    plant.act(centre, kLea, conflict, {"accept", "--note", "torque log checked"});
    plant.wait_until_converged();
    plant.check_same_folds();
    for (Node* node : {&centre, &gw1}) {
        const auto shown = plant.show(*node, conflict);
        CHECK_MESSAGE(text(shown.at("status")) == "closed", node->name);
        CHECK(timeline_types(shown) == std::vector<std::string>{"reported", "approved", "assigned",
                                                                "submitted", "rejected", "accepted",
                                                                "submitted", "accepted"});
    }

    plant.check_stores();
    plant.check_verify();
    plant.check_running();
}
