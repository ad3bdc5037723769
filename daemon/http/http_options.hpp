#pragma once
// The `http:` section of floorwatch.yaml declared once (daemon/config/option_table.hpp): the
// loader reads and checks the file with it, and the JSON Schema is derived from it.

#include "daemon/config/option_table.hpp"
#include "daemon/http/http_config.hpp"

namespace fw::http {

config_table::Section<HttpConfig> http_section();

}  // namespace fw::http
