#pragma once
// A discrete named happening on the plant floor ("material_arrival", "commissioning_started"),
// typically announced over MQTT. Compound rules combine them with samples; the store keeps them in
// table plant_events.

#include <cstdint>
#include <string>
#include <vector>

namespace fw {

struct PlantEvent {
    std::string name;        // "material_arrival"
    std::int64_t time_ms;    // wall time, Unix epoch milliseconds
    std::string equipment;   // may be empty when the event concerns no single machine
    std::string area;        // "logistics"; may be empty
    std::string source;      // the instance that produced it, e.g. "mqtt:plant/dock-arrivals"
    std::string attributes;  // a JSON object, e.g. {"material":"coil-steel","batch":"B-1042"}
};

using PlantEventBatch = std::vector<PlantEvent>;

}  // namespace fw
