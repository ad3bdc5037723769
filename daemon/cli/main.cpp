// floorwatch — the command-line tool for people on the floor and plant IT. Reads the store
// read-only (the daemon owns all writes), so it works whether or not floorwatchd is running.

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/store.hpp"
#include "daemon/version.hpp"

namespace {

constexpr std::string_view kDefaultDb = "/var/lib/floorwatch/floorwatch.db";
constexpr std::string_view kDefaultConfig = "/etc/floorwatch/floorwatch.yaml";

constexpr std::string_view kUsage = R"(usage: floorwatch COMMAND [options]

Commands:
  samples  --channel NAME [--since 10m|TIME] [--until TIME] [--limit N] [--json]
           readings of one channel, oldest first (default: the last 10 minutes)
  channels [--json]   every channel with its equipment, unit, sample count and latest reading
  devices  [--json]   health of every polled device and MQTT broker connection
  events   [--since 1h|TIME] [--until TIME] [--name NAME] [--limit N] [--json]
           plant events (material_arrival, ...), oldest first (default: the last hour)
  mqtt     [--json]   MQTT connections and per-input counters: received, accepted, rejected
                      by reason, last rejection
  version

Where the store is: --db FILE, or --config FILE (its store.path); default
/etc/floorwatch/floorwatch.yaml if it exists, else /var/lib/floorwatch/floorwatch.db.
TIME is a duration ago (30s, 10m, 2h, 7d) or UTC as 2026-11-29T08:00:00Z.
)";

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string command;
    std::map<std::string, std::string, std::less<>> values;  // --key value
    bool json = false;

    std::optional<std::string> get(std::string_view key) const {
        const auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
};

Options parse_options(int argc, char** argv, const std::vector<std::string_view>& allowed) {
    Options options;
    if (argc < 2) throw UsageError("no command given");
    options.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--json") {
            options.json = true;
            continue;
        }
        if (!arg.starts_with("--")) throw UsageError(fmt::format("unexpected argument '{}'", arg));
        const std::string key(arg.substr(2));
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end() && key != "db" &&
            key != "config") {
            throw UsageError(fmt::format("unknown option '--{}' for '{}'", key, options.command));
        }
        if (i + 1 >= argc) throw UsageError(fmt::format("option '--{}' needs a value", key));
        options.values[key] = argv[++i];
    }
    return options;
}

std::string store_path(const Options& options) {
    if (auto db = options.get("db")) return *db;
    auto config_path = options.get("config");
    if (!config_path && std::filesystem::exists(kDefaultConfig)) {
        config_path = std::string(kDefaultConfig);
    }
    if (config_path) {
        try {
            return fw::load_config(*config_path).store.path;
        } catch (const fw::ConfigError& error) {
            std::string message = fmt::format("cannot read the store path from {}:", *config_path);
            for (const auto& issue : error.issues()) message += "\n  " + issue.to_string();
            throw std::runtime_error(message);
        }
    }
    return std::string(kDefaultDb);
}

std::string format_time(std::int64_t time_ms) {
    const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    return fmt::format("{}.{:03}Z", stamp, time_ms % 1000);
}

// A duration ago ("10m") or an absolute UTC time ("2026-11-29T08:00:00Z", seconds optional).
std::int64_t parse_time(const std::string& text, std::int64_t now_ms) {
    if (const auto ago = fw::parse_duration(text)) return now_ms - ago->count();
    std::tm utc{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
    if (end == nullptr) end = strptime(text.c_str(), "%Y-%m-%dT%H:%M", &utc);
    if (end == nullptr || !(*end == '\0' || (*end == 'Z' && end[1] == '\0'))) {
        throw UsageError(fmt::format(
            "'{}' is neither a duration (10m, 2h, 7d) nor a UTC time (2026-11-29T08:00:00Z)", text));
    }
    return static_cast<std::int64_t>(timegm(&utc)) * 1000;
}

std::string format_value(const std::optional<double>& value) {
    if (!value) return "-";
    return fmt::format("{:.6g}", *value);
}

boost::json::value json_value(const std::optional<double>& value) {
    if (!value) return nullptr;
    return *value;
}

int cmd_samples(const Options& options) {
    const auto channel = options.get("channel");
    if (!channel) throw UsageError("samples needs --channel NAME (see 'floorwatch channels')");
    const std::int64_t now = fw::wall_now_ms();
    const std::int64_t since = parse_time(options.get("since").value_or("10m"), now);
    const std::int64_t until =
        options.get("until") ? parse_time(*options.get("until"), now) : now + 1;
    std::size_t limit = 10000;
    if (auto text = options.get("limit")) {
        try {
            limit = std::stoul(*text);
        } catch (const std::exception&) {
            throw UsageError(fmt::format("--limit needs a positive number, got '{}'", *text));
        }
    }

    auto reader = fw::store::Reader::open(store_path(options));
    if (!reader->has_channel(*channel)) {
        std::string known;
        for (const auto& row : reader->channels()) {
            known += known.empty() ? "" : ", ";
            known += row.info.name;
        }
        throw std::runtime_error(fmt::format("no channel '{}' in the store (known: {})", *channel,
                                             known.empty() ? "none yet" : known));
    }
    const auto samples = reader->samples(*channel, since, until, limit);
    if (options.json) {
        boost::json::array rows;
        for (const auto& sample : samples) {
            rows.push_back(boost::json::object{{"channel", *channel},
                                               {"time", format_time(sample.time_ms)},
                                               {"time_ms", sample.time_ms},
                                               {"value", json_value(sample.value)},
                                               {"quality", fw::quality_name(sample.quality)}});
        }
        std::cout << boost::json::serialize(rows) << '\n';
        return 0;
    }
    std::string unit;
    for (const auto& row : reader->channels()) {
        if (row.info.name == *channel) unit = row.info.unit;
    }
    std::cout << fmt::format("{:<24}  {:>12}  {:<8}  {}\n", "TIME (UTC)", "VALUE", "UNIT",
                             "QUALITY");
    for (const auto& sample : samples) {
        std::cout << fmt::format("{:<24}  {:>12}  {:<8}  {}\n", format_time(sample.time_ms),
                                 format_value(sample.value), unit,
                                 fw::quality_name(sample.quality));
    }
    if (samples.empty()) std::cerr << "no samples of " << *channel << " in that time range\n";
    return 0;
}

int cmd_channels(const Options& options) {
    auto reader = fw::store::Reader::open(store_path(options));
    const auto rows = reader->channels();
    boost::json::array json_rows;
    if (!options.json) {
        std::cout << fmt::format("{:<24} {:<12} {:<10} {:<6} {:>9}  {:<24} {:>10}  {}\n",
                                 "CHANNEL", "EQUIPMENT", "AREA", "UNIT", "SAMPLES",
                                 "LATEST (UTC)", "VALUE", "QUALITY");
    }
    for (const auto& row : rows) {
        const auto latest = reader->samples(row.info.name, 0, fw::wall_now_ms() + 1, 1);
        const fw::store::StoredSample* last = latest.empty() ? nullptr : &latest.back();
        if (options.json) {
            boost::json::object object{{"channel", row.info.name},
                                       {"equipment", row.info.equipment},
                                       {"area", row.info.area},
                                       {"unit", row.info.unit},
                                       {"source", row.info.source},
                                       {"samples", row.sample_count}};
            if (last) {
                object["latest"] = boost::json::object{
                    {"time", format_time(last->time_ms)},
                    {"time_ms", last->time_ms},
                    {"value", json_value(last->value)},
                    {"quality", fw::quality_name(last->quality)}};
            }
            json_rows.push_back(std::move(object));
            continue;
        }
        std::cout << fmt::format("{:<24} {:<12} {:<10} {:<6} {:>9}  {:<24} {:>10}  {}\n",
                                 row.info.name, row.info.equipment, row.info.area, row.info.unit,
                                 row.sample_count, last ? format_time(last->time_ms) : "-",
                                 last ? format_value(last->value) : "-",
                                 last ? fw::quality_name(last->quality) : "-");
    }
    if (options.json) std::cout << boost::json::serialize(json_rows) << '\n';
    return 0;
}

int cmd_devices(const Options& options) {
    auto reader = fw::store::Reader::open(store_path(options));
    const auto devices = reader->device_health();
    if (options.json) {
        boost::json::array rows;
        for (const auto& device : devices) {
            rows.push_back(boost::json::object{
                {"driver", device.driver},
                {"bus", device.bus},
                {"device", device.device},
                {"online", device.online},
                {"last_error", device.last_error},
                {"last_change", device.last_change_ms ? format_time(device.last_change_ms) : ""},
                {"last_success",
                 device.last_success_ms ? format_time(device.last_success_ms) : ""},
                {"poll_interval_ms", device.poll_interval_ms},
                {"polls", device.polls},
                {"polls_failed", device.polls_failed},
                {"requests", device.requests},
                {"timeouts", device.timeouts},
                {"exceptions", device.exceptions},
                {"reconnects", device.reconnects},
                {"samples", device.samples}});
        }
        std::cout << boost::json::serialize(rows) << '\n';
        return 0;
    }
    if (devices.empty()) {
        std::cout << "no device health recorded yet (is floorwatchd running with Modbus buses or "
                     "MQTT brokers?)\n";
        return 0;
    }
    std::cout << fmt::format("{:<8} {:<10} {:<20} {:<8} {:<24} {:>8} {:>7} {:>8} {:>6} {:>6} "
                             "{:>9}  {}\n",
                             "DRIVER", "BUS", "DEVICE", "STATE", "LAST OK (UTC)", "POLLS",
                             "FAILED", "TIMEOUTS", "EXC", "RECONN", "INTERVAL", "LAST ERROR");
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

std::size_t parse_limit(const Options& options) {
    std::size_t limit = 10000;
    if (auto text = options.get("limit")) {
        try {
            limit = std::stoul(*text);
        } catch (const std::exception&) {
            throw UsageError(fmt::format("--limit needs a positive number, got '{}'", *text));
        }
    }
    return limit;
}

int cmd_events(const Options& options) {
    const std::int64_t now = fw::wall_now_ms();
    const std::int64_t since = parse_time(options.get("since").value_or("1h"), now);
    const std::int64_t until =
        options.get("until") ? parse_time(*options.get("until"), now) : now + 1;
    const std::string name = options.get("name").value_or("");
    auto reader = fw::store::Reader::open(store_path(options));
    const auto events = reader->events(since, until, name, parse_limit(options));
    if (options.json) {
        boost::json::array rows;
        for (const auto& row : events) {
            boost::system::error_code error;
            boost::json::value attributes = boost::json::parse(row.event.attributes, error);
            if (error) attributes = boost::json::object();
            rows.push_back(boost::json::object{{"id", row.id},
                                               {"name", row.event.name},
                                               {"time", format_time(row.event.time_ms)},
                                               {"time_ms", row.event.time_ms},
                                               {"equipment", row.event.equipment},
                                               {"area", row.event.area},
                                               {"source", row.event.source},
                                               {"attributes", std::move(attributes)}});
        }
        std::cout << boost::json::serialize(rows) << '\n';
        return 0;
    }
    std::cout << fmt::format("{:<24}  {:<24} {:<12} {:<10} {}\n", "TIME (UTC)", "EVENT",
                             "EQUIPMENT", "AREA", "ATTRIBUTES");
    for (const auto& row : events) {
        std::cout << fmt::format(
            "{:<24}  {:<24} {:<12} {:<10} {}\n", format_time(row.event.time_ms), row.event.name,
            row.event.equipment.empty() ? "-" : row.event.equipment,
            row.event.area.empty() ? "-" : row.event.area, row.event.attributes);
    }
    if (events.empty()) std::cerr << "no plant events in that time range\n";
    return 0;
}

int cmd_mqtt(const Options& options) {
    auto reader = fw::store::Reader::open(store_path(options));
    std::vector<fw::DeviceHealth> connections;
    for (auto& device : reader->device_health()) {
        if (device.driver == "mqtt") connections.push_back(std::move(device));
    }
    const auto inputs = reader->input_health();
    if (options.json) {
        boost::json::array broker_rows;
        for (const auto& connection : connections) {
            boost::json::array input_rows;
            for (const auto& input : inputs) {
                if (input.connection != connection.bus) continue;
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
            broker_rows.push_back(boost::json::object{
                {"broker", connection.bus},
                {"connected", connection.online},
                {"last_error", connection.last_error},
                {"last_change",
                 connection.last_change_ms ? format_time(connection.last_change_ms) : ""},
                {"connect_attempts", connection.requests},
                {"reconnects", connection.reconnects},
                {"messages", connection.polls},
                {"inputs", std::move(input_rows)}});
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
            "broker {}: {}{}; {} connect attempt(s), {} reconnect(s), {} "
            "message(s)\n",
            connection.bus, connection.online ? "connected" : "DISCONNECTED",
            connection.last_error.empty() ? "" : " (" + connection.last_error + ")",
            connection.requests, connection.reconnects, connection.polls);
        std::cout << fmt::format("  {:<20} {:<32} {:>9} {:>9} {:>9}  {}\n", "INPUT", "TOPIC",
                                 "RECEIVED", "ACCEPTED", "REJECTED", "REJECTED BY REASON");
        for (const auto& input : inputs) {
            if (input.connection != connection.bus) continue;
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

int main(int argc, char** argv) {
    const std::string_view command = argc >= 2 ? argv[1] : "";
    try {
        if (command == "samples") {
            return cmd_samples(parse_options(argc, argv, {"channel", "since", "until", "limit"}));
        }
        if (command == "channels") return cmd_channels(parse_options(argc, argv, {}));
        if (command == "devices") return cmd_devices(parse_options(argc, argv, {}));
        if (command == "events") {
            return cmd_events(parse_options(argc, argv, {"since", "until", "name", "limit"}));
        }
        if (command == "mqtt") return cmd_mqtt(parse_options(argc, argv, {}));
        if (command == "version" || command == "--version") {
            std::cout << "floorwatch " << fw::kVersion << '\n';
            return 0;
        }
        if (command == "help" || command == "--help" || command == "-h") {
            std::cout << kUsage;
            return 0;
        }
        throw UsageError(command.empty() ? "no command given"
                                         : fmt::format("unknown command '{}'", command));
    } catch (const UsageError& error) {
        std::cerr << "floorwatch: " << error.what() << "\n\n" << kUsage;
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "floorwatch: " << error.what() << '\n';
        return 1;
    }
}
