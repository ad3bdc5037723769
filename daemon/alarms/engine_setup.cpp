// Engine inputs from a loaded floorwatch.yaml: kept apart so the engine itself needs no config.
#include "daemon/alarms/engine_setup.hpp"

namespace fw::alarms {

rules::EngineSetup engine_setup(const Config& config) {
    rules::EngineSetup setup;
    setup.rules = config.rules;
    setup.catalog = rule_catalog(config);
    try {
        setup.zone = TimeZone::load(config.gateway.timezone);
    } catch (const std::exception& error) {
        throw rules::RulesError(std::string("gateway.timezone: ") + error.what());
    }
    return setup;
}

}  // namespace fw::alarms
