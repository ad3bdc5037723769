#include "daemon/core/health_json.hpp"

namespace fw {
namespace {

std::string time_or_never(std::int64_t time_ms, IsoFraction fraction) {
    return time_ms != 0 ? format_iso_time(time_ms, fraction) : "";
}

}  // namespace

boost::json::object device_health_json(const DeviceHealth& device, IsoFraction fraction) {
    return {{"driver", device.driver},
            {"bus", device.bus},
            {"device", device.device},
            {"online", device.online},
            {"last_error", device.last_error},
            {"last_change", time_or_never(device.last_change_ms, fraction)},
            {"last_success", time_or_never(device.last_success_ms, fraction)},
            {"poll_interval_ms", device.poll_interval_ms},
            {"polls", device.polls},
            {"polls_failed", device.polls_failed},
            {"requests", device.requests},
            {"timeouts", device.timeouts},
            {"exceptions", device.exceptions},
            {"reconnects", device.reconnects},
            {"samples", device.samples}};
}

boost::json::object broker_health_json(const BrokerHealth& broker, IsoFraction fraction) {
    return {{"broker", broker.broker},
            {"connected", broker.connected},
            {"last_error", broker.last_error},
            {"last_change", time_or_never(broker.last_change_ms, fraction)},
            {"connect_attempts", broker.connect_attempts},
            {"reconnects", broker.reconnects},
            {"thread_restarts", broker.thread_restarts},
            {"messages_received", broker.messages_received},
            {"messages_accepted", broker.messages_accepted},
            {"messages_rejected", broker.messages_rejected},
            {"last_accepted_time", time_or_never(broker.last_accepted_ms, fraction)}};
}

}  // namespace fw
