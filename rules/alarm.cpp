#include "rules/alarm.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/time.hpp"

namespace fw::rules {
namespace {

constexpr auto kStateNames = enum_names<AlarmState>({
    {AlarmState::normal, "normal"},
    {AlarmState::unack_active, "unack_active"},
    {AlarmState::ack_active, "ack_active"},
    {AlarmState::rtn_unack, "rtn_unack"},
    {AlarmState::shelved, "shelved"},
    {AlarmState::suppressed, "suppressed"},
    {AlarmState::out_of_service, "out_of_service"},
});
constexpr auto kActionNames = enum_names<AlarmAction>({
    {AlarmAction::activate, "activate"},
    {AlarmAction::clear, "clear"},
    {AlarmAction::acknowledge, "acknowledge"},
    {AlarmAction::shelve, "shelve"},
    {AlarmAction::unshelve, "unshelve"},
    {AlarmAction::suppress, "suppress"},
    {AlarmAction::unsuppress, "unsuppress"},
    {AlarmAction::remove_from_service, "remove_from_service"},
    {AlarmAction::return_to_service, "return_to_service"},
    {AlarmAction::severity_change, "severity_change"},
    {AlarmAction::chattering, "chattering"},
    {AlarmAction::chattering_end, "chattering_end"},
    {AlarmAction::flood, "flood"},
    {AlarmAction::flood_end, "flood_end"},
});

// Leaving the last overlay shows the alarm as it is now: an active condition must be
// acknowledged again, whatever happened to it while hidden.
void reveal(AlarmStatus& status) {
    if (!status.hidden()) {
        status.base = status.condition ? AlarmState::unack_active : AlarmState::normal;
    }
}

}  // namespace

std::string_view alarm_state_name(AlarmState state) {
    return kStateNames.name_of(state);
}
std::optional<AlarmState> alarm_state_from_name(std::string_view name) {
    return kStateNames.from_name(name);
}
std::string_view alarm_action_name(AlarmAction action) {
    return kActionNames.name_of(action);
}
std::optional<AlarmAction> alarm_action_from_name(std::string_view name) {
    return kActionNames.from_name(name);
}

AlarmState AlarmStatus::state() const {
    if (out_of_service) return AlarmState::out_of_service;
    if (shelved) return AlarmState::shelved;
    if (suppressed) return AlarmState::suppressed;
    return base;
}

Result<AlarmStatus> apply_action(const AlarmStatus& status, AlarmAction action) {
    AlarmStatus next = status;
    switch (action) {
        case AlarmAction::activate:
            next.condition = true;
            if (next.base == AlarmState::normal || next.base == AlarmState::rtn_unack) {
                next.base = AlarmState::unack_active;
            }
            if (next.hidden()) next.base = AlarmState::unack_active;
            return next;
        case AlarmAction::clear:
            next.condition = false;
            if (next.base == AlarmState::unack_active) next.base = AlarmState::rtn_unack;
            if (next.base == AlarmState::ack_active) next.base = AlarmState::normal;
            if (next.hidden()) next.base = AlarmState::normal;
            return next;
        case AlarmAction::acknowledge:
            if (status.hidden()) {
                return Error{std::string("the alarm is ") +
                             std::string(alarm_state_name(status.state())) +
                             "; nothing to acknowledge"};
            }
            if (status.base == AlarmState::unack_active) {
                next.base = AlarmState::ack_active;
            } else if (status.base == AlarmState::rtn_unack) {
                next.base = AlarmState::normal;
            } else {
                return Error{std::string("the alarm is ") +
                             std::string(alarm_state_name(status.base)) +
                             "; nothing to acknowledge"};
            }
            return next;
        case AlarmAction::shelve:
            if (status.out_of_service) {
                return Error{"the alarm is out of service; return it to service first"};
            }
            // Shelving again sets a new end time.
            next.shelved = true;
            return next;
        case AlarmAction::unshelve:
            if (!status.shelved) return Error{"the alarm is not shelved"};
            next.shelved = false;
            reveal(next);
            return next;
        case AlarmAction::suppress:
            next.suppressed = true;
            return next;
        case AlarmAction::unsuppress:
            next.suppressed = false;
            if (status.suppressed) reveal(next);
            return next;
        case AlarmAction::remove_from_service:
            if (status.out_of_service) return Error{"the alarm is already out of service"};
            next.out_of_service = true;
            next.shelved = false;  // out of service replaces shelving; it has no end time
            return next;
        case AlarmAction::return_to_service:
            if (!status.out_of_service) return Error{"the alarm is in service"};
            next.out_of_service = false;
            reveal(next);
            return next;
        default:
            return next;
    }
}

RuleHazard rule_hazard(const RuleConfig& rule) {
    return RuleHazard{rule.description, rule.hazard,
                      rule.kind == RuleKind::recurrence ? rule.hazard_type : std::string()};
}

std::string to_json(const AlarmEvent& event) {
    // Built by hand so keys keep this order and numbers read as written (4.6, not 4.6E0).
    std::string json = "{";
    const auto add = [&json](std::string_view key, const std::string& value_json) {
        if (json.size() > 1) json += ',';
        json += boost::json::serialize(boost::json::string_view(key.data(), key.size()));
        json += ':';
        json += value_json;
    };
    const auto text = [](std::string_view value) {
        return boost::json::serialize(boost::json::string_view(value.data(), value.size()));
    };
    add("t", std::to_string(event.time.mono_ms));
    add("wall", text(format_iso_time(event.time.wall_ms)));
    if (!event.rule_id.empty()) add("rule", text(event.rule_id));
    if (!event.rule_version.empty()) add("version", text(event.rule_version));
    if (!event.equipment.empty()) add("equipment", text(event.equipment));
    if (!event.area.empty()) add("area", text(event.area));
    add("action", text(alarm_action_name(event.action)));
    add("from", text(alarm_state_name(event.from)));
    add("to", text(alarm_state_name(event.to)));
    if (!event.rule_id.empty()) {
        add("severity", text(severity_name(event.severity)));
        add("condition", event.condition ? "true" : "false");
    }
    if (std::isfinite(event.value)) add("value", fmt::format("{}", event.value));
    if (!event.detail.empty()) add("detail", text(event.detail));
    if (event.chattering) add("chattering", "true");
    if (event.flood) add("flood", "true");
    if (event.escalation) add("escalation", "true");
    if (!event.actor.empty()) add("actor", text(event.actor));
    if (!event.reason.empty()) add("reason", text(event.reason));
    if (event.shelved_until_wall_ms != 0) {
        add("shelved_until", text(format_iso_time(event.shelved_until_wall_ms)));
    }
    return json + "}";
}

}  // namespace fw::rules
