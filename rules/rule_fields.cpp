#include "rules/rule_fields.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace fw::rules {
namespace {

// FNV-1a, 64 bits: a stable fingerprint of a rule's definition (not a security measure).
std::string fingerprint(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    return fmt::format("{:016x}", hash);
}

}  // namespace

std::string scalar_text(const std::string& value) {
    return value;
}

std::string scalar_text(double value) {
    return fmt::format("{}", value);
}

std::string scalar_text(Millis value) {
    return fmt::format("{}", value.count());
}

std::string scalar_text(std::int64_t value) {
    return fmt::format("{}", value);
}

std::string canonical_text(const RuleConfig& rule) {
    std::string text = fmt::format("id={};kind={};", rule.id, rule_kind_name(rule.kind));
    for_each_field<RuleConfig>([&](const auto& field) {
        if (field.version_label.empty()) return;
        const auto& value = rule.*field.member;
        using Value = std::remove_cvref_t<decltype(value)>;
        // A list writes one entry per item and an absent map none, so adding a key of either
        // shape leaves the versions of rules that do not use it as they were.
        if constexpr (IsVector<Value>::value) {
            for (const auto& item : value) {
                text += fmt::format("{}={};", field.version_label, members_text(item));
            }
        } else if constexpr (IsOptional<Value>::value) {
            if (value) text += fmt::format("{}={};", field.version_label, members_text(*value));
        } else {
            text += fmt::format("{}={};", field.version_label, scalar_text(value));
        }
    });
    return text;
}

std::string rule_version(const RuleConfig& rule) {
    return fingerprint(canonical_text(rule));
}

}  // namespace fw::rules
