#include "rules/templates.hpp"

#include <fmt/format.h>

#include <array>

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

constexpr std::array<std::string_view, 8> kCommonKeys{"channel",       "equipment", "description",
                                                      "on_delay",      "off_delay", "schedule",
                                                      "suppress_when", "hazard"};

}  // namespace

const std::vector<RuleTemplate>& rule_templates() {
    static const std::vector<RuleTemplate> templates{
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
    return templates;
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
    const auto dot = key.find('.');
    if (dot != std::string_view::npos) key = key.substr(0, dot);
    for (const auto common : kCommonKeys) {
        if (common == key) return true;
    }
    switch (kind) {
        case RuleKind::threshold:
            return key == "limits" || key == "deadband";
        case RuleKind::rate:
            return key == "rise" || key == "fall" || key == "window" || key == "severity";
        case RuleKind::health:
            return key == "stale_after" || key == "frozen_after" || key == "frozen_tolerance" ||
                   key == "min" || key == "max" || key == "severity";
        case RuleKind::recurrence:
            return key == "hazard_type" || key == "count" || key == "window" || key == "severity";
        case RuleKind::compound:
            return key == "mode" || key == "conditions" || key == "window" || key == "severity";
    }
    return false;
}

namespace {

void overlay(RuleConfig& part, const RuleConfig& entry, std::string_view key) {
    if (key == "channel") part.channel = entry.channel;
    if (key == "equipment") part.equipment = entry.equipment;
    if (key == "description") part.description = entry.description;
    if (key == "on_delay") part.on_delay = entry.on_delay;
    if (key == "off_delay") part.off_delay = entry.off_delay;
    if (key == "schedule") part.schedule = entry.schedule;
    if (key == "suppress_when") part.suppress_when = entry.suppress_when;
    if (key.starts_with("hazard") && entry.hazard) {
        if (!part.hazard) part.hazard = HazardConfig{};
        // Field by field, so `hazard: {title: ...}` keeps the template's type and risk.
        if (key == "hazard" || key == "hazard.type") part.hazard->type = entry.hazard->type;
        if (key == "hazard" || key == "hazard.risk") part.hazard->risk = entry.hazard->risk;
        if (key == "hazard" || key == "hazard.title") part.hazard->title = entry.hazard->title;
    }
    if (key == "limits") part.limits = entry.limits;
    if (key == "deadband") part.deadband = entry.deadband;
    if (key == "rise") part.rise = entry.rise;
    if (key == "fall") part.fall = entry.fall;
    if (key == "window") part.window = entry.window;
    if (key == "severity") part.severity = entry.severity;
    if (key == "stale_after") part.stale_after = entry.stale_after;
    if (key == "frozen_after") part.frozen_after = entry.frozen_after;
    if (key == "frozen_tolerance") part.frozen_tolerance = entry.frozen_tolerance;
    if (key == "min") part.min = entry.min;
    if (key == "max") part.max = entry.max;
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
    if (entry.has("kind")) {
        errors.push_back(
            fmt::format("kind: a rule with a template takes its kind from it; "
                        "remove 'kind' or 'template'"));
    }
    std::vector<RuleConfig> rules;
    for (const auto& part : found->parts) {
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
        for (const auto& part : found->parts) used = used || key_applies(part.rule.kind, key);
        if (!used) {
            errors.push_back(fmt::format("{}: template '{}' has no rule that uses '{}'", key,
                                         entry.template_name, key));
        }
    }
    return rules;
}

}  // namespace fw::rules
