#pragma once
// The `rules:` section of floorwatch.yaml as read by the config loader (daemon/config): one entry
// per rule as the user wrote it, before templates are expanded. rules/engine.hpp compiles these
// into the evaluator; rules/README.md documents every key.

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fw::rules {

using Millis = std::chrono::milliseconds;

enum class RuleKind { threshold, rate, health, recurrence, compound };
enum class Severity { warning, alarm, critical };
enum class Risk { low, medium, high, red };
enum class CompoundMode { all_of, any_of, sequence };

std::string_view rule_kind_name(RuleKind kind);
std::optional<RuleKind> rule_kind_from_name(std::string_view name);
std::string_view severity_name(Severity severity);
std::optional<Severity> severity_from_name(std::string_view name);
std::string_view risk_name(Risk risk);
std::optional<Risk> risk_from_name(std::string_view name);
std::string_view compound_mode_name(CompoundMode mode);
std::optional<CompoundMode> compound_mode_from_name(std::string_view name);
// Every accepted name, in enum order (for the config's enumerations and schema).
std::span<const std::string_view> rule_kind_names();
std::span<const std::string_view> severity_names();
std::span<const std::string_view> risk_names();
std::span<const std::string_view> compound_mode_names();

inline constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

// One limit of a threshold rule: exactly one of above / below is set (the other is NaN).
struct LimitConfig {
    double above = kUnset;
    double below = kUnset;
    Severity severity = Severity::warning;
};

// Weekdays and a daily time window in the plant's zone (gateway.timezone).
struct ScheduleConfig {
    std::string days = "mon-sun";  // "tue-thu", "mon,wed,fri", "sat-mon"
    std::string from = "00:00";    // local "HH:MM"
    std::string to = "24:00";      // local "HH:MM"; before `from` means the window crosses midnight
};

// The rule's alarm is suppressed (by design) while this holds on a channel's latest good value.
struct SuppressionConfig {
    std::string channel;
    double above = kUnset;
    double below = kUnset;
};

struct HazardConfig {
    std::string type;  // e.g. "vibration", "overheating"; recurrence rules match on it
    Risk risk = Risk::medium;
    std::string title;
};

// One input of a compound rule: another rule's alarm (same equipment) or a plant event.
struct ConditionConfig {
    std::string rule;
    std::string event;
};

struct RuleConfig {
    std::string id;
    std::string template_name;  // "template:" key; empty when the rule is written out in full
    RuleKind kind = RuleKind::threshold;
    std::string channel;    // threshold, rate, health
    std::string equipment;  // compound (required); channel rules default to the channel's
    std::string description;
    Severity severity = Severity::warning;  // rate, health, recurrence, compound
    // threshold
    std::vector<LimitConfig> limits;
    double deadband = 0.0;
    Millis on_delay{0};
    Millis off_delay{0};
    // rate: a rise (or fall) of at least this much within `window`
    double rise = kUnset;
    double fall = kUnset;
    Millis window{0};  // rate, recurrence, compound
    // health
    Millis stale_after{0};   // 0 = not checked
    Millis frozen_after{0};  // 0 = not checked
    double frozen_tolerance = 0.0;
    double min = kUnset;  // physical range; NaN = not checked
    double max = kUnset;
    // recurrence: `count` debounced activations of rules with this hazard type, same equipment
    std::string hazard_type;
    std::int64_t count = 3;
    // compound
    CompoundMode mode = CompoundMode::all_of;
    std::vector<ConditionConfig> conditions;
    // any rule
    std::optional<ScheduleConfig> schedule;
    std::optional<SuppressionConfig> suppress_when;
    std::optional<HazardConfig> hazard;

    // Keys the user wrote (the loader fills it); a template's values give way only to these.
    std::set<std::string, std::less<>> explicit_keys;
    bool has(std::string_view key) const { return explicit_keys.contains(key); }
};

}  // namespace fw::rules
