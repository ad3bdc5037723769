#pragma once
// Code that treats every key of a rule alike, walking the field lists of rule_config.hpp: the
// rule's canonical text and version. The config section (daemon/alarms/rule_options.cpp) and
// template overlays (templates.cpp) walk the same lists.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "rules/rule_config.hpp"

namespace fw::rules {

// Calls `visit(field)` for every Field of Owner's map, in list order.
template <typename Owner, typename Visit>
constexpr void for_each_field(Visit&& visit) {
    std::apply([&](const auto&... field) { (visit(field), ...); }, FieldList<Owner>::kFields);
}

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// One scalar as the canonical text writes it: text as is, numbers as fmt writes them ("nan" for
// an unset one), durations in milliseconds, enums by name.
std::string scalar_text(const std::string& value);
std::string scalar_text(double value);
std::string scalar_text(Millis value);
std::string scalar_text(std::int64_t value);
template <typename Enum>
requires std::is_enum_v<Enum> std::string scalar_text(Enum value) {
    return std::string(RuleEnumNames<Enum>::name(value));
}

// A nested map's members, joined by ',' in list order ("4.5,nan,alarm").
template <typename Owner>
std::string members_text(const Owner& value) {
    std::string text;
    bool first = true;
    for_each_field<Owner>([&](const auto& field) {
        if (!first) text += ',';
        first = false;
        text += scalar_text(value.*field.member);
    });
    return text;
}

// Every key that changes what the rule evaluates, in a fixed order: "id=...;kind=...;channel=...;"
// with one "limit=...;" per limit and "schedule=...;" only when there is one.
std::string canonical_text(const RuleConfig& rule);

// The first 16 hex digits of a hash of canonical_text: recorded on every alarm event, so a changed
// rule is visible in the history, and compared on restore, so a changed rule starts afresh.
std::string rule_version(const RuleConfig& rule);

}  // namespace fw::rules
