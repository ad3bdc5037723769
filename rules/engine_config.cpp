// Engine inputs from a loaded floorwatch.yaml: kept apart so the engine itself needs no config.
#include "daemon/config/config.hpp"
#include "rules/engine.hpp"

namespace fw::rules {

EngineSetup Engine::setup_from_config(const fw::Config& config) {
    EngineSetup setup;
    setup.rules = config.rules;
    setup.catalog = rule_catalog(config);
    try {
        setup.zone = TimeZone::load(config.gateway.timezone);
    } catch (const std::exception& error) {
        throw RulesError(std::string("gateway.timezone: ") + error.what());
    }
    return setup;
}

}  // namespace fw::rules
