#pragma once
// Device and broker health as JSON, the same fields for `floorwatch devices --json`,
// `floorwatch mqtt --json` and the web page's /api/v1/devices. Times are ISO 8601 in UTC, "" for
// never; `fraction` says whether milliseconds are always written (CLI columns) or only when there
// are any.

#include <boost/json/object.hpp>

#include "daemon/core/health.hpp"
#include "daemon/core/time.hpp"

namespace fw {

boost::json::object device_health_json(const DeviceHealth& device,
                                       IsoFraction fraction = IsoFraction::when_nonzero);
// Without the broker's inputs, which the caller adds when it shows them.
boost::json::object broker_health_json(const BrokerHealth& broker,
                                       IsoFraction fraction = IsoFraction::when_nonzero);

}  // namespace fw
