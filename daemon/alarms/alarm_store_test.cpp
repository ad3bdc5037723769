// The alarm tables on a real store: what is written reads back, and a row that names a state,
// action, severity or risk this build does not know is reported as unreadable, never shown with a
// guessed value.

#include "daemon/alarms/alarm_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "tests/support/process.hpp"

namespace {

using fw::rules::AlarmAction;
using fw::rules::AlarmState;
using fw::rules::Severity;

constexpr std::int64_t kNow = 1795939200000;  // 2026-11-29T08:00:00Z

// A migrated store, and a read-write connection to set its rows up as the writer's jobs would.
struct AlarmStore {
    fw::test::TempDir dir{"fw-alarm-store"};
    std::string path = (dir / "fw.db").string();
    fw::store::Connection connection;

    AlarmStore() {
        fw::store::Writer::open({.path = path})->close();
        connection = fw::store::Connection::open(path, fw::store::OpenMode::read_write_create);
    }

    void execute(const std::string& sql) { fw::store::execute(connection.get(), sql, sql); }
};

fw::rules::AlarmEvent event(std::string rule, AlarmAction action, AlarmState from, AlarmState to) {
    fw::rules::AlarmEvent event;
    event.rule_id = std::move(rule);
    event.rule_version = "00112233aabbccdd";
    event.equipment = "press-1";
    event.area = "stamping";
    event.action = action;
    event.from = from;
    event.to = to;
    event.severity = Severity::alarm;
    event.condition = true;
    event.value = 5.2;
    event.detail = "above 4.5";
    event.time.wall_ms = kNow;
    return event;
}

fw::rules::AlarmEvent with_hazard(fw::rules::AlarmEvent event) {
    event.rule_hazard = fw::rules::RuleHazard{
        "press 1 bearing", fw::rules::HazardConfig{"vibration", fw::rules::Risk::high, "Press 1"},
        ""};
    return event;
}

fw::rules::AlarmView view(std::string rule, AlarmState state) {
    fw::rules::AlarmView view;
    view.rule_id = std::move(rule);
    view.rule_version = "00112233aabbccdd";
    view.equipment = "press-1";
    view.area = "stamping";
    view.state = state;
    view.status.condition = true;
    view.severity = Severity::alarm;
    view.detail = "above 4.5";
    return view;
}

fw::alarms::HistoryFilter until_now() {
    fw::alarms::HistoryFilter filter;
    filter.until_ms = kNow + 1;
    return filter;
}

}  // namespace

TEST_CASE("alarm events and alarm rows read back as written") {
    AlarmStore store;
    const auto ids = fw::alarms::insert_alarm_events(
        store.connection.get(), {with_hazard(event("press1-vibration", AlarmAction::activate,
                                                   AlarmState::normal, AlarmState::unack_active)),
                                 event("press1-vibration", AlarmAction::acknowledge,
                                       AlarmState::unack_active, AlarmState::ack_active)});
    REQUIRE(ids.size() == 2);
    auto no_value = view("press1-temperature", AlarmState::normal);
    no_value.status.condition = false;
    fw::alarms::upsert_alarms(
        store.connection.get(),
        {{view("press1-vibration", AlarmState::ack_active), ids[1], kNow}, {no_value, 0, 0}});

    fw::alarms::AlarmReader reader(store.path);
    const auto history = reader.history(until_now());
    CHECK(history.unreadable.empty());
    REQUIRE(history.events.size() == 2);
    CHECK(history.events[0].id == ids[0]);
    CHECK(history.events[0].event.action == AlarmAction::activate);
    REQUIRE(history.events[0].event.rule_hazard.has_value());
    REQUIRE(history.events[0].event.rule_hazard->hazard.has_value());
    CHECK(history.events[0].event.rule_hazard->hazard->risk == fw::rules::Risk::high);
    CHECK(history.events[1].event.action == AlarmAction::acknowledge);
    CHECK(history.events[1].event.from == AlarmState::unack_active);
    CHECK(history.events[1].event.to == AlarmState::ack_active);
    CHECK(history.events[1].event.severity == Severity::alarm);
    CHECK(history.events[1].event.value == 5.2);
    CHECK(history.events[1].event.time.wall_ms == kNow);
    const auto after_first = fw::alarms::load_alarm_events_after(store.connection.get(), ids[0]);
    REQUIRE(after_first.events.size() == 1);
    CHECK(after_first.events[0].id == ids[1]);

    const auto table = reader.alarms();
    CHECK(table.unreadable.empty());
    REQUIRE(table.alarms.size() == 2);
    CHECK(table.alarms[0].view.rule_id == "press1-temperature");
    CHECK(std::isnan(table.alarms[0].view.value));
    CHECK(table.alarms[1].view.state == AlarmState::ack_active);
    CHECK(table.alarms[1].last_event_id == ids[1]);
    CHECK(table.alarms[1].last_change_ms == kNow);
}

TEST_CASE("a row naming an unknown state, action, severity or risk is reported, not guessed") {
    AlarmStore store;
    const auto ids = fw::alarms::insert_alarm_events(
        store.connection.get(), {event("press1-vibration", AlarmAction::activate,
                                       AlarmState::normal, AlarmState::unack_active),
                                 event("press1-vibration", AlarmAction::clear,
                                       AlarmState::unack_active, AlarmState::rtn_unack),
                                 event("press1-vibration", AlarmAction::acknowledge,
                                       AlarmState::rtn_unack, AlarmState::normal),
                                 with_hazard(event("press1-vibration", AlarmAction::activate,
                                                   AlarmState::normal, AlarmState::unack_active)),
                                 event("press1-temperature", AlarmAction::activate,
                                       AlarmState::normal, AlarmState::unack_active)});
    fw::alarms::upsert_alarms(
        store.connection.get(),
        {{view("press1-vibration", AlarmState::unack_active), ids[3], kNow},
         {view("press1-temperature", AlarmState::unack_active), ids[4], kNow}});
    // As a newer floorwatch, or someone with the sqlite3 shell, might leave them.
    const auto set = [&](std::string_view assignment, std::int64_t id) {
        store.execute(fmt::format("UPDATE alarm_events SET {} WHERE id = {}", assignment, id));
    };
    set("action = 'latch'", ids[0]);
    set("to_state = 'latched'", ids[1]);
    set("severity = 'disastrous'", ids[2]);
    set("hazard_risk = 'extreme'", ids[3]);
    store.execute("UPDATE alarms SET state = 'latched' WHERE rule_id = 'press1-vibration'");
    store.execute("UPDATE alarms SET severity = 'disastrous' WHERE rule_id = 'press1-temperature'");

    fw::alarms::AlarmReader reader(store.path);
    const auto history = reader.history(until_now());
    REQUIRE(history.events.size() == 1);
    CHECK(history.events[0].id == ids[4]);
    REQUIRE(history.unreadable.size() == 4);
    CHECK(history.unreadable[0].row_id == ids[0]);
    CHECK(history.unreadable[0].problem == "unknown action 'latch'");
    CHECK(history.unreadable[1].problem == "unknown state 'latched'");
    CHECK(history.unreadable[2].problem == "unknown severity 'disastrous'");
    CHECK(history.unreadable[3].problem == "unknown hazard risk 'extreme'");
    CHECK(fw::alarms::describe_unreadable(history.unreadable[0]) ==
          fmt::format("alarm_events row {} (rule press1-vibration on press-1) cannot be read: "
                      "unknown action 'latch'",
                      ids[0]));
    // The catch-up at the daemon's start reads the same way.
    const auto missed = fw::alarms::load_alarm_events_after(store.connection.get(), 0);
    CHECK(missed.events.size() == 1);
    CHECK(missed.unreadable.size() == 4);

    const auto table = reader.alarms();
    CHECK(table.alarms.empty());
    REQUIRE(table.unreadable.size() == 2);
    CHECK(table.unreadable[0].rule_id == "press1-temperature");
    CHECK(table.unreadable[0].problem == "unknown severity 'disastrous'");
    CHECK(table.unreadable[1].rule_id == "press1-vibration");
    CHECK(table.unreadable[1].problem == "unknown state 'latched'");
    CHECK(fw::alarms::describe_unreadable(table.unreadable[1]) ==
          "the alarms row of rule press1-vibration on press-1 cannot be read: unknown state "
          "'latched'");
}
