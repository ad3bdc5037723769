// The central role end to end: the real floorwatchd with `role: central`, a real Mosquitto, the
// central store in a real SQLite file or a real PostgreSQL (tests/support/postgres.hpp), and a
// gateway scripted by the test (a Paho client speaking the protocol through the codec, with events
// made by the workflow's own command handler). Each case runs on both backends where it makes
// sense; the scale-out case runs two central processes against one PostgreSQL and one broker.

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/central/central_store.hpp"
#include "daemon/control/control.hpp"
#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/test_harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/web_harness.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace sync = fw::sync;
namespace workflow = fw::workflow;
using namespace std::chrono_literals;
using fw::central::CentralStore;
using fw::central::StoreLocation;
using fw::test::ChildProcess;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::TempDir;

constexpr std::string_view kSite = "test-plant";
constexpr std::string_view kNode = "gw-1";
constexpr std::string_view kGateway = "test-plant.gw-1";

struct SqliteBackend {
    std::string postgresql_line() const { return ""; }
    StoreLocation location(const TempDir& dir) const {
        return {(dir / "central.db").string(), std::nullopt};
    }
};

struct PostgresBackend {
    fw::test::PostgresDatabase database;
    // A JSON string is a YAML double-quoted scalar; the conninfo holds single quotes.
    std::string postgresql_line() const {
        return "  postgresql: " + json::serialize(json::string(database.conninfo())) + "\n";
    }
    StoreLocation location(const TempDir& dir) const {
        return {(dir / "central.db").string(), database.conninfo()};
    }
};

// A central process's config: the test's own uid acts at the centre with `role`.
template <typename Backend>
std::string central_config(const TempDir& dir, const Backend& backend, const std::string& node,
                           const std::string& broker_uri, workflow::Role role) {
    return "role: central\n"
           "gateway: {site: test-plant, node: " +
           node +
           ", log_level: debug}\n"
           "store: {path: " +
           (dir / "central.db").string() +
           "}\n"
           "control: {socket: " +
           (dir / (node + ".sock")).string() +
           ", mode: '0666'}\n"
           "equipment:\n  - {id: press-2, area: stamping}\n"
           "workflow:\n"
           "  prefixes: [{area: stamping, prefix: PRS}]\n"
           "  users:\n"
           "    - {name: office, uid: " +
           std::to_string(getuid()) + ", roles: " + std::string(workflow::role_name(role)) +
           "}\n"
           "sync:\n"
           "  broker: {uri: '" +
           broker_uri +
           "', reconnect_min: 100ms, reconnect_max: 500ms}\n"
           "  ack_timeout: 1s\n" +
           backend.postgresql_line();
}

struct Central {
    ChildProcess process;
    fs::path log;
    fs::path socket;
};

std::size_t occurrences(const std::string& text, std::string_view what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

// Starts (or restarts: the log is appended to) a central process and waits until it is subscribed.
Central start_central(const TempDir& dir, const std::string& node, const std::string& yaml) {
    const fs::path config = dir / (node + ".yaml");
    fw::test::write_text_file(config, yaml);
    Central central;
    central.log = dir / (node + ".log");
    central.socket = dir / (node + ".sock");
    const std::size_t runs_before = occurrences(read_text_file(central.log), "ready: central");
    const std::size_t subscribed_before = occurrences(read_text_file(central.log), "subscribed to");
    fw::test::SpawnOptions options;
    options.stdout_path = central.log;
    options.stderr_path = central.log;
    central.process = ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()}, options);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return occurrences(read_text_file(central.log), "ready: central") >
                                       runs_before ||
                                   !central.process.running();
                        },
                        30s),
                    "central floorwatchd did not start: " << read_text_file(central.log));
    REQUIRE_MESSAGE(central.process.running(),
                    "central floorwatchd exited: " << read_text_file(central.log) << "config:\n"
                                                   << yaml);
    // Connected and subscribed: what a gateway publishes from now on reaches it.
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return occurrences(read_text_file(central.log), "subscribed to") >
                                   subscribed_before;
                        },
                        15s),
                    "central floorwatchd did not subscribe: " << read_text_file(central.log));
    return central;
}

// The gateway's side, scripted: publishes on its up topic, keeps every down message decoded.
class ScriptedGateway : public virtual ::mqtt::callback {
  public:
    explicit ScriptedGateway(const std::string& uri)
        : client_(uri, "test-gateway", ::mqtt::create_options(MQTTVERSION_3_1_1)) {
        client_.set_callback(*this);
        auto options = ::mqtt::connect_options_builder().clean_session(true).finalize();
        client_.connect(options)->wait_for(10s);
        client_.subscribe(sync::down_topic(kSite, kNode), 1)->wait_for(10s);
    }
    ~ScriptedGateway() override {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const ::mqtt::exception&) {
        }
    }
    ScriptedGateway(const ScriptedGateway&) = delete;
    ScriptedGateway& operator=(const ScriptedGateway&) = delete;

    void message_arrived(::mqtt::const_message_ptr message) override {
        auto decoded = sync::decode_down(message->to_string());
        std::lock_guard lock(mutex_);
        if (decoded) {
            received_.push_back(std::move(*decoded));
        } else {
            ++malformed_;
        }
    }

    void send(const sync::UpMessage& message) { publish(sync::encode_up(message)); }
    void publish(const std::string& text) {
        client_.publish(::mqtt::make_message(sync::up_topic(kSite, kNode), text, 1, false))
            ->wait_for(10s);
    }

    // Every message of type T received so far.
    template <typename T>
    std::vector<T> all() const {
        std::lock_guard lock(mutex_);
        std::vector<T> found;
        for (const auto& message : received_) {
            if (const auto* typed = std::get_if<T>(&message)) found.push_back(*typed);
        }
        return found;
    }

    std::uint64_t highest_ack() const {
        std::uint64_t highest = 0;
        for (const auto& ack : all<sync::Ack>()) highest = std::max(highest, ack.received);
        return highest;
    }

    // The down events received so far, by down sequence (duplicates included).
    std::vector<sync::DownEvent> down_events() const {
        std::vector<sync::DownEvent> found;
        for (const auto& message : all<sync::DownEvents>()) {
            found.insert(found.end(), message.events.begin(), message.events.end());
        }
        return found;
    }

    std::size_t malformed() const {
        std::lock_guard lock(mutex_);
        return malformed_;
    }

  private:
    ::mqtt::async_client client_;
    mutable std::mutex mutex_;
    std::vector<sync::DownMessage> received_;
    std::size_t malformed_ = 0;
};

sync::Hello hello_of(const workflow::testing::Plant& plant, std::uint64_t down_applied = 0) {
    sync::Hello hello;
    hello.incarnation = std::string(32, 'a');
    hello.origin = std::string(kGateway);
    hello.next_sequence = plant.log.size() + 1;
    hello.down_applied = down_applied;
    hello.wall_ms = workflow::testing::kStartMs;
    hello.clock_synced = true;
    return hello;
}

// The plant's log as up messages of at most `per_message` events.
std::vector<std::string> up_batches(const workflow::testing::Plant& plant,
                                    std::size_t per_message) {
    return sync::batch_up_events(plant.log,
                                 sync::BatchLimits{per_message, std::size_t{256} * 1024});
}

std::size_t events_of(CentralStore& store, std::string_view origin) {
    std::size_t count = 0;
    for (const auto& event : store.load_orders().events) {
        if (event.id.origin == origin) ++count;
    }
    return count;
}

// Who acts first on a freshly reported order: the first level of its review chain.
workflow::Role first_reviewer(workflow::testing::Plant& plant, const std::string& order_id) {
    const auto& state = plant.state(order_id);
    REQUIRE_FALSE(state.review_complete());
    return state.review_chain[state.pending_level()];
}

// Runs the real `floorwatch` CLI; returns its standard output (the test fails on a non-zero exit).
std::string floorwatch(const TempDir& dir, const std::vector<std::string>& args) {
    static int runs = 0;
    const fs::path out = dir / fmt::format("cli-{}.out", ++runs);
    fw::test::SpawnOptions options;
    options.stdout_path = out;
    options.stderr_path = out;
    auto cli = ChildProcess::spawn(FW_CLI_BINARY, args, options);
    const auto code = cli.wait_exit(30s);
    REQUIRE_MESSAGE(code == 0, "floorwatch failed: " << read_text_file(out));
    return read_text_file(out);
}

std::string text_of(const json::value& value) {
    return json::value_to<std::string>(value);
}

json::value act_at_centre(const Central& central, const json::object& args) {
    fw::control::Client client(central.socket.string());
    return client.call("order.act", args);
}

}  // namespace

TEST_CASE_TEMPLATE(
    "central floorwatchd: gateway events are stored once and acked; a central approval flows "
    "down, is replayed on the next hello and its ack recorded",
    Backend, SqliteBackend, PostgresBackend) {
    TempDir dir("fw-central-e2e");
    Backend backend;
    fw::test::Mosquitto broker(dir.path());

    workflow::testing::Plant plant{std::string(kGateway)};
    const std::string first_order = plant.report();
    const std::string second_order = plant.report(workflow::Risk::high);
    plant.approve_all(second_order);
    const std::size_t total = plant.log.size();
    const workflow::Role reviewer = first_reviewer(plant, first_order);

    auto central = start_central(dir, "central-1",
                                 central_config(dir, backend, "central-1", broker.uri(), reviewer));
    ScriptedGateway gateway(broker.uri());

    // Something that is not a message is counted, never fatal.
    gateway.publish("this is not json");
    gateway.send(hello_of(plant));
    REQUIRE(eventually([&] { return !gateway.all<sync::Welcome>().empty(); }, 10s));
    {
        const auto welcome = gateway.all<sync::Welcome>().front();
        CHECK(welcome.verdict == sync::Verdict::ok);
        CHECK(welcome.received == 0);
        CHECK(welcome.down_next == 1);
        CHECK_FALSE(welcome.known_incarnation);
        CHECK(welcome.incarnation.size() == 32);
    }

    // Every batch, and then every batch again: the second round is all duplicates.
    const auto batches = up_batches(plant, 2);
    REQUIRE(batches.size() > 2);
    for (const auto& text : batches) gateway.publish(text);
    REQUIRE_MESSAGE(eventually([&] { return gateway.highest_ack() == total; }, 15s),
                    read_text_file(central.log));
    for (const auto& text : batches) gateway.publish(text);
    REQUIRE(eventually([&] { return gateway.all<sync::Ack>().size() >= 2 * batches.size(); }, 15s));
    CHECK(gateway.highest_ack() == total);
    {
        auto store = CentralStore::open(backend.location(dir), true);
        CHECK(events_of(*store, kGateway) == total);
        const auto state = store->gateway(std::string(kGateway));
        REQUIRE(state);
        CHECK(state->received == total);
        CHECK(state->quarantined == 0);
        CHECK(state->integrity_alarms == 0);
        const auto row = store->find_order(first_order);
        REQUIRE(row);
        CHECK(row->gateway == std::string(kGateway));
    }
    // The CLI reads the central store named by the centre's config (SQLite or PostgreSQL).
    {
        const std::string config = (dir / "central-1.yaml").string();
        const std::string list = floorwatch(dir, {"orders", "list", "--all", "--config", config});
        CHECK(list.find("GATEWAY") != std::string::npos);
        CHECK(list.find(std::string(kGateway)) != std::string::npos);
        CHECK(list.find(plant.state(second_order).number) != std::string::npos);
        const auto shown = json::parse(
            floorwatch(dir, {"orders", "show", first_order, "--json", "--config", config}));
        CHECK(json::value_to<std::string>(shown.at("gateway")) == kGateway);
        CHECK(shown.at("timeline").as_array().size() == plant.events.at(first_order).size());
        // `floorwatch sync` on a centre: one row per gateway.
        const auto rows = json::parse(floorwatch(dir, {"sync", "--json", "--config", config}));
        REQUIRE(rows.as_array().size() == 1);
        const auto& row = rows.as_array().front();
        CHECK(json::value_to<std::string>(row.at("gateway")) == kGateway);
        CHECK(json::value_to<std::uint64_t>(row.at("received")) == total);
        CHECK(json::value_to<std::uint64_t>(row.at("backlog")) == 0);
        CHECK(json::value_to<std::string>(row.at("verdict")) == "ok");
        CHECK(json::value_to<std::uint64_t>(row.at("quarantined")) == 0);
        const std::string table = floorwatch(dir, {"sync", "--config", config});
        CHECK(table.find("GATEWAY") != std::string::npos);
        CHECK(table.find(std::string(kGateway)) != std::string::npos);
    }

    // The office approves the first order; the approval comes down at once as down event 1.
    const auto answer = act_at_centre(central, {{"order", first_order}, {"action", "approve"}});
    CHECK(answer.is_object());
    REQUIRE_MESSAGE(eventually([&] { return !gateway.down_events().empty(); }, 10s),
                    read_text_file(central.log));
    const auto approval = gateway.down_events().front();
    CHECK(approval.down == 1);
    CHECK(approval.event.order_id == first_order);
    CHECK(approval.event.type == workflow::EventType::approved);
    CHECK(approval.event.id.origin == "test-plant.central-1");
    CHECK(approval.event.prev_hash == plant.state(first_order).head_hash);

    // A central action the workflow refuses (the order is not the centre's to close) is an error
    // for the caller, and nothing goes down.
    CHECK_THROWS_AS(act_at_centre(central, {{"order", second_order}, {"action", "accept"}}),
                    fw::control::ControlError);

    // The gateway comes back without having applied it: the welcome says so and it is replayed.
    const std::size_t welcomes = gateway.all<sync::Welcome>().size();
    gateway.send(hello_of(plant, 0));
    REQUIRE(eventually([&] { return gateway.all<sync::Welcome>().size() > welcomes; }, 10s));
    CHECK(gateway.all<sync::Welcome>().back().down_next == 2);
    CHECK(gateway.all<sync::Welcome>().back().received == total);
    REQUIRE(eventually([&] { return gateway.down_events().size() >= 2; }, 10s));
    CHECK(gateway.down_events()[1].down == 1);
    CHECK(gateway.down_events()[1].event.hash == approval.event.hash);

    gateway.send(sync::DownAck{1});
    CHECK(eventually(
        [&] {
            auto store = CentralStore::open(backend.location(dir), true);
            return store->gateway(std::string(kGateway))->down_acked == 1;
        },
        10s));
    // A photo uploaded at the centre is sent in chunks to a gateway that asks for it.
    const std::string photo = std::string("\xff\xd8\xff\xe0", 4) + std::string(150'000, 'p');
    const std::string sha256 = workflow::sha256_hex(photo);
    {
        fw::control::Client client(central.socket.string());
        const auto stored = client.call(
            "attachment.upload",
            {{"name", "after.jpg"}, {"data", sync::base64_encode(photo)}, {"last", true}});
        CHECK(json::value_to<std::string>(stored.at("sha256")) == sha256);
    }
    gateway.send(sync::Need{{{sha256, 0}}});
    REQUIRE(eventually(
        [&] {
            const auto chunks = gateway.all<sync::AttachmentChunk>();
            return !chunks.empty() && chunks.back().last;
        },
        10s));
    std::string assembled;
    for (const auto& chunk : gateway.all<sync::AttachmentChunk>()) {
        CHECK(chunk.sha256 == sha256);
        CHECK(chunk.offset == assembled.size());
        assembled += chunk.data;
    }
    CHECK(gateway.all<sync::AttachmentChunk>().size() == 3);  // 64 KiB chunks
    CHECK(assembled == photo);

    CHECK(gateway.malformed() == 0);
    CHECK(central.process.running());
    CHECK(read_text_file(central.log).find("malformed") != std::string::npos);
    CHECK(central.process.stop() == 0);
}

TEST_CASE_TEMPLATE(
    "central floorwatchd's web page: every gateway's orders with their gateway, an approval "
    "given on the page goes down to the gateway, sessions kept in the central store",
    Backend, SqliteBackend, PostgresBackend) {
    TempDir dir("fw-central-web");
    Backend backend;
    fw::test::Mosquitto broker(dir.path());

    workflow::testing::Plant plant{std::string(kGateway)};
    const std::string order = plant.report();
    const std::size_t total = plant.log.size();
    const workflow::Role reviewer = first_reviewer(plant, order);
    const std::string yaml = central_config(dir, backend, "central-1", broker.uri(), reviewer) +
                             "http: {listen: ['127.0.0.1:0']}\n";
    auto central = start_central(dir, "central-1", yaml);
    ScriptedGateway gateway(broker.uri());
    gateway.send(hello_of(plant));
    for (const auto& text : up_batches(plant, 10)) gateway.publish(text);
    REQUIRE_MESSAGE(eventually([&] { return gateway.highest_ack() == total; }, 15s),
                    read_text_file(central.log));

    // Plant IT sets the office's password on the centre as on a gateway.
    const fs::path config = dir / "central-1.yaml";
    fw::test::set_password(dir, config, "office", "office-password-1");
    fw::test::HttpClient page(fw::test::web_port(central.log));
    CHECK(page.login("office", "wrong password").status == 401);
    const auto signed_in = page.login("office", "office-password-1");
    REQUIRE_MESSAGE(signed_in.status == 200, signed_in.body);
    CHECK(signed_in.json().at("node").at("role") == "central");
    CHECK(signed_in.json().at("node").at("node") == "central-1");

    // The list: the gateway's order, saying which gateway it came from; the gateway filter.
    {
        const auto list = page.get("/api/v1/orders").json();
        REQUIRE(list.at("orders").as_array().size() == 1);
        const auto& row = list.at("orders").as_array().front();
        CHECK(text_of(row.at("id")) == order);
        CHECK(text_of(row.at("gateway")) == kGateway);
        CHECK(list.at("counts").at("total") == 1);
        const std::string mine = "/api/v1/orders?gateway=" + std::string(kGateway);
        CHECK(page.get(mine).json().at("orders").as_array().size() == 1);
        CHECK(page.get("/api/v1/orders?gateway=test-plant.gw-9").json().at("counts").at("total") ==
              0);
    }
    // The order: the gateway's timeline, and the approval this user may give.
    {
        const auto detail = page.get("/api/v1/orders/" + order);
        REQUIRE_MESSAGE(detail.status == 200, detail.body);
        const auto body = detail.json();
        CHECK(text_of(body.at("order").at("gateway")) == kGateway);
        CHECK(body.at("timeline").as_array().size() == plant.events.at(order).size());
        bool may_approve = false;
        for (const auto& action : body.at("actions").as_array()) {
            may_approve = may_approve || action.at("action") == "approve";
        }
        CHECK_MESSAGE(may_approve, json::serialize(body.at("actions")));
    }
    // The centre has no alarms or readings of its own: empty, not an error.
    CHECK(page.get("/api/v1/alarms").json().at("alarms").as_array().empty());
    CHECK(page.get("/api/v1/channels").json().at("channels").as_array().empty());
    CHECK(page.get("/api/v1/devices").json().at("devices").as_array().empty());

    // Approved on the page: durable at the centre, then sent down to the order's gateway.
    const auto approved =
        page.post_json("/api/v1/orders/" + order + "/actions", json::object{{"action", "approve"}});
    REQUIRE_MESSAGE(approved.status == 200, approved.body);
    REQUIRE_MESSAGE(eventually([&] { return !gateway.down_events().empty(); }, 10s),
                    read_text_file(central.log));
    const auto down = gateway.down_events().front().event;
    CHECK(down.order_id == order);
    CHECK(down.type == workflow::EventType::approved);
    CHECK(down.actor == "office");
    CHECK(down.id.origin == "test-plant.central-1");
    // Refusals keep their HTTP meaning: the workflow says no (409), no such order (404).
    CHECK(page.post_json("/api/v1/orders/" + order + "/actions", json::object{{"action", "accept"}})
              .status == 409);
    CHECK(page.get("/api/v1/orders/PRS-19990101-0001").status == 404);

    // A report made in the office is the centre's own order.
    const auto reported =
        page.post_json("/api/v1/reports", json::object{{"equipment", "press-2"},
                                                       {"hazard_type", "guarding"},
                                                       {"risk", "low"},
                                                       {"title", "loose guard rail"},
                                                       {"description", "seen on the walk round"}});
    REQUIRE_MESSAGE(reported.status == 200, reported.body);
    {
        const auto list = page.get("/api/v1/orders?gateway=(centre)").json();
        REQUIRE(list.at("orders").as_array().size() == 1);
        CHECK(list.at("orders").as_array().front().at("title") == "loose guard rail");
    }
    // A photo uploaded on the page is kept by the centre and served back as it came.
    const std::string photo = std::string("\xff\xd8\xff\xe0", 4) + std::string(70'000, 'p');
    const auto uploaded = page.post_file("/api/v1/attachments", "guard.jpg", photo);
    REQUIRE_MESSAGE(uploaded.status == 200, uploaded.body);
    const auto sha256 = json::value_to<std::string>(uploaded.json().at("sha256"));
    const auto served = page.get("/api/v1/attachments/" + sha256);
    CHECK(served.status == 200);
    CHECK(served.header("content-type") == "image/jpeg");
    CHECK(served.header("x-content-type-options") == "nosniff");
    CHECK(served.body == photo);

    // The gateways view: a gateway is connected while it is heard from (a quiet one repeats its
    // down ack once per ack timeout, daemon/sync/README.md), and no longer once it falls silent.
    const auto gateway_row = [&page] {
        const auto sync_state = page.get("/api/v1/sync").json();
        REQUIRE(sync_state.at("gateways").as_array().size() == 1);
        return sync_state.at("gateways").as_array().front();
    };
    // The row may still say connected from the batches before; the ack is what is waited for.
    gateway.send(sync::DownAck{1});
    CHECK(eventually(
        [&] {
            const auto row = gateway_row();
            return row.at("cursors").at("down_acked") == 1 && row.at("connected") == true;
        },
        10s));
    {
        const auto row = gateway_row();
        CHECK(text_of(row.at("gateway")) == kGateway);
        CHECK(row.at("cursors").at("received") == total);
        CHECK(row.at("backlog") == 0);
    }
    CHECK(eventually([&] { return gateway_row().at("connected") == false; }, 15s));
    // What Prometheus reads.
    {
        const auto metrics = page.get("/metrics");
        CHECK(metrics.status == 200);
        CHECK_MESSAGE(metrics.body.find(fmt::format("floorwatch_central_events_stored_total {}",
                                                    total)) != std::string::npos,
                      metrics.body);
        CHECK(metrics.body.find("floorwatch_orders{state=\"reported\"} 1") != std::string::npos);
        CHECK(page.get("/api/v1/kpi").status == 200);
        const auto weekly = page.get("/api/v1/reports/weekly");
        CHECK(weekly.status == 200);
        CHECK(weekly.json().at("markdown").as_string().size() > 0);
    }

    // Sessions are in the central store: a restart keeps the user signed in.
    const std::string cookie = page.session_cookie();
    const std::string csrf = page.csrf();
    REQUIRE(central.process.stop() == 0);
    central = start_central(dir, "central-1", yaml);
    fw::test::HttpClient again(fw::test::web_port(central.log));
    again.set_session(cookie, csrf);
    const auto session = again.get("/api/v1/session");
    CHECK(session.json().at("user") == "office");
    CHECK(again.get("/api/v1/orders").json().at("counts").at("total") == 2);
    CHECK(central.process.stop() == 0);
}

TEST_CASE(
    "central floorwatchd: two central processes share one PostgreSQL and one broker through a "
    "shared subscription; every event is stored exactly once") {
    TempDir dir("fw-central-scale");
    PostgresBackend backend;
    fw::test::Mosquitto broker(dir.path());

    workflow::testing::Plant plant{std::string(kGateway)};
    std::vector<std::string> orders;
    for (int i = 0; i < 12; ++i) {
        orders.push_back(plant.report());
        plant.approve_all(orders.back());
    }
    const std::size_t total = plant.log.size();
    const workflow::Role reviewer = workflow::Role::team_lead;

    auto first = start_central(dir, "central-1",
                               central_config(dir, backend, "central-1", broker.uri(), reviewer));
    auto second = start_central(dir, "central-2",
                                central_config(dir, backend, "central-2", broker.uri(), reviewer));
    ScriptedGateway gateway(broker.uri());

    gateway.send(hello_of(plant));
    REQUIRE(eventually([&] { return !gateway.all<sync::Welcome>().empty(); }, 10s));
    // One event per message, so the broker hands the two processes many messages each; they
    // store them in whatever order they get them and ack the contiguous cursor.
    const auto batches = up_batches(plant, 1);
    for (const auto& text : batches) gateway.publish(text);
    REQUIRE_MESSAGE(eventually([&] { return gateway.highest_ack() == total; }, 30s),
                    read_text_file(first.log) << read_text_file(second.log));
    // A second pass: all duplicates, whichever process gets them.
    for (const auto& text : batches) gateway.publish(text);
    REQUIRE(eventually([&] { return gateway.all<sync::Ack>().size() >= 2 * batches.size(); }, 30s));

    // Both processes took part.
    CHECK(read_text_file(first.log).find("event(s) stored") != std::string::npos);
    CHECK(read_text_file(second.log).find("event(s) stored") != std::string::npos);

    auto store = CentralStore::open(backend.location(dir), true);
    CHECK(events_of(*store, kGateway) == total);
    const auto state = store->gateway(std::string(kGateway));
    REQUIRE(state);
    CHECK(state->received == total);
    CHECK(state->quarantined == 0);
    CHECK(state->integrity_alarms == 0);
    CHECK(store->orders().size() == orders.size());
    CHECK(first.process.stop() == 0);
    CHECK(second.process.stop() == 0);
}

TEST_CASE_TEMPLATE(
    "central floorwatchd: killed (SIGKILL) in the middle of a drain and restarted, it stores every "
    "event exactly once",
    Backend, SqliteBackend, PostgresBackend) {
    TempDir dir("fw-central-kill");
    Backend backend;
    fw::test::Mosquitto broker(dir.path());

    workflow::testing::Plant plant{std::string(kGateway)};
    for (int i = 0; i < 10; ++i) plant.approve_all(plant.report());
    const std::size_t total = plant.log.size();
    const std::string yaml =
        central_config(dir, backend, "central-1", broker.uri(), workflow::Role::team_lead);

    auto central = start_central(dir, "central-1", yaml);
    ScriptedGateway gateway(broker.uri());
    gateway.send(hello_of(plant));
    REQUIRE(eventually([&] { return !gateway.all<sync::Welcome>().empty(); }, 10s));
    const auto batches = up_batches(plant, 1);
    for (std::size_t i = 0; i < batches.size(); ++i) {
        gateway.publish(batches[i]);
        if (i == batches.size() / 3) central.process.send_signal(SIGKILL);
    }
    CHECK(central.process.wait_exit(10s) == 128 + SIGKILL);

    // Back up: the broker kept what arrived meanwhile (persistent session); the gateway says
    // hello and, as a real one does, sends again from the welcome's `received + 1`.
    central = start_central(dir, "central-1", yaml);
    const std::size_t welcomes = gateway.all<sync::Welcome>().size();
    gateway.send(hello_of(plant));
    REQUIRE(eventually([&] { return gateway.all<sync::Welcome>().size() > welcomes; }, 10s));
    const std::uint64_t received = gateway.all<sync::Welcome>().back().received;
    CHECK(received <= total);
    for (auto i = static_cast<std::size_t>(received); i < batches.size(); ++i) {
        gateway.publish(batches[i]);
    }
    REQUIRE_MESSAGE(eventually([&] { return gateway.highest_ack() == total; }, 30s),
                    read_text_file(central.log));

    auto store = CentralStore::open(backend.location(dir), true);
    CHECK(events_of(*store, kGateway) == total);
    const auto state = store->gateway(std::string(kGateway));
    REQUIRE(state);
    CHECK(state->received == total);
    CHECK(state->quarantined == 0);
    CHECK(state->integrity_alarms == 0);
    CHECK(store->orders().size() == 10);
    CHECK(central.process.stop() == 0);
}
