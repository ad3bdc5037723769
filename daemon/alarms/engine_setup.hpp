#pragma once
// What the rules engine is built from, taken from a loaded config: here, beside the service that
// runs the engine, so that rules/ (pure code) does not depend on the config.

#include "daemon/config/config.hpp"
#include "rules/engine.hpp"

namespace fw::alarms {

// Rules as written, the channels and equipment they may refer to, and the zone of
// gateway.timezone. Throws rules::RulesError when the zone cannot be loaded.
rules::EngineSetup engine_setup(const Config& config);

}  // namespace fw::alarms
