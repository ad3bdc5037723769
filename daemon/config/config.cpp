#include "daemon/config/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "daemon/config/option_table.hpp"
#include "daemon/core/enum_names.hpp"
#include "drivers/mqtt/topic.hpp"
#include "rules/rule_check.hpp"
#include "rules/templates.hpp"
#include "rules/time_zone.hpp"

namespace fw {
namespace {

using config_table::join_path;
using config_table::Reader;
using config_table::Section;
using namespace std::chrono_literals;

// Ids that end up in topics, file names and URLs.
constexpr std::string_view kIdPattern = "^[a-z0-9][a-z0-9-]*$";
constexpr std::string_view kIdHint = "lowercase letters, digits and '-', not starting with '-'";
constexpr std::string_view kNamePattern = "^[A-Za-z0-9_.-]+$";
constexpr std::string_view kNameHint = "letters, digits, '_', '.' and '-'";
constexpr std::string_view kChannelPattern = "^[A-Za-z0-9_.:-]+$";
constexpr std::string_view kChannelHint = "letters, digits, '_', '.', ':' and '-'";

constexpr auto kParityNames = enum_names<modbus::Parity>(
    {{modbus::Parity::none, "none"}, {modbus::Parity::even, "even"}, {modbus::Parity::odd, "odd"}});

std::optional<modbus::Parity> parity_from_name(std::string_view name) {
    return kParityNames.from_name(name);
}

Section<GatewayConfig> gateway_section() {
    Section<GatewayConfig> section;
    section.string("site", &GatewayConfig::site, "The plant site this gateway belongs to.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("node", &GatewayConfig::node, "This gateway's id, unique within the site.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.enumeration("log_level", &GatewayConfig::log_level, log_level_names(),
                        &log_level_from_name, "Least severe log level written to the journal.");
    section
        .string("timezone", &GatewayConfig::timezone,
                "The plant's time zone as in the tz database (Europe/Berlin); rule schedules run "
                "on local time in it.")
        .pattern(R"(^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$)", "a zone name such as Europe/Berlin");
    section.finish_with([](GatewayConfig& gateway, const std::string& path, Reader& reader) {
        const std::string timezone_path = join_path(path, "timezone");
        if (reader.failed(timezone_path)) return;
        try {
            rules::TimeZone::load(gateway.timezone);
        } catch (const std::exception& error) {
            reader.issue(timezone_path, error.what());
        }
    });
    return section;
}

Section<SampleRetention> sample_retention_section() {
    Section<SampleRetention> section;
    section.duration("max_age", &SampleRetention::max_age, "Samples older than this are pruned.")
        .at_least(1min);
    section
        .size("max_size", &SampleRetention::max_size,
              "Database size above which the oldest samples are pruned.")
        .at_least(1024 * 1024);
    section.duration("prune_interval", &SampleRetention::prune_interval, "How often pruning runs.")
        .at_least(1s);
    return section;
}

Section<StoreConfig> store_section() {
    Section<StoreConfig> section;
    section.string("path", &StoreConfig::path, "The SQLite database file.").not_empty();
    section
        .duration("commit_interval", &StoreConfig::commit_interval,
                  "Samples are committed at most this long after they arrive (group commit).")
        .between(10ms, 10s);
    section
        .integer("queue_capacity", &StoreConfig::queue_capacity,
                 "Samples waiting for the writer; beyond it the oldest are dropped and counted.")
        .between(1000, 10000000);
    section.section("samples", &StoreConfig::samples, sample_retention_section(),
                    "Retention of the buffered samples.");
    return section;
}

Section<ControlConfig> control_section() {
    Section<ControlConfig> section;
    section
        .string("socket", &ControlConfig::socket,
                "Unix socket the floorwatch CLI sends commands to (acknowledge, shelve, work "
                "order actions).")
        .not_empty();
    section
        .string("mode", &ControlConfig::mode,
                "The socket file's permissions, octal: who may connect at all. What each caller "
                "may do is decided by workflow.users.")
        .pattern("^0?[0-7]{3}$", "an octal mode such as 0660");
    section
        .string("group", &ControlConfig::group,
                "Group owning the socket, e.g. floorwatch; empty keeps the daemon's group.")
        .pattern("^([a-z_][a-z0-9_-]*)?$", "a Unix group name");
    return section;
}

Section<EquipmentConfig> equipment_section() {
    Section<EquipmentConfig> section;
    section.string("id", &EquipmentConfig::id, "Equipment id, e.g. press-1.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("area", &EquipmentConfig::area, "Plant area, e.g. stamping.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("description", &EquipmentConfig::description, "Free text for people.");
    return section;
}

Section<modbus::TcpTransport> tcp_section() {
    Section<modbus::TcpTransport> section;
    section.string("host", &modbus::TcpTransport::host, "Host name or address of the device.")
        .required()
        .not_empty();
    section.integer("port", &modbus::TcpTransport::port, "TCP port.").between(1, 65535);
    return section;
}

Section<modbus::RtuTransport> rtu_section() {
    using modbus::RtuTransport;
    Section<RtuTransport> section;
    section.string("device", &RtuTransport::device, "Serial device, e.g. /dev/ttyUSB0.")
        .required()
        .not_empty();
    section.integer("baud", &RtuTransport::baud, "Line speed in baud.")
        .one_of({1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200});
    section.enumeration("parity", &RtuTransport::parity, kParityNames.names(), &parity_from_name,
                        "Parity bit.");
    section.integer("data_bits", &RtuTransport::data_bits, "Data bits per character.")
        .one_of({7, 8});
    section.integer("stop_bits", &RtuTransport::stop_bits, "Stop bits per character.")
        .one_of({1, 2});
    section.boolean("rs485", &RtuTransport::rs485,
                    "Switch the serial port to RS-485 mode where the driver supports it.");
    return section;
}

// Registers a value of each type needs runs past 65535 from a lower start address than a single
// register does; JSON Schema cannot compute that, so each width gets its own address limit.
std::string address_limit_rule(std::uint16_t width) {
    std::vector<std::string> quoted_types;
    for (const auto name : modbus::type_names()) {
        const auto type = *modbus::type_from_name(name);
        if (modbus::width_of(type, modbus::Table::holding_register) == width) {
            quoted_types.push_back(config_table::json_string(name));
        }
    }
    return fmt::format(
        R"({{"if": {{"required": ["type"], "properties": {{"type": {{"enum": [{}]}}}}}},)"
        R"( "then": {{"properties": {{"address": {{"maximum": {}}}}}}}}})",
        fmt::join(quoted_types, ", "), 65536 - width);
}

void finish_point(modbus::PointConfig& point, const std::string& path, Reader& reader) {
    const std::string table_path = join_path(path, "table");
    const std::string type_path = join_path(path, "type");
    const std::string address_path = join_path(path, "address");
    const bool table_known = reader.present(table_path) && !reader.failed(table_path);
    if (!reader.present(type_path)) {
        point.type = modbus::is_bit_table(point.table) ? modbus::ValueType::boolean
                                                       : modbus::ValueType::uint16;
    } else if (!reader.failed(type_path) && table_known && modbus::is_bit_table(point.table) &&
               point.type != modbus::ValueType::boolean) {
        reader.issue(type_path,
                     fmt::format("type '{}' cannot be read from a {}: coils and discrete inputs "
                                 "hold single bits, use bool",
                                 modbus::type_name(point.type), modbus::table_name(point.table)));
        return;
    }
    if (!table_known || reader.failed(type_path) || reader.failed(address_path)) return;
    const unsigned width = modbus::width_of(point.type, point.table);
    if (point.address + width - 1 > 65535) {
        reader.issue(address_path,
                     fmt::format("a {} at address {} needs {} registers and runs past the last "
                                 "address 65535",
                                 modbus::type_name(point.type), point.address, width));
    }
}

Section<modbus::PointConfig> point_section() {
    using modbus::PointConfig;
    Section<PointConfig> section;
    section
        .string("channel", &PointConfig::channel,
                "Channel name, unique in the whole config, e.g. press1.vibration.")
        .required()
        .pattern(std::string(kChannelPattern), std::string(kChannelHint));
    section
        .string("equipment", &PointConfig::equipment,
                "The equipment it measures: an id declared under 'equipment'.")
        .required()
        .not_empty();
    section
        .enumeration("table", &PointConfig::table, modbus::table_names(), &modbus::table_from_name,
                     "Modbus table the value is read from.")
        .required();
    section.integer("address", &PointConfig::address, "0-based protocol address.")
        .required()
        .between(0, 65535);
    section
        .enumeration("type", &PointConfig::type, modbus::type_names(), &modbus::type_from_name,
                     "Value type. Default: bool on coil and discrete_input (which accept only "
                     "bool), uint16 otherwise.")
        .no_default();
    section.enumeration("order", &PointConfig::order, modbus::order_names(),
                        &modbus::order_from_name,
                        "Byte order of multi-register values, named by where byte A (the most "
                        "significant) lands; ABCD is big-endian.");
    section.number("scale", &PointConfig::scale, "Engineering value = raw * scale + offset.")
        .not_zero();
    section.number("offset", &PointConfig::offset, "Engineering value = raw * scale + offset.");
    section.string("unit", &PointConfig::unit, "Engineering unit, e.g. mm/s or degC.");
    section.schema_rule(
        R"({"if": {"required": ["table"], "properties": {"table": {"enum": ["coil", "discrete_input"]}}},)"
        R"( "then": {"properties": {"type": {"const": "bool"}}}})");
    section.schema_rule(address_limit_rule(2));
    section.schema_rule(address_limit_rule(4));
    section.finish_with(finish_point);
    return section;
}

Section<modbus::DeviceConfig> device_section() {
    using modbus::DeviceConfig;
    Section<DeviceConfig> section;
    section
        .string("name", &DeviceConfig::name,
                "Device name, unique on its bus; appears in logs as [modbus:bus/device].")
        .required()
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section
        .integer("unit_id", &DeviceConfig::unit_id,
                 "Modbus unit id: 1 to 247 on RTU, 0 to 255 on TCP; unique on its bus.")
        .required()
        .between(0, 255);
    section.duration("poll_interval", &DeviceConfig::poll_interval, "How often it is read.")
        .at_least(10ms);
    section.duration("timeout", &DeviceConfig::timeout, "Reply timeout per request.")
        .between(10ms, 60s);
    section.list("points", &DeviceConfig::points, point_section(), "Values read from the device.")
        .required()
        .min_items(1);
    return section;
}

// Reports each value used a second time, naming where the first one is.
struct NamedAt {
    std::string value;
    std::string path;
};

void report_repeats(const std::vector<NamedAt>& names, std::string_view what, Reader& reader) {
    std::map<std::string, const NamedAt*, std::less<>> first_by_value;
    for (const auto& name : names) {
        if (name.value.empty() || reader.failed(name.path)) continue;
        const auto [first, inserted] = first_by_value.emplace(name.value, &name);
        if (inserted) continue;
        const auto mark = reader.mark_of(first->second->path);
        reader.issue(name.path,
                     fmt::format("duplicate {} '{}' (first at {}, line {})", what, name.value,
                                 first->second->path, mark ? mark->line + 1 : 0));
    }
}

void finish_bus(modbus::BusConfig& bus, const std::string& path, Reader& reader) {
    const bool has_tcp = reader.present(join_path(path, "tcp"));
    const bool has_rtu = reader.present(join_path(path, "rtu"));
    if (has_tcp && has_rtu) {
        reader.issue(join_path(path, "rtu"),
                     "a bus has exactly one of 'tcp' or 'rtu', this one has both");
    } else if (!has_tcp && !has_rtu) {
        reader.issue(path, "a bus needs exactly one of 'tcp' or 'rtu', this one has neither");
    }

    const std::string min_path = join_path(path, "reconnect_min");
    const std::string max_path = join_path(path, "reconnect_max");
    if (!reader.failed(min_path) && !reader.failed(max_path) &&
        bus.reconnect_min > bus.reconnect_max) {
        reader.issue(
            reader.present(min_path) ? min_path : max_path,
            fmt::format("reconnect_min ({}) must not exceed reconnect_max ({})",
                        format_duration(bus.reconnect_min), format_duration(bus.reconnect_max)));
    }

    std::vector<NamedAt> device_names;
    std::vector<NamedAt> unit_ids;
    const std::string devices_path = join_path(path, "devices");
    for (std::size_t i = 0; i < bus.devices.size(); ++i) {
        const auto& device = bus.devices[i];
        const std::string device_path = config_table::index_path(devices_path, i);
        device_names.push_back({device.name, join_path(device_path, "name")});
        const std::string unit_id_path = join_path(device_path, "unit_id");
        if (!reader.present(unit_id_path) || reader.failed(unit_id_path)) continue;
        unit_ids.push_back({std::to_string(device.unit_id), unit_id_path});
        // Serial line addresses stop at 247; 0 is broadcast, which never answers a read.
        if (has_rtu && !has_tcp && (device.unit_id < 1 || device.unit_id > 247)) {
            reader.issue(
                unit_id_path,
                fmt::format("must be between 1 and 247 on an RTU bus, got {}", device.unit_id));
        }
    }
    report_repeats(device_names, "device name", reader);
    report_repeats(unit_ids, "unit_id", reader);
}

Section<modbus::BusConfig> bus_section() {
    using modbus::BusConfig;
    Section<BusConfig> section;
    section.string("name", &BusConfig::name, "Bus name, unique; appears in logs and health.")
        .required()
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section.section<modbus::TcpTransport>(
        "tcp", tcp_section(),
        [](BusConfig& bus, modbus::TcpTransport&& tcp) { bus.transport = std::move(tcp); },
        "Modbus TCP. A bus has exactly one of tcp or rtu.");
    section.section<modbus::RtuTransport>(
        "rtu", rtu_section(),
        [](BusConfig& bus, modbus::RtuTransport&& rtu) { bus.transport = std::move(rtu); },
        "Modbus RTU on a serial line. A bus has exactly one of tcp or rtu.");
    section
        .integer("max_gap", &BusConfig::max_gap,
                 "Points of one device and table are read in one request when at most this many "
                 "unused addresses lie between them.")
        .between(0, 124);
    section
        .duration("reconnect_min", &BusConfig::reconnect_min,
                  "First wait before reconnecting; doubles up to reconnect_max.")
        .at_least(10ms);
    section
        .duration("reconnect_max", &BusConfig::reconnect_max, "Longest wait before reconnecting.")
        .at_least(10ms);
    section
        .duration("failing_poll_max", &BusConfig::failing_poll_max,
                  "A failing device's poll interval doubles per failed cycle up to this.")
        .at_least(10ms);
    section.list("devices", &BusConfig::devices, device_section(), "Devices on the bus.")
        .required()
        .min_items(1);
    section.schema_rule(R"({"oneOf": [{"required": ["tcp"]}, {"required": ["rtu"]}]})");
    section.schema_rule(
        R"({"if": {"required": ["rtu"]}, "then": {"properties": {"devices": {"items": )"
        R"({"properties": {"unit_id": {"minimum": 1, "maximum": 247}}}}}}})");
    section.finish_with(finish_bus);
    return section;
}

Section<modbus::ModbusConfig> modbus_section() {
    Section<modbus::ModbusConfig> section;
    section.list("buses", &modbus::ModbusConfig::buses, bus_section(), "Modbus buses to poll.")
        .required();
    return section;
}

// --- mqtt ---

constexpr auto kInputKindNames = enum_names<mqtt::InputKind>(
    {{mqtt::InputKind::value, "value"}, {mqtt::InputKind::event, "event"}});
constexpr std::string_view kUriPattern =
    R"(^(tcp|ssl)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$)";
constexpr std::string_view kUriHint = "tcp://host:port or ssl://host:port";
constexpr std::string_view kFieldPattern = R"(^[^.{}]+(\.[^.{}]+)*$)";
constexpr std::string_view kFieldHint = "JSON object keys joined by '.', e.g. data.temp_c";

std::optional<mqtt::InputKind> input_kind_from_name(std::string_view name) {
    return kInputKindNames.from_name(name);
}

Section<mqtt::TlsConfig> mqtt_tls_section() {
    using mqtt::TlsConfig;
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

Section<mqtt::AttributeConfig> mqtt_attribute_section() {
    using mqtt::AttributeConfig;
    Section<AttributeConfig> section;
    section.string("field", &AttributeConfig::field, "JSON field of the payload, e.g. lot.id.")
        .required()
        .pattern(std::string(kFieldPattern), std::string(kFieldHint));
    section.string("as", &AttributeConfig::as, "Attribute name in the event. Default: the field.")
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    return section;
}

// A template's placeholders must exist in every topic the filter matches.
void check_template(const std::string& text, const std::string& filter, bool filter_ok,
                    const std::string& path, Reader& reader) {
    if (text.empty() || reader.failed(path)) return;
    try {
        const auto parsed = mqtt::NameTemplate::parse(text);
        for (const auto& part : parsed.parts()) {
            const auto* literal = std::get_if<std::string>(&part);
            if (literal != nullptr &&
                !config_table::matches_pattern(*literal, "^[A-Za-z0-9_.:-]*$")) {
                reader.issue(path, fmt::format("'{}' may only contain {} besides placeholders",
                                               text, kChannelHint));
                return;
            }
        }
        const auto level = parsed.max_topic_level();
        if (filter_ok && level && *level >= mqtt::fixed_level_count(filter) &&
            !mqtt::ends_with_multilevel_wildcard(filter)) {
            reader.issue(path, fmt::format("{{{}}} is past the last level of topic '{}' (levels "
                                           "count from 0, it has {})",
                                           *level, filter, mqtt::fixed_level_count(filter)));
        }
    } catch (const std::invalid_argument& error) {
        reader.issue(path, fmt::format("'{}': {}", text, error.what()));
    }
}

void finish_mqtt_input(mqtt::InputConfig& input, const std::string& path, Reader& reader) {
    const std::string topic_path = join_path(path, "topic");
    bool filter_ok = !input.topic.empty() && !reader.failed(topic_path);
    if (filter_ok) {
        if (const auto problem = mqtt::topic_filter_problem(input.topic)) {
            reader.issue(topic_path, *problem);
            filter_ok = false;
        }
    }
    const bool is_event = input.kind == mqtt::InputKind::event;
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

Section<mqtt::InputConfig> mqtt_input_section() {
    using mqtt::InputConfig;
    Section<InputConfig> section;
    section
        .string("name", &InputConfig::name,
                "Input name, unique on its broker; appears in logs as [mqtt:broker/input].")
        .required()
        .pattern(std::string(kNamePattern), std::string(kNameHint));
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
        .pattern(std::string(kFieldPattern), std::string(kFieldHint));
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
        .pattern(std::string(kFieldPattern), std::string(kFieldHint));
    section.finish_with(finish_mqtt_input);
    return section;
}

void finish_mqtt_broker(mqtt::BrokerConfig& broker, const std::string& path, Reader& reader) {
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
    std::vector<NamedAt> input_names;
    for (std::size_t i = 0; i < broker.inputs.size(); ++i) {
        input_names.push_back(
            {broker.inputs[i].name,
             join_path(config_table::index_path(join_path(path, "inputs"), i), "name")});
    }
    report_repeats(input_names, "input name", reader);
}

Section<mqtt::BrokerConfig> mqtt_broker_section() {
    using mqtt::BrokerConfig;
    Section<BrokerConfig> section;
    section
        .string("name", &BrokerConfig::name,
                "Broker name, unique; appears in logs and health as [mqtt:name].")
        .required()
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section.string("uri", &BrokerConfig::uri, "The broker: tcp://host:1883 or ssl://host:8883.")
        .required()
        .pattern(std::string(kUriPattern), std::string(kUriHint));
    section
        .string("client_id", &BrokerConfig::client_id,
                "MQTT client id; the broker keeps the session under it. Default: "
                "floorwatch-<site>-<node>-<name>.")
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section.string("username", &BrokerConfig::username, "User name, if the broker wants one.");
    section.string("password_file", &BrokerConfig::password_file,
                   "File holding the password (trailing newline ignored); read at each connect, "
                   "never logged.");
    section.section<mqtt::TlsConfig>(
        "tls", mqtt_tls_section(),
        [](BrokerConfig& broker, mqtt::TlsConfig&& tls) { broker.tls = std::move(tls); },
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
    section
        .size("max_payload", &BrokerConfig::max_payload,
              "Larger messages are rejected unread (counted as too_large).")
        .between(16, 256 * 1024 * 1024);
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

Section<mqtt::MqttConfig> mqtt_section() {
    Section<mqtt::MqttConfig> section;
    section
        .list("brokers", &mqtt::MqttConfig::brokers, mqtt_broker_section(),
              "MQTT brokers to subscribe to.")
        .required();
    return section;
}

// --- rules (rules/README.md documents every key) ---

// Number options whose absence means "not used" default to NaN, which JSON cannot say.
Section<rules::LimitConfig> rule_limit_section() {
    using rules::LimitConfig;
    Section<LimitConfig> section;
    section.number("above", &LimitConfig::above, "Active while the value is above this.")
        .no_default();
    section.number("below", &LimitConfig::below, "Active while the value is below this.")
        .no_default();
    section.enumeration("severity", &LimitConfig::severity, rules::severity_names(),
                        &rules::severity_from_name, "Severity while this limit is exceeded.");
    section.schema_rule(R"({"oneOf": [{"required": ["above"]}, {"required": ["below"]}]})");
    return section;
}

Section<rules::ScheduleConfig> rule_schedule_section() {
    using rules::ScheduleConfig;
    Section<ScheduleConfig> section;
    section.string("days", &ScheduleConfig::days,
                   "Weekdays: ranges and lists of mon..sun, e.g. tue-thu or mon,wed,fri.");
    section.string("from", &ScheduleConfig::from, "Local start time HH:MM.")
        .pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
    section
        .string("to", &ScheduleConfig::to,
                "Local end time HH:MM (24:00 = midnight); before 'from' crosses midnight.")
        .pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM");
    return section;
}

Section<rules::SuppressionConfig> rule_suppression_section() {
    using rules::SuppressionConfig;
    Section<SuppressionConfig> section;
    section.string("channel", &SuppressionConfig::channel, "The channel whose value suppresses.")
        .required()
        .pattern(std::string(kChannelPattern), std::string(kChannelHint));
    section.number("above", &SuppressionConfig::above, "Suppressed while the value is above this.")
        .no_default();
    section.number("below", &SuppressionConfig::below, "Suppressed while the value is below this.")
        .no_default();
    return section;
}

Section<rules::HazardConfig> rule_hazard_section() {
    using rules::HazardConfig;
    Section<HazardConfig> section;
    section.string("type", &HazardConfig::type, "Hazard type, e.g. vibration or overheating.")
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.enumeration("risk", &HazardConfig::risk, rules::risk_names(), &rules::risk_from_name,
                        "Risk of the hazard work order it raises.");
    section.string("title", &HazardConfig::title, "Title of the hazard work order.");
    return section;
}

Section<rules::ConditionConfig> rule_condition_section() {
    using rules::ConditionConfig;
    Section<ConditionConfig> section;
    section.string("rule", &ConditionConfig::rule, "Another rule's alarm on the same equipment.")
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section.string("event", &ConditionConfig::event, "A plant event name, e.g. material_arrival.")
        .pattern(std::string(kNamePattern), std::string(kNameHint));
    section.schema_rule(R"({"oneOf": [{"required": ["rule"]}, {"required": ["event"]}]})");
    return section;
}

Section<rules::RuleConfig> rule_section() {
    using rules::RuleConfig;
    Section<RuleConfig> section;
    section.string("id", &RuleConfig::id, "Rule id, unique; recorded on every alarm.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("template", &RuleConfig::template_name,
                   fmt::format("A ready rule set ({}); keys written here override it.",
                               rules::template_names()));
    section.enumeration("kind", &RuleConfig::kind, rules::rule_kind_names(),
                        &rules::rule_kind_from_name, "What the rule watches.");
    section.string("channel", &RuleConfig::channel, "The channel it reads.")
        .pattern(std::string(kChannelPattern), std::string(kChannelHint));
    section
        .string("equipment", &RuleConfig::equipment,
                "Equipment id; default: the channel's. Compound rules need it.")
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("description", &RuleConfig::description, "Free text for people.");
    section.enumeration("severity", &RuleConfig::severity, rules::severity_names(),
                        &rules::severity_from_name,
                        "Severity of rate, health, recurrence and "
                        "compound alarms.");
    section.list("limits", &RuleConfig::limits, rule_limit_section(),
                 "Threshold limits, each with its severity.");
    section.number("deadband", &RuleConfig::deadband,
                   "A threshold or rate alarm returns to normal only this far past its limit.");
    section.duration("on_delay", &RuleConfig::on_delay,
                     "The condition must hold this long before the alarm activates.");
    section.duration("off_delay", &RuleConfig::off_delay,
                     "The condition must be gone this long before the alarm clears.");
    section.number("rise", &RuleConfig::rise, "Rate rules: a rise of at least this within window.")
        .no_default();
    section.number("fall", &RuleConfig::fall, "Rate rules: a fall of at least this within window.")
        .no_default();
    section.duration("window", &RuleConfig::window,
                     "Time window of rate, recurrence and compound rules.");
    section.duration("stale_after", &RuleConfig::stale_after,
                     "Health rules: active when no good sample came for this long (0 = off).");
    section.duration("frozen_after", &RuleConfig::frozen_after,
                     "Health rules: active when the value has not moved for this long (0 = off).");
    section.number("frozen_tolerance", &RuleConfig::frozen_tolerance,
                   "Health rules: changes up to this much count as not moving.");
    section.number("min", &RuleConfig::min, "Health rules: lowest physically possible value.")
        .no_default();
    section.number("max", &RuleConfig::max, "Health rules: highest physically possible value.")
        .no_default();
    section
        .string("hazard_type", &RuleConfig::hazard_type,
                "Recurrence rules: count activations of rules with this hazard type.")
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section
        .integer("count", &RuleConfig::count,
                 "Recurrence rules: activations within window that escalate.")
        .between(2, 1000);
    section.enumeration("mode", &RuleConfig::mode, rules::compound_mode_names(),
                        &rules::compound_mode_from_name,
                        "Compound rules: all_of, any_of, or sequence (in the listed order).");
    section.list("conditions", &RuleConfig::conditions, rule_condition_section(),
                 "Compound rules: other rules' alarms and plant events.");
    section.section<rules::ScheduleConfig>(
        "schedule", rule_schedule_section(),
        [](RuleConfig& rule, rules::ScheduleConfig&& schedule) { rule.schedule = schedule; },
        "When the rule is active, in gateway.timezone; suppressed outside.");
    section.section<rules::SuppressionConfig>(
        "suppress_when", rule_suppression_section(),
        [](RuleConfig& rule, rules::SuppressionConfig&& when) { rule.suppress_when = when; },
        "The alarm is suppressed while this holds (e.g. the machine is not running).");
    section.section<rules::HazardConfig>(
        "hazard", rule_hazard_section(),
        [](RuleConfig& rule, rules::HazardConfig&& hazard) { rule.hazard = hazard; },
        "The hazard work order the rule raises.");
    // Templates give way key by key to what the user wrote, so remember which keys those are.
    section.finish_with(
        [keys = section.shape().keys(), hazard_keys = rule_hazard_section().shape().keys()](
            RuleConfig& rule, const std::string& path, Reader& reader) {
            for (const auto& key : keys) {
                if (reader.present(join_path(path, key))) rule.explicit_keys.insert(key);
            }
            for (const auto& key : hazard_keys) {
                if (reader.present(join_path(join_path(path, "hazard"), key))) {
                    rule.explicit_keys.insert("hazard." + key);
                }
            }
            if (rule.explicit_keys.contains("hazard")) rule.explicit_keys.erase("hazard");
        });
    return section;
}

// --- workflow ---

constexpr std::string_view kRoleListPattern = "^[a-z_]+( *, *[a-z_]+)*$";
constexpr std::string_view kRoleListHint = "role names separated by ',', e.g. 'team_lead, safety'";

// Fills `roles` from the text at `path`, or reports why it cannot.
void read_role_list(const std::string& text, std::vector<workflow::Role>& roles,
                    const std::string& path, Reader& reader) {
    if (reader.failed(path)) return;
    auto parsed = workflow::parse_role_list(text);
    if (!parsed.error.empty()) {
        reader.issue(path, parsed.error);
        return;
    }
    roles = std::move(parsed.roles);
}

template <workflow::Risk kRisk>
Section<workflow::RiskPolicyFor<kRisk>> risk_policy_section() {
    using workflow::RiskPolicy;
    Section<workflow::RiskPolicyFor<kRisk>> section;
    section
        .string("review", &RiskPolicy::review,
                "Review levels in approval order, e.g. 'team_lead, safety'; each level is approved "
                "by a different person holding that role.")
        .pattern(std::string(kRoleListPattern), std::string(kRoleListHint));
    section
        .duration("review_deadline", &RiskPolicy::review_deadline,
                  "From report (or escalation) until rectification is assigned.")
        .at_least(1min);
    section
        .duration("rectification_deadline", &RiskPolicy::rectification_deadline,
                  "Default rectification deadline when an assignment names none.")
        .at_least(1min);
    section
        .duration("acceptance_deadline", &RiskPolicy::acceptance_deadline,
                  "From submission until the rectification is accepted or rejected.")
        .at_least(1min);
    section.finish_with([](RiskPolicy& policy, const std::string& path, Reader& reader) {
        read_role_list(policy.review, policy.review_levels, join_path(path, "review"), reader);
    });
    return section;
}

Section<workflow::AreaPrefix> area_prefix_section() {
    using workflow::AreaPrefix;
    Section<AreaPrefix> section;
    section.string("area", &AreaPrefix::area, "An area of the declared equipment.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("prefix", &AreaPrefix::prefix, "Its order numbers' prefix: PRS-20261129-0042.")
        .required()
        .pattern("^[A-Z0-9]{1,8}$", "1 to 8 capital letters or digits");
    return section;
}

Section<workflow::AttachmentLimits> attachment_limits_section() {
    using workflow::AttachmentLimits;
    Section<AttachmentLimits> section;
    section.size("max_size", &AttachmentLimits::max_size, "Largest photo or file accepted.")
        .between(1024, 1024LL * 1024 * 1024);
    section
        .string("types", &AttachmentLimits::types,
                "Accepted media types, separated by ',', e.g. 'image/jpeg, image/png'.")
        .not_empty();
    section.finish_with([](AttachmentLimits& limits, const std::string& path, Reader& reader) {
        const std::string types_path = join_path(path, "types");
        if (reader.failed(types_path)) return;
        auto parsed = workflow::parse_media_types(limits.types);
        if (!parsed.error.empty()) {
            reader.issue(types_path, parsed.error);
            return;
        }
        limits.allowed_types = std::move(parsed.names);
    });
    return section;
}

Section<workflow::UserConfig> workflow_user_section() {
    using workflow::UserConfig;
    Section<UserConfig> section;
    section.string("name", &UserConfig::name, "User name, unique; recorded on every action.")
        .required()
        .pattern("^[a-z][a-z0-9_.-]*$", "lowercase letters, digits, '_', '.' and '-'");
    section
        .integer("uid", &UserConfig::uid,
                 "Unix uid that acts as this user on the local control socket.")
        .between(0, 4294967294)
        .no_default();
    section
        .string("roles", &UserConfig::roles,
                "Roles held: reporter, technician, team_lead, safety, manager, admin.")
        .required()
        .pattern(std::string(kRoleListPattern), std::string(kRoleListHint));
    section.finish_with([](UserConfig& user, const std::string& path, Reader& reader) {
        const std::string name_path = join_path(path, "name");
        if ((user.name == "system" || user.name == "anonymous") && !reader.failed(name_path)) {
            reader.issue(name_path, fmt::format("'{}' is reserved for the workflow's own "
                                                "entries; choose another name",
                                                user.name));
        }
        read_role_list(user.roles, user.role_list, join_path(path, "roles"), reader);
    });
    return section;
}

void finish_workflow(workflow::WorkflowConfig& workflow, const std::string& path, Reader& reader) {
    read_role_list(workflow.overdue_notify, workflow.overdue_notify_roles,
                   join_path(path, "overdue_notify"), reader);
    std::vector<NamedAt> names;
    std::vector<NamedAt> uids;
    for (std::size_t i = 0; i < workflow.users.size(); ++i) {
        const std::string user_path = config_table::index_path(join_path(path, "users"), i);
        names.push_back({workflow.users[i].name, join_path(user_path, "name")});
        if (workflow.users[i].uid >= 0) {
            uids.push_back({std::to_string(workflow.users[i].uid), join_path(user_path, "uid")});
        }
    }
    report_repeats(names, "user name", reader);
    report_repeats(uids, "uid", reader);
    std::vector<NamedAt> areas;
    for (std::size_t i = 0; i < workflow.prefixes.size(); ++i) {
        areas.push_back(
            {workflow.prefixes[i].area,
             join_path(config_table::index_path(join_path(path, "prefixes"), i), "area")});
    }
    report_repeats(areas, "area", reader);
}

Section<workflow::WorkflowConfig> workflow_section() {
    using workflow::Risk;
    using workflow::RiskPolicyFor;
    using workflow::WorkflowConfig;
    Section<WorkflowConfig> section;
    section.section<RiskPolicyFor<Risk::low>>(
        "low", risk_policy_section<Risk::low>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::low>&& policy) { workflow.low = policy; },
        "Review and deadlines of low-risk orders.");
    section.section<RiskPolicyFor<Risk::medium>>(
        "medium", risk_policy_section<Risk::medium>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::medium>&& policy) {
            workflow.medium = policy;
        },
        "Review and deadlines of medium-risk orders.");
    section.section<RiskPolicyFor<Risk::high>>(
        "high", risk_policy_section<Risk::high>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::high>&& policy) {
            workflow.high = policy;
        },
        "Review and deadlines of high-risk orders.");
    section.section<RiskPolicyFor<Risk::red>>(
        "red", risk_policy_section<Risk::red>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::red>&& policy) { workflow.red = policy; },
        "Review and deadlines of red orders, and of every order escalated to red.");
    section
        .string("default_prefix", &WorkflowConfig::default_prefix,
                "Order number prefix of areas not listed under prefixes.")
        .pattern("^[A-Z0-9]{1,8}$", "1 to 8 capital letters or digits");
    section.list("prefixes", &WorkflowConfig::prefixes, area_prefix_section(),
                 "Order number prefix per area.");
    section.section("attachments", &WorkflowConfig::attachments, attachment_limits_section(),
                    "Photos and files attached to reports and submissions.");
    section
        .string("overdue_notify", &WorkflowConfig::overdue_notify,
                "Roles told when a step of an order is overdue (the assignee too, in "
                "rectification).")
        .pattern(std::string(kRoleListPattern), std::string(kRoleListHint));
    section.list("users", &WorkflowConfig::users, workflow_user_section(),
                 "People who act on orders, with their roles.");
    section.string("publish_broker", &WorkflowConfig::publish_broker,
                   "Name of the mqtt.brokers entry every order change is published to (retained, "
                   "QoS 1); empty: the first broker. Nothing is published without brokers.");
    section.finish_with(finish_workflow);
    return section;
}

// Number prefixes name areas that some equipment is in.
void check_workflow_references(const Config& config, Reader& reader) {
    std::set<std::string, std::less<>> areas;
    for (const auto& equipment : config.equipment) areas.insert(equipment.area);
    for (std::size_t i = 0; i < config.workflow.prefixes.size(); ++i) {
        const auto& area = config.workflow.prefixes[i].area;
        const std::string area_path = fmt::format("workflow.prefixes[{}].area", i);
        if (area.empty() || reader.failed(area_path) || areas.contains(area)) continue;
        reader.issue(area_path,
                     fmt::format("no equipment is in area '{}' (areas: {})", area,
                                 areas.empty() ? std::string("none")
                                               : fmt::format("{}", fmt::join(areas, ", "))));
    }
    const auto& broker = config.workflow.publish_broker;
    if (!broker.empty() && !reader.failed("workflow.publish_broker") &&
        std::none_of(config.mqtt.brokers.begin(), config.mqtt.brokers.end(),
                     [&](const auto& declared) { return declared.name == broker; })) {
        std::vector<std::string> names;
        for (const auto& declared : config.mqtt.brokers) names.push_back(declared.name);
        reader.issue("workflow.publish_broker",
                     fmt::format("no MQTT broker is named '{}' (brokers: {})", broker,
                                 names.empty() ? std::string("none")
                                               : fmt::format("{}", fmt::join(names, ", "))));
    }
}

void check_rule_references(const Config& config, Reader& reader) {
    for (const auto& issue : rules::check_rules(config.rules, rule_catalog(config))) {
        const std::string entry_path = fmt::format("rules[{}]", issue.index);
        reader.issue(issue.key.empty() ? entry_path : join_path(entry_path, issue.key),
                     issue.message);
    }
}

// Checks across sections: names unique in the whole file, references that must resolve.
void check_cross_references(Config& config, const std::string&, Reader& reader) {
    std::vector<NamedAt> equipment_ids;
    std::set<std::string, std::less<>> declared_equipment;
    for (std::size_t i = 0; i < config.equipment.size(); ++i) {
        const std::string id_path = fmt::format("equipment[{}].id", i);
        equipment_ids.push_back({config.equipment[i].id, id_path});
        if (!config.equipment[i].id.empty()) declared_equipment.insert(config.equipment[i].id);
    }
    report_repeats(equipment_ids, "equipment id", reader);

    std::vector<NamedAt> bus_names;
    std::vector<NamedAt> channels;
    for (std::size_t b = 0; b < config.modbus.buses.size(); ++b) {
        const auto& bus = config.modbus.buses[b];
        bus_names.push_back({bus.name, fmt::format("modbus.buses[{}].name", b)});
        for (std::size_t d = 0; d < bus.devices.size(); ++d) {
            const auto& points = bus.devices[d].points;
            for (std::size_t p = 0; p < points.size(); ++p) {
                const std::string point_path =
                    fmt::format("modbus.buses[{}].devices[{}].points[{}]", b, d, p);
                channels.push_back({points[p].channel, join_path(point_path, "channel")});
                const std::string& equipment = points[p].equipment;
                const std::string equipment_path = join_path(point_path, "equipment");
                if (equipment.empty() || reader.failed(equipment_path) ||
                    declared_equipment.contains(equipment)) {
                    continue;
                }
                reader.issue(equipment_path,
                             declared_equipment.empty()
                                 ? fmt::format("unknown equipment '{}' (none is declared: add it "
                                               "under 'equipment')",
                                               equipment)
                                 : fmt::format("unknown equipment '{}' (declared: {})", equipment,
                                               fmt::join(declared_equipment, ", ")));
            }
        }
    }
    report_repeats(bus_names, "bus name", reader);

    std::vector<NamedAt> broker_names;
    for (std::size_t b = 0; b < config.mqtt.brokers.size(); ++b) {
        auto& broker = config.mqtt.brokers[b];
        const std::string broker_path = fmt::format("mqtt.brokers[{}]", b);
        broker_names.push_back({broker.name, join_path(broker_path, "name")});
        if (broker.client_id.empty()) {
            broker.client_id = fmt::format("floorwatch-{}-{}-{}", config.gateway.site,
                                           config.gateway.node, broker.name);
        }
        for (std::size_t i = 0; i < broker.inputs.size(); ++i) {
            const auto& input = broker.inputs[i];
            const std::string input_path = fmt::format("{}.inputs[{}]", broker_path, i);
            if (input.channel.find('{') == std::string::npos) {
                channels.push_back({input.channel, join_path(input_path, "channel")});
            }
            const std::string equipment_path = join_path(input_path, "equipment");
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
    report_repeats(broker_names, "broker name", reader);
    report_repeats(channels, "channel", reader);
    check_rule_references(config, reader);
    check_workflow_references(config, reader);
}

// The whole file. A new section is one more declaration here.
const Section<Config>& config_section() {
    static const Section<Config> section = [] {
        Section<Config> root;
        root.section("gateway", &Config::gateway, gateway_section(), "Who this gateway is.")
            .required();
        root.section("store", &Config::store, store_section(),
                     "The local SQLite buffer of samples, alarms and work orders.");
        root.section("control", &Config::control, control_section(),
                     "The local control socket for the floorwatch CLI.");
        root.list("equipment", &Config::equipment, equipment_section(),
                  "Machines and where they stand; points and rules refer to them by id.");
        root.section("modbus", &Config::modbus, modbus_section(), "Modbus TCP and RTU polling.");
        root.section("mqtt", &Config::mqtt, mqtt_section(),
                     "MQTT brokers: measured values and plant events from subscriptions.");
        root.list("rules", &Config::rules, rule_section(),
                  "Rules that raise alarms (rules/README.md): threshold, rate, health, "
                  "recurrence, compound, or a template.");
        root.section("workflow", &Config::workflow, workflow_section(),
                     "Hazard work orders: review chains and deadlines by risk, order numbers, "
                     "attachments, and the users who act on orders.");
        root.finish_with(check_cross_references);
        return root;
    }();
    return section;
}

std::string join_issues(const std::vector<ConfigIssue>& issues) {
    std::string text;
    for (const auto& issue : issues) {
        if (!text.empty()) text += '\n';
        text += issue.to_string();
    }
    return text;
}

}  // namespace

rules::RuleCatalog rule_catalog(const Config& config) {
    rules::RuleCatalog catalog;
    for (const auto& equipment : config.equipment) {
        catalog.equipment_area.emplace(equipment.id, equipment.area);
    }
    for (const auto& bus : config.modbus.buses) {
        for (const auto& device : bus.devices) {
            for (const auto& point : device.points) {
                catalog.channel_equipment.emplace(point.channel, point.equipment);
            }
        }
    }
    for (const auto& broker : config.mqtt.brokers) {
        for (const auto& input : broker.inputs) {
            if (input.kind != mqtt::InputKind::value) continue;
            const bool fixed = input.channel.find('{') == std::string::npos &&
                               input.equipment.find('{') == std::string::npos;
            if (fixed) {
                catalog.channel_equipment.emplace(input.channel, input.equipment);
            } else {
                catalog.channels_from_templates = true;
            }
        }
    }
    return catalog;
}

std::string ConfigIssue::to_string() const {
    std::string text = line > 0 ? fmt::format("{}:{}:{}: ", file, line, column) : file + ": ";
    if (!path.empty()) text += path + ": ";
    return text + message;
}

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

Config parse_config(const std::string& text, const std::string& name) {
    Reader reader(name);
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& error) {
        reader.issue(error.mark, "", fmt::format("invalid YAML: {}", error.msg));
        throw ConfigError(reader.take_issues());
    }
    if (documents.empty() || documents.front().IsNull()) {
        reader.issue_without_position(
            "the file is empty; it needs at least a 'gateway' section with site and node");
        throw ConfigError(reader.take_issues());
    }
    if (documents.size() > 1) {
        reader.issue(documents[1].Mark(), "",
                     "only one YAML document is allowed, found another after '---'");
    }
    Config config;
    config.source_path = name;
    config_section().read(documents.front(), "", config, reader);
    if (reader.has_issues()) throw ConfigError(reader.take_issues());
    return config;
}

Config load_config(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    std::string text;
    int read_error = 0;
    if (!file) {
        read_error = errno;
    } else {
        std::array<char, 65536> buffer{};
        std::size_t count = 0;
        while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
            text.append(buffer.data(), count);
        }
        if (std::ferror(file.get())) read_error = errno != 0 ? errno : EIO;
    }
    if (read_error != 0) {
        ConfigIssue issue;
        issue.file = path;
        issue.message = fmt::format("cannot read the config file: {}", std::strerror(read_error));
        throw ConfigError({issue});
    }
    return parse_config(text, path);
}

std::string config_json_schema() {
    return config_table::json_schema(
        config_section().shape(), "floorwatch configuration",
        "The gateway's config file, /etc/floorwatch/floorwatch.yaml. Durations read 250ms, 30s, "
        "5m, 12h or 7d; sizes 512MiB, 1GB or a plain number of bytes.");
}

}  // namespace fw
