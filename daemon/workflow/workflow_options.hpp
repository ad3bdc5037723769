#pragma once
// The `workflow:` section of floorwatch.yaml, declared once (daemon/config/README.md): the loader
// reads and checks the file with it, and the JSON Schema is derived from it. A library of its own
// (fw::workflow_options), so the pure work-order model (fw::workflow) needs no config framework.

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/option_table.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::workflow {

// Every per-value check, and the checks within the section: role lists and media types parse,
// user names, uids and prefix areas are unique, reserved user names are refused.
config_table::Section<WorkflowConfig> workflow_section();

// Checks against the rest of the file, once everything is read: number prefixes name areas that
// some equipment is in, and publish_broker names a declared MQTT broker. `path` is where the
// section is in the document ("workflow").
void check_workflow_references(const WorkflowConfig& workflow, const std::string& path,
                               const std::set<std::string, std::less<>>& areas,
                               const std::vector<std::string>& broker_names,
                               config_table::Reader& reader);

}  // namespace fw::workflow
