#include "tests/sim/sim_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/config/option_table.hpp"
#include "daemon/core/units.hpp"

namespace fw::sim {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

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

double seconds_of(Millis duration) {
    return static_cast<double>(duration.count()) / 1000.0;
}

// --- the config file, declared with the daemon's option tables (daemon/config/README.md) -------

constexpr std::array<std::string_view, 5> kProfileKindNames{"constant", "sine", "ramp", "step",
                                                            "sequence"};

std::optional<Profile::Kind> profile_kind_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kProfileKindNames.size(); ++i) {
        if (kProfileKindNames[i] == name) return static_cast<Profile::Kind>(i);
    }
    return std::nullopt;
}

// The keys each kind takes besides `kind` and `noise`, and which of them it needs.
struct KindKeys {
    std::vector<std::string_view> allowed;
    std::vector<std::string_view> required;
};

KindKeys keys_of(Profile::Kind kind) {
    switch (kind) {
        case Profile::Kind::constant:
            return {{"value"}, {"value"}};
        case Profile::Kind::sine:
            return {{"mean", "amplitude", "period"}, {"mean", "amplitude", "period"}};
        case Profile::Kind::ramp:
            return {{"from", "to", "duration"}, {"from", "to", "duration"}};
        case Profile::Kind::step:
            return {{"before", "after", "at"}, {"before", "after", "at"}};
        case Profile::Kind::sequence:
            return {{"steps", "repeat"}, {"steps"}};
    }
    return {};
}

Section<SequenceStep> step_section() {
    Section<SequenceStep> section;
    section.number(
        "value", [](SequenceStep& step, double value) { step.from = step.to = value; },
        "Holds this value for the step.");
    section.number("from", &SequenceStep::from, "Ramps from this value to `to` over the step.");
    section.number("to", &SequenceStep::to, "The value at the end of the step.");
    section
        .duration(
            "for", [](SequenceStep& step, Millis duration) { step.seconds = seconds_of(duration); },
            "How long the step lasts.")
        .required();
    section.finish_with([](SequenceStep&, const std::string& path, Reader& reader) {
        const bool has_value = reader.present(join_path(path, "value"));
        const bool has_from = reader.present(join_path(path, "from"));
        const bool has_to = reader.present(join_path(path, "to"));
        if (has_value && (has_from || has_to)) {
            reader.issue(path, "give either 'value' or 'from' and 'to'");
        } else if (!has_value && !(has_from && has_to)) {
            reader.issue(path, "a step needs 'value' or both 'from' and 'to'");
        }
    });
    return section;
}

// Every kind's keys in one section; which of them a profile may have depends on its kind, so the
// finisher refuses the others.
Section<Profile> profile_section() {
    Section<Profile> section;
    section
        .enumeration("kind", &Profile::kind, kProfileKindNames, &profile_kind_from_name,
                     "How the value moves.")
        .called("profile kind")
        .required();
    section.number("value", &Profile::value, "constant: the value.");
    section.number("mean", &Profile::mean, "sine: the middle value.");
    section.number("amplitude", &Profile::amplitude, "sine: the swing each way.");
    section
        .duration(
            "period",
            [](Profile& profile, Millis period) { profile.period_seconds = seconds_of(period); },
            "sine: one full cycle.")
        .at_least(1ms);
    section.number("from", &Profile::from, "ramp: the start value.");
    section.number("to", &Profile::to, "ramp: the end value, held after the ramp.");
    section.duration(
        "duration",
        [](Profile& profile, Millis duration) { profile.duration_seconds = seconds_of(duration); },
        "ramp: how long the ramp takes.");
    section.number("before", &Profile::before, "step: the value until `at`.");
    section.number("after", &Profile::after, "step: the value from `at` on.");
    section.duration(
        "at", [](Profile& profile, Millis at) { profile.at_seconds = seconds_of(at); },
        "step: when the step happens.");
    section.list("steps", &Profile::steps, step_section(), "sequence: the steps in order.")
        .min_items(1);
    section.boolean("repeat", &Profile::repeat, "sequence: start over after the last step.");
    section.number("noise", &Profile::noise, "Standard deviation of Gaussian noise; 0 = exact.")
        .at_least(0);
    section.finish_with([keys = section.shape().keys()](Profile& profile, const std::string& path,
                                                        Reader& reader) {
        const std::string kind_path = join_path(path, "kind");
        if (!reader.present(kind_path) || reader.failed(kind_path)) return;
        const auto kind_keys = keys_of(profile.kind);
        const std::string_view kind_name =
            kProfileKindNames[static_cast<std::size_t>(profile.kind)];
        for (const auto& key : keys) {
            const bool applies =
                key == "kind" || key == "noise" ||
                std::ranges::find(kind_keys.allowed, key) != kind_keys.allowed.end();
            if (!applies && reader.present(join_path(path, key))) {
                reader.issue(join_path(path, key),
                             fmt::format("'{}' does not apply to a {} profile (it takes {})", key,
                                         kind_name, fmt::join(kind_keys.allowed, ", ")));
            }
        }
        for (const auto key : kind_keys.required) {
            if (!reader.present(join_path(path, key))) {
                reader.issue(
                    path, fmt::format("missing required key '{}' (a {} profile)", key, kind_name));
            }
        }
    });
    return section;
}

void finish_value(ValueSpec& value, const std::string& path, Reader& reader) {
    const std::string table_path = join_path(path, "table");
    const std::string type_path = join_path(path, "type");
    const std::string address_path = join_path(path, "address");
    const bool bits = modbus::is_bit_table(value.table);
    if (!reader.present(type_path)) {
        value.type = bits ? modbus::ValueType::boolean : modbus::ValueType::float32;
    } else if (!reader.failed(type_path) && !reader.failed(table_path) && bits &&
               value.type != modbus::ValueType::boolean) {
        reader.issue(type_path, fmt::format("a {} holds one bit: type must be bool",
                                            modbus::table_name(value.table)));
        return;
    }
    if (reader.failed(type_path) || !reader.present(address_path) || reader.failed(address_path)) {
        return;
    }
    const unsigned width = modbus::width_of(value.type, value.table);
    if (value.address + width > 65536) {
        reader.issue(address_path, fmt::format("must be at most {} for a {} ({} registers), got {}",
                                               65536 - width, modbus::type_name(value.type), width,
                                               value.address));
    }
}

Section<ValueSpec> value_section() {
    Section<ValueSpec> section;
    section
        .enumeration("table", &ValueSpec::table, modbus::table_names(), &modbus::table_from_name,
                     "Modbus table the value is served from.")
        .required();
    section.integer("address", &ValueSpec::address, "0-based protocol address.").required();
    section
        .enumeration("type", &ValueSpec::type, modbus::type_names(), &modbus::type_from_name,
                     "Value type. Default: bool in bit tables, float32 in register tables.")
        .no_default();
    section
        .enumeration("order", &ValueSpec::order, modbus::order_names(), &modbus::order_from_name,
                     "Byte order of multi-register values.")
        .called("byte order");
    section.number("scale", &ValueSpec::scale, "The register holds (value - offset) / scale.")
        .not_zero();
    section.number("offset", &ValueSpec::offset, "The register holds (value - offset) / scale.");
    section.section("profile", &ValueSpec::profile, profile_section(), "How the value moves.")
        .required();
    section.finish_with(finish_value);
    return section;
}

// Values of one table may not share a register or bit.
void check_overlaps(const DeviceSpec& device, const std::string& path, Reader& reader) {
    const std::string values_path = join_path(path, "values");
    for (std::size_t i = 0; i < device.values.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = device.values[i];
            const auto& b = device.values[j];
            if (a.table != b.table) continue;
            const int a_end = a.address + modbus::width_of(a.type, a.table);
            const int b_end = b.address + modbus::width_of(b.type, b.table);
            if (a.address < b_end && b.address < a_end) {
                reader.issue(index_path(values_path, i),
                             fmt::format("overlaps values[{}] ({} {})", j,
                                         modbus::table_name(b.table), b.address));
            }
        }
    }
}

void finish_device(DeviceSpec& device, const std::string& path, Reader& reader) {
    const std::string fault_path = join_path(path, "fault");
    if (reader.present(fault_path) && !reader.failed(fault_path)) {
        const auto parsed = parse_fault(split_words(device.fault_text));
        if (!parsed.action) {
            reader.issue(fault_path, parsed.error);
        } else if (const auto* state = std::get_if<DeviceFault>(&*parsed.action)) {
            device.fault = *state;
        } else {
            reader.issue(fault_path,
                         "only none, no_reply, delay <duration> or exception <code> can be set at "
                         "start; 'disconnect' and 'value' are run-time commands (use a constant "
                         "profile to fix a value)");
        }
    }
    check_overlaps(device, path, reader);
}

Section<DeviceSpec> device_section() {
    Section<DeviceSpec> section;
    section.string("name", &DeviceSpec::name, "Device name, used in control commands and logs.")
        .required()
        .pattern("^[^ \t]+$", "a name without blanks (it is used in control commands)");
    section.integer("unit_id", &DeviceSpec::unit_id, "Modbus unit id, unique.")
        .required()
        .between(1, 247);
    section.string("fault", &DeviceSpec::fault_text,
                   "At start: none, no_reply, delay <duration> or exception <1..11>.");
    section.list("values", &DeviceSpec::values, value_section(), "Values the device serves.");
    section.finish_with(finish_device);
    return section;
}

Section<TcpSpec> tcp_section() {
    Section<TcpSpec> section;
    section.string("host", &TcpSpec::host, "Address to listen on.");
    section.integer("port", &TcpSpec::port, "TCP port; 0 picks a free one (see --ready-file).");
    return section;
}

constexpr std::array<std::string_view, 3> kParityNames{"none", "even", "odd"};

// As libmodbus takes it: 'N', 'E' or 'O'.
std::optional<char> parity_from_name(std::string_view name) {
    constexpr std::array<char, 3> kParityLetters{'N', 'E', 'O'};
    for (std::size_t i = 0; i < kParityNames.size(); ++i) {
        if (kParityNames[i] == name) return kParityLetters[i];
    }
    return std::nullopt;
}

Section<RtuSpec> rtu_section() {
    Section<RtuSpec> section;
    section.string("device", &RtuSpec::device, "Serial device (a pty works).").required();
    section.integer("baud", &RtuSpec::baud, "Line speed in baud.").between(1200, 4000000);
    section.enumeration("parity", &RtuSpec::parity, kParityNames, &parity_from_name, "Parity bit.");
    section.integer("data_bits", &RtuSpec::data_bits, "Data bits per character.").between(7, 8);
    section.integer("stop_bits", &RtuSpec::stop_bits, "Stop bits per character.").between(1, 2);
    return section;
}

// Device names and unit ids are unique: control commands name devices, requests address units.
void check_devices(const SimConfig& config, Reader& reader) {
    std::set<std::string, std::less<>> names;
    std::set<int> units;
    for (std::size_t i = 0; i < config.devices.size(); ++i) {
        const auto& device = config.devices[i];
        const std::string path = index_path("devices", i);
        if (!device.name.empty() && !names.insert(device.name).second) {
            reader.issue(join_path(path, "name"),
                         fmt::format("device name '{}' is used twice", device.name));
        }
        const std::string unit_path = join_path(path, "unit_id");
        if (reader.present(unit_path) && !reader.failed(unit_path) &&
            !units.insert(device.unit_id).second) {
            reader.issue(unit_path, fmt::format("unit id {} is used twice", device.unit_id));
        }
    }
}

const Section<SimConfig>& sim_section() {
    static const Section<SimConfig> kSection = [] {
        Section<SimConfig> root;
        root.section<TcpSpec>(
            "tcp", tcp_section(), [](SimConfig& config, TcpSpec&& tcp) { config.tcp = tcp; },
            "Serve Modbus TCP. Exactly one of tcp and rtu.");
        root.section<RtuSpec>(
            "rtu", rtu_section(), [](SimConfig& config, RtuSpec&& rtu) { config.rtu = rtu; },
            "Serve Modbus RTU on a serial line. Exactly one of tcp and rtu.");
        root.number("time_scale", &SimConfig::time_scale,
                    "Profile time runs this many times faster.");
        root.integer("seed", &SimConfig::seed, "Noise generator seed; same seed, same values.");
        root.list("devices", &SimConfig::devices, device_section(), "The simulated devices.")
            .required()
            .min_items(1);
        root.finish_with([](SimConfig& config, const std::string& path, Reader& reader) {
            if (config.tcp.has_value() == config.rtu.has_value()) {
                reader.issue(path, "give exactly one transport: 'tcp' or 'rtu'");
            }
            if (!reader.failed("time_scale") && config.time_scale <= 0.0) {
                reader.issue("time_scale", "must be greater than 0");
            }
            check_devices(config, reader);
        });
        return root;
    }();
    return kSection;
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
    Reader reader(name);
    SimConfig config;
    sim_section().read(root, "", config, reader);
    if (reader.has_issues()) {
        std::vector<std::string> lines;
        for (const auto& issue : reader.take_issues()) lines.push_back(issue.to_string());
        throw SimConfigError(std::move(lines));
    }
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
