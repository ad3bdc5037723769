#include "daemon/alarms/rule_options.hpp"

#include <fmt/format.h>

#include "rules/templates.hpp"

namespace fw::alarms {
namespace {

using config_table::join_path;
using config_table::Reader;
using config_table::Section;

// Number options whose absence means "not used" default to NaN, which JSON cannot say.
Section<rules::LimitConfig> rule_limit_section() {
    using rules::LimitConfig;
    Section<LimitConfig> section;
    section.number("above", &LimitConfig::above, "Active while the value is above this.")
        .no_default();
    section.number("below", &LimitConfig::below, "Active while the value is below this.")
        .no_default();
    section.enumeration("severity", &LimitConfig::severity, rules::severity_names(),
                        &rules::severity_from_name, "Severity while this limit is exceeded.");
    section.schema_rule(R"({"oneOf": [{"required": ["above"]}, {"required": ["below"]}]})");
    return section;
}

Section<rules::ScheduleConfig> rule_schedule_section() {
    using rules::ScheduleConfig;
    Section<ScheduleConfig> section;
    section.string("days", &ScheduleConfig::days,
                   "Weekdays: ranges and lists of mon..sun, e.g. tue-thu or mon,wed,fri.");
    section.string("from", &ScheduleConfig::from, "Local start time HH:MM.")
        .pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
    section
        .string("to", &ScheduleConfig::to,
                "Local end time HH:MM (24:00 = midnight); before 'from' crosses midnight.")
        .pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
    return section;
}

Section<rules::SuppressionConfig> rule_suppression_section() {
    using rules::SuppressionConfig;
    Section<SuppressionConfig> section;
    section.string("channel", &SuppressionConfig::channel, "The channel whose value suppresses.")
        .required()
        .pattern(config_table::kChannelName);
    section.number("above", &SuppressionConfig::above, "Suppressed while the value is above this.")
        .no_default();
    section.number("below", &SuppressionConfig::below, "Suppressed while the value is below this.")
        .no_default();
    return section;
}

Section<rules::HazardConfig> rule_hazard_section() {
    using rules::HazardConfig;
    Section<HazardConfig> section;
    section.string("type", &HazardConfig::type, "Hazard type, e.g. vibration or overheating.")
        .pattern(config_table::kIdName);
    section.enumeration("risk", &HazardConfig::risk, rules::risk_names(), &rules::risk_from_name,
                        "Risk of the hazard work order it raises.");
    section.string("title", &HazardConfig::title, "Title of the hazard work order.");
    return section;
}

Section<rules::ConditionConfig> rule_condition_section() {
    using rules::ConditionConfig;
    Section<ConditionConfig> section;
    section.string("rule", &ConditionConfig::rule, "Another rule's alarm on the same equipment.")
        .pattern(config_table::kPlainName);
    section.string("event", &ConditionConfig::event, "A plant event name, e.g. material_arrival.")
        .pattern(config_table::kPlainName);
    section.schema_rule(R"({"oneOf": [{"required": ["rule"]}, {"required": ["event"]}]})");
    return section;
}

}  // namespace

Section<rules::RuleConfig> rule_section() {
    using rules::RuleConfig;
    Section<RuleConfig> section;
    section.string("id", &RuleConfig::id, "Rule id, unique; recorded on every alarm.")
        .required()
        .pattern(config_table::kIdName);
    section.string("template", &RuleConfig::template_name,
                   fmt::format("A ready rule set ({}); keys written here override it.",
                               rules::template_names()));
    section.enumeration("kind", &RuleConfig::kind, rules::rule_kind_names(),
                        &rules::rule_kind_from_name, "What the rule watches.");
    section.string("channel", &RuleConfig::channel, "The channel it reads.")
        .pattern(config_table::kChannelName);
    section
        .string("equipment", &RuleConfig::equipment,
                "Equipment id; default: the channel's. Compound rules need it.")
        .pattern(config_table::kIdName);
    section.string("description", &RuleConfig::description, "Free text for people.");
    section.enumeration("severity", &RuleConfig::severity, rules::severity_names(),
                        &rules::severity_from_name,
                        "Severity of rate, health, recurrence and "
                        "compound alarms.");
    section.list("limits", &RuleConfig::limits, rule_limit_section(),
                 "Threshold limits, each with its severity.");
    section.number("deadband", &RuleConfig::deadband,
                   "A threshold alarm returns to normal only this far past its limit.");
    section.duration("on_delay", &RuleConfig::on_delay,
                     "The condition must hold this long before the alarm activates.");
    section.duration("off_delay", &RuleConfig::off_delay,
                     "The condition must be gone this long before the alarm clears.");
    section.number("rise", &RuleConfig::rise, "Rate rules: a rise of at least this within window.")
        .no_default();
    section.number("fall", &RuleConfig::fall, "Rate rules: a fall of at least this within window.")
        .no_default();
    section.duration("window", &RuleConfig::window,
                     "Time window of rate, recurrence and compound rules.");
    section.duration("stale_after", &RuleConfig::stale_after,
                     "Health rules: active when no good sample came for this long (0 = off).");
    section.duration("frozen_after", &RuleConfig::frozen_after,
                     "Health rules: active when the value has not moved for this long (0 = off).");
    section.number("frozen_tolerance", &RuleConfig::frozen_tolerance,
                   "Health rules: changes up to this much count as not moving.");
    section.number("min", &RuleConfig::min, "Health rules: lowest physically possible value.")
        .no_default();
    section.number("max", &RuleConfig::max, "Health rules: highest physically possible value.")
        .no_default();
    section
        .string("hazard_type", &RuleConfig::hazard_type,
                "Recurrence rules: count activations of rules with this hazard type.")
        .pattern(config_table::kIdName);
    section
        .integer("count", &RuleConfig::count,
                 "Recurrence rules: activations within window that escalate.")
        .between(2, 1000);
    section.enumeration("mode", &RuleConfig::mode, rules::compound_mode_names(),
                        &rules::compound_mode_from_name,
                        "Compound rules: all_of, any_of, or sequence (in the listed order).");
    section.list("conditions", &RuleConfig::conditions, rule_condition_section(),
                 "Compound rules: other rules' alarms and plant events.");
    section.section<rules::ScheduleConfig>(
        "schedule", rule_schedule_section(),
        [](RuleConfig& rule, rules::ScheduleConfig&& schedule) { rule.schedule = schedule; },
        "When the rule is active, in gateway.timezone; suppressed outside.");
    section.section<rules::SuppressionConfig>(
        "suppress_when", rule_suppression_section(),
        [](RuleConfig& rule, rules::SuppressionConfig&& when) { rule.suppress_when = when; },
        "The alarm is suppressed while this holds (e.g. the machine is not running).");
    section.section<rules::HazardConfig>(
        "hazard", rule_hazard_section(),
        [](RuleConfig& rule, rules::HazardConfig&& hazard) { rule.hazard = hazard; },
        "The hazard work order the rule raises.");
    // Templates give way key by key to what the user wrote, so remember which keys those are.
    section.finish_with(
        [keys = section.shape().keys(), hazard_keys = rule_hazard_section().shape().keys()](
            RuleConfig& rule, const std::string& path, Reader& reader) {
            for (const auto& key : keys) {
                if (reader.present(join_path(path, key))) rule.explicit_keys.insert(key);
            }
            for (const auto& key : hazard_keys) {
                if (reader.present(join_path(join_path(path, "hazard"), key))) {
                    rule.explicit_keys.insert("hazard." + key);
                }
            }
            if (rule.explicit_keys.contains("hazard")) rule.explicit_keys.erase("hazard");
        });
    return section;
}

}  // namespace fw::alarms
