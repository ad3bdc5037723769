#include "daemon/cli/readings.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "daemon/cli/common.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/store.hpp"

namespace fw::cli {
namespace {

struct SamplesOptions : TimeRangeOptions {
    std::optional<std::string> channel;
};

struct EventsOptions : TimeRangeOptions {
    std::optional<std::string> name;
};

int show_samples(const SamplesOptions& options) {
    const auto& channel = options.channel;
    if (!channel) throw UsageError("samples needs --channel NAME (see 'floorwatch channels')");
    const std::int64_t now = fw::wall_now_ms();
    const std::int64_t since = parse_time(options.since, now);
    const std::int64_t until = options.until ? parse_time(*options.until, now) : now + 1;
    const std::size_t limit = options.limit;

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

int show_channels(const CommonOptions& options) {
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

int show_events(const EventsOptions& options) {
    const std::int64_t now = fw::wall_now_ms();
    const std::int64_t since = parse_time(options.since, now);
    const std::int64_t until = options.until ? parse_time(*options.until, now) : now + 1;
    const std::string name = options.name.value_or("");
    auto reader = fw::store::Reader::open(store_path(options));
    const auto events = reader->events(since, until, name, options.limit);
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

}  // namespace

void add_readings_commands(CLI::App& root, CommandTable& commands) {
    auto samples = add_command(commands, root, "samples", "readings of one channel, oldest first",
                               show_samples);
    samples.app
        .add_option("--channel", samples.options.channel,
                    "the channel, e.g. press2.vibration (see floorwatch channels)")
        ->type_name("NAME");
    add_time_range_options(samples.app, samples.options, "10m", "readings");
    samples.app.group("Readings");

    auto channels =
        add_command(commands, root, "channels",
                    "every channel: equipment, unit, sample count, latest reading", show_channels);
    channels.app.group("Readings");

    auto events = add_command(commands, root, "events",
                              "plant events (material_arrival, ...), oldest first", show_events);
    add_time_range_options(events.app, events.options, "1h", "events");
    events.app.add_option("--name", events.options.name, "only events of this name")
        ->type_name("NAME");
    events.app.group("Readings");
}

}  // namespace fw::cli
