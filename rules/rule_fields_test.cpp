// The field lists of rule_config.hpp drive the rule version and template overlays; these tests
// walk the same lists, so a key added to them is covered without touching this file.

#include "rules/rule_fields.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "rules/templates.hpp"

using namespace fw::rules;
using namespace std::chrono_literals;

namespace {

// Values unlike `value`, one for each way a change could go unseen.
template <typename Value>
std::vector<Value> changes_of(const Value& value);

template <typename Owner>
std::vector<Owner> member_changes_of(const Owner& value) {
    std::vector<Owner> changed;
    for_each_field<Owner>([&](const auto& field) {
        for (auto other : changes_of(value.*field.member)) {
            Owner copy = value;
            copy.*field.member = std::move(other);
            changed.push_back(std::move(copy));
        }
    });
    return changed;
}

template <typename Value>
std::vector<Value> changes_of(const Value& value) {
    if constexpr (std::is_same_v<Value, std::string>) {
        return {value + "x"};
    } else if constexpr (std::is_same_v<Value, double>) {
        return {std::isnan(value) ? 1.0 : value + 1.0};
    } else if constexpr (std::is_same_v<Value, Millis>) {
        return {value + 1ms};
    } else if constexpr (std::is_integral_v<Value>) {
        return {static_cast<Value>(value + 1)};
    } else if constexpr (std::is_enum_v<Value>) {
        const auto count = RuleEnumNames<Value>::all().size();
        return {static_cast<Value>((static_cast<std::size_t>(value) + 1) % count)};
    } else if constexpr (IsVector<Value>::value) {
        std::vector<Value> changed;
        Value longer = value;
        longer.emplace_back();
        changed.push_back(longer);
        if (!value.empty()) {
            for (auto item : member_changes_of(value.front())) {
                Value copy = value;
                copy.front() = std::move(item);
                changed.push_back(std::move(copy));
            }
        }
        return changed;
    } else {
        static_assert(IsOptional<Value>::value);
        if (!value) return {Value(typename Value::value_type{})};
        std::vector<Value> changed{Value()};
        for (auto item : member_changes_of(*value)) changed.emplace_back(std::move(item));
        return changed;
    }
}

// One key's value as text: two values set the same thing exactly when their texts are equal (NaN
// included).
template <typename Value>
std::string value_text(const Value& value) {
    if constexpr (IsVector<Value>::value) {
        std::string text;
        for (const auto& item : value) text += members_text(item) + ";";
        return text;
    } else if constexpr (IsOptional<Value>::value) {
        return value ? members_text(*value) : std::string();
    } else {
        return scalar_text(value);
    }
}

// A rule with every map and list present, so changes inside them are tried too.
RuleConfig full_rule() {
    RuleConfig rule;
    rule.id = "vib";
    rule.limits.emplace_back();
    rule.conditions.emplace_back();
    rule.schedule.emplace();
    rule.suppress_when.emplace();
    rule.hazard.emplace();
    return rule;
}

}  // namespace

TEST_CASE("changing any single rule key changes the rule's version") {
    for (const RuleConfig& base : {RuleConfig{}, full_rule()}) {
        const std::string version = rule_version(base);
        std::size_t tried = 0;
        for_each_field<RuleConfig>([&](const auto& field) {
            if (field.version_label.empty()) return;
            for (const auto& other : changes_of(base.*field.member)) {
                RuleConfig changed = base;
                changed.*field.member = other;
                CAPTURE(field.key);
                CAPTURE(canonical_text(changed));
                CHECK(rule_version(changed) != version);
                ++tried;
            }
        });
        CHECK(tried > 20);
        RuleConfig renamed = base;
        renamed.id += "x";
        CHECK(rule_version(renamed) != version);
        RuleConfig other_kind = base;
        other_kind.kind = RuleKind::rate;
        CHECK(rule_version(other_kind) != version);
    }
}

TEST_CASE("only text for people leaves the version alone") {
    std::set<std::string> unversioned;
    for_each_field<RuleConfig>([&](const auto& field) {
        if (field.version_label.empty()) unversioned.emplace(field.key);
    });
    CHECK(unversioned == std::set<std::string>{"description"});
}

TEST_CASE("the canonical text keeps the format existing rule versions were hashed from") {
    RuleConfig rule = full_rule();
    rule.channel = "press1.vibration";
    rule.limits = {{4.5, kUnset, Severity::alarm}};
    rule.on_delay = 10s;
    rule.hazard = HazardConfig{"vibration", Risk::high, "Press 1"};
    rule.schedule.reset();
    rule.conditions.clear();
    CHECK(canonical_text(rule) ==
          "id=vib;kind=threshold;channel=press1.vibration;equipment=;severity=warning;"
          "limit=4.5,nan,alarm;deadband=0;on=10000;off=0;rise=nan;fall=nan;window=0;"
          "stale=0;frozen=0;tol=0;min=nan;max=nan;hazard_type=;count=3;mode=all_of;"
          "suppress=,nan,nan;hazard=vibration,high,Press 1;");
}

TEST_CASE("a template overlay covers every key, in the parts it applies to") {
    RuleTemplate every_kind{"every-kind", "one part of each kind", {}};
    for (const auto name : rule_kind_names()) {
        RuleConfig part;
        part.kind = *rule_kind_from_name(name);
        every_kind.parts.push_back({std::string(name), part});
    }
    // The entry differs from the parts in every key and names them all.
    RuleConfig entry = full_rule();
    entry.template_name = every_kind.name;
    for_each_field<RuleConfig>([&](const auto& field) {
        entry.*field.member = changes_of(entry.*field.member).back();
        using Value = typename std::remove_cvref_t<decltype(field)>::value_type;
        if constexpr (IsOptional<Value>::value) {
            if (field.overlay == Overlay::by_member) {
                for_each_field<typename Value::value_type>([&](const auto& member) {
                    entry.explicit_keys.insert(std::string(field.key) + "." +
                                               std::string(member.key));
                });
                return;
            }
        }
        entry.explicit_keys.insert(std::string(field.key));
    });

    std::vector<std::string> errors;
    const auto rules = apply_template(every_kind, entry, errors);
    CHECK(errors.empty());
    REQUIRE(rules.size() == every_kind.parts.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const RuleConfig& part = every_kind.parts[i].rule;
        CHECK(rules[i].kind == part.kind);
        for_each_field<RuleConfig>([&](const auto& field) {
            CAPTURE(field.key);
            CAPTURE(rule_kind_name(part.kind));
            const auto& expected =
                field.kinds.contains(part.kind) ? entry.*field.member : part.*field.member;
            CHECK(value_text(rules[i].*field.member) == value_text(expected));
        });
    }
}

TEST_CASE("a map taken member by member keeps the template's other members") {
    RuleTemplate with_hazard{"with-hazard", "", {}};
    RuleConfig part;
    part.hazard = HazardConfig{"vibration", Risk::medium, ""};
    with_hazard.parts.push_back({"", part});
    RuleConfig entry;
    entry.id = "press1";
    entry.template_name = with_hazard.name;
    entry.hazard = HazardConfig{"", Risk::medium, "Press 1 shakes"};
    entry.explicit_keys = {"hazard.title"};

    std::vector<std::string> errors;
    const auto rules = apply_template(with_hazard, entry, errors);
    REQUIRE(rules.size() == 1);
    REQUIRE(rules[0].hazard);
    CHECK(rules[0].hazard->type == "vibration");
    CHECK(rules[0].hazard->title == "Press 1 shakes");
    CHECK(errors.empty());
}
