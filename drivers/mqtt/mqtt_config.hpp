#pragma once
// The MQTT part of the config, as the loader (daemon/config) produces it, already validated: topic
// filters are well formed, templates only name topic levels the filter has, literal equipment ids
// are declared. The driver can trust every field.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fw::mqtt {

using Millis = std::chrono::milliseconds;

enum class InputKind { value, event };

// A JSON field copied into a plant event's attributes, under `as` (default: the field path).
struct AttributeConfig {
    std::string field;  // dot-separated path, e.g. "lot.id"
    std::string as;     // attribute name; empty = the field path

    const std::string& key() const { return as.empty() ? field : as; }
};

// One subscription and what to make of the messages it brings.
//
// Templates (channel, equipment, area, event) are literal text with placeholders: `{2}` is topic
// level 2 counted from 0 (`press-4` in `plant/stamping/press-4/vibration`), `{data.line}` is a
// field of the JSON payload. A field path is dot-separated object keys.
struct InputConfig {
    std::string name;   // unique on its broker; appears in logs as [mqtt:broker/input]
    std::string topic;  // filter, with + and #
    int qos = 1;
    InputKind kind = InputKind::value;
    // value inputs
    std::string channel;      // template, e.g. "{2}.vibration"
    std::string value_field;  // JSON field path of the number; empty = the payload is the number
    double scale = 1.0;       // engineering value = raw * scale + offset
    double offset = 0.0;
    std::string unit;
    // event inputs
    std::string event;                        // template of the event name, e.g. "material_arrival"
    std::vector<AttributeConfig> attributes;  // JSON fields copied into the event's attributes
    // both
    std::string equipment;   // template; empty = none
    std::string area;        // template; empty = the declared equipment's area, if any
    std::string time_field;  // JSON field path: epoch ms or ISO 8601; empty = receive time
};

struct TlsConfig {
    std::string ca_file;    // PEM CAs the broker's certificate must chain to
    std::string cert_file;  // client certificate (PEM), for brokers that require one
    std::string key_file;   // its private key (PEM)
    bool verify_hostname = true;
};

struct BrokerConfig {
    std::string name;       // unique; appears in logs and health as [mqtt:name]
    std::string uri;        // tcp://host:1883 or ssl://host:8883
    std::string client_id;  // empty: floorwatch-<site>-<node>-<name> (with_default_client_id)
    std::string username;
    std::string password_file;  // read at each connect, never logged
    std::optional<TlsConfig> tls;
    Millis keep_alive{30000};
    Millis connect_timeout{10000};
    // Reconnect backoff after a lost or refused connection: doubles from min to max.
    Millis reconnect_min{500};
    Millis reconnect_max{30000};
    // Payloads larger than this are rejected (counted) without being parsed.
    std::uint64_t max_payload = 64ULL * 1024;
    // Timestamps further ahead of the gateway's clock than this are rejected.
    Millis max_clock_skew{300000};
    std::vector<InputConfig> inputs;
};

struct MqttConfig {
    std::vector<BrokerConfig> brokers;
};

// The broker as a client of the running gateway connects to it: an unset client id becomes
// floorwatch-<site>-<node>-<name>. Derived where the client is made, from the site and node the
// daemon runs with (a reload does not change them), never stored back into the config.
inline BrokerConfig with_default_client_id(BrokerConfig broker, std::string_view site,
                                           std::string_view node) {
    if (broker.client_id.empty()) {
        broker.client_id =
            "floorwatch-" + std::string(site) + "-" + std::string(node) + "-" + broker.name;
    }
    return broker;
}

}  // namespace fw::mqtt
