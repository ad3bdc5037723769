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

constexpr std::array<std::string_view, 4> kLogLevelNames{"debug", "info", "warning", "error"};
constexpr std::array<std::string_view, 3> kParityNames{"none", "even", "odd"};

std::optional<modbus::Parity> parity_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kParityNames.size(); ++i) {
        if (kParityNames[i] == name) return static_cast<modbus::Parity>(i);
    }
    return std::nullopt;
}

Section<GatewayConfig> gateway_section() {
    Section<GatewayConfig> section;
    section.string("site", &GatewayConfig::site, "The plant site this gateway belongs to.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.string("node", &GatewayConfig::node, "This gateway's id, unique within the site.")
        .required()
        .pattern(std::string(kIdPattern), std::string(kIdHint));
    section.enumeration("log_level", &GatewayConfig::log_level, kLogLevelNames,
                        &log_level_from_name, "Least severe log level written to the journal.");
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
    section.enumeration("parity", &RtuTransport::parity, kParityNames, &parity_from_name,
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
    report_repeats(channels, "channel", reader);
}

// The whole file. A new section is one more declaration here.
const Section<Config>& config_section() {
    static const Section<Config> section = [] {
        Section<Config> root;
        root.section("gateway", &Config::gateway, gateway_section(), "Who this gateway is.")
            .required();
        root.section("store", &Config::store, store_section(),
                     "The local SQLite buffer of samples, alarms and work orders.");
        root.list("equipment", &Config::equipment, equipment_section(),
                  "Machines and where they stand; points and rules refer to them by id.");
        root.section("modbus", &Config::modbus, modbus_section(), "Modbus TCP and RTU polling.");
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
