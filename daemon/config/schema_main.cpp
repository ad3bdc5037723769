// Prints the config's JSON Schema; schemas/floorwatch.schema.json is this output:
//   build/daemon/config/fw-config-schema > schemas/floorwatch.schema.json
#include <cstdio>
#include <string>

#include "daemon/config/config.hpp"

int main() {
    const std::string schema = fw::config_json_schema();
    return std::fwrite(schema.data(), 1, schema.size(), stdout) == schema.size() ? 0 : 1;
}
