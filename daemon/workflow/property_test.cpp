#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>

#include "daemon/workflow/kpi.hpp"
#include "daemon/workflow/test_harness.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::workflow {
namespace {

using testing::Plant;
using namespace std::chrono_literals;

// Everything the fold decides, as text, so two states compare in one CHECK with a readable diff.
std::string fingerprint(const OrderState& order) {
    std::string text = boost::json::serialize(order_view(order));
    for (const auto& step : order.steps) {
        text += fmt::format("|{}:{}:{}:{}:{}:{}", step_kind_name(step.kind), step.index,
                            step.started_ms, step.deadline_ms, step.ended_ms.value_or(-1),
                            step.overdue);
    }
    for (const auto& superseded : order.superseded) {
        text += fmt::format("|superseded {} {}", superseded.event_id, superseded.reason);
    }
    return text + fmt::format("|events {} hlc {}.{}", order.event_count, order.last_hlc.physical_ms,
                              order.last_hlc.logical);
}

const std::vector<std::string> kPeople{"rita", "tom", "tina", "lea", "sam",
                                       "max",  "ada", "bob",  "kim", "system"};

struct Attempt {
    std::string who;
    Command command;
};

// Mostly the step the order is waiting for, by someone entitled to it; sometimes anything by
// anyone (refused attempts leave no events, which is part of what is tested).
Attempt random_attempt(std::mt19937& rng, const OrderState& order) {
    const auto pick = [&rng](std::size_t count) {
        return std::uniform_int_distribution<std::size_t>(0, count - 1)(rng);
    };
    const std::string& anyone = kPeople[pick(kPeople.size())];
    const std::uint32_t step = order.steps.empty() ? 1 : order.steps.back().index;
    if (pick(10) < 7) {
        switch (pick(12)) {
            case 0:
                return {"sam", DismissCommand{DismissKind::false_alarm, "nothing found"}};
            case 1:
                return {"system", EscalateCommand{"", "recurrence"}};
            case 2:
                return {"system", MarkOverdueCommand{step}};
            case 3:
                return {"system",
                        RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}};
            case 4:
                return {"max", ReassignCommand{pick(2) == 0 ? "tom" : "bob", {}, "shift"}};
            default:
                break;
        }
        switch (order.status) {
            case OrderStatus::reported:
            case OrderStatus::in_review:
                if (order.review_complete()) {
                    return {"lea", AssignCommand{pick(2) == 0 ? "tom" : "tina", {}}};
                }
                return {testing::user_for(order.review_chain[order.pending_level()]),
                        ApproveCommand{}};
            case OrderStatus::rectifying:
                return {order.assignee, SubmitCommand{"fixed", {}}};
            case OrderStatus::awaiting_acceptance:
                if (pick(2) == 0) return {"sam", RejectCommand{"not fixed", {}}};
                return {"kim", AcceptCommand{"ok"}};
            case OrderStatus::closed:
            case OrderStatus::dismissed:
                break;
        }
    }
    switch (pick(10)) {
        case 0:
            return {anyone, DismissCommand{DismissKind::false_alarm, "nothing found"}};
        case 1:
            return {anyone, AssignCommand{pick(2) == 0 ? "tom" : "tina", {}}};
        case 2:
            return {anyone, ReassignCommand{pick(2) == 0 ? "tom" : "bob", {}, "shift"}};
        case 3:
            return {anyone, SubmitCommand{"fixed", {}}};
        case 4:
            return {anyone, AcceptCommand{"ok"}};
        case 5:
            return {anyone, RejectCommand{"not fixed", {}}};
        case 6:
            return {anyone, EscalateCommand{"recurred", "recurrence"}};
        case 7:
            return {anyone, MarkOverdueCommand{step}};
        case 8:
            return {anyone, RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}};
        default:
            return {anyone, ApproveCommand{}};
    }
}

// A random valid history over a few orders, written alternately by a gateway and the centre
// (whose wall clock runs 2 minutes slow); each takes in the other's clock before writing, as the
// sync agent will. Only accepted commands leave events, so every history is valid.
void random_history(Plant& plant, std::mt19937& rng, int actions) {
    EventWriter centre("demo-plant.central", 1);
    std::vector<std::string> ids;
    for (int i = 0; i < actions; ++i) {
        if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
            plant.clock.advance(
                std::chrono::minutes(std::uniform_int_distribution<int>(1, 3 * 24 * 60)(rng)));
        }
        const bool at_centre = std::uniform_int_distribution<int>(0, 4)(rng) == 0;
        if (at_centre) {
            std::swap(plant.writer, centre);
            plant.clock.advance(-2min);
        }
        if (!plant.log.empty()) {
            REQUIRE(plant.writer.clock().receive(plant.log.back().hlc, plant.clock.now()));
        }
        if (ids.empty() || std::uniform_int_distribution<int>(0, 7)(rng) == 0) {
            const Risk risk = static_cast<Risk>(std::uniform_int_distribution<int>(0, 3)(rng));
            const auto id = plant.report(risk);
            if (!id.empty()) ids.push_back(id);
        } else {
            const auto& id =
                ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng)];
            const auto attempt = random_attempt(rng, plant.state(id));
            // Refusals are part of the walk: the invariants below hold either way.
            static_cast<void>(plant.act(attempt.who, attempt.command, id));
        }
        if (at_centre) {
            std::swap(plant.writer, centre);
            plant.clock.advance(2min);
        }
    }
}

TEST_CASE("property: replayed, shuffled and duplicated histories fold to the same state") {
    std::set<EventType> types_seen;
    for (unsigned seed = 1; seed <= 60; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        Plant plant;
        random_history(plant, rng, 80);
        REQUIRE_FALSE(plant.log.empty());
        for (const auto& event : plant.log) types_seen.insert(event.type);

        const auto expected = fold_orders(plant.log);
        for (const auto& [id, state] : plant.states) {
            // The handler's running state is what the fold of its events gives.
            CHECK(fingerprint(expected.at(id)) == fingerprint(state));
            CHECK(state.superseded.empty());
        }

        std::vector<Event> twice = plant.log;
        twice.insert(twice.end(), plant.log.begin(), plant.log.end());
        std::vector<Event> shuffled = plant.log;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        std::vector<Event> duplicated = shuffled;
        for (int i = 0; i < 20; ++i) {
            duplicated.push_back(plant.log[std::uniform_int_distribution<std::size_t>(
                0, plant.log.size() - 1)(rng)]);
        }
        std::shuffle(duplicated.begin(), duplicated.end(), rng);
        for (const auto* variant : {&twice, &shuffled, &duplicated}) {
            const auto states = fold_orders(*variant);
            REQUIRE(states.size() == expected.size());
            for (const auto& [id, state] : expected) {
                CHECK(fingerprint(states.at(id)) == fingerprint(state));
            }
        }
    }
    // The histories exercise every kind of event but clock_corrected (a clock that turns
    // synchronised: the clock correction tests below), so the property covers the workflow.
    CHECK_FALSE(types_seen.contains(EventType::clock_corrected));
    CHECK(types_seen.size() == kEventTypeCount - 1);
}

TEST_CASE("property: verify finds every modified, removed or reordered event") {
    for (unsigned seed = 100; seed < 160; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        Plant plant;
        random_history(plant, rng, 60);
        const auto& log = plant.log;
        std::map<std::string, std::uint64_t> next_by_origin;
        for (const auto& event : log) {
            next_by_origin[event.id.origin] =
                std::max(next_by_origin[event.id.origin], event.id.sequence + 1);
        }
        const auto local_for = [&](const Event& event) {
            return LocalSequence{event.id.origin, next_by_origin[event.id.origin]};
        };
        for (const auto& [origin, next] : next_by_origin) {
            REQUIRE(verify_events(log, LocalSequence{origin, next}).empty());
        }

        const std::size_t victim =
            std::uniform_int_distribution<std::size_t>(0, log.size() - 1)(rng);
        const Event& target = log[victim];
        CAPTURE(target.id.to_string());

        std::vector<Event> modified = log;
        switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
            case 0:
                modified[victim].actor += "x";
                break;
            case 1:
                modified[victim].payload["note"] = "rewritten";
                break;
            case 2:
                modified[victim].hlc.logical += 1;
                break;
            default:
                modified[victim].clock_synced = !modified[victim].clock_synced;
        }
        auto breaks = verify_events(modified, local_for(target));
        REQUIRE(breaks.size() == 1);
        CHECK(breaks[0].fault == ChainFault::modified);
        CHECK(breaks[0].event_id == target.id.to_string());

        std::vector<Event> removed = log;
        removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(victim));
        breaks = verify_events(removed, local_for(target));
        REQUIRE_FALSE(breaks.empty());
        CHECK(breaks[0].fault == ChainFault::missing);

        // Re-sealed with a time before the event it follows: the order of the chain is forged.
        if (target.type != EventType::reported) {
            const auto predecessor = std::ranges::find(log, target.prev_hash, &Event::hash);
            REQUIRE(predecessor != log.end());
            std::vector<Event> reordered = log;
            Event& forged = reordered[victim];
            forged.hlc = {predecessor->hlc.physical_ms - 1, 0};
            seal(forged, forged.prev_hash);
            breaks = verify_events(reordered, local_for(target));
            REQUIRE_FALSE(breaks.empty());
            CHECK(breaks[0].fault == ChainFault::reordered);
            CHECK(breaks[0].event_id == target.id.to_string());
        }

        // The order rows are stored in does not matter: the chain is read in fold order.
        std::vector<Event> shuffled = log;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        CHECK(verify_events(shuffled, local_for(target)).empty());
    }
}

// --- a gateway and the centre acting on their own copies, concurrently ---

// One node's copy of the orders: it acts on the fold of what it holds, and takes in the other's
// events when they sync (its hybrid clock seeing each), as the sync agent does.
struct Node {
    Node(std::string origin, std::int64_t start_ms, bool synced = true)
        : workflow(testing::test_workflow()),
          clock(start_ms, synced),
          writer(std::move(origin), 1) {}

    std::vector<Event> order_events(const std::string& order_id) const {
        std::vector<Event> found;
        for (const auto& event : events) {
            if (event.order_id == order_id) found.push_back(event);
        }
        return found;
    }

    Result<Outcome> act(const std::string& who, const Command& command,
                        const std::string& order_id = {}) {
        const OrderState order = order_id.empty() ? OrderState{} : fold(order_events(order_id));
        Actor actor =
            who == "system" ? Actor::system() : Actor::from_user(*workflow.find_user(who));
        auto outcome = handle(command, actor, order, order.head_hash,
                              {workflow, clock, writer, testing::Plant::kKey});
        if (outcome) events.insert(events.end(), outcome->events.begin(), outcome->events.end());
        return outcome;
    }

    std::string report(std::uint32_t counter) {
        ReportCommand command;
        command.equipment = "press-2";
        command.area = "stamping";
        command.hazard_type = "vibration";
        command.risk = Risk::medium;
        command.description = "press-2 shakes";
        command.local_date = std::chrono::year_month_day{
            std::chrono::year(2026), std::chrono::November, std::chrono::day(29)};
        command.day_counter = counter;
        const auto outcome = act("rita", command);
        return outcome ? outcome->events.front().order_id : std::string();
    }

    // Takes in every event of `other` it lacks.
    void take_from(const Node& other) {
        std::set<EventId> held;
        for (const auto& event : events) held.insert(event.id);
        for (const auto& event : other.events) {
            if (held.contains(event.id)) continue;
            REQUIRE(writer.clock().receive(event.hlc, clock.now()));
            events.push_back(event);
        }
    }

    WorkflowConfig workflow;
    ManualClock clock;
    EventWriter writer;
    std::vector<Event> events;
};

void sync_both(Node& a, Node& b) {
    a.take_from(b);
    b.take_from(a);
}

std::vector<std::string> order_ids(const std::vector<Event>& events) {
    std::set<std::string> ids;
    for (const auto& event : events) ids.insert(event.order_id);
    return {ids.begin(), ids.end()};
}

TEST_CASE("property: a gateway and the centre acting concurrently end with the same fold") {
    std::size_t conflicts = 0;
    for (unsigned seed = 200; seed < 260; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        Node gateway("demo-plant.gw-1", testing::kStartMs);
        Node centre("demo-plant.central", testing::kStartMs - 2LL * 60 * 1000);  // 2 min slow
        std::uint32_t counter = 1;
        std::vector<std::string> ids;
        for (int i = 0; i < 80; ++i) {
            const auto minutes = std::uniform_int_distribution<int>(0, 600)(rng);
            gateway.clock.advance(std::chrono::minutes(minutes));
            centre.clock.advance(std::chrono::minutes(minutes));
            if (ids.empty() || std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
                const auto id = gateway.report(counter++);
                if (!id.empty()) ids.push_back(id);
            } else {
                const auto& id =
                    ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng)];
                // Both nodes often act on the same version before they sync.
                for (Node* node : {&gateway, &centre}) {
                    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) continue;
                    const auto attempt = random_attempt(rng, fold(node->order_events(id)));
                    static_cast<void>(node->act(attempt.who, attempt.command, id));
                }
            }
            if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) sync_both(gateway, centre);
        }
        sync_both(gateway, centre);
        REQUIRE(gateway.events.size() == centre.events.size());

        // Forks are part of a valid history; each node's sequences are all there.
        const std::vector<SequenceRange> ranges{
            {"demo-plant.gw-1", gateway.writer.next_sequence(), {}},
            {"demo-plant.central", centre.writer.next_sequence(), {}}};
        CHECK(verify_events(gateway.events, ranges).empty());

        std::vector<Event> arrivals = centre.events;
        for (int i = 0; i < 30; ++i) {
            arrivals.push_back(centre.events[std::uniform_int_distribution<std::size_t>(
                0, centre.events.size() - 1)(rng)]);
        }
        std::shuffle(arrivals.begin(), arrivals.end(), rng);
        const auto at_gateway = fold_orders(gateway.events);
        const auto at_centre = fold_orders(centre.events);
        const auto shuffled = fold_orders(arrivals);
        for (const auto& id : order_ids(gateway.events)) {
            CAPTURE(id);
            const auto expected = fingerprint(at_gateway.at(id));
            CHECK(fingerprint(at_centre.at(id)) == expected);
            CHECK(fingerprint(shuffled.at(id)) == expected);
            CHECK(at_gateway.at(id).head_hash == at_centre.at(id).head_hash);
            const auto& order = at_gateway.at(id);
            for (const auto& superseded : order.superseded) {
                if (superseded.winner.empty()) continue;
                ++conflicts;
                CHECK(superseded.reason.starts_with("made from the same version as " +
                                                    superseded.winner));
            }
            for (const auto& step : order.steps) {
                if (step.ended_ms) CHECK(*step.ended_ms >= step.started_ms);
            }
            if (order.closed_ms) CHECK(*order.closed_ms >= order.reported_ms);
        }
    }
    // The walk makes real conflicts, so the sibling rule is exercised.
    CHECK(conflicts > 20);
}

// An order walked to awaiting acceptance on the gateway and synced to the centre.
std::string awaiting_acceptance(Node& gateway, Node& centre) {
    auto id = gateway.report(1);
    for (const auto* who : {"lea", "sam"}) REQUIRE(gateway.act(who, ApproveCommand{}, id));
    REQUIRE(gateway.act("lea", AssignCommand{"tom", {}}, id));
    REQUIRE(gateway.act("tom", SubmitCommand{"guard refitted", {}}, id));
    sync_both(gateway, centre);
    return id;
}

TEST_CASE("conflict: accepted on the floor, rejected centrally from the same version") {
    for (const bool floor_first : {true, false}) {
        CAPTURE(floor_first);
        Node gateway("demo-plant.gw-1", testing::kStartMs);
        Node centre("demo-plant.central", testing::kStartMs);
        const auto id = awaiting_acceptance(gateway, centre);
        // Whichever is earlier in time, the rejection wins.
        (floor_first ? gateway : centre).clock.advance(1min);
        (floor_first ? centre : gateway).clock.advance(2min);
        const auto accepted = gateway.act("kim", AcceptCommand{"looks good"}, id);
        const auto rejected = centre.act("sam", RejectCommand{"guard loose", {}}, id);
        REQUIRE(accepted);
        REQUIRE(rejected);
        CHECK(fold(gateway.order_events(id)).status == OrderStatus::closed);  // before sync
        sync_both(gateway, centre);

        for (const Node* node : {&gateway, &centre}) {
            const auto events = node->order_events(id);
            const auto order = fold(events);
            CHECK(order.status == OrderStatus::rectifying);
            CHECK(order.rejections == 1);
            CHECK_FALSE(order.closed_ms.has_value());
            REQUIRE(order.superseded.size() == 1);
            const auto& lost = order.superseded[0];
            CHECK(lost.type == EventType::accepted);
            CHECK(lost.event_id == accepted->events[0].id.to_string());
            CHECK(lost.winner == rejected->events[0].id.to_string());
            CHECK(lost.reason ==
                  fmt::format("made from the same version as {} (rejected over accepted); the "
                              "order is rectifying, not awaiting acceptance",
                              lost.winner));
            // Shown in the timeline, after the rejection that won.
            const auto timeline = timeline_view(events);
            const auto& last = timeline.back().as_object();
            CHECK(last.at("type").as_string() == "accepted");
            CHECK(last.at("superseded").as_string() == lost.reason);
            CHECK(order.head_hash == accepted->events[0].hash);
        }
        // The next action on either side is made from the version that includes both.
        REQUIRE(gateway.act("tom", SubmitCommand{"guard tightened", {}}, id));
        CHECK(gateway.events.back().prev_hash == accepted->events[0].hash);
    }
}

TEST_CASE("conflict: two approvals of the same level, the earlier wins; escalation beats both") {
    Node gateway("demo-plant.gw-1", testing::kStartMs);
    Node centre("demo-plant.central", testing::kStartMs);
    const auto id = gateway.report(1);
    sync_both(gateway, centre);
    gateway.clock.advance(2min);
    centre.clock.advance(1min);
    REQUIRE(gateway.act("lea", ApproveCommand{}, id));
    REQUIRE(centre.act("bob", ApproveCommand{}, id));
    sync_both(gateway, centre);
    auto order = fold(gateway.order_events(id));
    CHECK(order.approvals.size() == 1);
    CHECK(order.approvals[0].user == "bob");
    REQUIRE(order.superseded.size() == 1);
    CHECK(order.superseded[0].reason.find("(the earlier one first)") != std::string::npos);

    // From the next version: a dismissal on the floor, an escalation centrally.
    REQUIRE(gateway.act("sam", DismissCommand{DismissKind::false_alarm, "sensor cable"}, id));
    REQUIRE(centre.act("max", EscalateCommand{"second near miss", ""}, id));
    sync_both(gateway, centre);
    order = fold(centre.order_events(id));
    CHECK(order.status == OrderStatus::in_review);
    CHECK(order.risk == Risk::red);
    CHECK(order.superseded.back().type == EventType::dismissed);
    CHECK(order.superseded.back().reason.find("(escalated over dismissed)") != std::string::npos);
}

// --- clocks ---

constexpr std::int64_t kDay = 24LL * 3600 * 1000;

TEST_CASE("clock correction: a gateway that booted at 1970 gets true times after NTP") {
    // The gateway's wall clock reads 1970 + 1 day while the true time is kStartMs.
    const std::int64_t drift = testing::kStartMs - kDay;
    Node gateway("demo-plant.gw-1", kDay, false);
    Node centre("demo-plant.central", testing::kStartMs);
    const auto advance = [&](std::chrono::milliseconds by) {
        gateway.clock.advance(by);
        centre.clock.advance(by);
    };

    const auto id = gateway.report(1);  // true time kStartMs
    const auto early = gateway.report(2);
    advance(1h);
    sync_both(gateway, centre);
    REQUIRE(centre.act("lea", ApproveCommand{}, id));  // true time kStartMs + 1h
    advance(1h);
    sync_both(gateway, centre);
    REQUIRE(gateway.act("sam", ApproveCommand{}, id));  // HLC pushed to the present, wall 1970
    advance(1h);
    REQUIRE(gateway.act("lea", AssignCommand{"tom", {}}, id));
    advance(5h);
    REQUIRE(gateway.act("tom", SubmitCommand{"bolts replaced", {}}, id));
    advance(2h);

    // Before the correction: the report is in 1970, the review took 56 years.
    auto order = fold(gateway.order_events(id));
    CHECK(order.reported_ms == kDay);
    CHECK(order.uncorrected_unsynced == 4);
    // Synchronised now; the overdue timer waits for the correction.
    gateway.clock = ManualClock(centre.clock.now().ms, true);
    CHECK(overdue_steps({order}, WallTime{order.steps.back().deadline_ms + kDay, true}).empty());
    CHECK(overdue_steps({order}, WallTime{order.steps.back().deadline_ms + kDay, false}).size() ==
          1);

    const auto unsynced = uncorrected_unsynced(gateway.events, "demo-plant.gw-1");
    CHECK(unsynced.size() == 5);  // both reports, approve, assign, submit
    const auto plan = plan_clock_corrections(unsynced, gateway.clock.now().ms, 2 * 3600 * 1000);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].first_sequence == 1);
    CHECK(plan[0].offset_ms == drift);
    for (const auto& order_id : {id, early}) {
        REQUIRE(gateway.act(
            "system",
            CorrectClockCommand{plan[0].first_sequence, plan[0].last_sequence, plan[0].offset_ms},
            order_id));
    }
    CHECK(uncorrected_unsynced(gateway.events, "demo-plant.gw-1").empty());
    sync_both(gateway, centre);

    for (const Node* node : {&gateway, &centre}) {
        order = fold(node->order_events(id));
        CHECK(order.uncorrected_unsynced == 0);
        CHECK(order.reported_ms == testing::kStartMs);
        REQUIRE(order.steps.size() == 3);
        CHECK(order.steps[0].started_ms == testing::kStartMs);
        CHECK(*order.steps[0].ended_ms == testing::kStartMs + 3LL * 3600 * 1000);  // assigned
        CHECK(order.steps[1].deadline_ms == testing::kStartMs + 3LL * 3600 * 1000 + 14 * kDay);
        CHECK(order.steps[2].started_ms == testing::kStartMs + 8LL * 3600 * 1000);  // submitted
        CHECK(order.approvals[1].at_ms == testing::kStartMs + 2LL * 3600 * 1000);
        CHECK(fold(node->order_events(early)).reported_ms == testing::kStartMs);
    }
    const auto timeline = timeline_view(gateway.order_events(id));
    CHECK(timeline.front().as_object().at("at_ms").as_int64() == testing::kStartMs);
    CHECK(timeline.front().as_object().at("wall_ms").as_int64() == kDay);
}

TEST_CASE("clock correction: a deadline given as a date while the gateway ran at 1970 stays") {
    // The gateway's wall clock reads 1970 + 1 day while the true time is kStartMs, and no
    // centre's event pushed its HLC to the present.
    Node gateway("demo-plant.gw-1", kDay, false);
    const auto given = gateway.report(1);
    const auto by_policy = gateway.report(2);
    for (const auto& id : {given, by_policy}) {
        REQUIRE(gateway.act("lea", ApproveCommand{}, id));
        REQUIRE(gateway.act("sam", ApproveCommand{}, id));
    }
    // The team lead's phone knows the date: due three days from the true now.
    const std::int64_t due = testing::kStartMs + 3 * kDay;
    REQUIRE(gateway.act("lea", AssignCommand{"tom", due}, given));
    REQUIRE(gateway.act("lea", AssignCommand{"tom", {}}, by_policy));

    gateway.clock = ManualClock(testing::kStartMs, true);
    const auto plan = plan_clock_corrections(
        uncorrected_unsynced(gateway.events, "demo-plant.gw-1"), testing::kStartMs, 0);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].offset_ms == testing::kStartMs - kDay);
    for (const auto& id : {given, by_policy}) {
        REQUIRE(gateway.act(
            "system",
            CorrectClockCommand{plan[0].first_sequence, plan[0].last_sequence, plan[0].offset_ms},
            id));
    }
    // True time already: moved by the offset it would be due in 2082.
    CHECK(fold(gateway.order_events(given)).steps.back().deadline_ms == due);
    // The medium risk's 14 days, counted on the 1970 clock, move with it.
    CHECK(fold(gateway.order_events(by_policy)).steps.back().deadline_ms ==
          testing::kStartMs + 14 * kDay);
}

TEST_CASE("clock correction: stretches split at a restart; downtime counts as zero") {
    std::vector<Event> unsynced(5);
    const std::int64_t walls[] = {1000, 2000, 3000, 500, 900};  // restarted after the third
    for (std::size_t i = 0; i < unsynced.size(); ++i) {
        unsynced[i].id = {"demo-plant.gw-1", i + 3};
        unsynced[i].wall_ms = walls[i];
    }
    const auto plan = plan_clock_corrections(unsynced, 1'000'000, std::nullopt);
    REQUIRE(plan.size() == 2);
    CHECK(plan[1].first_sequence == 6);
    CHECK(plan[1].last_sequence == 7);
    CHECK(plan[1].offset_ms == 1'000'000 - 900);
    CHECK(plan[0].first_sequence == 3);
    CHECK(plan[0].last_sequence == 5);
    // The first stretch ends where the second began: 500 + its offset.
    CHECK(plan[0].offset_ms == 500 + plan[1].offset_ms - 3000);
}

TEST_CASE("property: durations never go negative across a clock correction") {
    for (unsigned seed = 300; seed < 340; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        const std::int64_t boot_ms = std::uniform_int_distribution<std::int64_t>(0, kDay)(rng);
        Node gateway("demo-plant.gw-1", boot_ms, false);
        Node centre("demo-plant.central", testing::kStartMs);
        std::uint32_t counter = 1;
        std::vector<std::string> ids;
        std::int64_t since_last = 0;
        for (int i = 0; i < 60; ++i) {
            const auto by = std::chrono::minutes(std::uniform_int_distribution<int>(0, 300)(rng));
            gateway.clock.advance(by);
            centre.clock.advance(by);
            since_last += by.count() * 60 * 1000;
            if (ids.empty() || std::uniform_int_distribution<int>(0, 7)(rng) == 0) {
                ids.push_back(gateway.report(counter++));
                since_last = 0;
            } else {
                const auto& id =
                    ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng)];
                for (Node* node : {&gateway, &centre}) {
                    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) continue;
                    const auto attempt = random_attempt(rng, fold(node->order_events(id)));
                    const auto before = node->events.size();
                    static_cast<void>(node->act(attempt.who, attempt.command, id));
                    if (node == &gateway && node->events.size() > before) since_last = 0;
                }
            }
            if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) sync_both(gateway, centre);
        }
        // NTP: a correction that may be off by up to a minute either way.
        const std::int64_t error_ms =
            std::uniform_int_distribution<std::int64_t>(-60000, 60000)(rng);
        gateway.clock = ManualClock(centre.clock.now().ms + error_ms, true);
        const auto unsynced = uncorrected_unsynced(gateway.events, "demo-plant.gw-1");
        for (const auto& correction :
             plan_clock_corrections(unsynced, gateway.clock.now().ms, since_last)) {
            for (const auto& id : order_ids(gateway.events)) {
                const auto events = gateway.order_events(id);
                const bool holds = std::ranges::any_of(events, [&](const Event& event) {
                    return event.id.origin == "demo-plant.gw-1" &&
                           event.id.sequence >= correction.first_sequence &&
                           event.id.sequence <= correction.last_sequence;
                });
                if (!holds) continue;
                REQUIRE(
                    gateway.act("system",
                                CorrectClockCommand{correction.first_sequence,
                                                    correction.last_sequence, correction.offset_ms},
                                id));
            }
        }
        sync_both(gateway, centre);
        std::vector<OrderState> orders;
        for (const auto& [id, order] : fold_orders(centre.events)) {
            CHECK(order.uncorrected_unsynced == 0);
            CHECK(order.reported_ms > testing::kStartMs - kDay);  // no longer in 1970
            for (const auto& step : order.steps) {
                if (step.ended_ms) CHECK(*step.ended_ms >= step.started_ms);
            }
            if (order.closed_ms) CHECK(*order.closed_ms >= order.reported_ms);
            orders.push_back(order);
        }
        const auto closing = time_to_close(orders, {});
        if (closing.count > 0) CHECK(closing.median_ms >= 0);
        for (const auto& [kind, steps] : time_per_step(orders, {})) {
            if (steps.count > 0) CHECK(steps.mean_ms >= 0);
        }
    }
}

}  // namespace
}  // namespace fw::workflow
