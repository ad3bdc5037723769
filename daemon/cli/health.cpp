#include "daemon/cli/health.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli/common.hpp"
#include "daemon/core/health_json.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/store.hpp"

namespace fw::cli {
namespace {

int show_devices(const CommonOptions& options) {
    auto reader = fw::store::Reader::open(store_path(options));
    const auto devices = reader->device_health();
    if (options.json) {
        boost::json::array rows;
        for (const auto& device : devices) {
            rows.push_back(fw::device_health_json(device, fw::IsoFraction::milliseconds));
        }
        std::cout << boost::json::serialize(rows) << '\n';
        return 0;
    }
    const auto brokers = reader->broker_health();
    if (devices.empty() && brokers.empty()) {
        std::cout << "no device health recorded yet (is floorwatchd running with Modbus buses or "
                     "MQTT brokers?)\n";
        return 0;
    }
    for (const auto& broker : brokers) {
        std::cout << fmt::format("mqtt broker {}: {} (details: floorwatch mqtt)\n", broker.broker,
                                 broker.connected ? "connected" : "DISCONNECTED");
    }
    if (devices.empty()) return 0;
    std::cout << fmt::format(
        "{:<8} {:<10} {:<20} {:<8} {:<24} {:>8} {:>7} {:>8} {:>6} {:>6} "
        "{:>9}  {}\n",
        "DRIVER", "BUS", "DEVICE", "STATE", "LAST OK (UTC)", "POLLS", "FAILED", "TIMEOUTS", "EXC",
        "RECONN", "INTERVAL", "LAST ERROR");
    for (const auto& device : devices) {
        std::cout << fmt::format(
            "{:<8} {:<10} {:<20} {:<8} {:<24} {:>8} {:>7} {:>8} {:>6} {:>6} {:>9}  {}\n",
            device.driver, device.bus, device.device, device.online ? "online" : "OFFLINE",
            device.last_success_ms ? format_time(device.last_success_ms) : "never", device.polls,
            device.polls_failed, device.timeouts, device.exceptions, device.reconnects,
            fw::format_duration(fw::Millis(device.poll_interval_ms)),
            device.last_error.empty() ? "-" : device.last_error);
    }
    return 0;
}

int show_mqtt(const CommonOptions& options) {
    auto reader = fw::store::Reader::open(store_path(options));
    const auto connections = reader->broker_health();
    const auto inputs = reader->input_health();
    if (options.json) {
        boost::json::array broker_rows;
        for (const auto& connection : connections) {
            boost::json::array input_rows;
            for (const auto& input : inputs) {
                if (input.connection != connection.broker) continue;
                boost::system::error_code error;
                boost::json::value reasons = boost::json::parse(input.rejected_by_reason, error);
                if (error) reasons = boost::json::object();
                input_rows.push_back(boost::json::object{
                    {"input", input.input},
                    {"topic", input.topic},
                    {"received", input.received},
                    {"accepted", input.accepted},
                    {"rejected", input.rejected},
                    {"rejected_by_reason", std::move(reasons)},
                    {"last_rejection", input.last_rejection},
                    {"last_rejection_time",
                     input.last_rejection_ms ? format_time(input.last_rejection_ms) : ""},
                    {"last_accepted_time",
                     input.last_accepted_ms ? format_time(input.last_accepted_ms) : ""}});
            }
            auto row = fw::broker_health_json(connection, fw::IsoFraction::milliseconds);
            row["inputs"] = std::move(input_rows);
            broker_rows.push_back(std::move(row));
        }
        std::cout << boost::json::serialize(broker_rows) << '\n';
        return 0;
    }
    if (connections.empty()) {
        std::cout << "no MQTT health recorded yet (is floorwatchd running with an mqtt section?)\n";
        return 0;
    }
    for (const auto& connection : connections) {
        std::cout << fmt::format(
            "broker {}: {}{}; {} connect attempt(s), {} reconnect(s) after a loss; {} message(s) "
            "received, {} accepted, {} rejected\n",
            connection.broker, connection.connected ? "connected" : "DISCONNECTED",
            connection.last_error.empty() ? "" : " (" + connection.last_error + ")",
            connection.connect_attempts, connection.reconnects, connection.messages_received,
            connection.messages_accepted, connection.messages_rejected);
        if (connection.thread_restarts > 0) {
            std::cout << fmt::format("  its client restarted {} time(s) after an internal error\n",
                                     connection.thread_restarts);
        }
        std::cout << fmt::format("  {:<20} {:<32} {:>9} {:>9} {:>9}  {}\n", "INPUT", "TOPIC",
                                 "RECEIVED", "ACCEPTED", "REJECTED", "REJECTED BY REASON");
        for (const auto& input : inputs) {
            if (input.connection != connection.broker) continue;
            std::cout << fmt::format(
                "  {:<20} {:<32} {:>9} {:>9} {:>9}  {}\n",
                input.input.empty() ? "(no input)" : input.input,
                input.input.empty() ? "(topics no input matches)" : input.topic, input.received,
                input.accepted, input.rejected,
                input.rejected_by_reason == "{}" ? "-" : input.rejected_by_reason);
            if (!input.last_rejection.empty()) {
                std::cout << fmt::format("      last rejected {}: {}\n",
                                         format_time(input.last_rejection_ms),
                                         input.last_rejection);
            }
        }
    }
    return 0;
}

}  // namespace

void add_health_commands(CLI::App& root, CommandTable& commands) {
    add_command(commands, root, "devices",
                "health of every polled Modbus device, and whether each MQTT broker is connected",
                show_devices)
        .app.group("Health");
    add_command(commands, root, "mqtt",
                "MQTT connections; per input: received, accepted, rejected by reason", show_mqtt)
        .app.group("Health");
}

}  // namespace fw::cli
