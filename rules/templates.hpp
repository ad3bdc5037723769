#pragma once
// Ready rule sets a config names per equipment (`template: iso10816-3-group2-rigid`), each key
// overridable by writing it in the rule. The numbers and their sources are in rules/README.md.

#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_config.hpp"

namespace fw::rules {

struct TemplatePart {
    std::string suffix;  // appended to the rule id as ".suffix"; empty for one-rule templates
    RuleConfig rule;
};

struct RuleTemplate {
    std::string name;
    std::string description;
    std::vector<TemplatePart> parts;
};

const std::vector<RuleTemplate>& rule_templates();
const RuleTemplate* find_template(std::string_view name);
std::string template_names();  // "a, b, c" for messages

// Whether a rule key means something for a kind (threshold has no `rise`); "hazard.title" counts
// as "hazard". From the `kinds` of FieldList<RuleConfig>.
bool key_applies(RuleKind kind, std::string_view key);

// The rules an entry stands for: itself when it names no template, else one rule per template
// part with the entry's explicit keys laid over the template's values. Problems (an unknown
// template, a key no part uses) are appended to `errors` as "key: message".
std::vector<RuleConfig> expand_rule(const RuleConfig& entry, std::vector<std::string>& errors);
// The same with the template already found: every explicit key that applies to a part replaces
// the part's value (member by member for `hazard`).
std::vector<RuleConfig> apply_template(const RuleTemplate& found, const RuleConfig& entry,
                                       std::vector<std::string>& errors);

}  // namespace fw::rules
