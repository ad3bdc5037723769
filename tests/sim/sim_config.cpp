#include "tests/sim/sim_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>

#include "daemon/core/units.hpp"

namespace fw::sim {
namespace {

std::string join(std::span<const std::string_view> names) {
    std::string out;
    for (const auto name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

std::optional<double> parse_number(std::string_view text) {
    double value = 0.0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::optional<long long> parse_integer(std::string_view text) {
    long long value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

// Collects every problem of one file with its position, so all are reported at once.
class Checker {
  public:
    explicit Checker(std::string file) : file_(std::move(file)) {}

    void fail(const YAML::Node& node, const std::string& path, const std::string& message) {
        const YAML::Mark mark = node.Mark();
        issues_.push_back(fmt::format("{}:{}:{}: {}: {}", file_, mark.line + 1, mark.column + 1,
                                      path.empty() ? "(top level)" : path, message));
    }

    // Rejects keys outside `allowed` and reports required ones that are missing.
    bool check_map(const YAML::Node& node, const std::string& path,
                   std::initializer_list<std::string_view> allowed,
                   std::initializer_list<std::string_view> required = {}) {
        if (!node.IsMap()) {
            fail(node, path, "expected a mapping (key: value pairs)");
            return false;
        }
        for (auto it = node.begin(); it != node.end(); ++it) {
            const auto key = it->first.Scalar();
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
                std::vector<std::string_view> names(allowed);
                fail(it->first, child(path, key),
                     fmt::format("unknown key '{}' (expected {})", key, join(names)));
            }
        }
        for (const auto key : required) {
            if (!node[std::string(key)]) {
                fail(node, path, fmt::format("missing required key '{}'", key));
            }
        }
        return true;
    }

    std::optional<std::string> text(const YAML::Node& node, const std::string& path) {
        if (!node.IsScalar()) {
            fail(node, path, "expected a single value");
            return std::nullopt;
        }
        return node.Scalar();
    }

    std::optional<double> number(const YAML::Node& node, const std::string& path) {
        const auto scalar = text(node, path);
        if (!scalar) return std::nullopt;
        auto value = parse_number(*scalar);
        if (!value) fail(node, path, fmt::format("'{}' is not a number", *scalar));
        return value;
    }

    std::optional<long long> integer(const YAML::Node& node, const std::string& path, long long min,
                                     long long max) {
        const auto scalar = text(node, path);
        if (!scalar) return std::nullopt;
        const auto value = parse_integer(*scalar);
        if (!value || *value < min || *value > max) {
            fail(node, path,
                 fmt::format("'{}' is not a whole number from {} to {}", *scalar, min, max));
            return std::nullopt;
        }
        return value;
    }

    std::optional<double> seconds(const YAML::Node& node, const std::string& path) {
        const auto scalar = text(node, path);
        if (!scalar) return std::nullopt;
        const auto duration = parse_duration(*scalar);
        if (!duration) {
            fail(node, path,
                 fmt::format("'{}' is not a duration (write e.g. 500ms, 30s, 10m, 2h)", *scalar));
            return std::nullopt;
        }
        return static_cast<double>(duration->count()) / 1000.0;
    }

    std::optional<bool> boolean(const YAML::Node& node, const std::string& path) {
        const auto scalar = text(node, path);
        if (!scalar) return std::nullopt;
        if (*scalar == "true") return true;
        if (*scalar == "false") return false;
        fail(node, path, fmt::format("'{}' is not true or false", *scalar));
        return std::nullopt;
    }

    static std::string child(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
    }
    static std::string index(const std::string& path, std::size_t i) {
        return fmt::format("{}[{}]", path, i);
    }

    const std::vector<std::string>& issues() const { return issues_; }

  private:
    std::string file_;
    std::vector<std::string> issues_;
};

template <typename T>
void assign(std::optional<T> parsed, T& target) {
    if (parsed) target = *parsed;
}

void read_number_into(Checker& check, const YAML::Node& map, const std::string& path,
                      std::string_view key, double& target) {
    if (const auto node = map[std::string(key)]) {
        assign(check.number(node, Checker::child(path, key)), target);
    }
}

void read_seconds_into(Checker& check, const YAML::Node& map, const std::string& path,
                       std::string_view key, double& target) {
    if (const auto node = map[std::string(key)]) {
        assign(check.seconds(node, Checker::child(path, key)), target);
    }
}

Profile read_sequence(Checker& check, const YAML::Node& node, const std::string& path,
                      Profile profile) {
    const auto steps = node["steps"];
    const auto steps_path = Checker::child(path, "steps");
    if (!steps.IsSequence() || steps.size() == 0) {
        check.fail(steps, steps_path, "expected a non-empty list of steps");
        return profile;
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto step_node = steps[i];
        const auto step_path = Checker::index(steps_path, i);
        if (!check.check_map(step_node, step_path, {"value", "from", "to", "for"}, {"for"})) {
            continue;
        }
        SequenceStep step;
        read_seconds_into(check, step_node, step_path, "for", step.seconds);
        if (step_node["value"]) {
            if (step_node["from"] || step_node["to"]) {
                check.fail(step_node, step_path, "give either 'value' or 'from' and 'to'");
            }
            read_number_into(check, step_node, step_path, "value", step.from);
            step.to = step.from;
        } else if (step_node["from"] && step_node["to"]) {
            read_number_into(check, step_node, step_path, "from", step.from);
            read_number_into(check, step_node, step_path, "to", step.to);
        } else {
            check.fail(step_node, step_path, "a step needs 'value' or both 'from' and 'to'");
        }
        profile.steps.push_back(step);
    }
    return profile;
}

Profile read_profile(Checker& check, const YAML::Node& node, const std::string& path) {
    Profile profile;
    if (!node.IsMap() || !node["kind"]) {
        check.check_map(node, path, {"kind"}, {"kind"});
        return profile;
    }
    const auto kind = check.text(node["kind"], Checker::child(path, "kind")).value_or("");
    if (kind == "constant") {
        profile.kind = Profile::Kind::constant;
        check.check_map(node, path, {"kind", "value", "noise"}, {"value"});
        read_number_into(check, node, path, "value", profile.value);
    } else if (kind == "sine") {
        profile.kind = Profile::Kind::sine;
        check.check_map(node, path, {"kind", "mean", "amplitude", "period", "noise"},
                        {"mean", "amplitude", "period"});
        read_number_into(check, node, path, "mean", profile.mean);
        read_number_into(check, node, path, "amplitude", profile.amplitude);
        read_seconds_into(check, node, path, "period", profile.period_seconds);
        if (node["period"] && profile.period_seconds <= 0.0) {
            check.fail(node["period"], Checker::child(path, "period"), "must be longer than 0");
            profile.period_seconds = 1.0;
        }
    } else if (kind == "ramp") {
        profile.kind = Profile::Kind::ramp;
        check.check_map(node, path, {"kind", "from", "to", "duration", "noise"},
                        {"from", "to", "duration"});
        read_number_into(check, node, path, "from", profile.from);
        read_number_into(check, node, path, "to", profile.to);
        read_seconds_into(check, node, path, "duration", profile.duration_seconds);
    } else if (kind == "step") {
        profile.kind = Profile::Kind::step;
        check.check_map(node, path, {"kind", "before", "after", "at", "noise"},
                        {"before", "after", "at"});
        read_number_into(check, node, path, "before", profile.before);
        read_number_into(check, node, path, "after", profile.after);
        read_seconds_into(check, node, path, "at", profile.at_seconds);
    } else if (kind == "sequence") {
        profile.kind = Profile::Kind::sequence;
        check.check_map(node, path, {"kind", "steps", "repeat", "noise"}, {"steps"});
        if (node["repeat"]) {
            assign(check.boolean(node["repeat"], Checker::child(path, "repeat")), profile.repeat);
        }
        if (node["steps"]) profile = read_sequence(check, node, path, profile);
    } else if (!kind.empty()) {
        check.fail(node["kind"], Checker::child(path, "kind"),
                   fmt::format("unknown profile kind '{}' (expected constant, sine, ramp, step, "
                               "sequence)",
                               kind));
    }
    read_number_into(check, node, path, "noise", profile.noise);
    if (profile.noise < 0.0) {
        check.fail(node["noise"], Checker::child(path, "noise"), "must not be negative");
    }
    return profile;
}

ValueSpec read_value(Checker& check, const YAML::Node& node, const std::string& path) {
    ValueSpec value;
    if (!check.check_map(node, path,
                         {"table", "address", "type", "order", "scale", "offset", "profile"},
                         {"table", "address", "profile"})) {
        return value;
    }
    if (const auto table = node["table"]) {
        const auto name = check.text(table, Checker::child(path, "table"));
        if (name) {
            if (auto parsed = modbus::table_from_name(*name)) {
                value.table = *parsed;
            } else {
                check.fail(table, Checker::child(path, "table"),
                           fmt::format("unknown table '{}' (expected {})", *name,
                                       join(modbus::table_names())));
            }
        }
    }
    const bool bits = modbus::is_bit_table(value.table);
    value.type = bits ? modbus::ValueType::boolean : modbus::ValueType::float32;
    if (const auto type = node["type"]) {
        const auto name = check.text(type, Checker::child(path, "type"));
        if (name) {
            if (auto parsed = modbus::type_from_name(*name)) {
                value.type = *parsed;
                if (bits && value.type != modbus::ValueType::boolean) {
                    check.fail(type, Checker::child(path, "type"),
                               fmt::format("a {} holds one bit: type must be bool",
                                           modbus::table_name(value.table)));
                }
            } else {
                check.fail(type, Checker::child(path, "type"),
                           fmt::format("unknown type '{}' (expected {})", *name,
                                       join(modbus::type_names())));
            }
        }
    }
    if (const auto order = node["order"]) {
        const auto name = check.text(order, Checker::child(path, "order"));
        if (name) {
            if (auto parsed = modbus::order_from_name(*name)) {
                value.order = *parsed;
            } else {
                check.fail(order, Checker::child(path, "order"),
                           fmt::format("unknown byte order '{}' (expected {})", *name,
                                       join(modbus::order_names())));
            }
        }
    }
    if (const auto address = node["address"]) {
        const auto width = modbus::width_of(value.type, value.table);
        const auto parsed =
            check.integer(address, Checker::child(path, "address"), 0, 65536 - width);
        if (parsed) value.address = static_cast<std::uint16_t>(*parsed);
    }
    read_number_into(check, node, path, "scale", value.scale);
    if (node["scale"] && value.scale == 0.0) {
        check.fail(node["scale"], Checker::child(path, "scale"), "must not be 0");
        value.scale = 1.0;
    }
    read_number_into(check, node, path, "offset", value.offset);
    if (const auto profile = node["profile"]) {
        value.profile = read_profile(check, profile, Checker::child(path, "profile"));
    }
    return value;
}

void check_overlaps(Checker& check, const YAML::Node& values_node, const std::string& path,
                    const std::vector<ValueSpec>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = values[i];
            const auto& b = values[j];
            if (a.table != b.table) continue;
            const int a_end = a.address + modbus::width_of(a.type, a.table);
            const int b_end = b.address + modbus::width_of(b.type, b.table);
            if (a.address < b_end && b.address < a_end) {
                check.fail(values_node[i], Checker::index(path, i),
                           fmt::format("overlaps values[{}] ({} {})", j,
                                       modbus::table_name(b.table), b.address));
            }
        }
    }
}

DeviceSpec read_device(Checker& check, const YAML::Node& node, const std::string& path) {
    DeviceSpec device;
    if (!check.check_map(node, path, {"name", "unit_id", "fault", "values"}, {"name", "unit_id"})) {
        return device;
    }
    if (const auto name = node["name"]) {
        assign(check.text(name, Checker::child(path, "name")), device.name);
        if (device.name.empty() || device.name.find_first_of(" \t") != std::string::npos) {
            check.fail(name, Checker::child(path, "name"),
                       "must be a non-empty name without blanks (it is used in control commands)");
        }
    }
    if (const auto unit = node["unit_id"]) {
        const auto parsed = check.integer(unit, Checker::child(path, "unit_id"), 1, 247);
        if (parsed) device.unit_id = static_cast<std::uint8_t>(*parsed);
    }
    if (const auto fault = node["fault"]) {
        const auto fault_path = Checker::child(path, "fault");
        if (const auto text = check.text(fault, fault_path)) {
            const auto words = split_words(*text);
            const auto parsed = parse_fault(words);
            if (!parsed.action) {
                check.fail(fault, fault_path, parsed.error);
            } else if (const auto* state = std::get_if<DeviceFault>(&*parsed.action)) {
                device.fault = *state;
            } else {
                check.fail(fault, fault_path,
                           "only none, no_reply, delay <duration> or exception <code> can be set "
                           "at start; 'disconnect' and 'value' are run-time commands (use a "
                           "constant profile to fix a value)");
            }
        }
    }
    if (const auto values = node["values"]) {
        const auto values_path = Checker::child(path, "values");
        if (!values.IsSequence()) {
            check.fail(values, values_path, "expected a list of values");
        } else {
            for (std::size_t i = 0; i < values.size(); ++i) {
                device.values.push_back(
                    read_value(check, values[i], Checker::index(values_path, i)));
            }
            check_overlaps(check, values, values_path, device.values);
        }
    }
    return device;
}

void read_transport(Checker& check, const YAML::Node& root, SimConfig& config) {
    if (const auto tcp = root["tcp"]) {
        TcpSpec spec;
        if (check.check_map(tcp, "tcp", {"host", "port"})) {
            if (tcp["host"]) assign(check.text(tcp["host"], "tcp.host"), spec.host);
            if (tcp["port"]) {
                const auto port = check.integer(tcp["port"], "tcp.port", 0, 65535);
                if (port) spec.port = static_cast<std::uint16_t>(*port);
            }
        }
        config.tcp = spec;
    }
    if (const auto rtu = root["rtu"]) {
        RtuSpec spec;
        if (check.check_map(rtu, "rtu", {"device", "baud", "parity", "data_bits", "stop_bits"},
                            {"device"})) {
            if (rtu["device"]) assign(check.text(rtu["device"], "rtu.device"), spec.device);
            if (rtu["baud"]) {
                const auto baud = check.integer(rtu["baud"], "rtu.baud", 1200, 4000000);
                if (baud) spec.baud = static_cast<int>(*baud);
            }
            if (rtu["parity"]) {
                const auto parity = check.text(rtu["parity"], "rtu.parity");
                if (parity == "none") {
                    spec.parity = 'N';
                } else if (parity == "even") {
                    spec.parity = 'E';
                } else if (parity == "odd") {
                    spec.parity = 'O';
                } else if (parity) {
                    check.fail(
                        rtu["parity"], "rtu.parity",
                        fmt::format("unknown parity '{}' (expected none, even, odd)", *parity));
                }
            }
            if (rtu["data_bits"]) {
                const auto bits = check.integer(rtu["data_bits"], "rtu.data_bits", 7, 8);
                if (bits) spec.data_bits = static_cast<int>(*bits);
            }
            if (rtu["stop_bits"]) {
                const auto bits = check.integer(rtu["stop_bits"], "rtu.stop_bits", 1, 2);
                if (bits) spec.stop_bits = static_cast<int>(*bits);
            }
        }
        config.rtu = spec;
    }
    if (config.tcp.has_value() == config.rtu.has_value()) {
        check.fail(root, "", "give exactly one transport: 'tcp' or 'rtu'");
    }
}

SimConfig read_config(const YAML::Node& root, Checker& check) {
    SimConfig config;
    if (!check.check_map(root, "", {"tcp", "rtu", "time_scale", "seed", "devices"}, {"devices"})) {
        return config;
    }
    read_transport(check, root, config);
    if (const auto scale = root["time_scale"]) {
        assign(check.number(scale, "time_scale"), config.time_scale);
        if (config.time_scale <= 0.0) {
            check.fail(scale, "time_scale", "must be greater than 0");
            config.time_scale = 1.0;
        }
    }
    if (const auto seed = root["seed"]) {
        const auto parsed = check.integer(seed, "seed", 0, std::numeric_limits<long long>::max());
        if (parsed) config.seed = static_cast<std::uint64_t>(*parsed);
    }
    const auto devices = root["devices"];
    if (devices && (!devices.IsSequence() || devices.size() == 0)) {
        check.fail(devices, "devices", "expected a non-empty list of devices");
    } else if (devices) {
        std::set<std::string> names;
        std::set<int> units;
        for (std::size_t i = 0; i < devices.size(); ++i) {
            const auto path = Checker::index("devices", i);
            auto device = read_device(check, devices[i], path);
            if (!device.name.empty() && !names.insert(device.name).second) {
                check.fail(devices[i]["name"], Checker::child(path, "name"),
                           fmt::format("device name '{}' is used twice", device.name));
            }
            if (devices[i].IsMap() && devices[i]["unit_id"] &&
                !units.insert(device.unit_id).second) {
                check.fail(devices[i]["unit_id"], Checker::child(path, "unit_id"),
                           fmt::format("unit id {} is used twice", device.unit_id));
            }
            config.devices.push_back(std::move(device));
        }
    }
    return config;
}

}  // namespace

std::string describe(const DeviceFault& fault) {
    switch (fault.kind) {
        case DeviceFault::Kind::none:
            return "none";
        case DeviceFault::Kind::no_reply:
            return "no_reply";
        case DeviceFault::Kind::delay:
            return "delay " + format_duration(fault.delay);
        case DeviceFault::Kind::exception:
            return fmt::format("exception {}", fault.exception_code);
    }
    return "none";
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream stream(line);
    std::string word;
    while (stream >> word) words.push_back(word);
    return words;
}

FaultParseResult parse_fault(std::span<const std::string> words) {
    constexpr std::string_view kExpected =
        "expected none, no_reply, delay <duration>, exception <1..11>, disconnect, or value "
        "<table> <address> <number>|profile";
    if (words.empty())
        return {std::nullopt, std::string("missing fault; ") + std::string(kExpected)};
    const auto& kind = words[0];
    const auto arity_error = [&](std::string_view usage) {
        return FaultParseResult{std::nullopt, fmt::format("usage: {}", usage)};
    };
    if (kind == "none" || kind == "no_reply") {
        if (words.size() != 1) return arity_error(kind);
        DeviceFault fault;
        fault.kind = kind == "none" ? DeviceFault::Kind::none : DeviceFault::Kind::no_reply;
        return {fault, {}};
    }
    if (kind == "delay") {
        if (words.size() != 2) return arity_error("delay <duration>, e.g. delay 800ms");
        const auto duration = parse_duration(words[1]);
        if (!duration || duration->count() <= 0) {
            return {std::nullopt,
                    fmt::format("'{}' is not a positive duration (e.g. 800ms, 2s)", words[1])};
        }
        return {DeviceFault{DeviceFault::Kind::delay, *duration, 0}, {}};
    }
    if (kind == "exception") {
        if (words.size() != 2) return arity_error("exception <code 1..11>");
        const auto code = parse_integer(words[1]);
        if (!code || *code < 1 || *code > 11) {
            return {std::nullopt,
                    fmt::format("'{}' is not a Modbus exception code from 1 to 11", words[1])};
        }
        return {
            DeviceFault{DeviceFault::Kind::exception, Millis(0), static_cast<std::uint8_t>(*code)},
            {}};
    }
    if (kind == "disconnect") {
        if (words.size() != 1) return arity_error("disconnect");
        return {DisconnectClients{}, {}};
    }
    if (kind == "value") {
        if (words.size() != 4) return arity_error("value <table> <address> <number>|profile");
        const auto table = modbus::table_from_name(words[1]);
        if (!table) {
            return {std::nullopt, fmt::format("unknown table '{}' (expected {})", words[1],
                                              join(modbus::table_names()))};
        }
        const auto address = parse_integer(words[2]);
        if (!address || *address < 0 || *address > 65535) {
            return {std::nullopt, fmt::format("'{}' is not an address from 0 to 65535", words[2])};
        }
        PinValue pin{*table, static_cast<std::uint16_t>(*address), std::nullopt};
        if (words[3] != "profile") {
            pin.value = parse_number(words[3]);
            if (!pin.value) {
                return {std::nullopt, fmt::format("'{}' is not a number (or 'profile')", words[3])};
            }
        }
        return {pin, {}};
    }
    return {std::nullopt, fmt::format("unknown fault '{}' ({})", kind, kExpected)};
}

const DeviceSpec* SimConfig::find_device(std::string_view name) const {
    for (const auto& device : devices) {
        if (device.name == name) return &device;
    }
    return nullptr;
}

SimConfigError::SimConfigError(std::vector<std::string> lines)
    : std::runtime_error([&] {
          std::string text;
          for (const auto& line : lines) text += line + "\n";
          return text;
      }()),
      lines_(std::move(lines)) {}

SimConfig parse_sim_config(const std::string& text, const std::string& name) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& error) {
        throw SimConfigError({fmt::format("{}:{}:{}: not valid YAML: {}", name, error.mark.line + 1,
                                          error.mark.column + 1, error.msg)});
    }
    Checker check(name);
    auto config = read_config(root, check);
    if (!check.issues().empty()) throw SimConfigError(check.issues());
    config.source_path = name;
    return config;
}

SimConfig load_sim_config(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw SimConfigError({fmt::format("{}: cannot read the config file", path)});
    std::stringstream text;
    text << file.rdbuf();
    return parse_sim_config(text.str(), path);
}

}  // namespace fw::sim
