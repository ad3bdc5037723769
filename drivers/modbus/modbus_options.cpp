#include "drivers/modbus/modbus_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/core/enum_names.hpp"

namespace fw::modbus {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

constexpr auto kParityNames =
    enum_names<Parity>({{Parity::none, "none"}, {Parity::even, "even"}, {Parity::odd, "odd"}});

std::optional<Parity> parity_from_name(std::string_view name) {
    return kParityNames.from_name(name);
}

Section<TcpTransport> tcp_section() {
    Section<TcpTransport> section;
    section.string("host", &TcpTransport::host, "Host name or address of the device.")
        .required()
        .not_empty();
    section.integer("port", &TcpTransport::port, "TCP port.").between(1, 65535);
    return section;
}

Section<RtuTransport> rtu_section() {
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
    for (const auto name : type_names()) {
        const auto type = *type_from_name(name);
        if (width_of(type, Table::holding_register) == width) {
            quoted_types.push_back(config_table::json_string(name));
        }
    }
    return fmt::format(
        R"({{"if": {{"required": ["type"], "properties": {{"type": {{"enum": [{}]}}}}}},)"
        R"( "then": {{"properties": {{"address": {{"maximum": {}}}}}}}}})",
        fmt::join(quoted_types, ", "), 65536 - width);
}

void finish_point(PointConfig& point, const std::string& path, Reader& reader) {
    const std::string table_path = join_path(path, "table");
    const std::string type_path = join_path(path, "type");
    const std::string address_path = join_path(path, "address");
    const bool table_known = reader.present(table_path) && !reader.failed(table_path);
    if (!reader.present(type_path)) {
        point.type = is_bit_table(point.table) ? ValueType::boolean : ValueType::uint16;
    } else if (!reader.failed(type_path) && table_known && is_bit_table(point.table) &&
               point.type != ValueType::boolean) {
        reader.issue(type_path,
                     fmt::format("type '{}' cannot be read from a {}: coils and discrete inputs "
                                 "hold single bits, use bool",
                                 type_name(point.type), table_name(point.table)));
        return;
    }
    if (!table_known || reader.failed(type_path) || reader.failed(address_path)) return;
    const unsigned width = width_of(point.type, point.table);
    if (point.address + width - 1 > 65535) {
        reader.issue(address_path,
                     fmt::format("a {} at address {} needs {} registers and runs past the last "
                                 "address 65535",
                                 type_name(point.type), point.address, width));
    }
}

Section<PointConfig> point_section() {
    Section<PointConfig> section;
    section
        .string("channel", &PointConfig::channel,
                "Channel name, unique in the whole config, e.g. press1.vibration.")
        .required()
        .pattern(config_table::kChannelName);
    section
        .string("equipment", &PointConfig::equipment,
                "The equipment it measures: an id declared under 'equipment'.")
        .required()
        .not_empty();
    section
        .enumeration("table", &PointConfig::table, table_names(), &table_from_name,
                     "Modbus table the value is read from.")
        .required();
    section.integer("address", &PointConfig::address, "0-based protocol address.")
        .required()
        .between(0, 65535);
    section
        .enumeration("type", &PointConfig::type, type_names(), &type_from_name,
                     "Value type. Default: bool on coil and discrete_input (which accept only "
                     "bool), uint16 otherwise.")
        .no_default();
    section.enumeration("order", &PointConfig::order, order_names(), &order_from_name,
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

Section<DeviceConfig> device_section() {
    Section<DeviceConfig> section;
    section
        .string("name", &DeviceConfig::name,
                "Device name, unique on its bus; appears in logs as [modbus:bus/device].")
        .required()
        .pattern(config_table::kPlainName);
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

void finish_bus(BusConfig& bus, const std::string& path, Reader& reader) {
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
        const std::string device_path = index_path(devices_path, i);
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

Section<BusConfig> bus_section() {
    Section<BusConfig> section;
    section.string("name", &BusConfig::name, "Bus name, unique; appears in logs and health.")
        .required()
        .pattern(config_table::kPlainName);
    section.section<TcpTransport>(
        "tcp", tcp_section(),
        [](BusConfig& bus, TcpTransport&& tcp) { bus.transport = std::move(tcp); },
        "Modbus TCP. A bus has exactly one of tcp or rtu.");
    section.section<RtuTransport>(
        "rtu", rtu_section(),
        [](BusConfig& bus, RtuTransport&& rtu) { bus.transport = std::move(rtu); },
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

}  // namespace

Section<ModbusConfig> modbus_section() {
    Section<ModbusConfig> section;
    section.list("buses", &ModbusConfig::buses, bus_section(), "Modbus buses to poll.").required();
    section.finish_with([](ModbusConfig& modbus, const std::string& path, Reader& reader) {
        report_repeated_key(modbus.buses, join_path(path, "buses"), "name", &BusConfig::name,
                            "bus name", reader);
    });
    return section;
}

void check_modbus_equipment(const ModbusConfig& modbus, const std::string& path,
                            const std::set<std::string, std::less<>>& declared_equipment,
                            Reader& reader) {
    const std::string buses_path = join_path(path, "buses");
    for (std::size_t b = 0; b < modbus.buses.size(); ++b) {
        const auto& bus = modbus.buses[b];
        for (std::size_t d = 0; d < bus.devices.size(); ++d) {
            const auto& points = bus.devices[d].points;
            for (std::size_t p = 0; p < points.size(); ++p) {
                const std::string point_path =
                    fmt::format("{}[{}].devices[{}].points[{}]", buses_path, b, d, p);
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
}

std::vector<NamedAt> modbus_channels(const ModbusConfig& modbus, const std::string& path) {
    std::vector<NamedAt> channels;
    const std::string buses_path = join_path(path, "buses");
    for (std::size_t b = 0; b < modbus.buses.size(); ++b) {
        const auto& bus = modbus.buses[b];
        for (std::size_t d = 0; d < bus.devices.size(); ++d) {
            const auto& points = bus.devices[d].points;
            for (std::size_t p = 0; p < points.size(); ++p) {
                channels.push_back(
                    {points[p].channel,
                     fmt::format("{}[{}].devices[{}].points[{}].channel", buses_path, b, d, p)});
            }
        }
    }
    return channels;
}

}  // namespace fw::modbus
