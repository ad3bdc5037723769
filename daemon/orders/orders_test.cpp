// fw::orders: attachment encoding and sniffing, and the order service on a real store: orders
// from alarms (listener and catch-up at start), occurrences, escalation, overdue, restarts, and
// the orders-from-alarms counter.
#include <doctest/doctest.h>

#include "daemon/orders/attachments.hpp"
#include "daemon/orders/control_commands.hpp"

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

// --- the order service on a real store, with a controlled clock and alarm events fed directly ---

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/orders/order_service.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/store/sqlite_util.hpp"
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
        auto connection = fw::store::detail::open_store_file(
            config.store.path, fw::store::detail::OpenMode::read_only, false);
        return fw::orders::load_orders(connection.get());
    }

    // Stores alarm events as the alarm service does, as if the daemon stopped before the order
    // service heard of them.
    void store_alarm_events(const std::vector<StoredAlarmEvent>& events) {
        std::vector<fw::rules::AlarmEvent> plain;
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
