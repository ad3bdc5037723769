#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>

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
            REQUIRE(plant.writer.clock().receive(plant.log.back().hlc, plant.clock.now().ms));
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
    // The histories exercise every kind of event, so the property covers the whole workflow.
    CHECK(types_seen.size() == kEventTypeCount);
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

        // Swap the victim with the next event of the same order, if it has one.
        const auto next =
            std::find_if(log.begin() + static_cast<std::ptrdiff_t>(victim) + 1, log.end(),
                         [&](const Event& event) { return event.order_id == target.order_id; });
        if (next != log.end()) {
            std::vector<Event> reordered = log;
            std::swap(reordered[victim], reordered[static_cast<std::size_t>(next - log.begin())]);
            breaks = verify_events(reordered, local_for(target));
            REQUIRE(breaks.size() == 1);
            CHECK(breaks[0].fault == ChainFault::reordered);
            CHECK(breaks[0].order_id == target.order_id);
        }
    }
}

}  // namespace
}  // namespace fw::workflow
