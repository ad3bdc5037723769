#pragma once
// The `rules:` section of floorwatch.yaml, declared once (daemon/config/README.md): the loader
// reads and checks the file with it, and the JSON Schema is derived from it. Beside the service
// that runs the rules, so that rules/ (pure code) does not depend on the config framework.

#include "daemon/config/option_table.hpp"
#include "rules/rule_config.hpp"

namespace fw::alarms {

// One entry of the `rules:` list: every per-value check, and the keys the user wrote (which a
// template's values give way to). Checks across keys and entries are rules::check_rules.
config_table::Section<rules::RuleConfig> rule_section();

}  // namespace fw::alarms
