#include "daemon/orders/alarm_orders.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rules/templates.hpp"

namespace fw::orders {

std::optional<rules::RuleHazard> configured_rule_hazard(const std::vector<rules::RuleConfig>& rules,
                                                        std::string_view rule_id) {
    std::vector<std::string> errors;  // none: the config loader checked the rules
    for (const auto& entry : rules) {
        for (const auto& rule : rules::expand_rule(entry, errors)) {
            if (rule.id == rule_id) return rules::rule_hazard(rule);
        }
    }
    return std::nullopt;
}

std::optional<AlarmOrderAction> order_action_for_alarm(
    const alarms::StoredAlarmEvent& stored, const std::vector<workflow::OrderState>& orders,
    const Config& config) {
    const rules::AlarmEvent& event = stored.event;
    if (event.action != rules::AlarmAction::activate) return std::nullopt;
    const auto rule =
        event.rule_hazard ? event.rule_hazard : configured_rule_hazard(config.rules, event.rule_id);
    if (!rule) return std::nullopt;

    std::string area = event.area;
    if (area.empty()) {
        if (const auto* equipment = config.find_equipment(event.equipment)) area = equipment->area;
    }
    const std::string& what = rule->description.empty() ? event.rule_id : rule->description;
    const std::string description =
        std::isnan(event.value)
            ? fmt::format("{}: {}", what, event.detail)
            : fmt::format("{}: {} (value {:.4g})", what, event.detail, event.value);
    const workflow::RuleSource source{event.rule_id, event.rule_version};
    const auto report = [&](std::string hazard_type, workflow::Risk risk, std::string title) {
        workflow::ReportCommand command;
        command.equipment = event.equipment;
        command.area = area;
        command.hazard_type = std::move(hazard_type);
        command.risk = risk;
        command.title = std::move(title);
        command.description = description;
        command.rule = source;
        return AlarmOrderAction{std::move(command), ""};
    };

    if (event.escalation) {  // a recurrence rule: the hazard came back too often
        const std::string hazard_type = !rule->counted_hazard_type.empty()
                                            ? rule->counted_hazard_type
                                            : (rule->hazard ? rule->hazard->type : "");
        if (const auto target = workflow::order_to_escalate(orders, event.equipment, hazard_type)) {
            return AlarmOrderAction{
                workflow::EscalateCommand{
                    fmt::format("recurrence rule {}: {}", event.rule_id, event.detail),
                    event.rule_id},
                *target};
        }
        return report(hazard_type, workflow::Risk::red, rule->hazard ? rule->hazard->title : "");
    }
    if (!rule->hazard) return std::nullopt;
    if (const auto open =
            workflow::open_order_for_activation(orders, event.rule_id, event.equipment)) {
        return AlarmOrderAction{workflow::RecordOccurrenceCommand{source}, *open};
    }
    return report(rule->hazard->type, rule->hazard->risk, rule->hazard->title);
}

}  // namespace fw::orders
