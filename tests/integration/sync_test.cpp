// The gateway's sync agent end to end: the real floorwatchd with a `sync:` section, a real
// Mosquitto, and on the other side a centre scripted by the test (a Paho client speaking the
// protocol through the same codec, holding what it received by (origin, sequence) and hash).
// Orders reported through the CLI reach the centre exactly once and are marked synced; an
// approval made centrally comes down and is applied on the gateway; a broker outage and kill -9
// of the gateway in the middle of a drain lose and repeat nothing; junk on the down topic is
// counted, never fatal. The last case runs both real daemons: floorwatchd as a gateway and as
// the centre (role: central, SQLite), with an approval given through the centre's CLI and a
// photo that travels up in chunks.

#include <doctest/doctest.h>
#include <mqtt/async_client.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/order.hpp"
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

constexpr std::string_view kOrigin = "test-plant.gw-1";
constexpr std::string_view kCentreOrigin = "test-plant.central";
const std::string kCentreIncarnation(32, 'c');

std::string gateway_config(const TempDir& dir, const std::string& broker_uri) {
    return "gateway: {site: test-plant, node: gw-1, log_level: debug}\n"
           "store: {path: " +
           (dir / "fw.db").string() +
           ", commit_interval: 50ms}\n"
           "control: {socket: " +
           (dir / "control.sock").string() +
           ", mode: '0666'}\n"
           "equipment:\n  - {id: press-1, area: stamping}\n"
           "workflow:\n"
           "  prefixes: [{area: stamping, prefix: PRS}]\n"
           "  users:\n"
           "    - {name: rita, uid: 0, roles: reporter}\n"
           "    - {name: sam, uid: 1001, roles: team_lead}\n"
           "    - {name: sara, uid: 1002, roles: safety}\n"
           "    - {name: max, uid: 1003, roles: manager}\n"
           "sync:\n"
           "  broker: {uri: '" +
           broker_uri +
           "', reconnect_min: 100ms, reconnect_max: 500ms}\n"
           "  batch_events: 7\n"
           "  in_flight: 2\n"
           "  ack_timeout: 1s\n";
}

// The centre's side, scripted: answers hello with a welcome and every events message with an
// ack of what it holds contiguously; keeps every event by sequence; counts duplicates and
// conflicting hashes; sends down events when the test says.
class TestCentre : public virtual ::mqtt::callback {
  public:
    explicit TestCentre(const std::string& uri)
        : client_(uri, "test-centre", ::mqtt::create_options(MQTTVERSION_3_1_1)) {
        client_.set_callback(*this);
        connect();
    }
    ~TestCentre() override {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const ::mqtt::exception&) {
        }
    }

    void connect() {
        auto options = ::mqtt::connect_options_builder()
                           .clean_session(false)
                           .automatic_reconnect(100ms, 500ms)
                           .finalize();
        client_.connect(options)->wait_for(10s);
        client_.subscribe("floorwatch/v1/+/+/up", 1)->wait_for(10s);
    }

    void connected(const std::string&) override {
        // After an automatic reconnect: subscribed again in case the broker lost the session.
        client_.subscribe("floorwatch/v1/+/+/up", 1);
    }

    void message_arrived(::mqtt::const_message_ptr message) override {
        auto decoded = fw::sync::decode_up(message->to_string());
        std::lock_guard lock(mutex_);
        if (!decoded) {
            ++malformed_;
            return;
        }
        std::visit([this](auto& m) { take(m); }, *decoded);
    }

    void send_down(const std::vector<fw::workflow::Event>& events) {
        fw::sync::DownEvents down;
        {
            std::lock_guard lock(mutex_);
            down.first = down_next_;
            for (const auto& event : events) down.events.push_back({down_next_++, event});
            down.last = down_next_ - 1;
        }
        publish(fw::sync::encode_down(down));
    }

    void publish(const std::string& text) {
        client_.publish(::mqtt::make_message(down_topic(), text, 1, false));
    }

    std::uint64_t received() const {
        std::lock_guard lock(mutex_);
        return contiguous();
    }
    std::size_t duplicates() const {
        std::lock_guard lock(mutex_);
        return duplicates_;
    }
    std::size_t conflicts() const {
        std::lock_guard lock(mutex_);
        return conflicts_;
    }
    std::size_t hellos() const {
        std::lock_guard lock(mutex_);
        return hellos_;
    }
    std::uint64_t down_acked() const {
        std::lock_guard lock(mutex_);
        return down_acked_;
    }
    std::vector<fw::workflow::Event> events() const {
        std::lock_guard lock(mutex_);
        std::vector<fw::workflow::Event> all;
        all.reserve(events_.size());
        for (const auto& [sequence, event] : events_) all.push_back(event);
        return all;
    }
    void set_acking(bool acking) {
        std::lock_guard lock(mutex_);
        acking_ = acking;
    }
    // Welcomes a gateway whose writer is behind what this centre holds with verdict reseed.
    void set_reseed_verdicts(bool reseed) {
        std::lock_guard lock(mutex_);
        reseed_verdicts_ = reseed;
    }
    // The id of the last reseed_request; "" before any.
    std::string reseed_request() const {
        std::lock_guard lock(mutex_);
        return reseed_request_;
    }

  private:
    static std::string down_topic() { return fw::sync::down_topic("test-plant", "gw-1"); }

    std::uint64_t contiguous() const {
        std::uint64_t next = 1;
        while (events_.contains(next)) ++next;
        return next - 1;
    }

    void take(const fw::sync::Hello& hello) {
        ++hellos_;
        fw::sync::Welcome welcome;
        welcome.incarnation = kCentreIncarnation;
        if (!gateway_incarnation_.empty()) welcome.known_incarnation = gateway_incarnation_;
        gateway_incarnation_ = hello.incarnation;
        welcome.received = contiguous();
        welcome.down_next = down_next_;
        if (reseed_verdicts_ && hello.next_sequence - 1 < welcome.received) {
            welcome.verdict = fw::sync::Verdict::reseed;
            welcome.message = "re-imaged: floorwatch sync reseed";
        }
        reply(fw::sync::encode_down(welcome));
    }

    void take(const fw::sync::ReseedRequest& request) { reseed_request_ = request.request_id; }

    void take(const fw::sync::UpEvents& batch) {
        for (const auto& event : batch.events) {
            const auto [found, inserted] = events_.try_emplace(event.id.sequence, event);
            if (inserted) continue;
            if (found->second.hash == event.hash) {
                ++duplicates_;
            } else {
                ++conflicts_;
            }
        }
        if (acking_) reply(fw::sync::encode_down(fw::sync::Ack{contiguous()}));
    }

    void take(const fw::sync::DownAck& ack) {
        down_acked_ = std::max(down_acked_, ack.down_applied);
    }
    template <typename Other>
    void take(const Other&) {}

    void reply(const std::string& text) {
        client_.publish(::mqtt::make_message(down_topic(), text, 1, false));
    }

    ::mqtt::async_client client_;
    mutable std::mutex mutex_;
    std::map<std::uint64_t, fw::workflow::Event> events_;
    std::string gateway_incarnation_;
    std::uint64_t down_next_ = 1;
    std::uint64_t down_acked_ = 0;
    std::size_t duplicates_ = 0;
    std::size_t conflicts_ = 0;
    std::size_t malformed_ = 0;
    std::size_t hellos_ = 0;
    bool acking_ = true;
    bool reseed_verdicts_ = false;
    std::string reseed_request_;
};

RunResult cli(const TempDir& dir, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((dir / "fw.yaml").string());
    return fw::test::run(dir, FW_CLI_BINARY, args);
}

void report(const TempDir& dir, int index) {
    const auto reported = cli(dir, {"report", "--type", "vibration", "--equipment", "press-1",
                                    "--description", "press-1 shakes #" + std::to_string(index)});
    REQUIRE_MESSAGE(reported.exit_code == 0, reported.err);
}

json::object sync_state(const TempDir& dir) {
    const auto shown = cli(dir, {"sync", "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    return json::parse(shown.out).as_array().at(0).as_object();
}

std::uint64_t field(const json::object& object, const char* key) {
    return object.at(key).to_number<std::uint64_t>();
}

fw::test::Daemon start_gateway(const TempDir& dir, const fw::test::Mosquitto& broker) {
    write_text_file(dir / "fw.yaml", gateway_config(dir, broker.uri()));
    return fw::test::start_daemon(dir, dir / "fw.yaml");
}

}  // namespace

TEST_CASE(
    "sync: orders reach the centre once and are marked synced; a central approval comes "
    "down") {
    TempDir dir("fw-sync");
    fw::test::Mosquitto broker(dir.path());
    TestCentre centre(broker.uri());
    auto gateway = start_gateway(dir, broker);

    for (int i = 1; i <= 10; ++i) report(dir, i);
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == 10; }, 20s),
                    read_text_file(gateway.log));
    REQUIRE(eventually([&] { return field(sync_state(dir), "backlog") == 0; }, 10s));
    auto state = sync_state(dir);
    CHECK(field(state, "acked") == 10);
    CHECK(field(state, "next_sequence") == 11);
    CHECK(state.at("verdict").as_string() == "ok");
    CHECK(state.at("central_incarnation").as_string() == kCentreIncarnation);
    CHECK(centre.conflicts() == 0);
    const auto events = centre.events();
    REQUIRE(events.size() == 10);
    for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].id.origin == kOrigin);
        CHECK(events[i].id.sequence == i + 1);
        CHECK(fw::workflow::compute_hash(events[i]) == events[i].hash);
    }

    // The team lead approves the first order at the centre.
    const fw::Config config = fw::load_config((dir / "fw.yaml").string());
    const auto order = fw::workflow::fold(std::span(events.data(), 1));
    fw::workflow::ManualClock clock(fw::wall_now_ms(), true);
    fw::workflow::EventWriter writer(std::string(kCentreOrigin), 1);
    REQUIRE(writer.clock().receive(events.back().hlc, clock.now()));
    const auto approved =
        fw::workflow::handle(fw::workflow::ApproveCommand{},
                             fw::workflow::Actor::from_user(*config.workflow.find_user("sam")),
                             order, order.head_hash, {config.workflow, clock, writer, ""});
    REQUIRE_MESSAGE(approved, (approved ? "" : approved.error()));
    centre.send_down(approved->events);
    REQUIRE_MESSAGE(eventually([&] { return centre.down_acked() == 1; }, 10s),
                    read_text_file(gateway.log));
    const auto shown = cli(dir, {"orders", "show", order.id, "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    const auto view = json::parse(shown.out).as_object();
    const auto& approvals = view.at("approvals").as_array();
    REQUIRE(approvals.size() == 1);
    CHECK(approvals[0].as_object().at("user").as_string() == "sam");
    state = sync_state(dir);
    CHECK(field(state, "down_applied") == 1);
    CHECK(field(state, "backlog") == 0);  // the centre's event is not ours to send back

    // The same down message again (a resend) changes nothing and is acknowledged again.
    centre.send_down({});
    centre.publish("{not json");
    centre.publish(R"({"v":1,"type":"welcome"})");
    report(dir, 11);
    REQUIRE(eventually([&] { return centre.received() == 11; }, 10s));
    CHECK(gateway.process.running());
    const auto verified = cli(dir, {"verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.out << verified.err);
}

// One statement on the gateway's store from outside the daemon (WAL: it takes the write lock for
// a moment, as the CLI's own writes would).
void write_store(const TempDir& dir, const std::string& sql) {
    auto db = fw::store::Connection::open((dir / "fw.db").string(),
                                          fw::store::OpenMode::read_write_create);
    fw::store::Statement statement(db.get(), sql);
    statement.execute("changing the test's store");
}

TEST_CASE("sync: an event that cannot be read holds the drain there, logged, until it can") {
    TempDir dir("fw-sync-unreadable");
    fw::test::Mosquitto broker(dir.path());
    auto gateway = start_gateway(dir, broker);
    // No centre yet: the orders wait in the outbox.
    for (int i = 1; i <= 10; ++i) report(dir, i);
    // Event 6 (the sixth report) becomes unreadable: its type is no event type this floorwatch
    // knows, as in a damaged row.
    write_store(dir, "UPDATE order_events SET type = 'reportd' WHERE origin = '" +
                         std::string(kOrigin) + "' AND sequence = 6");

    TestCentre centre(broker.uri());
    // Everything before the damaged row arrives; nothing after it, and the daemon keeps running.
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == 5; }, 20s),
                    read_text_file(gateway.log));
    REQUIRE_MESSAGE(
        eventually(
            [&] {
                return read_text_file(gateway.log).find("cannot read the events to send from 6") !=
                       std::string::npos;
            },
            10s),
        read_text_file(gateway.log));
    std::this_thread::sleep_for(1s);  // several ticks: the agent asks again and again
    CHECK(centre.received() == 5);
    CHECK(gateway.process.running());
    CHECK(eventually([&] { return field(sync_state(dir), "backlog") == 5; }, 10s));

    // Readable again (repaired): the drain carries on by itself, each event once.
    write_store(dir, "UPDATE order_events SET type = 'reported' WHERE origin = '" +
                         std::string(kOrigin) + "' AND sequence = 6");
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == 10; }, 20s),
                    read_text_file(gateway.log));
    CHECK(centre.duplicates() == 0);
    CHECK(centre.conflicts() == 0);
    for (const auto& event : centre.events()) {
        CHECK(fw::workflow::compute_hash(event) == event.hash);
    }
    // One error line for the whole stretch, not one per retry.
    const std::string log = read_text_file(gateway.log);
    std::size_t lines = 0;
    for (auto at = log.find("cannot read the events to send"); at != std::string::npos;
         at = log.find("cannot read the events to send", at + 1)) {
        ++lines;
    }
    CHECK(lines == 1);
}

TEST_CASE("sync: a broker outage and kill -9 of the gateway mid-drain lose and repeat nothing") {
    TempDir dir("fw-sync-outage");
    fw::test::Mosquitto broker(dir.path());
    TestCentre centre(broker.uri());
    auto gateway = start_gateway(dir, broker);
    report(dir, 0);
    REQUIRE(eventually([&] { return centre.received() == 1; }, 20s));

    // The centre's broker goes away; the floor keeps reporting.
    broker.stop();
    constexpr int kReports = 60;
    for (int i = 1; i <= kReports; ++i) report(dir, i);
    CHECK(field(sync_state(dir), "backlog") == kReports);
    centre.set_acking(false);
    broker.start();

    // Batches go out but no ack comes: the window fills; then the gateway dies.
    REQUIRE(eventually([&] { return centre.events().size() > 1; }, 20s));
    gateway.process.send_signal(SIGKILL);
    CHECK(gateway.process.wait_exit(5s).has_value());
    CHECK(field(sync_state(dir), "acked") == 1);

    centre.set_acking(true);
    gateway = fw::test::start_daemon(dir, dir / "fw.yaml");
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == kReports + 1; }, 30s),
                    read_text_file(gateway.log));
    REQUIRE(eventually([&] { return field(sync_state(dir), "backlog") == 0; }, 10s));
    CHECK(field(sync_state(dir), "acked") == kReports + 1);
    CHECK(centre.conflicts() == 0);
    const auto events = centre.events();
    REQUIRE(events.size() == kReports + 1);
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].id.sequence == i + 1);
    CHECK(centre.hellos() >= 2);
}

namespace {

std::string central_config(const TempDir& dir, const std::string& broker_uri) {
    return fw::test::central_test_config(dir.path(), "uri: '" + broker_uri + "'",
                                         "  users:\n"
                                         "    - {name: lea, uid: 0, roles: team_lead}\n"
                                         "    - {name: sara, uid: 1002, roles: safety}\n");
}

// The CLI against the centre, as uid 0 (lea) or another uid through setpriv.
RunResult central_cli(const TempDir& dir, int uid, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((dir / "central.yaml").string());
    if (uid == 0) return fw::test::run(dir, FW_CLI_BINARY, args);
    std::vector<std::string> wrapped{"--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(uid), "--clear-groups",
                                     FW_CLI_BINARY};
    wrapped.insert(wrapped.end(), args.begin(), args.end());
    return fw::test::run(dir, "/usr/bin/setpriv", wrapped);
}

}  // namespace

TEST_CASE("sync: a real centre stores the gateway's orders and its approvals reach the floor") {
    TempDir dir("fw-sync-real");
    // Sara's uid must reach the centre's socket and read its config inside the test folder.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    fw::test::Mosquitto broker(dir.path());
    write_text_file(dir / "central.yaml", central_config(dir, broker.uri()));
    fw::test::Daemon centre;
    centre.log = dir / "central.log";
    centre.process = fw::test::ChildProcess::spawn(FW_DAEMON_BINARY,
                                                   {"--config", (dir / "central.yaml").string()},
                                                   fw::test::logs_to(centre.log, centre.log));
    REQUIRE_MESSAGE(eventually([&] { return fs::exists(dir / "central.sock"); }, 15s),
                    read_text_file(centre.log));
    auto gateway = start_gateway(dir, broker);

    for (int i = 1; i <= 3; ++i) report(dir, i);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto state = sync_state(dir);
                            return field(state, "acked") == 3 && field(state, "backlog") == 0;
                        },
                        20s),
                    read_text_file(gateway.log) << read_text_file(centre.log));

    const auto listed = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(listed.exit_code == 0);
    const auto orders = json::parse(listed.out).as_array();
    REQUIRE(orders.size() == 3);
    const std::string id(orders[0].as_object().at("id").as_string());

    // Lea (team lead) and Sara (safety) approve the medium-risk review at the centre.
    for (const int uid : {0, 1002}) {
        const auto approved = central_cli(dir, uid, {"orders", "act", id, "approve"});
        REQUIRE_MESSAGE(approved.exit_code == 0, approved.err << read_text_file(centre.log));
    }
    REQUIRE_MESSAGE(
        eventually(
            [&] {
                const auto shown = cli(dir, {"orders", "show", id, "--json"});
                return shown.exit_code == 0 &&
                       json::parse(shown.out).as_object().at("approvals").as_array().size() == 2;
            },
            20s),
        read_text_file(gateway.log) << read_text_file(centre.log));
    REQUIRE(eventually([&] { return field(sync_state(dir), "down_applied") == 2; }, 10s));

    // A report with a photo larger than a chunk: the centre asks for it and gets it in pieces.
    const std::string photo = std::string("\xff\xd8\xff\xe0", 4) + std::string(150'000, 'j');
    write_text_file(dir / "hazard.jpg", photo);
    const auto with_photo =
        cli(dir, {"report", "--type", "guarding", "--equipment", "press-1", "--description",
                  "guard missing", "--photo", (dir / "hazard.jpg").string()});
    REQUIRE_MESSAGE(with_photo.exit_code == 0, with_photo.err);
    REQUIRE(eventually([&] { return field(sync_state(dir), "acked") == 4; }, 20s));
    const std::string sha256 = fw::workflow::sha256_hex(photo);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return central_cli(dir, 0,
                                               {"orders", "attachment", sha256, "--out",
                                                (dir / "at-centre.jpg").string()})
                                       .exit_code == 0;
                        },
                        20s),
                    read_text_file(gateway.log) << read_text_file(centre.log));
    CHECK(read_text_file(dir / "at-centre.jpg") == photo);
    CHECK(cli(dir, {"verify"}).exit_code == 0);
    CHECK(centre.process.running());
    CHECK(gateway.process.running());
}

namespace {

// Each order's event ids and hashes, from `floorwatch orders show --json` (gateway or centre).
std::map<std::string, std::string> event_hashes(const RunResult& listed,
                                                const std::function<RunResult(std::string)>& show) {
    std::map<std::string, std::string> hashes;
    const auto orders = json::parse(listed.out);
    for (const auto& order : orders.as_array()) {
        const std::string id(order.as_object().at("id").as_string());
        const auto shown = show(id);
        REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
        const auto view = json::parse(shown.out);
        for (const auto& entry : view.as_object().at("timeline").as_array()) {
            hashes[std::string(entry.as_object().at("event_id").as_string())] =
                std::string(entry.as_object().at("hash").as_string());
        }
    }
    return hashes;
}

void reimage(const TempDir& dir, fw::test::Daemon& gateway) {
    CHECK(gateway.process.stop() == 0);
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(dir / ("fw.db" + std::string(suffix)));
}

}  // namespace

TEST_CASE("sync: a re-imaged gateway is re-seeded from the centre and never reuses an id") {
    TempDir dir("fw-sync-reseed");
    fw::test::Mosquitto broker(dir.path());
    write_text_file(dir / "central.yaml", central_config(dir, broker.uri()));
    fw::test::Daemon centre;
    centre.log = dir / "central.log";
    centre.process = fw::test::ChildProcess::spawn(FW_DAEMON_BINARY,
                                                   {"--config", (dir / "central.yaml").string()},
                                                   fw::test::logs_to(centre.log, centre.log));
    REQUIRE_MESSAGE(eventually([&] { return fs::exists(dir / "central.sock"); }, 15s),
                    read_text_file(centre.log));
    auto gateway = start_gateway(dir, broker);
    const auto logs = [&] { return read_text_file(gateway.log) + read_text_file(centre.log); };

    for (int i = 1; i <= 3; ++i) report(dir, i);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto state = sync_state(dir);
                            return field(state, "acked") == 3 && field(state, "backlog") == 0;
                        },
                        20s),
                    logs());
    // In step with the centre: nothing to re-seed.
    const auto early = cli(dir, {"sync", "reseed"});
    CHECK(early.exit_code == 1);
    CHECK_MESSAGE(early.err.find("not reseed") != std::string::npos, early.err);

    // An approval at the centre: a central event on the gateway's order comes down.
    const auto listed = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(listed.exit_code == 0);
    const std::string first(
        json::parse(listed.out).as_array().at(0).as_object().at("id").as_string());
    const auto approved = central_cli(dir, 0, {"orders", "act", first, "approve"});
    REQUIRE_MESSAGE(approved.exit_code == 0, approved.err << logs());
    REQUIRE_MESSAGE(eventually([&] { return field(sync_state(dir), "down_applied") == 1; }, 20s),
                    logs());
    const auto gateway_show = [&](const std::string& id) {
        return cli(dir, {"orders", "show", id, "--json"});
    };
    const auto before = event_hashes(listed, gateway_show);
    REQUIRE(before.size() >= 4);  // three reports and the centre's approval

    // Re-imaged, and a technician reports before the gateway reaches the centre: refused, with
    // what to do; nothing is sent under the centre's ids.
    reimage(dir, gateway);
    gateway = fw::test::start_daemon(dir, dir / "fw.yaml", "floorwatchd-2.log");
    REQUIRE_MESSAGE(eventually([&] { return sync_state(dir).at("verdict") == "reseed"; }, 20s),
                    logs());
    report(dir, 4);
    const auto refused = cli(dir, {"sync", "reseed"});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(refused.err.find("wrote 1 event(s)") != std::string::npos, refused.err);
    CHECK(sync_state(dir).at("verdict") == "reseed");

    // Re-imaged again, nothing written: the reseed brings every order back.
    reimage(dir, gateway);
    gateway = fw::test::start_daemon(dir, dir / "fw.yaml", "floorwatchd-3.log");
    REQUIRE_MESSAGE(eventually([&] { return sync_state(dir).at("verdict") == "reseed"; }, 20s),
                    logs());
    const auto stopped = cli(dir, {"sync"});
    CHECK_MESSAGE(stopped.out.find("sending is stopped") != std::string::npos, stopped.out);
    const auto reseeded = cli(dir, {"sync", "reseed"});
    REQUIRE_MESSAGE(reseeded.exit_code == 0, reseeded.err << logs());
    CHECK_MESSAGE(
        reseeded.out.find(std::to_string(before.size()) + " event(s) written") != std::string::npos,
        reseeded.out);
    const auto again = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(again.exit_code == 0);
    CHECK(event_hashes(again, gateway_show) == before);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto state = sync_state(dir);
                            return state.at("verdict") == "ok" && field(state, "acked") == 3 &&
                                   field(state, "next_sequence") == 4 &&
                                   field(state, "down_applied") == 1;
                        },
                        20s),
                    logs());

    // The next own event comes after the centre's, with a number of its own, and reaches it.
    report(dir, 5);
    const auto after = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(after.exit_code == 0);
    std::set<std::string> numbers;
    const auto after_orders = json::parse(after.out);
    for (const auto& order : after_orders.as_array()) {
        numbers.insert(std::string(order.as_object().at("number").as_string()));
    }
    CHECK(numbers.size() == 4);
    const std::string fresh = std::string(kOrigin) + ".4";
    CHECK(after.out.find("\"" + fresh + "\"") != std::string::npos);
    REQUIRE_MESSAGE(eventually([&] { return field(sync_state(dir), "acked") == 4; }, 20s), logs());
    const auto at_centre = central_cli(dir, 0, {"orders", "list", "--all", "--json"});
    REQUIRE_MESSAGE(at_centre.exit_code == 0, at_centre.err);
    CHECK(json::parse(at_centre.out).as_array().size() == 4);
    CHECK(at_centre.out.find("\"" + fresh + "\"") != std::string::npos);
    const auto centre_show = [&](const std::string& id) {
        return central_cli(dir, 0, {"orders", "show", id, "--json"});
    };
    const auto centre_hashes = event_hashes(at_centre, centre_show);
    const auto gateway_hashes = event_hashes(after, gateway_show);
    CHECK(centre_hashes == gateway_hashes);

    const auto verified = cli(dir, {"verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.out << verified.err);
    const auto verified_centre = central_cli(dir, 0, {"verify"});
    CHECK_MESSAGE(verified_centre.exit_code == 0, verified_centre.out << verified_centre.err);
    CHECK(centre.process.running());
    CHECK(gateway.process.running());
}

namespace {

// One seed part as the centre writes it.
std::string seed_part(const std::string& request_id, std::uint64_t part, bool last,
                      std::uint64_t origin_sequence, const fw::workflow::Event& event) {
    auto batch = fw::sync::EventBatch::seed({}, request_id, part, origin_sequence, 0);
    REQUIRE(batch.add(event) == fw::sync::BatchAdd::added);
    return batch.encode(last);
}

}  // namespace

TEST_CASE(
    "sync: a reseed takes only its own request's parts, in order, and gives up when they stop") {
    TempDir dir("fw-sync-reseed-scripted");
    // Sam's uid must reach the gateway's socket and read its config inside the test folder.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    fw::test::Mosquitto broker(dir.path());
    TestCentre centre(broker.uri());
    centre.set_reseed_verdicts(true);
    auto gateway = start_gateway(dir, broker);
    for (int i = 1; i <= 2; ++i) report(dir, i);
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == 2; }, 20s),
                    read_text_file(gateway.log));
    const auto held = centre.events();

    CHECK(gateway.process.stop() == 0);
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(dir / ("fw.db" + std::string(suffix)));
    }
    gateway = fw::test::start_daemon(dir, dir / "fw.yaml", "floorwatchd-2.log");
    REQUIRE_MESSAGE(eventually([&] { return sync_state(dir).at("verdict") == "reseed"; }, 20s),
                    read_text_file(gateway.log));

    // Plant IT's command: a team lead may not.
    const auto as_sam =
        fw::test::run(dir, "/usr/bin/setpriv",
                      {"--reuid=1001", "--regid=1001", "--clear-groups", FW_CLI_BINARY, "sync",
                       "reseed", "--config", (dir / "fw.yaml").string()});
    CHECK(as_sam.exit_code == 1);
    CHECK_MESSAGE(as_sam.err.find("may not re-seed") != std::string::npos, as_sam.err);

    const auto reseed_in_background = [&](const char* log) {
        return fw::test::ChildProcess::spawn(
            FW_CLI_BINARY, {"sync", "reseed", "--config", (dir / "fw.yaml").string()},
            fw::test::logs_to(dir / log, dir / log));
    };
    // A part of another request (it says last) changes nothing; with no part of its own the
    // reseed gives up after three ack timeouts and says so; sending stays stopped.
    auto first = reseed_in_background("reseed-1.log");
    REQUIRE_MESSAGE(eventually([&] { return !centre.reseed_request().empty(); }, 10s),
                    read_text_file(gateway.log));
    const std::string first_id = centre.reseed_request();
    centre.publish(seed_part(std::string(32, 'f'), 0, true, 2, held.at(0)));
    const auto failed = first.wait_exit(20s);
    REQUIRE(failed.has_value());
    CHECK(*failed == 1);
    CHECK_MESSAGE(read_text_file(dir / "reseed-1.log").find("no seed part") != std::string::npos,
                  read_text_file(dir / "reseed-1.log"));
    CHECK(sync_state(dir).at("verdict") == "reseed");
    const auto none = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(none.exit_code == 0);
    CHECK(json::parse(none.out).as_array().empty());

    // Again: two parts of this request, in order (part 1 repeated), bring both orders back.
    auto second = reseed_in_background("reseed-2.log");
    REQUIRE(eventually(
        [&] { return !centre.reseed_request().empty() && centre.reseed_request() != first_id; },
        10s));
    const std::string id = centre.reseed_request();
    centre.publish(seed_part(id, 0, false, 2, held.at(0)));
    centre.publish(seed_part(id, 0, false, 2, held.at(0)));
    centre.publish(seed_part(id, 1, true, 2, held.at(1)));
    const auto done = second.wait_exit(20s);
    REQUIRE(done.has_value());
    CHECK_MESSAGE(*done == 0, read_text_file(dir / "reseed-2.log") << read_text_file(gateway.log));
    const auto back = cli(dir, {"orders", "list", "--all", "--json"});
    REQUIRE(back.exit_code == 0);
    CHECK(json::parse(back.out).as_array().size() == 2);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto state = sync_state(dir);
                            return state.at("verdict") == "ok" &&
                                   field(state, "next_sequence") == 3 && field(state, "acked") == 2;
                        },
                        10s),
                    read_text_file(gateway.log));
    report(dir, 3);
    REQUIRE_MESSAGE(eventually([&] { return centre.received() == 3; }, 20s),
                    read_text_file(gateway.log));
    CHECK(centre.conflicts() == 0);
    CHECK(cli(dir, {"verify"}).exit_code == 0);
}
