#include "rules/rule_check.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "rules/schedule.hpp"
#include "rules/templates.hpp"

namespace fw::rules {
namespace {

bool is_set(double value) {
    return !std::isnan(value);
}

class Checker {
  public:
    Checker(std::size_t index, std::vector<RuleIssue>& issues) : index_(index), issues_(issues) {}
    void issue(std::string key, std::string message) {
        issues_.push_back({index_, std::move(key), std::move(message)});
    }

  private:
    std::size_t index_;
    std::vector<RuleIssue>& issues_;
};

void check_channel(const RuleConfig& rule, const RuleCatalog& catalog, Checker& check,
                   const std::string& key, const std::string& channel) {
    if (channel.empty()) {
        check.issue(key, fmt::format("a {} rule needs a channel", rule_kind_name(rule.kind)));
    } else if (!catalog.channel_equipment.contains(channel)) {
        if (!catalog.channels_from_templates) {
            check.issue(key, fmt::format("unknown channel '{}' (channels are declared by modbus "
                                         "points and mqtt inputs)",
                                         channel));
        } else if (rule.equipment.empty()) {
            check.issue(key, fmt::format("channel '{}' is not declared by name; if an mqtt input "
                                         "template makes it, give the rule its 'equipment'",
                                         channel));
        }
    }
}

void check_expanded(const RuleConfig& rule, const RuleCatalog& catalog, Checker& check) {
    const bool channel_rule = rule.kind == RuleKind::threshold || rule.kind == RuleKind::rate ||
                              rule.kind == RuleKind::health;
    if (channel_rule) check_channel(rule, catalog, check, "channel", rule.channel);
    if (!rule.equipment.empty() && !catalog.equipment_area.contains(rule.equipment)) {
        check.issue("equipment", fmt::format("unknown equipment '{}' (declare it under "
                                             "'equipment')",
                                             rule.equipment));
    }
    if (rule.on_delay.count() < 0 || rule.off_delay.count() < 0) {
        check.issue("on_delay", "delays cannot be negative");
    }
    switch (rule.kind) {
        case RuleKind::threshold:
            if (rule.limits.empty()) {
                check.issue("limits",
                            "a threshold rule needs at least one limit, e.g. "
                            "limits: [{above: 4.5, severity: alarm}]");
            }
            for (std::size_t i = 0; i < rule.limits.size(); ++i) {
                const auto& limit = rule.limits[i];
                if (is_set(limit.above) == is_set(limit.below)) {
                    check.issue(fmt::format("limits[{}]", i),
                                "a limit has exactly one of 'above' or 'below'");
                }
            }
            if (rule.deadband < 0) check.issue("deadband", "the deadband cannot be negative");
            break;
        case RuleKind::rate:
            if (is_set(rule.rise) == is_set(rule.fall)) {
                check.issue("rise", "a rate rule has exactly one of 'rise' or 'fall'");
            } else if ((is_set(rule.rise) && rule.rise <= 0) ||
                       (is_set(rule.fall) && rule.fall <= 0)) {
                check.issue(is_set(rule.rise) ? "rise" : "fall", "must be greater than 0");
            }
            if (rule.window.count() <= 0) {
                check.issue("window", "a rate rule needs a window, e.g. window: 30m");
            }
            break;
        case RuleKind::health:
            if (rule.stale_after.count() == 0 && rule.frozen_after.count() == 0 &&
                !is_set(rule.min) && !is_set(rule.max)) {
                check.issue("",
                            "a health rule checks at least one of stale_after, frozen_after, "
                            "min or max");
            }
            if (is_set(rule.min) && is_set(rule.max) && rule.min >= rule.max) {
                check.issue("max", fmt::format("max ({}) must be greater than min ({})", rule.max,
                                               rule.min));
            }
            break;
        case RuleKind::recurrence:
            if (rule.hazard_type.empty()) {
                check.issue("hazard_type",
                            "a recurrence rule counts activations of rules with "
                            "this hazard type; it is required");
            }
            if (rule.count < 2) check.issue("count", "must be at least 2");
            if (rule.window.count() <= 0) {
                check.issue("window", "a recurrence rule needs a window, e.g. window: 30d");
            }
            break;
        case RuleKind::compound:
            if (rule.equipment.empty()) {
                check.issue("equipment", "a compound rule needs the equipment it concerns");
            }
            if (rule.conditions.empty()) {
                check.issue("conditions", "a compound rule needs at least one condition");
            }
            if (rule.window.count() <= 0) {
                check.issue("window", "a compound rule needs a window, e.g. window: 8h");
            }
            for (std::size_t i = 0; i < rule.conditions.size(); ++i) {
                const auto& condition = rule.conditions[i];
                if (condition.rule.empty() == condition.event.empty()) {
                    check.issue(fmt::format("conditions[{}]", i),
                                "a condition has exactly one of 'rule' or 'event'");
                }
            }
            break;
    }
    if (rule.suppress_when) {
        check_channel(rule, catalog, check, "suppress_when.channel", rule.suppress_when->channel);
        if (is_set(rule.suppress_when->above) == is_set(rule.suppress_when->below)) {
            check.issue("suppress_when", "suppress_when has exactly one of 'above' or 'below'");
        }
    }
    if (rule.schedule) {
        if (const auto parsed = parse_schedule(*rule.schedule); !parsed) {
            const std::string& error = parsed.error();
            const auto colon = error.find(": ");
            check.issue("schedule." + error.substr(0, colon), error.substr(colon + 2));
        }
    }
}

}  // namespace

std::string rule_equipment(const RuleConfig& rule, const RuleCatalog& catalog) {
    if (rule.kind == RuleKind::recurrence) return rule.equipment;
    if (!rule.equipment.empty()) return rule.equipment;
    const auto found = catalog.channel_equipment.find(rule.channel);
    return found == catalog.channel_equipment.end() ? std::string() : found->second;
}

std::vector<RuleIssue> check_rules(const std::vector<RuleConfig>& entries,
                                   const RuleCatalog& catalog) {
    std::vector<RuleIssue> issues;
    std::map<std::string, std::size_t, std::less<>> first_index;
    std::map<std::string, const RuleConfig*, std::less<>> expanded_by_id;
    std::vector<std::pair<std::size_t, RuleConfig>> expanded;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        Checker check(i, issues);
        std::vector<std::string> errors;
        for (auto& rule : expand_rule(entries[i], errors))
            expanded.emplace_back(i, std::move(rule));
        for (const auto& error : errors) {
            const auto colon = error.find(':');
            check.issue(error.substr(0, colon), error.substr(colon + 2));
        }
    }
    for (const auto& [index, rule] : expanded) {
        Checker check(index, issues);
        const auto [first, inserted] = first_index.emplace(rule.id, index);
        if (!inserted) {
            check.issue("id", fmt::format("duplicate rule id '{}' (first in rules[{}])", rule.id,
                                          first->second));
            continue;
        }
        expanded_by_id.emplace(rule.id, &rule);
        check_expanded(rule, catalog, check);
    }
    for (const auto& [index, rule] : expanded) {
        if (rule.kind != RuleKind::compound) continue;
        Checker check(index, issues);
        for (std::size_t i = 0; i < rule.conditions.size(); ++i) {
            const std::string& target = rule.conditions[i].rule;
            if (target.empty()) continue;
            const auto found = expanded_by_id.find(target);
            const std::string key = fmt::format("conditions[{}].rule", i);
            if (found == expanded_by_id.end()) {
                check.issue(key, fmt::format("unknown rule '{}'", target));
            } else if (found->second->kind == RuleKind::compound) {
                check.issue(key, fmt::format("'{}' is a compound rule; a compound rule combines "
                                             "other kinds only",
                                             target));
            } else if (found->second->kind != RuleKind::recurrence &&
                       rule_equipment(*found->second, catalog) != rule.equipment) {
                check.issue(key,
                            fmt::format("rule '{}' watches equipment '{}', not '{}'", target,
                                        rule_equipment(*found->second, catalog), rule.equipment));
            }
        }
    }
    return issues;
}

}  // namespace fw::rules
