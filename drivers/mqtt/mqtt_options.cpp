#include "drivers/mqtt/mqtt_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/core/enum_names.hpp"
#include "drivers/mqtt/topic.hpp"

namespace fw::mqtt {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

constexpr auto kInputKindNames =
    enum_names<InputKind>({{InputKind::value, "value"}, {InputKind::event, "event"}});
constexpr config_table::Pattern kUri{
    R"(^(tcp|ssl)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$)",
    "tcp://host:port or ssl://host:port"};
constexpr config_table::Pattern kFieldPath{R"(^[^.{}]+(\.[^.{}]+)*$)",
                                           "JSON object keys joined by '.', e.g. data.temp_c"};

std::optional<InputKind> input_kind_from_name(std::string_view name) {
    return kInputKindNames.from_name(name);
}

Section<TlsConfig> mqtt_tls_section() {
    Section<TlsConfig> section;
    section.string("ca_file", &TlsConfig::ca_file,
                   "PEM file of the CA(s) the broker's certificate must chain to. Default: the "
                   "system's trusted CAs.");
    section.string("cert_file", &TlsConfig::cert_file,
                   "Client certificate (PEM) for brokers that require one.");
    section.string("key_file", &TlsConfig::key_file, "Private key (PEM) of cert_file.");
    section.boolean("verify_hostname", &TlsConfig::verify_hostname,
                    "Check that the broker's certificate names the host in the uri.");
    section.finish_with([](TlsConfig& tls, const std::string& path, Reader& reader) {
        if (tls.cert_file.empty() != tls.key_file.empty()) {
            reader.issue(join_path(path, tls.cert_file.empty() ? "key_file" : "cert_file"),
                         "cert_file and key_file go together: set both or neither");
        }
    });
    return section;
}

Section<AttributeConfig> mqtt_attribute_section() {
    Section<AttributeConfig> section;
    section.string("field", &AttributeConfig::field, "JSON field of the payload, e.g. lot.id.")
        .required()
        .pattern(kFieldPath);
    section.string("as", &AttributeConfig::as, "Attribute name in the event. Default: the field.")
        .pattern(config_table::kPlainName);
    return section;
}

// A template's placeholders must exist in every topic the filter matches.
void check_template(const std::string& text, const std::string& filter, bool filter_ok,
                    const std::string& path, Reader& reader) {
    if (text.empty() || reader.failed(path)) return;
    try {
        const auto parsed = NameTemplate::parse(text);
        for (const auto& part : parsed.parts()) {
            const auto* literal = std::get_if<std::string>(&part);
            if (literal != nullptr &&
                !config_table::matches_pattern(*literal, "^[A-Za-z0-9_.:-]*$")) {
                reader.issue(path, fmt::format("'{}' may only contain {} besides placeholders",
                                               text, config_table::kChannelName.hint));
                return;
            }
        }
        const auto level = parsed.max_topic_level();
        if (filter_ok && level && *level >= fixed_level_count(filter) &&
            !ends_with_multilevel_wildcard(filter)) {
            reader.issue(path, fmt::format("{{{}}} is past the last level of topic '{}' (levels "
                                           "count from 0, it has {})",
                                           *level, filter, fixed_level_count(filter)));
        }
    } catch (const std::invalid_argument& error) {
        reader.issue(path, fmt::format("'{}': {}", text, error.what()));
    }
}

void finish_mqtt_input(InputConfig& input, const std::string& path, Reader& reader) {
    const std::string topic_path = join_path(path, "topic");
    bool filter_ok = !input.topic.empty() && !reader.failed(topic_path);
    if (filter_ok) {
        if (const auto checked = check_topic_filter(input.topic); !checked) {
            reader.issue(topic_path, checked.error());
            filter_ok = false;
        }
    }
    const bool is_event = input.kind == InputKind::event;
    const std::string_view kind = is_event ? "an event" : "a value";
    const std::vector<std::string_view> value_only{"channel", "value_field", "scale", "offset",
                                                   "unit"};
    const std::vector<std::string_view> event_only{"event", "attributes"};
    for (const auto key : is_event ? value_only : event_only) {
        if (reader.present(join_path(path, key))) {
            reader.issue(join_path(path, key),
                         fmt::format("'{}' does not apply to {} input (kind: {})", key, kind,
                                     is_event ? "event" : "value"));
        }
    }
    const std::string required = is_event ? "event" : "channel";
    if (!reader.present(join_path(path, required)) && !reader.failed(join_path(path, "kind"))) {
        reader.issue(path, fmt::format("{} input needs '{}'", kind, required));
    }
    for (const auto& [key, text] :
         std::vector<std::pair<std::string, std::string>>{{"channel", input.channel},
                                                          {"event", input.event},
                                                          {"equipment", input.equipment},
                                                          {"area", input.area}}) {
        check_template(text, input.topic, filter_ok, join_path(path, key), reader);
    }
}

Section<InputConfig> mqtt_input_section() {
    Section<InputConfig> section;
    section
        .string("name", &InputConfig::name,
                "Input name, unique on its broker; appears in logs as [mqtt:broker/input].")
        .required()
        .pattern(config_table::kPlainName);
    section
        .string("topic", &InputConfig::topic,
                "Topic filter; '+' matches one level, '#' (last) any number. A message is handled "
                "by the first input whose filter matches.")
        .required();
    section.integer("qos", &InputConfig::qos, "Subscription QoS: 0, 1 or 2.").one_of({0, 1, 2});
    section.enumeration("kind", &InputConfig::kind, kInputKindNames.names(), &input_kind_from_name,
                        "value: each message is a sample of a channel; event: each message is a "
                        "plant event.");
    section.string("channel", &InputConfig::channel,
                   "Channel name template (value inputs): {N} is topic level N counted from 0, "
                   "{a.b} a JSON field; e.g. {2}.vibration.");
    section
        .string("value_field", &InputConfig::value_field,
                "JSON field holding the number, e.g. data.temp_c. Default: the whole payload is "
                "the number.")
        .pattern(kFieldPath);
    section.number("scale", &InputConfig::scale, "Engineering value = raw * scale + offset.")
        .not_zero();
    section.number("offset", &InputConfig::offset, "Engineering value = raw * scale + offset.");
    section.string("unit", &InputConfig::unit, "Engineering unit, e.g. mm/s or degC.");
    section.string("event", &InputConfig::event,
                   "Event name template (event inputs), e.g. material_arrival or {3}.");
    section.list("attributes", &InputConfig::attributes, mqtt_attribute_section(),
                 "JSON fields copied into the event (event inputs); a message without one of "
                 "them is rejected.");
    section.string("equipment", &InputConfig::equipment,
                   "Equipment template, e.g. {2} or {dock}; a literal id must be declared under "
                   "'equipment'.");
    section.string("area", &InputConfig::area,
                   "Area template. Default: the area of the equipment, if it is declared.");
    section
        .string("time_field", &InputConfig::time_field,
                "JSON field with the time: epoch milliseconds or ISO 8601 with a zone. Default: "
                "the time the message arrived.")
        .pattern(kFieldPath);
    section.finish_with(finish_mqtt_input);
    return section;
}

void finish_broker_connection(BrokerConfig& broker, const std::string& path, Reader& reader) {
    const std::string uri_path = join_path(path, "uri");
    if (reader.present(join_path(path, "tls")) && !reader.failed(uri_path) &&
        broker.uri.starts_with("tcp://")) {
        reader.issue(join_path(path, "tls"),
                     "tls settings need an ssl:// uri; this broker's uri is tcp://");
    }
    const std::string min_path = join_path(path, "reconnect_min");
    const std::string max_path = join_path(path, "reconnect_max");
    if (!reader.failed(min_path) && !reader.failed(max_path) &&
        broker.reconnect_min > broker.reconnect_max) {
        reader.issue(reader.present(min_path) ? min_path : max_path,
                     fmt::format("reconnect_min ({}) must not exceed reconnect_max ({})",
                                 format_duration(broker.reconnect_min),
                                 format_duration(broker.reconnect_max)));
    }
}

void finish_mqtt_broker(BrokerConfig& broker, const std::string& path, Reader& reader) {
    finish_broker_connection(broker, path, reader);
    report_repeated_key(broker.inputs, join_path(path, "inputs"), "name", &InputConfig::name,
                        "input name", reader);
}

// The keys that say how to reach a broker: mqtt.brokers[] and sync.broker share them.
void declare_broker_connection(Section<BrokerConfig>& section) {
    section.string("uri", &BrokerConfig::uri, "The broker: tcp://host:1883 or ssl://host:8883.")
        .required()
        .pattern(kUri);
    section
        .string("client_id", &BrokerConfig::client_id,
                "MQTT client id; the broker keeps the session under it. Default: "
                "floorwatch-<site>-<node>-<name>.")
        .pattern(config_table::kPlainName);
    section.string("username", &BrokerConfig::username, "User name, if the broker wants one.");
    section.string("password_file", &BrokerConfig::password_file,
                   "File holding the password (trailing newline ignored); read at each connect, "
                   "never logged.");
    section.section<TlsConfig>(
        "tls", mqtt_tls_section(),
        [](BrokerConfig& broker, TlsConfig&& tls) { broker.tls = std::move(tls); },
        "TLS settings for an ssl:// uri.");
    section
        .duration("keep_alive", &BrokerConfig::keep_alive,
                  "MQTT keep-alive: a silent connection is declared lost after 1.5 times this.")
        .between(1s, 18h);
    section
        .duration("connect_timeout", &BrokerConfig::connect_timeout,
                  "How long one connect attempt may take.")
        .between(1s, 5min);
    section
        .duration("reconnect_min", &BrokerConfig::reconnect_min,
                  "First wait before reconnecting; doubles up to reconnect_max.")
        .at_least(10ms);
    section
        .duration("reconnect_max", &BrokerConfig::reconnect_max,
                  "Longest wait before reconnecting.")
        .at_least(10ms);
}

Section<BrokerConfig> mqtt_broker_section() {
    Section<BrokerConfig> section;
    section
        .string("name", &BrokerConfig::name,
                "Broker name, unique; appears in logs and health as [mqtt:name].")
        .required()
        .pattern(config_table::kPlainName);
    declare_broker_connection(section);
    section
        .size("max_payload", &BrokerConfig::max_payload,
              "Larger messages are rejected unread (counted as too_large).")
        .between(16, 256LL * 1024 * 1024);
    section
        .duration("max_clock_skew", &BrokerConfig::max_clock_skew,
                  "Message times further ahead of the gateway's clock are rejected.")
        .at_least(1s);
    section
        .list("inputs", &BrokerConfig::inputs, mqtt_input_section(),
              "Subscriptions and what each message becomes.")
        .required()
        .min_items(1);
    section.finish_with(finish_mqtt_broker);
    return section;
}

}  // namespace

Section<BrokerConfig> broker_connection_section() {
    Section<BrokerConfig> section;
    declare_broker_connection(section);
    section.finish_with(finish_broker_connection);
    return section;
}

Section<MqttConfig> mqtt_section() {
    Section<MqttConfig> section;
    section
        .list("brokers", &MqttConfig::brokers, mqtt_broker_section(),
              "MQTT brokers to subscribe to.")
        .required();
    section.finish_with([](MqttConfig& mqtt, const std::string& path, Reader& reader) {
        report_repeated_key(mqtt.brokers, join_path(path, "brokers"), "name", &BrokerConfig::name,
                            "broker name", reader);
    });
    return section;
}

void check_mqtt_equipment(const MqttConfig& mqtt, const std::string& path,
                          const std::set<std::string, std::less<>>& declared_equipment,
                          Reader& reader) {
    for (std::size_t b = 0; b < mqtt.brokers.size(); ++b) {
        const auto& inputs = mqtt.brokers[b].inputs;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const auto& input = inputs[i];
            const std::string equipment_path =
                fmt::format("{}.brokers[{}].inputs[{}].equipment", path, b, i);
            if (input.equipment.empty() || input.equipment.find('{') != std::string::npos ||
                reader.failed(equipment_path) || declared_equipment.contains(input.equipment)) {
                continue;
            }
            reader.issue(equipment_path,
                         fmt::format("unknown equipment '{}' (declared: {}); use a template like "
                                     "{{2}} for equipment named in the topic",
                                     input.equipment,
                                     declared_equipment.empty()
                                         ? std::string("none")
                                         : fmt::format("{}", fmt::join(declared_equipment, ", "))));
        }
    }
}

std::vector<NamedAt> mqtt_channels(const MqttConfig& mqtt, const std::string& path) {
    std::vector<NamedAt> channels;
    for (std::size_t b = 0; b < mqtt.brokers.size(); ++b) {
        const auto& inputs = mqtt.brokers[b].inputs;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (inputs[i].channel.find('{') != std::string::npos) continue;
            channels.push_back(
                {inputs[i].channel, fmt::format("{}.brokers[{}].inputs[{}].channel", path, b, i)});
        }
    }
    return channels;
}

}  // namespace fw::mqtt
