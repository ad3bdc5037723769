#include "rules/rule_config.hpp"

#include "daemon/core/enum_names.hpp"

namespace fw::rules {
namespace {

constexpr auto kRuleKindNames = enum_names<RuleKind>({{RuleKind::threshold, "threshold"},
                                                      {RuleKind::rate, "rate"},
                                                      {RuleKind::health, "health"},
                                                      {RuleKind::recurrence, "recurrence"},
                                                      {RuleKind::compound, "compound"}});
constexpr auto kSeverityNames = enum_names<Severity>(
    {{Severity::warning, "warning"}, {Severity::alarm, "alarm"}, {Severity::critical, "critical"}});
constexpr auto kRiskNames = enum_names<Risk>(
    {{Risk::low, "low"}, {Risk::medium, "medium"}, {Risk::high, "high"}, {Risk::red, "red"}});
constexpr auto kCompoundModeNames =
    enum_names<CompoundMode>({{CompoundMode::all_of, "all_of"},
                              {CompoundMode::any_of, "any_of"},
                              {CompoundMode::sequence, "sequence"}});

}  // namespace

std::string_view rule_kind_name(RuleKind kind) {
    return kRuleKindNames.name_of(kind);
}
std::optional<RuleKind> rule_kind_from_name(std::string_view name) {
    return kRuleKindNames.from_name(name);
}
std::string_view severity_name(Severity severity) {
    return kSeverityNames.name_of(severity);
}
std::optional<Severity> severity_from_name(std::string_view name) {
    return kSeverityNames.from_name(name);
}
std::string_view risk_name(Risk risk) {
    return kRiskNames.name_of(risk);
}
std::optional<Risk> risk_from_name(std::string_view name) {
    return kRiskNames.from_name(name);
}
std::string_view compound_mode_name(CompoundMode mode) {
    return kCompoundModeNames.name_of(mode);
}
std::optional<CompoundMode> compound_mode_from_name(std::string_view name) {
    return kCompoundModeNames.from_name(name);
}

std::span<const std::string_view> rule_kind_names() {
    return kRuleKindNames.names();
}
std::span<const std::string_view> severity_names() {
    return kSeverityNames.names();
}
std::span<const std::string_view> risk_names() {
    return kRiskNames.names();
}
std::span<const std::string_view> compound_mode_names() {
    return kCompoundModeNames.names();
}

}  // namespace fw::rules
