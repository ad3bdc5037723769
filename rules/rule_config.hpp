#pragma once
// The `rules:` section of floorwatch.yaml as read by the config loader (daemon/config): one entry
// per rule as the user wrote it, before templates are expanded. rules/engine.hpp compiles these
// into the evaluator; rules/README.md documents every key.
//
// Each struct is followed by its field list, the one place a key is declared: the config section
// (daemon/alarms/rule_options.cpp), template overlays and the kinds a key applies to
// (templates.cpp) and the rule's version (rule_fields.hpp) are all derived from it. A new key is
// a member and its line in the list; a key the version missed would let a changed rule keep its
// alarm's evaluation state across a reload.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
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

// Each rule enum's names, for code that treats every key alike (the config section, the
// canonical text).
template <typename Enum>
struct RuleEnumNames;
template <>
struct RuleEnumNames<RuleKind> {
    static std::span<const std::string_view> all() { return rule_kind_names(); }
    static std::string_view name(RuleKind kind) { return rule_kind_name(kind); }
    static std::optional<RuleKind> from_name(std::string_view text) {
        return rule_kind_from_name(text);
    }
};
template <>
struct RuleEnumNames<Severity> {
    static std::span<const std::string_view> all() { return severity_names(); }
    static std::string_view name(Severity severity) { return severity_name(severity); }
    static std::optional<Severity> from_name(std::string_view text) {
        return severity_from_name(text);
    }
};
template <>
struct RuleEnumNames<Risk> {
    static std::span<const std::string_view> all() { return risk_names(); }
    static std::string_view name(Risk risk) { return risk_name(risk); }
    static std::optional<Risk> from_name(std::string_view text) { return risk_from_name(text); }
};
template <>
struct RuleEnumNames<CompoundMode> {
    static std::span<const std::string_view> all() { return compound_mode_names(); }
    static std::string_view name(CompoundMode mode) { return compound_mode_name(mode); }
    static std::optional<CompoundMode> from_name(std::string_view text) {
        return compound_mode_from_name(text);
    }
};

// The rule kinds a key means something for (threshold rules have no `rise`).
class KindSet {
  public:
    constexpr KindSet(std::initializer_list<RuleKind> kinds) {
        for (const RuleKind kind : kinds) bits_ |= bit(kind);
    }
    constexpr bool contains(RuleKind kind) const { return (bits_ & bit(kind)) != 0; }

  private:
    static constexpr unsigned bit(RuleKind kind) { return 1U << static_cast<unsigned>(kind); }
    unsigned bits_ = 0;
};

inline constexpr KindSet kEveryKind{RuleKind::threshold, RuleKind::rate, RuleKind::health,
                                    RuleKind::recurrence, RuleKind::compound};

// How a template takes a key the user wrote: the whole value, or member by member (`hazard:
// {title: ...}` keeps the template's type and risk; the keys written are "hazard.title").
enum class Overlay { whole, by_member };

// One key of a map in a rule entry and the member it fills.
template <typename Owner, typename Value>
struct Field {
    using value_type = Value;
    std::string_view key;
    Value Owner::*member;
    // Its name in the rule's canonical text, from which the rule version is hashed; empty for a
    // key that does not change what the rule evaluates. Keys of nested maps are all in the text,
    // unnamed, in list order.
    std::string_view version_label;
    KindSet kinds = kEveryKind;  // rule keys only
    Overlay overlay = Overlay::whole;
    std::string_view description;  // for people: the JSON Schema and editors show it
};

// A key of a map nested in a rule (a limit, the schedule, the hazard, ...).
template <typename Owner, typename Value>
constexpr Field<Owner, Value> nested_key(std::string_view key, Value Owner::*member,
                                         std::string_view description) {
    return {key, member, key, kEveryKind, Overlay::whole, description};
}

// Every key of a map, in the order the config documents them: FieldList<T>::kFields.
template <typename Owner>
struct FieldList;

inline constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

// One limit of a threshold rule: exactly one of above / below is set (the other is NaN).
struct LimitConfig {
    double above = kUnset;
    double below = kUnset;
    Severity severity = Severity::warning;
};

template <>
struct FieldList<LimitConfig> {
    static constexpr std::tuple kFields{
        nested_key("above", &LimitConfig::above, "Active while the value is above this."),
        nested_key("below", &LimitConfig::below, "Active while the value is below this."),
        nested_key("severity", &LimitConfig::severity, "Severity while this limit is exceeded."),
    };
};

// Weekdays and a daily time window in the plant's zone (gateway.timezone).
struct ScheduleConfig {
    std::string days = "mon-sun";  // "tue-thu", "mon,wed,fri", "sat-mon"
    std::string from = "00:00";    // local "HH:MM"
    std::string to = "24:00";      // local "HH:MM"; before `from` means the window crosses midnight
};

template <>
struct FieldList<ScheduleConfig> {
    static constexpr std::tuple kFields{
        nested_key("days", &ScheduleConfig::days,
                   "Weekdays: ranges and lists of mon..sun, e.g. tue-thu or mon,wed,fri."),
        nested_key("from", &ScheduleConfig::from, "Local start time HH:MM."),
        nested_key("to", &ScheduleConfig::to,
                   "Local end time HH:MM (24:00 = midnight); before 'from' crosses midnight."),
    };
};

// The rule's alarm is suppressed (by design) while this holds on a channel's latest good value.
struct SuppressionConfig {
    std::string channel;
    double above = kUnset;
    double below = kUnset;
};

template <>
struct FieldList<SuppressionConfig> {
    static constexpr std::tuple kFields{
        nested_key("channel", &SuppressionConfig::channel, "The channel whose value suppresses."),
        nested_key("above", &SuppressionConfig::above, "Suppressed while the value is above this."),
        nested_key("below", &SuppressionConfig::below, "Suppressed while the value is below this."),
    };
};

struct HazardConfig {
    std::string type;  // e.g. "vibration", "overheating"; recurrence rules match on it
    Risk risk = Risk::medium;
    std::string title;
};

template <>
struct FieldList<HazardConfig> {
    static constexpr std::tuple kFields{
        nested_key("type", &HazardConfig::type, "Hazard type, e.g. vibration or overheating."),
        nested_key("risk", &HazardConfig::risk, "Risk of the hazard work order it raises."),
        nested_key("title", &HazardConfig::title, "Title of the hazard work order."),
    };
};

// One input of a compound rule: another rule's alarm (same equipment) or a plant event.
struct ConditionConfig {
    std::string rule;
    std::string event;
};

template <>
struct FieldList<ConditionConfig> {
    static constexpr std::tuple kFields{
        nested_key("rule", &ConditionConfig::rule, "Another rule's alarm on the same equipment."),
        nested_key("event", &ConditionConfig::event, "A plant event name, e.g. material_arrival."),
    };
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

// A key of a rule entry, with the kinds it applies to.
template <typename Value>
constexpr Field<RuleConfig, Value> rule_key(std::string_view key, Value RuleConfig::*member,
                                            std::string_view version_label, KindSet kinds,
                                            std::string_view description,
                                            Overlay overlay = Overlay::whole) {
    return {key, member, version_label, kinds, overlay, description};
}

// Every key of a rule entry but the three that name it: `id` and `kind` (both in the version)
// and `template` (which the expanded rule's values stand for).
template <>
struct FieldList<RuleConfig> {
    static constexpr KindSet kRate{RuleKind::rate};
    static constexpr KindSet kHealth{RuleKind::health};
    static constexpr KindSet kRecurrence{RuleKind::recurrence};
    static constexpr KindSet kCompound{RuleKind::compound};
    static constexpr KindSet kThreshold{RuleKind::threshold};
    static constexpr KindSet kThresholdOrRate{RuleKind::threshold, RuleKind::rate};
    static constexpr KindSet kWindowed{RuleKind::rate, RuleKind::recurrence, RuleKind::compound};
    static constexpr KindSet kNotThreshold{RuleKind::rate, RuleKind::health, RuleKind::recurrence,
                                           RuleKind::compound};

    static constexpr std::tuple kFields{
        rule_key("channel", &RuleConfig::channel, "channel", kEveryKind, "The channel it reads."),
        rule_key("equipment", &RuleConfig::equipment, "equipment", kEveryKind,
                 "Equipment id; default: the channel's. Compound rules need it."),
        rule_key("description", &RuleConfig::description, "", kEveryKind, "Free text for people."),
        rule_key("severity", &RuleConfig::severity, "severity", kNotThreshold,
                 "Severity of rate, health, recurrence and compound alarms."),
        rule_key("limits", &RuleConfig::limits, "limit", kThreshold,
                 "Threshold limits, each with its severity."),
        rule_key("deadband", &RuleConfig::deadband, "deadband", kThresholdOrRate,
                 "A threshold or rate alarm returns to normal only this far past its limit."),
        rule_key("on_delay", &RuleConfig::on_delay, "on", kEveryKind,
                 "The condition must hold this long before the alarm activates."),
        rule_key("off_delay", &RuleConfig::off_delay, "off", kEveryKind,
                 "The condition must be gone this long before the alarm clears."),
        rule_key("rise", &RuleConfig::rise, "rise", kRate,
                 "Rate rules: a rise of at least this within window."),
        rule_key("fall", &RuleConfig::fall, "fall", kRate,
                 "Rate rules: a fall of at least this within window."),
        rule_key("window", &RuleConfig::window, "window", kWindowed,
                 "Time window of rate, recurrence and compound rules."),
        rule_key("stale_after", &RuleConfig::stale_after, "stale", kHealth,
                 "Health rules: active when no good sample came for this long (0 = off)."),
        rule_key("frozen_after", &RuleConfig::frozen_after, "frozen", kHealth,
                 "Health rules: active when the value has not moved for this long (0 = off)."),
        rule_key("frozen_tolerance", &RuleConfig::frozen_tolerance, "tol", kHealth,
                 "Health rules: changes up to this much count as not moving."),
        rule_key("min", &RuleConfig::min, "min", kHealth,
                 "Health rules: lowest physically possible value."),
        rule_key("max", &RuleConfig::max, "max", kHealth,
                 "Health rules: highest physically possible value."),
        rule_key("hazard_type", &RuleConfig::hazard_type, "hazard_type", kRecurrence,
                 "Recurrence rules: count activations of rules with this hazard type."),
        rule_key("count", &RuleConfig::count, "count", kRecurrence,
                 "Recurrence rules: activations within window that escalate."),
        rule_key("mode", &RuleConfig::mode, "mode", kCompound,
                 "Compound rules: all_of, any_of, or sequence (in the listed order)."),
        rule_key("conditions", &RuleConfig::conditions, "cond", kCompound,
                 "Compound rules: other rules' alarms and plant events."),
        rule_key("schedule", &RuleConfig::schedule, "schedule", kEveryKind,
                 "When the rule is active, in gateway.timezone; suppressed outside."),
        rule_key("suppress_when", &RuleConfig::suppress_when, "suppress", kEveryKind,
                 "The alarm is suppressed while this holds (e.g. the machine is not running)."),
        rule_key("hazard", &RuleConfig::hazard, "hazard", kEveryKind,
                 "The hazard work order the rule raises.", Overlay::by_member),
    };
};

}  // namespace fw::rules
