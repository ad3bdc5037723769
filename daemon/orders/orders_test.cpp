// fw::orders: attachment encoding and sniffing; incident totals and rates against a hand-computed
// fixture; the order service on a real store: orders from alarms (listener and catch-up at
// start), occurrences, escalation, overdue, restarts and the orders-from-alarms counter; and its
// commands over a real control socket (reports, actions, uploads and incidents answered once
// durable and read back from the store, refusals that say why). The KPIs' figures are
// daemon/workflow/kpi_test.cpp's; the reports as people read them are checked end to end in
// tests/integration/orders_test.cpp.
#include <doctest/doctest.h>

#include "daemon/orders/attachments.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/reports.hpp"

using namespace fw::orders;

TEST_CASE("base64 round-trips every length and refuses what is not base64") {
    std::string bytes;
    for (int i = 0; i < 20; ++i) {
        CHECK(base64_decode(base64_encode(bytes)) == bytes);
        bytes += static_cast<char>(i * 37 + 200);
    }
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_decode("Zm8=") == "fo");
    CHECK_FALSE(base64_decode("Zm8").has_value());
    CHECK_FALSE(base64_decode("Zm=8").has_value());
    CHECK_FALSE(base64_decode("Z!8=").has_value());
}

TEST_CASE("the media type comes from the bytes, not the name") {
    CHECK(sniff_media_type(std::string("\xff\xd8\xff\xe0rest", 8)) == "image/jpeg");
    CHECK(sniff_media_type(std::string("\x89PNG\r\n\x1a\n....", 12)) == "image/png");
    CHECK(sniff_media_type("%PDF-1.7") == "application/pdf");
    CHECK(sniff_media_type("MZ\x90") == "");
}

TEST_CASE("the actor is the signed-in web user when there is one, else the uid's user") {
    fw::Config config;
    fw::workflow::UserConfig tech;
    tech.name = "tech1";
    tech.uid = 1001;
    tech.role_list = {fw::workflow::Role::technician};
    fw::workflow::UserConfig safety;
    safety.name = "safety1";
    safety.role_list = {fw::workflow::Role::safety};
    config.workflow.users = {tech, safety};
    fw::control::Caller socket_caller;
    socket_caller.uid = 1001;
    socket_caller.user = "alice";
    CHECK(actor_for(socket_caller, config)->user == "tech1");
    // On the web the uid is nobody's; the name decides.
    const auto web = actor_for(fw::control::Caller::web_user("safety1"), config);
    REQUIRE(web.ok());
    CHECK(web->user == "safety1");
    CHECK(web->holds(fw::workflow::Role::safety));
    CHECK(actor_for(fw::control::Caller::web_user("gone"), config).error() ==
          "gone is no longer in workflow.users; ask plant IT");
}

TEST_CASE("incident totals and rates count what falls in the period and the area") {
    const auto record = [](std::string kind, std::int64_t at_ms, std::string area, double hours) {
        IncidentRecord incident;
        incident.kind = std::move(kind);
        incident.at_ms = at_ms;
        incident.until_ms = at_ms;
        incident.area = std::move(area);
        incident.hours = hours;
        return incident;
    };
    const std::vector<IncidentRecord> records{
        record("incident", 1000, "stamping", 0),  record("incident", 1999, "", 0),
        record("incident", 2000, "stamping", 0),  // at `until`: outside
        record("incident", 999, "stamping", 0),   // before `since`: outside
        record("hours", 1000, "stamping", 60000), record("hours", 1500, "cooling", 40000),
        record("hours", 2000, "stamping", 99999),  // at `until`: outside
    };
    fw::workflow::KpiFilter period;
    period.since_ms = 1000;
    period.until_ms = 2000;
    const auto site = incident_totals(records, period);
    CHECK(site.incidents == 2);
    CHECK(site.hours == 100000);
    fw::workflow::KpiFilter stamping = period;
    stamping.area = "stamping";
    const auto area = incident_totals(records, stamping);
    CHECK(area.incidents == 1);
    CHECK(area.hours == 60000);

    // 2 in 100,000 h: 4 per 200,000 h and 20 per 1,000,000 h; without hours there is no rate.
    const auto rate = kpi_report({}, records, period, 5000).at("incident_rate").as_object();
    CHECK(rate.at("recordable_incidents").to_number<std::int64_t>() == 2);
    CHECK(rate.at("hours_worked").as_double() == 100000);
    CHECK(rate.at("per_200k_hours").as_double() == doctest::Approx(4.0));
    CHECK(rate.at("per_1m_hours").as_double() == doctest::Approx(20.0));
    fw::workflow::KpiFilter later;
    later.since_ms = 3000;
    const auto none = kpi_report({}, records, later, 5000);
    CHECK(none.at("incident_rate").at("per_200k_hours").is_null());
    CHECK(kpi_text(none).find("no orders reported in the period") != std::string::npos);
}

// --- the order service on a real store, with a controlled clock and alarm events fed directly ---

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/orders/order_service.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/store/store_file.hpp"
#include "tests/support/process.hpp"

namespace {

using fw::alarms::StoredAlarmEvent;
using fw::rules::AlarmAction;
using fw::workflow::ManualClock;

constexpr std::int64_t kStart = 1795000000000;  // 2026-11-18 07:06:40 UTC

// The rules behind the alarm events: a vibration rule with a hazard block and a recurrence rule
// counting vibration hazards. Each event carries its rule's hazard, as the engine's do.
fw::rules::RuleHazard hazard_of(const std::string& rule) {
    if (rule == "press2-vibration") {
        return {"",
                fw::rules::HazardConfig{"vibration", fw::rules::Risk::medium, "Press 2 vibration"},
                ""};
    }
    if (rule == "vibration-again") return {"", std::nullopt, "vibration"};
    return {"a rule without a hazard block", std::nullopt, ""};
}

StoredAlarmEvent alarm(std::int64_t id, std::string rule, AlarmAction action,
                       bool escalation = false) {
    StoredAlarmEvent stored;
    stored.id = id;
    stored.event.rule_hazard = hazard_of(rule);
    stored.event.rule_id = std::move(rule);
    stored.event.rule_version = "00112233aabbccdd";
    stored.event.equipment = "press-2";
    stored.event.area = "stamping";
    stored.event.action = action;
    stored.event.escalation = escalation;
    stored.event.detail = "above 4.5";
    stored.event.value = 5.2;
    return stored;
}

struct Plant {
    fw::test::TempDir dir{"fw-orders-unit"};
    fw::Config config;
    ManualClock clock{kStart};
    boost::asio::io_context core;
    std::unique_ptr<fw::store::Writer> writer;

    Plant() {
        config.gateway.site = "unit";
        config.gateway.node = "gw";
        config.store.path = (dir / "fw.db").string();
        config.equipment = {{"press-2", "stamping", ""}};
        writer = fw::store::Writer::open(
            {.path = config.store.path, .commit_interval = std::chrono::milliseconds(20)});
    }

    std::unique_ptr<fw::orders::OrderService> service() {
        return std::make_unique<fw::orders::OrderService>(core, *writer, config, nullptr, nullptr,
                                                          &clock);
    }

    void settle(fw::orders::OrderService& service) {
        for (int i = 0; i < 500; ++i) {
            core.restart();
            core.run_for(std::chrono::milliseconds(10));
            if (!service.writes_in_flight() && i > 2) return;
        }
        FAIL("the service did not settle");
    }

    fw::orders::StoredOrders stored() {
        auto connection =
            fw::store::open_store_file(config.store.path, fw::store::OpenMode::read_only, false);
        return fw::orders::load_orders(connection.get());
    }

    // Stores alarm events as the alarm service does, as if the daemon stopped before the order
    // service heard of them.
    void store_alarm_events(const std::vector<StoredAlarmEvent>& events) {
        std::vector<fw::rules::AlarmEvent> plain;
        plain.reserve(events.size());
        for (const auto& stored : events) plain.push_back(stored.event);
        fw::store::WriteJob job;
        job.write = [plain](sqlite3* db) { fw::alarms::insert_alarm_events(db, plain); };
        writer->enqueue_job(std::move(job));
        writer->flush();
    }
};

}  // namespace

TEST_CASE("order service: alarms open, recur and escalate orders; overdue once; state survives") {
    Plant plant;
    {
        auto owned = plant.service();
        auto& service = *owned;
        service.start();
        service.on_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate)});
        plant.settle(service);
        auto index = fw::orders::index_orders(plant.stored().events);
        REQUIRE(index.states.size() == 1);
        const auto& opened = index.states.begin()->second;
        CHECK(opened.rule_id == "press2-vibration");
        CHECK(opened.rule_version == "00112233aabbccdd");
        CHECK(opened.risk == fw::workflow::Risk::medium);
        CHECK(opened.number == "HZ-20261118-0001");
        CHECK(opened.description == "press2-vibration: above 4.5 (value 5.2)");

        // Cleared and active again: an occurrence. A rule without a hazard block: nothing.
        plant.clock.advance(std::chrono::minutes(5));
        service.on_alarm_events({alarm(2, "press2-vibration", AlarmAction::clear),
                                 alarm(3, "press2-vibration", AlarmAction::activate),
                                 alarm(4, "unknown-rule", AlarmAction::activate)});
        plant.settle(service);
        // The recurrence rule escalates the open order to red, back into review at red's chain.
        service.on_alarm_events({alarm(5, "vibration-again", AlarmAction::activate, true)});
        plant.settle(service);
        CHECK(service.stats().last_alarm_event_id == 5);

        index = fw::orders::index_orders(plant.stored().events);
        REQUIRE(index.states.size() == 1);
        const auto& escalated = index.states.begin()->second;
        CHECK(escalated.occurrences == 2);
        CHECK(escalated.risk == fw::workflow::Risk::red);
        CHECK(escalated.escalations == 1);
        CHECK(escalated.review_chain.size() == 3);

        // Red review is due in 4 h: nothing before, one overdue event after, and only one.
        plant.clock.advance(std::chrono::hours(3));
        service.check_overdue();
        plant.settle(service);
        CHECK_FALSE(
            fw::orders::index_orders(plant.stored().events).states.begin()->second.overdue());
        plant.clock.advance(std::chrono::hours(2));
        service.check_overdue();
        plant.settle(service);
        service.check_overdue();
        plant.settle(service);
        const auto events = plant.stored().events;
        CHECK(std::count_if(events.begin(), events.end(), [](const auto& event) {
                  return event.type == fw::workflow::EventType::overdue;
              }) == 1);
        CHECK(fw::orders::index_orders(events).states.begin()->second.overdue());
        service.stop();
    }

    // A restart loads the same orders and the alarm cursor; an old alarm event is not re-applied.
    auto restarted = plant.service();
    auto& again = *restarted;
    again.start();
    CHECK(again.stats().orders == 1);
    CHECK(again.stats().last_alarm_event_id == 5);
    const auto before = plant.stored().events.size();
    again.on_alarm_events({alarm(3, "press2-vibration", AlarmAction::activate)});
    plant.settle(again);
    CHECK(plant.stored().events.size() == before);

    const auto stored = plant.stored();
    REQUIRE(stored.cursors.size() == 1);
    CHECK(stored.cursors[0].origin == "unit.gw");
    CHECK(stored.cursors[0].next_sequence == before + 1);
    CHECK(
        fw::workflow::verify_events(
            stored.events, fw::workflow::LocalSequence{"unit.gw", stored.cursors[0].next_sequence})
            .empty());
    CHECK(stored.anonymity_key.size() == 64);
    again.stop();
}

TEST_CASE("order service: orders opened by alarms are counted once durable, red ones too") {
    SUBCASE("a rule's hazard block: not before the order is durable") {
        Plant plant;
        auto service = plant.service();
        service->start();
        service->on_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate)});
        CHECK(service->stats().orders_from_alarms == 0);
        plant.settle(*service);
        CHECK(service->stats().orders_from_alarms == 1);
        // An occurrence on the open order is not a new order.
        service->on_alarm_events({alarm(2, "press2-vibration", AlarmAction::clear),
                                  alarm(3, "press2-vibration", AlarmAction::activate)});
        plant.settle(*service);
        CHECK(service->stats().orders_from_alarms == 1);
        CHECK(fw::orders::index_orders(plant.stored().events).states.begin()->second.occurrences ==
              2);
    }
    SUBCASE("a recurrence rule with no order to escalate opens one at red") {
        Plant plant;
        auto service = plant.service();
        service->start();
        service->on_alarm_events({alarm(1, "vibration-again", AlarmAction::activate, true)});
        plant.settle(*service);
        const auto index = fw::orders::index_orders(plant.stored().events);
        REQUIRE(index.states.size() == 1);
        CHECK(index.states.begin()->second.risk == fw::workflow::Risk::red);
        CHECK(service->stats().orders_from_alarms == 1);
    }
    SUBCASE("an order the store did not take is not counted") {
        Plant plant;
        auto service = plant.service();
        service->start();
        plant.writer->close();
        service->on_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate)});
        plant.settle(*service);
        CHECK(service->stats().write_failures == 1);
        CHECK(service->stats().orders_from_alarms == 0);
    }
}

TEST_CASE("order service: the catch-up at start acts on the stored events alone") {
    Plant plant;
    // Stored while the daemon was down or before the order service heard of them; the config
    // has no rules, so the hazard can only come from the stored events.
    plant.store_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate),
                              alarm(2, "vibration-again", AlarmAction::activate, true)});
    auto service = plant.service();
    service->start();
    plant.settle(*service);
    const auto index = fw::orders::index_orders(plant.stored().events);
    REQUIRE(index.states.size() == 1);
    const auto& order = index.states.begin()->second;
    CHECK(order.title == "Press 2 vibration");
    CHECK(order.rule_version == "00112233aabbccdd");
    CHECK(order.escalations == 1);
    CHECK(service->stats().last_alarm_event_id == 2);
    CHECK(service->stats().orders_from_alarms == 1);
}

TEST_CASE("order service: alarm events stored before schema 6 take their hazard from the rules") {
    Plant plant;
    fw::rules::RuleConfig rule;
    rule.id = "press2-vibration";
    rule.description = "press 2 vibration velocity";
    rule.hazard = fw::rules::HazardConfig{"vibration", fw::rules::Risk::high, "Press 2 shakes"};
    plant.config.rules = {rule};
    plant.store_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate),
                              alarm(2, "gone-rule", AlarmAction::activate)});
    fw::store::WriteJob forget;
    forget.write = [](sqlite3* db) {
        REQUIRE(sqlite3_exec(db,
                             "UPDATE alarm_events SET rule_description = NULL, hazard_type = NULL, "
                             "hazard_risk = NULL, hazard_title = NULL, counted_hazard_type = NULL",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
    };
    plant.writer->enqueue_job(std::move(forget));
    plant.writer->flush();

    auto service = plant.service();
    service->start();
    plant.settle(*service);
    const auto index = fw::orders::index_orders(plant.stored().events);
    REQUIRE(index.states.size() == 1);
    const auto& order = index.states.begin()->second;
    CHECK(order.title == "Press 2 shakes");
    CHECK(order.risk == fw::workflow::Risk::high);
    CHECK(order.description == "press 2 vibration velocity: above 4.5 (value 5.2)");
    CHECK(service->stats().last_alarm_event_id == 2);
}

TEST_CASE("order service: a gateway that booted at 1970 corrects its times once NTP syncs") {
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    Plant plant;
    plant.clock = ManualClock(kDay, false);  // no real-time clock: 1970-01-02, unsynchronised
    auto owned = plant.service();
    auto& service = *owned;
    service.start();
    service.on_alarm_events({alarm(1, "press2-vibration", AlarmAction::activate)});
    plant.settle(service);
    auto state = fw::orders::index_orders(plant.stored().events).states.begin()->second;
    CHECK(state.reported_ms == kDay);
    CHECK(state.uncorrected_unsynced == 1);

    // Unsynchronised: nothing to correct against, and the 1970 deadline is judged as it reads.
    service.check_overdue();
    plant.settle(service);
    CHECK(plant.stored().events.size() == 1);

    // NTP: the true time is kStart. One clock_corrected event, and no overdue from 1970.
    plant.clock = ManualClock(kStart, true);
    service.check_overdue();
    plant.settle(service);
    service.check_overdue();
    plant.settle(service);
    const auto events = plant.stored().events;
    REQUIRE(events.size() == 2);
    CHECK(events[1].type == fw::workflow::EventType::clock_corrected);
    state = fw::orders::index_orders(events).states.begin()->second;
    CHECK(state.uncorrected_unsynced == 0);
    CHECK(std::abs(state.reported_ms - kStart) < 60'000);  // the monotonic time since the report
    CHECK_FALSE(state.overdue());
    CHECK(fw::workflow::verify_events(events, fw::workflow::LocalSequence{"unit.gw", 3}).empty());
    service.stop();
}

// --- the order service's commands over a real control socket ---

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "daemon/control/control.hpp"

namespace {

// The core io_context on its own thread, as in the daemon, so that the blocking client can wait
// for replies that come only once the store has made an action durable.
class CoreThread {
  public:
    explicit CoreThread(boost::asio::io_context& core) : core_(core), work_(core.get_executor()) {
        core_.restart();
        thread_ = std::thread([this] { core_.run(); });
    }
    ~CoreThread() {
        work_.reset();
        thread_.join();
    }
    CoreThread(const CoreThread&) = delete;
    CoreThread& operator=(const CoreThread&) = delete;

    // Runs `task` on the core thread and waits for it.
    void run(const std::function<void()>& task) {
        std::promise<void> done;
        boost::asio::post(core_, [&] {
            task();
            done.set_value();
        });
        done.get_future().wait();
    }

  private:
    boost::asio::io_context& core_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

fw::workflow::UserConfig user(std::string name, std::int64_t uid, const std::string& roles) {
    return {std::move(name), uid, roles, fw::workflow::parse_role_list(roles).roles};
}

// The daemon's answer to a command it refuses; "(accepted)" when it does not refuse.
std::string refusal(fw::control::Client& client, const std::string& command,
                    const boost::json::object& args) {
    try {
        client.call(command, args);
    } catch (const fw::control::ControlError& error) {
        return error.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("order service over the control socket: answered once durable, refusals say why") {
    Plant plant;
    const auto uid = static_cast<std::int64_t>(::getuid());
    plant.config.workflow.users = {user("rita", uid, "reporter, team_lead, safety")};
    fw::control::Server server(plant.core, (plant.dir / "control.sock").string(), 0600, "");
    fw::orders::OrderService service(plant.core, *plant.writer, plant.config, &server, nullptr,
                                     &plant.clock);
    service.start();
    CoreThread core(plant.core);
    fw::control::Client client(server.path());

    // A report is answered with the order once its event is in the store file.
    const boost::json::object guarding{{"equipment", "press-2"},
                                       {"hazard_type", "guarding"},
                                       {"risk", "high"},
                                       {"description", "light curtain bypassed"}};
    const auto reported = client.call("order.report", guarding).as_object();
    const auto& order = reported.at("order").as_object();
    const std::string number(order.at("number").as_string());
    CHECK(number == "HZ-20261118-0001");
    CHECK(order.at("status").as_string() == "reported");
    CHECK(order.at("area").as_string() == "stamping");
    CHECK(order.at("source").at("reporter").as_string() == "rita");
    REQUIRE(reported.at("events").as_array().size() == 1);
    auto stored = plant.stored();
    REQUIRE(stored.events.size() == 1);
    CHECK(stored.events[0].id.to_string() == reported.at("events").as_array()[0].as_string());

    // What the socket refuses before the workflow sees it.
    auto with = [](boost::json::object args, std::string_view key, boost::json::value value) {
        args[key] = std::move(value);
        return args;
    };
    CHECK(refusal(client, "order.report", with(guarding, "equipment", "press-9")) ==
          "unknown equipment 'press-9' (known: press-2)");
    CHECK(refusal(client, "order.report", with(guarding, "area", "cooling")) ==
          "press-2 is in area stamping, not cooling");
    CHECK(refusal(client, "order.report", with(guarding, "risk", "severe")) ==
          "unknown risk 'severe' (low, medium, high, red)");
    CHECK(refusal(client, "order.report", with(guarding, "attachments", {"00ff"})) ==
          "attachment 00ff is not in the store; upload it first");
    CHECK(refusal(client, "order.act", {{"order", "HZ-20261118-0009"}, {"action", "approve"}}) ==
          "no order 'HZ-20261118-0009' (floorwatch orders list shows them)");
    CHECK(refusal(client, "order.act", {{"order", number}, {"action", "bless"}})
              .starts_with("unknown action 'bless'"));

    // The workflow decides on the durable state: level 1 by rita as team lead, level 2 (safety)
    // needs another person.
    CHECK(refusal(client, "order.act", {{"order", number}, {"action", "approve"}}) == "(accepted)");
    CHECK(refusal(client, "order.act", {{"order", number}, {"action", "approve"}}) ==
          "rita already approved level 1 of this order; another person must approve level 2");
    CHECK(plant.stored().events.size() == 2);
    fw::orders::OrderServiceStats stats;
    core.run([&] { stats = service.stats(); });
    CHECK(stats.actions_written == 2);
    CHECK(stats.actions_refused == 1);

    // An upload in two chunks; the type comes from the bytes; the bytes read back from the store.
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, 'p');
    const auto started =
        client
            .call("attachment.upload",
                  {{"name", "guard.png"}, {"data", fw::orders::base64_encode(png.substr(0, 50))}})
            .as_object();
    const auto uploaded =
        client
            .call("attachment.upload", {{"upload", started.at("upload")},
                                        {"data", fw::orders::base64_encode(png.substr(50))},
                                        {"last", true}})
            .as_object();
    const std::string sha256(uploaded.at("sha256").as_string());
    CHECK(sha256 == fw::workflow::sha256_hex(png));
    CHECK(uploaded.at("media_type").as_string() == "image/png");
    CHECK(uploaded.at("size").to_number<std::int64_t>() == 108);
    {
        auto connection = fw::store::open_store_file(plant.config.store.path,
                                                     fw::store::OpenMode::read_only, false);
        CHECK(fw::orders::read_attachment_data(connection.get(), sha256) == png);
    }
    CHECK(refusal(client, "attachment.upload",
                  {{"name", "notes.txt"},
                   {"data", fw::orders::base64_encode("not a photo")},
                   {"last", true}}) ==
          "notes.txt is of an unknown type; accepted types are image/jpeg, image/png "
          "(workflow.attachments.types)");
    CHECK(refusal(client, "attachment.upload", {{"data", "!!"}}) ==
          "attachment data is not base64");
    const auto with_photo =
        client.call("order.report", with(guarding, "attachments", {sha256})).as_object();
    CHECK(with_photo.at("order").at("number").as_string() == "HZ-20261118-0002");

    // Incidents: recorded with who and when, read back; a period is needed for hours.
    CHECK(client
              .call("incidents.record",
                    {{"kind", "incident"}, {"description", "cut finger"}, {"area", "stamping"}})
              .at("recorded")
              .as_string() == "incident");
    CHECK(refusal(client, "incidents.record", {{"kind", "hours"}, {"hours", 100}}) ==
          "hours worked need a period: --since TIME --until TIME, since before until");
    {
        auto connection = fw::store::open_store_file(plant.config.store.path,
                                                     fw::store::OpenMode::read_only, false);
        const auto incidents = fw::orders::load_incidents(connection.get());
        REQUIRE(incidents.size() == 1);
        CHECK(incidents[0].recorded_by == "rita");
        CHECK(incidents[0].at_ms == kStart);
        CHECK(incidents[0].area == "stamping");
    }

    // A uid that workflow.users does not map is told what to add.
    auto without_rita = plant.config;
    without_rita.workflow.users.clear();
    core.run([&] { service.reload(without_rita); });
    const std::string unknown = refusal(client, "order.report", guarding);
    CHECK(unknown.starts_with(fmt::format("uid {} (", uid)));
    CHECK(unknown.find("workflow.users") != std::string::npos);
    CHECK(plant.stored().events.size() == 3);

    core.run([&] {
        service.stop();
        server.close();
    });
}
