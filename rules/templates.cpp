#include "rules/templates.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "rules/rule_fields.hpp"

namespace fw::rules {
namespace {

using namespace std::chrono_literals;

// ISO 10816-3 velocity (r.m.s., 10-1000 Hz) zone boundaries in mm/s: leaving zone B (B/C) is a
// warning ("not suitable for long-term continuous operation"), entering zone D (C/D) an alarm
// ("may cause damage").
RuleTemplate iso10816(std::string name, std::string what, double boundary_bc, double boundary_cd) {
    RuleConfig rule;
    rule.kind = RuleKind::threshold;
    rule.limits = {{boundary_bc, kUnset, Severity::warning},
                   {boundary_cd, kUnset, Severity::alarm}};
    rule.deadband = 0.2;
    rule.on_delay = 10s;
    rule.off_delay = 30s;
    rule.hazard = HazardConfig{"vibration", Risk::medium, ""};
    return {std::move(name),
            fmt::format("ISO 10816-3 {}: warning above {} mm/s (zone B/C), alarm above {} mm/s "
                        "(zone C/D)",
                        what, boundary_bc, boundary_cd),
            {{"", rule}}};
}

RuleTemplate bearing_temperature() {
    RuleConfig level;
    level.kind = RuleKind::threshold;
    level.limits = {{85.0, kUnset, Severity::warning}, {95.0, kUnset, Severity::alarm}};
    level.deadband = 2.0;
    level.on_delay = 30s;
    level.off_delay = 60s;
    level.hazard = HazardConfig{"overheating", Risk::medium, ""};
    RuleConfig rise;
    rise.kind = RuleKind::rate;
    rise.rise = 10.0;
    rise.window = 30min;
    rise.severity = Severity::warning;
    rise.hazard = HazardConfig{"overheating", Risk::medium, ""};
    return {"bearing-temperature",
            "rolling-bearing temperature: warning above 85 °C, alarm above 95 °C; warning on a "
            "rise of 10 K within 30 min",
            {{"temperature", level}, {"rise", rise}}};
}

}  // namespace

const std::vector<RuleTemplate>& rule_templates() {
    static const std::vector<RuleTemplate> kTemplates{
        iso10816("iso10816-3-group1-rigid", "group 1 (large machines, 300 kW-50 MW), rigid", 4.5,
                 7.1),
        iso10816("iso10816-3-group1-flexible", "group 1 (large machines, 300 kW-50 MW), flexible",
                 7.1, 11.0),
        iso10816("iso10816-3-group2-rigid", "group 2 (medium machines, 15-300 kW), rigid", 2.8,
                 4.5),
        iso10816("iso10816-3-group2-flexible", "group 2 (medium machines, 15-300 kW), flexible",
                 4.5, 7.1),
        bearing_temperature(),
    };
    return kTemplates;
}

const RuleTemplate* find_template(std::string_view name) {
    for (const auto& candidate : rule_templates()) {
        if (candidate.name == name) return &candidate;
    }
    return nullptr;
}

std::string template_names() {
    std::string names;
    for (const auto& candidate : rule_templates()) {
        if (!names.empty()) names += ", ";
        names += candidate.name;
    }
    return names;
}

bool key_applies(RuleKind kind, std::string_view key) {
    key = key.substr(0, key.find('.'));
    bool applies = false;
    for_each_field<RuleConfig>([&](const auto& field) {
        if (field.key == key) applies = field.kinds.contains(kind);
    });
    return applies;
}

namespace {

// Lays the entry's value of `key` over the part's: "on_delay", or "hazard.title" for a map taken
// member by member.
void overlay(RuleConfig& part, const RuleConfig& entry, std::string_view key) {
    for_each_field<RuleConfig>([&](const auto& field) {
        using Value = typename std::remove_cvref_t<decltype(field)>::value_type;
        if constexpr (IsOptional<Value>::value) {
            if (field.overlay == Overlay::by_member) {
                const auto& from = entry.*field.member;
                auto& to = part.*field.member;
                for_each_field<typename Value::value_type>([&](const auto& member) {
                    const bool named =
                        key == field.key || key == fmt::format("{}.{}", field.key, member.key);
                    if (!from || !named) return;
                    if (!to) to.emplace();
                    (*to).*member.member = (*from).*member.member;
                });
                return;
            }
        }
        if (key == field.key) part.*field.member = entry.*field.member;
    });
}

}  // namespace

std::vector<RuleConfig> expand_rule(const RuleConfig& entry, std::vector<std::string>& errors) {
    if (entry.template_name.empty()) return {entry};
    const RuleTemplate* found = find_template(entry.template_name);
    if (found == nullptr) {
        errors.push_back(fmt::format("template: unknown template '{}' (known: {})",
                                     entry.template_name, template_names()));
        return {};
    }
    return apply_template(*found, entry, errors);
}

std::vector<RuleConfig> apply_template(const RuleTemplate& found, const RuleConfig& entry,
                                       std::vector<std::string>& errors) {
    if (entry.has("kind")) {
        errors.push_back(
            fmt::format("kind: a rule with a template takes its kind from it; "
                        "remove 'kind' or 'template'"));
    }
    std::vector<RuleConfig> rules;
    for (const auto& part : found.parts) {
        RuleConfig rule = part.rule;
        rule.id = part.suffix.empty() ? entry.id : entry.id + "." + part.suffix;
        rule.template_name = entry.template_name;
        for (const auto& key : entry.explicit_keys) {
            if (key_applies(rule.kind, key)) overlay(rule, entry, key);
        }
        rules.push_back(std::move(rule));
    }
    for (const auto& key : entry.explicit_keys) {
        if (key == "id" || key == "template" || key == "kind") continue;
        bool used = false;
        for (const auto& part : found.parts) used = used || key_applies(part.rule.kind, key);
        if (!used) {
            errors.push_back(
                fmt::format("{}: template '{}' has no rule that uses '{}'", key, found.name, key));
        }
    }
    return rules;
}

}  // namespace fw::rules
