#pragma once
// The alarm lifecycle after ISA-18.2 / IEC 62682, as a pure function of (status, action), and the
// AlarmEvent values the engine emits for every change.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/result.hpp"
#include "rules/rule_config.hpp"

namespace fw::rules {

// What an operator or the plant sees. Shelved, suppressed and out of service hide the process
// states beneath them; the alarm keeps being evaluated while hidden.
enum class AlarmState {
    normal,
    unack_active,    // active, not yet acknowledged
    ack_active,      // active, acknowledged
    rtn_unack,       // returned to normal before anyone acknowledged it
    shelved,         // hidden by an operator until a time (auto-unshelves)
    suppressed,      // hidden by design: outside its schedule or while its suppression holds
    out_of_service,  // removed from service by an operator (maintenance)
};

enum class AlarmAction {
    // Inputs of the state machine.
    activate,
    clear,
    acknowledge,
    shelve,
    unshelve,
    suppress,
    unsuppress,
    remove_from_service,
    return_to_service,
    // Events about an alarm that change no state.
    severity_change,
    chattering,      // >= 3 activations within 60 s
    chattering_end,  // no activation for 60 s
    flood,           // > 10 activations within 10 min in one area (rule and equipment empty)
    flood_end,
};

std::string_view alarm_state_name(AlarmState state);
std::optional<AlarmState> alarm_state_from_name(std::string_view name);
std::string_view alarm_action_name(AlarmAction action);
std::optional<AlarmAction> alarm_action_from_name(std::string_view name);

// The process part (base) and the overlays, kept apart so that leaving an overlay can tell what
// the alarm really is.
struct AlarmStatus {
    AlarmState base = AlarmState::normal;  // normal, unack_active, ack_active or rtn_unack
    bool condition = false;                // the rule's (debounced) condition is active
    bool shelved = false;
    bool suppressed = false;
    bool out_of_service = false;

    // Out of service wins over shelved, shelved over suppressed.
    AlarmState state() const;
    bool hidden() const { return shelved || suppressed || out_of_service; }
};

// The status after `action`, or why an operator action is refused (for the operator).
Result<AlarmStatus> apply_action(const AlarmStatus& status, AlarmAction action);

struct TimePoint {
    std::int64_t mono_ms = 0;  // monotonic: delays and windows
    std::int64_t wall_ms = 0;  // Unix epoch ms: schedules and what people read
};

// What an alarm's rule says about the hazard behind it, copied into each event of the rule so
// that a work order can be opened from the stored event alone, whatever the rules are by then.
struct RuleHazard {
    std::string description;             // the rule's description (may be empty)
    std::optional<HazardConfig> hazard;  // its hazard block: activations open work orders
    std::string counted_hazard_type;     // recurrence rules: the hazard type they count
};
RuleHazard rule_hazard(const RuleConfig& rule);

struct AlarmEvent {
    std::string rule_id;
    std::string rule_version;
    std::string equipment;
    std::string area;
    AlarmAction action = AlarmAction::activate;
    AlarmState from = AlarmState::normal;
    AlarmState to = AlarmState::normal;
    Severity severity = Severity::warning;
    bool condition = false;                                   // the condition after the change
    double value = std::numeric_limits<double>::quiet_NaN();  // the triggering value, if any
    std::string detail;  // "above 4.5", "stale", "frozen", "out of range", "3 in 30d", ...
    TimePoint time;
    bool chattering = false;
    bool flood = false;
    bool escalation = false;  // raised by a recurrence rule
    std::string actor;        // operator actions; "system" for automatic unshelving
    std::string reason;
    std::int64_t shelved_until_wall_ms = 0;  // shelve events
    // Every event of a rule has it; area-wide flood events and events stored before schema 6
    // (daemon/alarms) do not.
    std::optional<RuleHazard> rule_hazard;
};

// One JSON object per event, keys in a fixed order; empty and false fields left out, and the
// rule's hazard too (it is the rule's, the same on each of its events).
std::string to_json(const AlarmEvent& event);

}  // namespace fw::rules
