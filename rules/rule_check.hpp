#pragma once
// Checks of the `rules:` section that need more than one key: each kind's required keys, template
// expansion, unique ids, references to channels, equipment and other rules. The config loader
// reports these with file positions; the engine runs the same checks before it compiles.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "rules/rule_config.hpp"

namespace fw::rules {

struct RuleIssue {
    std::size_t index = 0;  // the entry in the `rules:` list
    std::string key;        // "limits", "schedule.days", "" for the entry itself
    std::string message;
};

// What the rest of the config declares.
struct RuleCatalog {
    std::map<std::string, std::string, std::less<>> channel_equipment;  // channel -> equipment id
    std::map<std::string, std::string, std::less<>> equipment_area;     // equipment id -> area
    // Some channels are named at run time (MQTT inputs with topic templates); a rule on a
    // channel not declared above is then accepted when it names its equipment.
    bool channels_from_templates = false;
};

// The equipment a rule's alarm belongs to: its own `equipment`, else its channel's; empty for
// recurrence rules without one (one alarm per equipment).
std::string rule_equipment(const RuleConfig& rule, const RuleCatalog& catalog);

std::vector<RuleIssue> check_rules(const std::vector<RuleConfig>& entries,
                                   const RuleCatalog& catalog);

}  // namespace fw::rules
