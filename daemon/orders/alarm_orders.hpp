#pragma once
// What a durable alarm event does to the work orders. Decided when the event's turn comes in the
// order service's queue, on the orders as they are then; pure, because the event carries its
// rule's hazard (rules::RuleHazard) and needs nothing from the alarm service.
//
//   activate of a rule with a hazard block ─▶ open order of that rule on that equipment?
//                                              yes: RecordOccurrenceCommand  no: ReportCommand
//   activate of a recurrence rule ──────────▶ an order of that equipment and counted hazard type?
//     (escalation)                             yes: EscalateCommand          no: ReportCommand, red
//   anything else ──────────────────────────▶ nothing (the alarm cursor still moves past it)
//
// Events stored before schema 6 carry no hazard: theirs comes from the rules as configured, as
// the catch-up at start always did.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/config/config.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/order.hpp"

namespace fw::orders {

// The command an alarm event leads to, and the order it acts on (empty: a new order).
struct AlarmOrderAction {
    workflow::Command command;
    std::string order_id;
};

// nullopt when the event changes no order.
std::optional<AlarmOrderAction> order_action_for_alarm(
    const alarms::StoredAlarmEvent& stored, const std::vector<workflow::OrderState>& orders,
    const Config& config);

// The hazard of the configured rule `rule_id` (templates expanded), or nullopt when no configured
// rule has that id.
std::optional<rules::RuleHazard> configured_rule_hazard(const std::vector<rules::RuleConfig>& rules,
                                                        std::string_view rule_id);

}  // namespace fw::orders
