#include "daemon/alarms/rule_options.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "rules/rule_fields.hpp"
#include "rules/templates.hpp"

namespace fw::alarms {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using rules::ConditionConfig;
using rules::HazardConfig;
using rules::LimitConfig;
using rules::RuleConfig;
using rules::ScheduleConfig;
using rules::SuppressionConfig;

template <typename Owner>
Section<Owner> section_of();

// One option per field, of the kind its member's type asks for.
template <typename Owner, typename Value>
void declare(Section<Owner>& section, const rules::Field<Owner, Value>& field) {
    std::string key(field.key);
    std::string description(field.description);
    if constexpr (std::is_same_v<Value, std::string>) {
        section.string(std::move(key), field.member, std::move(description));
    } else if constexpr (std::is_same_v<Value, double>) {
        section.number(std::move(key), field.member, std::move(description));
    } else if constexpr (std::is_same_v<Value, rules::Millis>) {
        section.duration(std::move(key), field.member, std::move(description));
    } else if constexpr (std::is_integral_v<Value> && !std::is_same_v<Value, bool>) {
        section.integer(std::move(key), field.member, std::move(description));
    } else if constexpr (std::is_enum_v<Value>) {
        section.enumeration(std::move(key), field.member, rules::RuleEnumNames<Value>::all(),
                            rules::RuleEnumNames<Value>::from_name, std::move(description));
    } else if constexpr (rules::IsVector<Value>::value) {
        using Item = typename Value::value_type;
        section.list(std::move(key), field.member, section_of<Item>(), std::move(description));
    } else {
        static_assert(rules::IsOptional<Value>::value, "no config option kind for this type");
        using Item = typename Value::value_type;
        section.template section<Item>(
            std::move(key), section_of<Item>(),
            [member = field.member](Owner& out, Item&& value) { out.*member = std::move(value); },
            std::move(description));
    }
}

// What the field lists do not say: patterns, limits, defaults JSON cannot write (NaN means "not
// used") and the shapes JSON Schema checks across keys.
void refine(Section<LimitConfig>& section) {
    section.option("above").no_default();
    section.option("below").no_default();
    section.schema_rule(R"({"oneOf": [{"required": ["above"]}, {"required": ["below"]}]})");
}

void refine(Section<ScheduleConfig>& section) {
    section.option("from").pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
    section.option("to").pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
}

void refine(Section<SuppressionConfig>& section) {
    section.option("channel").required().pattern(config_table::kChannelName);
    section.option("above").no_default();
    section.option("below").no_default();
}

void refine(Section<HazardConfig>& section) {
    section.option("type").pattern(config_table::kIdName);
}

void refine(Section<ConditionConfig>& section) {
    section.option("rule").pattern(config_table::kPlainName);
    section.option("event").pattern(config_table::kPlainName);
    section.schema_rule(R"({"oneOf": [{"required": ["rule"]}, {"required": ["event"]}]})");
}

void refine(Section<RuleConfig>& section) {
    section.option("channel").pattern(config_table::kChannelName);
    section.option("equipment").pattern(config_table::kIdName);
    section.option("rise").no_default();
    section.option("fall").no_default();
    section.option("min").no_default();
    section.option("max").no_default();
    section.option("hazard_type").pattern(config_table::kIdName);
    section.option("count").between(2, 1000);
}

template <typename Owner>
void declare_fields(Section<Owner>& section) {
    rules::for_each_field<Owner>([&](const auto& field) { declare(section, field); });
    refine(section);
}

template <typename Owner>
Section<Owner> section_of() {
    Section<Owner> section;
    declare_fields(section);
    return section;
}

// Templates give way key by key to what the user wrote, so the entry remembers which keys those
// are; a map taken member by member (hazard) records its members ("hazard.title").
void record_explicit_keys(Section<RuleConfig>& section) {
    section.finish_with(
        [keys = section.shape().keys()](RuleConfig& rule, const std::string& path, Reader& reader) {
            for (const auto& key : keys) {
                if (reader.present(join_path(path, key))) rule.explicit_keys.insert(key);
            }
            rules::for_each_field<RuleConfig>([&](const auto& field) {
                using Value = typename std::remove_cvref_t<decltype(field)>::value_type;
                if constexpr (rules::IsOptional<Value>::value) {
                    if (field.overlay != rules::Overlay::by_member) return;
                    rule.explicit_keys.erase(std::string(field.key));
                    const std::string map_path = join_path(path, field.key);
                    rules::for_each_field<typename Value::value_type>([&](const auto& member) {
                        if (reader.present(join_path(map_path, member.key))) {
                            rule.explicit_keys.insert(fmt::format("{}.{}", field.key, member.key));
                        }
                    });
                }
            });
        });
}

}  // namespace

Section<RuleConfig> rule_section() {
    Section<RuleConfig> section;
    section.string("id", &RuleConfig::id, "Rule id, unique; recorded on every alarm.")
        .required()
        .pattern(config_table::kIdName);
    section.string("template", &RuleConfig::template_name,
                   fmt::format("A ready rule set ({}); keys written here override it.",
                               rules::template_names()));
    section.enumeration("kind", &RuleConfig::kind, rules::rule_kind_names(),
                        &rules::rule_kind_from_name, "What the rule watches.");
    declare_fields(section);
    record_explicit_keys(section);
    return section;
}

}  // namespace fw::alarms
