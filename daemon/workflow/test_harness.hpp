#pragma once
// Test-only: a workflow with one user per role, a manual clock and an in-memory event log, so
// tests read as a sequence of people acting on orders.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/order.hpp"

namespace fw::workflow::testing {

using namespace std::chrono_literals;

// 2026-11-29T08:00:00Z
inline constexpr std::int64_t kStartMs = 1795939200000;

inline WorkflowConfig test_workflow() {
    WorkflowConfig workflow;
    workflow.prefixes.push_back({"stamping", "PRS"});
    workflow.users = {
        {"rita", 1001, "reporter", {Role::reporter}},
        {"tom", 1002, "technician", {Role::technician}},
        {"tina", 1003, "technician", {Role::technician}},
        {"lea", 1004, "team_lead", {Role::team_lead}},
        {"sam", 1005, "safety", {Role::safety}},
        {"max", 1006, "manager", {Role::manager}},
        {"ada", 1007, "admin", {Role::admin}},
        {"bob", 1008, "team_lead, safety", {Role::team_lead, Role::safety}},
        {"kim", 1009, "safety", {Role::safety}},
    };
    return workflow;
}

// The user holding exactly `role` in test_workflow(); "system" for Role::system.
inline std::string user_for(Role role) {
    switch (role) {
        case Role::reporter:
            return "rita";
        case Role::technician:
            return "tom";
        case Role::team_lead:
            return "lea";
        case Role::safety:
            return "sam";
        case Role::manager:
            return "max";
        case Role::admin:
            return "ada";
        case Role::system:
            break;
    }
    return "system";
}

class Plant {
  public:
    explicit Plant(std::string origin = "demo-plant.gw-1", std::int64_t start_ms = kStartMs)
        : workflow(test_workflow()), clock(start_ms), writer(std::move(origin), 1) {}

    Actor actor(const std::string& name) const {
        if (name == "system") return Actor::system();
        if (const auto* user = workflow.find_user(name)) return Actor::from_user(*user);
        return Actor{name, {}};
    }

    Result<Outcome> act(const std::string& who, const Command& command,
                        const std::string& order_id = {}) {
        static const OrderState kNoOrder;
        const auto found = states.find(order_id);
        const OrderState& order = found == states.end() ? kNoOrder : found->second;
        auto outcome =
            handle(command, actor(who), order, order.head_hash, {workflow, clock, writer, kKey});
        if (outcome && !outcome->events.empty()) {
            const std::string id = outcome->events.front().order_id;
            for (const auto& event : outcome->events) {
                events[id].push_back(event);
                log.push_back(event);
            }
            states[id] = outcome->state;
        }
        return outcome;
    }

    // A report of `risk` on press-2 by rita; returns the order id.
    std::string report(Risk risk = Risk::medium, const std::string& who = "rita") {
        ReportCommand command;
        command.equipment = "press-2";
        command.area = "stamping";
        command.hazard_type = "vibration";
        command.risk = risk;
        command.description = "press-2 shakes at top dead centre";
        command.local_date = std::chrono::year_month_day{
            std::chrono::year(2026), std::chrono::November, std::chrono::day(29)};
        command.day_counter = next_counter++;
        const auto outcome = act(who, command);
        return outcome ? outcome->events.front().order_id : std::string();
    }

    // Approves every pending level with the role's own user; stops at a refusal.
    void approve_all(const std::string& order_id) {
        while (!states[order_id].review_complete()) {
            const Role role = states[order_id].review_chain[states[order_id].pending_level()];
            if (!act(user_for(role), ApproveCommand{}, order_id)) return;
        }
    }

    const OrderState& state(const std::string& order_id) { return states[order_id]; }

    static constexpr std::string_view kKey = "test-anonymity-key";
    WorkflowConfig workflow;
    ManualClock clock;
    EventWriter writer;
    std::map<std::string, std::vector<Event>> events;  // per order, in the order written
    std::vector<Event> log;                            // every event, in the order written
    std::map<std::string, OrderState> states;
    std::uint32_t next_counter = 1;
};

}  // namespace fw::workflow::testing
