// floorwatch — the command-line tool for people on the floor and plant IT. Reads the store
// read-only (the daemon owns all writes), so it works whether or not floorwatchd is running.

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cli/alarms.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/cli/orders.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/store.hpp"
#include "daemon/version.hpp"

namespace {

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
  alarms   [--all] [--json]
           alarms that are not normal (--all: every alarm): state, severity, value, since when
  alarms history [--since 24h|TIME] [--until TIME] [--rule ID] [--equipment ID] [--limit N]
           [--json]   every alarm state change, oldest first
  alarm ack RULE EQUIPMENT                     acknowledge
  alarm shelve RULE EQUIPMENT --for 2h --reason TEXT
  alarm unshelve RULE EQUIPMENT
  alarm disable RULE EQUIPMENT --reason TEXT   take out of service (maintenance)
  alarm enable RULE EQUIPMENT                  return to service
           these ask the running daemon over its control socket (--socket PATH, or the
           config's control.socket); shelving and service changes need team_lead, safety,
           manager or admin when workflow.users is configured
  orders [list] [--state S] [--equipment ID] [--assignee USER] [--overdue] [--all] [--json]
           hazard work orders (open ones unless --all or --state)
  orders show N [--json]       one order (N: number such as PRS-20261129-0042, or id) with its
                               full timeline
  orders act N approve|dismiss|assign|reassign|submit|accept|reject|escalate
           [--reason TEXT] [--kind false_alarm|duplicate] [--assignee USER]
           [--deadline 3d|TIME] [--note TEXT] [--photo FILE[,FILE]]
  orders attachment SHA256 --out FILE          save an attached photo
  report   --type TYPE (--equipment ID | --area AREA) --description TEXT [--risk R]
           [--title T] [--measures TEXT] [--photo FILE] [--anonymous]   report a hazard
  report weekly [--until TIME]                 Markdown: top risk points, to-do list, KPIs
  verify   [--json]    re-compute every order's hash chain; exit 1 on any break
  kpi      [--since TIME] [--until TIME] [--area AREA] [--json]
  incidents record --description TEXT [--at TIME] [--area AREA]
  incidents hours --since TIME --until TIME --hours N [--area AREA]
  incidents list [--json]
           orders act, report, incidents record/hours ask the daemon (--socket PATH); who may
           do what comes from workflow.users (your uid) and is checked by the daemon
  version

Where the store is: --db FILE, or --config FILE (its store.path); default
/etc/floorwatch/floorwatch.yaml if it exists, else /var/lib/floorwatch/floorwatch.db.
TIME is a duration ago (30s, 10m, 2h, 7d) or UTC as 2026-11-29T08:00:00Z.
)";

using fw::cli::format_time;
using fw::cli::format_value;
using fw::cli::json_value;
using fw::cli::Options;
using fw::cli::OptionSpec;
using fw::cli::parse_limit;
using fw::cli::parse_options;
using fw::cli::parse_time;
using fw::cli::store_path;
using fw::cli::UsageError;

int cmd_samples(const Options& options) {
    const auto channel = options.get("channel");
    if (!channel) throw UsageError("samples needs --channel NAME (see 'floorwatch channels')");
    const std::int64_t now = fw::wall_now_ms();
    const std::int64_t since = parse_time(options.get("since").value_or("10m"), now);
    const std::int64_t until =
        options.get("until") ? parse_time(*options.get("until"), now) : now + 1;
    const std::size_t limit = parse_limit(options);

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
        std::cout << fmt::format("{:<24} {:<12} {:<10} {:<6} {:>9}  {:<24} {:>10}  {}\n", "CHANNEL",
                                 "EQUIPMENT", "AREA", "UNIT", "SAMPLES", "LATEST (UTC)", "VALUE",
                                 "QUALITY");
    }
    for (const auto& row : rows) {
        const auto latest = reader->samples(row.info.name, 0, fw::wall_now_ms() + 1, 1);
        const fw::store::StoredSample* last = latest.empty() ? nullptr : &latest.back();
        if (options.json) {
            boost::json::object object{
                {"channel", row.info.name},  {"equipment", row.info.equipment},
                {"area", row.info.area},     {"unit", row.info.unit},
                {"source", row.info.source}, {"samples", row.sample_count}};
            if (last) {
                object["latest"] =
                    boost::json::object{{"time", format_time(last->time_ms)},
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
                {"last_success", device.last_success_ms ? format_time(device.last_success_ms) : ""},
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
        if (command == "channels") return cmd_channels(parse_options(argc, argv, OptionSpec{}));
        if (command == "devices") return cmd_devices(parse_options(argc, argv, OptionSpec{}));
        if (command == "events") {
            return cmd_events(parse_options(argc, argv, {"since", "until", "name", "limit"}));
        }
        if (command == "mqtt") return cmd_mqtt(parse_options(argc, argv, OptionSpec{}));
        if (command == "alarms") return fw::cli::run_alarms_command(argc, argv);
        if (command == "alarm") return fw::cli::run_alarm_command(argc, argv);
        if (command == "orders") return fw::cli::run_orders_command(argc, argv);
        if (command == "report") return fw::cli::run_report_command(argc, argv);
        if (command == "verify") return fw::cli::run_verify_command(argc, argv);
        if (command == "kpi") return fw::cli::run_kpi_command(argc, argv);
        if (command == "incidents") return fw::cli::run_incidents_command(argc, argv);
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
