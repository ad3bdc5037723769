#include "rules/rule_config.hpp"

#include <array>

namespace fw::rules {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> from_name(const std::array<std::string_view, N>& names, std::string_view name) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == name) return static_cast<Enum>(i);
    }
    return std::nullopt;
}

constexpr std::array<std::string_view, 5> kRuleKindNames{"threshold", "rate", "health",
                                                         "recurrence", "compound"};
constexpr std::array<std::string_view, 3> kSeverityNames{"warning", "alarm", "critical"};
constexpr std::array<std::string_view, 4> kRiskNames{"low", "medium", "high", "red"};
constexpr std::array<std::string_view, 3> kCompoundModeNames{"all_of", "any_of", "sequence"};

}  // namespace

std::string_view rule_kind_name(RuleKind kind) {
    return kRuleKindNames[static_cast<std::size_t>(kind)];
}
std::optional<RuleKind> rule_kind_from_name(std::string_view name) {
    return from_name<RuleKind>(kRuleKindNames, name);
}
std::string_view severity_name(Severity severity) {
    return kSeverityNames[static_cast<std::size_t>(severity)];
}
std::optional<Severity> severity_from_name(std::string_view name) {
    return from_name<Severity>(kSeverityNames, name);
}
std::string_view risk_name(Risk risk) {
    return kRiskNames[static_cast<std::size_t>(risk)];
}
std::optional<Risk> risk_from_name(std::string_view name) {
    return from_name<Risk>(kRiskNames, name);
}
std::string_view compound_mode_name(CompoundMode mode) {
    return kCompoundModeNames[static_cast<std::size_t>(mode)];
}
std::optional<CompoundMode> compound_mode_from_name(std::string_view name) {
    return from_name<CompoundMode>(kCompoundModeNames, name);
}

std::span<const std::string_view> rule_kind_names() {
    return kRuleKindNames;
}
std::span<const std::string_view> severity_names() {
    return kSeverityNames;
}
std::span<const std::string_view> risk_names() {
    return kRiskNames;
}
std::span<const std::string_view> compound_mode_names() {
    return kCompoundModeNames;
}

}  // namespace fw::rules
