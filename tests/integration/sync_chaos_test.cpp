// Sync under stress, with both real daemons: floorwatchd as a gateway and as the centre
// (role: central, SQLite), and a real Mosquitto between them.
//
// 1. A long outage: a week of hazard orders (100,000 events) waits in the gateway's store while
//    the broker is down; once it is up every event reaches the centre exactly once, with the
//    gateway's hash, both cursors agree, `floorwatch verify` passes on both, and the gateway's
//    memory stays bounded while it drains (the agent reads one batch at a time; README.md).
// 2. kill -9 loops: the gateway, the centre and the broker are each killed with SIGKILL ten times,
//    in a random order at random instants of a drain while orders keep being reported, and
//    restarted. Afterwards no event is lost or duplicated, the cursors are consistent and the
//    hash chains verify.
//
// The backlogs are written into the gateway's store (while its floorwatchd is not running)
// through the product's own order-store code and workflow handler: tests/support/order_backlog.hpp.

#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/store/sqlite.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/order_backlog.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::ChildProcess;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::RunResult;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

constexpr const char* kOrigin = "test-plant.gw-1";

std::string gateway_config(const TempDir& dir, const std::string& broker_uri,
                           const std::string& sync_options) {
    return "gateway: {site: test-plant, node: gw-1, log_level: info}\n"
           "store: {path: " +
           (dir / "fw.db").string() +
           ", commit_interval: 50ms}\n"
           "control: {socket: " +
           (dir / "control.sock").string() +
           ", mode: '0666'}\n"
           "equipment:\n  - {id: press-1, area: stamping}\n"
           "workflow:\n"
           "  prefixes: [{area: stamping, prefix: PRS}]\n"
           // The backlog's orders are up to a week old: with the default 3-day review deadline
           // the overdue timer would add events of its own, every 30 s, while the test counts
           // (found when a loaded machine made the drain take a minute). A month keeps the
           // count the test wrote.
           "  medium: {review_deadline: 30d}\n"
           "  users:\n"
           "    - {name: rita, uid: 0, roles: reporter}\n"
           "    - {name: sam, uid: 1001, roles: team_lead}\n"
           "    - {name: sara, uid: 1002, roles: safety}\n"
           "    - {name: max, uid: 1003, roles: manager}\n"
           "sync:\n"
           "  broker: {uri: '" +
           broker_uri + "', reconnect_min: 100ms, reconnect_max: 500ms}\n" + sync_options;
}

std::string central_config(const TempDir& dir, const std::string& broker_uri) {
    return fw::test::central_test_config(dir.path(), "uri: '" + broker_uri + "'",
                                         "  users:\n    - {name: lea, uid: 0, roles: team_lead}\n",
                                         "info");
}

// The last `bytes` of a log, for failure messages (a drain of 100,000 events logs a lot).
std::string tail_of(const fs::path& log, std::size_t bytes = 6000) {
    const std::string text = read_text_file(log);
    return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// One of the two floorwatchd processes. Each start gets a log file of its own, so a restart
// never mistakes the last run's "ready" for its own.
struct Node {
    Node(fs::path config_path, std::string node_name)
        : config(std::move(config_path)), name(std::move(node_name)) {}

    fs::path config;
    std::string name;  // "gateway" or "central"
    ChildProcess process;
    fs::path log;
    int runs = 0;

    void start(const TempDir& dir) {
        log = dir / (name + "-" + std::to_string(++runs) + ".log");
        process = ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()},
                                      fw::test::logs_to(log, log));
        const std::string ready = name == "central" ? "ready: central" : "ready";
        REQUIRE_MESSAGE(eventually(
                            [&] {
                                return read_text_file(log).find(ready) != std::string::npos ||
                                       !process.running();
                            },
                            60s),
                        name << " did not start: " << tail_of(log));
        REQUIRE_MESSAGE(process.running(), name << " exited: " << tail_of(log));
    }

    void kill9() {
        process.send_signal(SIGKILL);
        REQUIRE(process.wait_exit(10s) == 128 + SIGKILL);
    }
};

RunResult cli(const TempDir& dir, const fs::path& config, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back(config.string());
    return fw::test::run(dir, FW_CLI_BINARY, args);
}

std::uint64_t field(const json::object& object, const char* key) {
    return object.at(key).to_number<std::uint64_t>();
}

// `floorwatch sync --json` on the gateway: its view of the centre.
json::object gateway_sync(const TempDir& dir) {
    const auto shown = cli(dir, dir / "fw.yaml", {"sync", "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    return json::parse(shown.out).as_array().at(0).as_object();
}

// `floorwatch sync --json` on the centre: its row for this gateway; empty before first contact.
json::object central_sync(const TempDir& dir) {
    const auto shown = cli(dir, dir / "central.yaml", {"sync", "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    const auto rows = json::parse(shown.out);
    for (const auto& row : rows.as_array()) {
        if (row.as_object().at("gateway").as_string() == kOrigin) return row.as_object();
    }
    return {};
}

// The gateway's own numbers: what it wrote, what the centre acknowledged, what waits.
struct GatewayCursors {
    std::uint64_t next_sequence = 0;
    std::uint64_t acked = 0;
    std::uint64_t backlog = 0;
};
GatewayCursors gateway_cursors(const TempDir& dir) {
    const auto state = gateway_sync(dir);
    return {field(state, "next_sequence"), field(state, "acked"), field(state, "backlog")};
}

// Drained: everything written is acknowledged, nothing waits, and the centre's received cursor
// for this gateway says the same.
bool drained(const TempDir& dir) {
    const auto cursors = gateway_cursors(dir);
    if (cursors.backlog != 0 || cursors.acked + 1 != cursors.next_sequence) return false;
    const auto centre = central_sync(dir);
    return !centre.empty() && field(centre, "received") == cursors.acked;
}

long long single_number(sqlite3* db, const std::string& sql) {
    fw::store::Statement statement(db, sql);
    statement.bind(1, std::string_view(kOrigin));
    REQUIRE(statement.next_row("counting"));
    return statement.column_int64(0);
}

struct ExactlyOnce {
    long long checked = 0;     // events of the gateway's origin at the centre
    long long lost = 0;        // written at the gateway, not at the centre with its hash
    long long duplicated = 0;  // stored twice, or held with another hash (integrity alarm)
};

// Every event of the gateway's origin is at the centre once, with the gateway's hash; the centre
// quarantined nothing and raised no integrity alarm.
ExactlyOnce check_exactly_once(const TempDir& dir, std::uint64_t written) {
    const auto centre =
        fw::store::Connection::open((dir / "central.db").string(), fw::store::OpenMode::read_only);
    sqlite3* db = centre.get();
    const std::string attach =
        "ATTACH DATABASE 'file:" + (dir / "fw.db").string() + "?mode=ro' AS gateway";
    REQUIRE(sqlite3_exec(db, attach.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    const auto at_gateway =
        single_number(db, "SELECT count(*) FROM gateway.order_events WHERE origin = ?1");
    const auto at_centre =
        single_number(db, "SELECT count(*) FROM main.order_events WHERE origin = ?1");
    const auto distinct = single_number(
        db, "SELECT count(DISTINCT sequence) FROM main.order_events WHERE origin = ?1");
    const auto lowest = single_number(
        db, "SELECT coalesce(min(sequence), 0) FROM main.order_events WHERE origin = ?1");
    const auto highest = single_number(
        db, "SELECT coalesce(max(sequence), 0) FROM main.order_events WHERE origin = ?1");
    const auto same_hash = single_number(
        db,
        "SELECT count(*) FROM main.order_events c JOIN gateway.order_events g ON "
        "g.origin = c.origin AND g.sequence = c.sequence AND g.hash = c.hash WHERE c.origin = ?1");
    const auto quarantined =
        single_number(db, "SELECT count(*) FROM main.central_quarantine WHERE gateway = ?1");
    const auto integrity =
        single_number(db, "SELECT count(*) FROM main.central_integrity WHERE origin = ?1");
    const auto written_count = static_cast<long long>(written);
    CHECK(at_gateway == written_count);
    CHECK(at_centre == written_count);  // none lost
    CHECK(distinct == at_centre);       // none twice (also the schema's UNIQUE)
    CHECK(lowest == 1);
    CHECK(highest == written_count);
    CHECK(same_hash == written_count);  // each with the gateway's hash
    CHECK(quarantined == 0);
    CHECK(integrity == 0);
    return {at_centre, written_count - same_hash, at_centre - distinct + integrity};
}

void check_verify(const TempDir& dir) {
    const auto at_gateway = cli(dir, dir / "fw.yaml", {"verify"});
    CHECK_MESSAGE(at_gateway.exit_code == 0, at_gateway.out << at_gateway.err);
    const auto at_centre = cli(dir, dir / "central.yaml", {"verify"});
    CHECK_MESSAGE(at_centre.exit_code == 0, at_centre.out << at_centre.err);
}

long vm_rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

// The broker's pid: our child whose command is mosquitto (the helper does not expose its
// process, and SIGTERM through stop() is not a crash).
pid_t broker_pid() {
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        const std::string stat = read_text_file(entry.path() / "stat");
        const auto open = stat.find('(');
        const auto close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        if (stat.substr(open + 1, close - open - 1) != "mosquitto") continue;
        // After ") S ": the parent's pid.
        const long parent = std::strtol(stat.c_str() + close + 4, nullptr, 10);
        if (parent == ::getpid()) return static_cast<pid_t>(std::stol(name));
    }
    return -1;
}

void kill9_broker(fw::test::Mosquitto& broker) {
    const pid_t pid = broker_pid();
    REQUIRE(pid > 0);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(eventually([&] { return !broker.running(); }, 10s));
}

fw::workflow::WorkflowConfig gateway_workflow(const TempDir& dir) {
    return fw::load_config((dir / "fw.yaml").string()).workflow;
}

// The gateway's store made by floorwatchd itself (migrations, identity), then left alone.
// Returns the resident memory of that gateway with an empty store, settled.
long make_gateway_store(const TempDir& dir, Node& gateway) {
    gateway.start(dir);
    std::this_thread::sleep_for(1s);
    const long empty_kib = vm_rss_kib(gateway.process.pid());
    CHECK(gateway.process.stop() == 0);
    return empty_kib;
}

}  // namespace

TEST_CASE("sync chaos: a week offline, 100,000 events drain exactly once in bounded memory") {
    constexpr std::uint64_t kEvents = 100'000;
    TempDir dir("fw-sync-long");
    fw::test::Mosquitto broker(dir.path());
    write_text_file(dir / "central.yaml", central_config(dir, broker.uri()));
    // Defaults of batch_events, batch_bytes and in_flight: what a plant runs.
    write_text_file(dir / "fw.yaml", gateway_config(dir, broker.uri(), "  ack_timeout: 5s\n"));
    Node central(dir / "central.yaml", "central");
    Node gateway(dir / "fw.yaml", "gateway");
    central.start(dir);
    const long empty_kib = make_gateway_store(dir, gateway);

    // A week of reports, one every few seconds, written while the gateway was cut off.
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t week_ago = fw::wall_now_ms() - 7LL * 24 * 3600 * 1000;
    const auto written = fw::test::write_order_backlog(
        dir / "fw.db", kOrigin, gateway_workflow(dir), kEvents, week_ago, 6s);
    const double generate_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE("backlog: " << written.last_sequence << " events of " << written.orders
                        << " orders written in " << generate_s << " s");
    REQUIRE(written.last_sequence >= kEvents);

    // The gateway starts with the broker still down, loads its store and settles: its resident
    // memory then is what it needs for the week's orders (the order service folds them all).
    broker.stop();
    gateway.start(dir);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return read_text_file(gateway.log).find("event(s) waiting") !=
                                   std::string::npos;
                        },
                        30s),
                    tail_of(gateway.log));
    std::this_thread::sleep_for(2s);
    const long before_kib = vm_rss_kib(gateway.process.pid());
    CHECK(gateway_cursors(dir).backlog == written.last_sequence);

    std::atomic<bool> sampling{true};
    std::atomic<long> peak_kib{before_kib};
    std::thread sampler([&, pid = gateway.process.pid()] {
        while (sampling) {
            peak_kib = std::max(peak_kib.load(), vm_rss_kib(pid));
            std::this_thread::sleep_for(20ms);
        }
    });
    const auto drain_started = std::chrono::steady_clock::now();
    broker.start();
    const bool done = eventually([&] { return drained(dir); }, 600s);
    const double drain_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_started).count();
    sampling = false;
    sampler.join();
    REQUIRE_MESSAGE(done, "gateway:\n"
                              << tail_of(gateway.log) << "\ncentre:\n"
                              << tail_of(central.log));

    const long peak = peak_kib.load();
    const long rise_kib = peak - before_kib;
    MESSAGE("drained " << written.last_sequence << " events in " << drain_s
                       << " s; gateway RSS before " << before_kib << " KiB, peak " << peak
                       << " KiB, rise " << rise_kib << " KiB");
    // The agent holds at most in_flight (4) batches of batch_bytes (256 KiB) as text, one batch
    // being read as events, Paho's copies of what is in flight, and the SQLite page caches of the
    // writer (8 MiB, store_file.hpp; the acks update every outbox row) and of the agent's reader
    // (2 MiB by default): about 12 MiB (10 MiB measured). 32 MiB leaves room for allocator
    // slack, and is still far under what holding the backlog takes: the same gateway holds it
    // in its order service (every event and order, loaded at start) for many times that, which
    // is checked here so the bound keeps meaning something.
    constexpr long kBoundKib = 32L * 1024;
    CHECK_MESSAGE(rise_kib < kBoundKib, "RSS rose by " << rise_kib << " KiB during the drain");
    MESSAGE("an empty gateway's RSS: " << empty_kib << " KiB");
    CHECK(before_kib - empty_kib > 4 * kBoundKib);

    const auto cursors = gateway_cursors(dir);
    CHECK(cursors.backlog == 0);
    CHECK(cursors.acked == written.last_sequence);
    CHECK(cursors.next_sequence == written.last_sequence + 1);
    CHECK(field(central_sync(dir), "received") == written.last_sequence);
    const auto once = check_exactly_once(dir, written.last_sequence);
    CHECK(once.checked == static_cast<long long>(written.last_sequence));
    check_verify(dir);
    CHECK(gateway.process.running());
    CHECK(central.process.running());
    const auto stopping = std::chrono::steady_clock::now();
    // Generous: a stop is not what this case is about, and this machine may be busy.
    const int gateway_stopped = gateway.process.stop(30s);
    MESSAGE("gateway stopped in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count()
            << " s");
    CHECK_MESSAGE(gateway_stopped == 0, tail_of(gateway.log));
    CHECK(central.process.stop() == 0);
}

TEST_CASE("sync chaos: kill -9 of gateway, centre and broker, ten times each, mid-drain") {
    constexpr int kKillsPerKind = 10;
    constexpr std::uint64_t kFirstBacklog = 10'000;
    // Events the gateway "wrote while it was down" after each of its kills: the drain never ends
    // before the next kill.
    constexpr std::uint64_t kBacklogPerGatewayKill = 1'500;

    std::uint32_t seed = std::random_device{}();
    if (const char* given = std::getenv("FW_CHAOS_SEED")) {
        seed = static_cast<std::uint32_t>(std::stoul(given));
    }
    MESSAGE("FW_CHAOS_SEED=" << seed);
    std::mt19937 random(seed);

    TempDir dir("fw-sync-chaos");
    fw::test::Mosquitto broker(dir.path());
    write_text_file(dir / "central.yaml", central_config(dir, broker.uri()));
    // Small batches, a small window and a short ack timeout: the drain lasts through the kills
    // (each costs it an ack timeout or a restart), many messages are in flight at every kill,
    // and a lost one is sent again within a second.
    write_text_file(dir / "fw.yaml", gateway_config(dir, broker.uri(),
                                                    "  batch_events: 25\n"
                                                    "  in_flight: 2\n"
                                                    "  ack_timeout: 1s\n"));
    Node central(dir / "central.yaml", "central");
    Node gateway(dir / "fw.yaml", "gateway");
    central.start(dir);
    (void)make_gateway_store(dir, gateway);
    const auto workflow = gateway_workflow(dir);
    // Backlogs start an hour back and follow on from the writer's last HLC, 10 ms apart: in the
    // past, so the centre refuses none as ahead of its clock.
    std::int64_t next_backlog_ms = fw::wall_now_ms() - std::int64_t{3600} * 1000;
    const auto add_backlog = [&](std::uint64_t events) {
        const auto written = fw::test::write_order_backlog(dir / "fw.db", kOrigin, workflow, events,
                                                           next_backlog_ms, 10ms);
        next_backlog_ms +=
            static_cast<std::int64_t>(written.last_sequence - written.first_sequence + 10) * 10;
        return written;
    };
    add_backlog(kFirstBacklog);
    gateway.start(dir);

    // People keep reporting on the floor throughout; a report made while the gateway is down
    // fails (the CLI says so), as it would for them.
    std::atomic<bool> reporting{true};
    std::atomic<int> reports_made{0};
    std::thread reporter([&] {
        int index = 0;
        while (reporting) {
            const auto made =
                cli(dir, dir / "fw.yaml",
                    {"report", "--type", "vibration", "--equipment", "press-1", "--description",
                     "press-1 shakes, live report " + std::to_string(++index)});
            if (made.exit_code == 0) ++reports_made;
            std::this_thread::sleep_for(150ms);
        }
    });

    std::vector<std::string> kills;
    for (int i = 0; i < kKillsPerKind; ++i) {
        for (const char* kind : {"gateway", "central", "broker"}) kills.emplace_back(kind);
    }
    std::shuffle(kills.begin(), kills.end(), random);
    std::uniform_int_distribution<int> pause_ms(100, 1500);
    std::map<std::string, int> killed;
    int mid_drain = 0;
    const auto chaos_started = std::chrono::steady_clock::now();
    for (const auto& kind : kills) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
        if (gateway_cursors(dir).backlog > 0) ++mid_drain;
        if (kind == "gateway") {
            gateway.kill9();
            add_backlog(kBacklogPerGatewayKill);
            gateway.start(dir);
        } else if (kind == "central") {
            central.kill9();
            central.start(dir);
        } else {
            kill9_broker(broker);
            broker.start();
        }
        ++killed[kind];
    }
    reporting = false;
    reporter.join();
    const double chaos_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - chaos_started).count();

    const bool done = eventually([&] { return drained(dir); }, 300s);
    REQUIRE_MESSAGE(done, "gateway:\n"
                              << tail_of(gateway.log) << "\ncentre:\n"
                              << tail_of(central.log));
    const auto cursors = gateway_cursors(dir);
    CHECK(cursors.backlog == 0);
    CHECK(cursors.acked + 1 == cursors.next_sequence);
    CHECK(field(central_sync(dir), "received") == cursors.acked);
    const auto once = check_exactly_once(dir, cursors.acked);
    check_verify(dir);
    CHECK(gateway.process.running());
    CHECK(central.process.running());

    std::printf(
        "sync chaos summary: kills gateway %d, central %d, broker %d (%d with a backlog "
        "waiting) in %.1f s; %d live reports; events checked %lld, lost %lld, duplicated %lld "
        "(seed %u)\n",
        killed["gateway"], killed["central"], killed["broker"], mid_drain, chaos_s,
        reports_made.load(), once.checked, once.lost, once.duplicated, seed);
    CHECK(killed["gateway"] == kKillsPerKind);
    CHECK(killed["central"] == kKillsPerKind);
    CHECK(killed["broker"] == kKillsPerKind);
    CHECK(gateway.process.stop() == 0);
    CHECK(central.process.stop() == 0);
}
