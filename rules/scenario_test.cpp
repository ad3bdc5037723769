// Scenario tests as data: every folder under rules/testcases holds floorwatch.yaml (a complete
// config, loaded with the real loader), input.csv (timed samples, plant events, operator commands,
// clock ticks and restarts) and expected.jsonl (the alarm events, one JSON object per line). The
// test replays each input through the engine on the clock the file gives and compares.
//
// input.csv columns: t_ms (monotonic), wall (ISO 8601; empty = previous wall + elapsed t_ms),
// kind, then by kind:
//   sample,CHANNEL,VALUE[,QUALITY]          quality defaults to good; VALUE empty when not good
//   event,NAME,EQUIPMENT,AREA
//   op,ACTION,RULE,EQUIPMENT,ACTOR[,DURATION][,REASON]   ACTION: ack, shelve, unshelve, oos, rts
//   tick
//   restart                                 snapshot, a new engine from the same config, restore
// Lines starting with # are comments. Refused operator commands appear in the output as
// {"t": ..., "refused": ACTION, "message": ...}. The rule version is left out of the comparison
// (engine_test covers it). FW_UPDATE_GOLDEN=1 rewrites expected.jsonl files from the output.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/alarms/engine_setup.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "rules/engine.hpp"

namespace fs = std::filesystem;
using namespace fw::rules;

namespace {

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
}

std::string field(const std::vector<std::string>& fields, std::size_t index) {
    return index < fields.size() ? fields[index] : std::string();
}

// The events' JSON with the rule version left out, keys in the order written.
std::string without_version(const std::string& json) {
    const auto start = json.find(",\"version\":\"");
    if (start == std::string::npos) return json;
    const auto end = json.find('"', start + 12);
    return json.substr(0, start) + json.substr(end + 1);
}

std::vector<std::string> read_lines(const fs::path& path) {
    std::ifstream file(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(file, line)) {
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

struct Replay {
    std::vector<std::string> output;
    std::string error;
};

Replay replay(const fs::path& folder) {
    Replay result;
    const fw::Config config = fw::load_config((folder / "floorwatch.yaml").string());
    std::unique_ptr<Engine> engine;
    std::vector<AlarmEvent> events;
    TimePoint now{};
    bool have_wall = false;
    std::size_t line_number = 0;
    for (const auto& line : read_lines(folder / "input.csv")) {
        ++line_number;
        if (line.starts_with("#") || line.starts_with("t_ms")) continue;
        const auto fields = split(line);
        const std::string where = fmt::format("input.csv:{}: ", line_number);
        const std::int64_t t = std::stoll(field(fields, 0));
        if (!field(fields, 1).empty()) {
            const auto wall_ms = fw::parse_iso_time(field(fields, 1));
            if (!wall_ms) {
                result.error = where + "bad wall time " + field(fields, 1);
                return result;
            }
            now.wall_ms = *wall_ms;
            have_wall = true;
        } else if (have_wall) {
            now.wall_ms += t - now.mono_ms;
        } else {
            result.error = where + "the first line needs a wall time";
            return result;
        }
        now.mono_ms = t;
        if (!engine) engine = std::make_unique<Engine>(fw::alarms::engine_setup(config), now);
        events.clear();
        const std::string kind = field(fields, 2);
        if (kind == "sample") {
            const auto quality = fw::quality_from_name(
                field(fields, 5).empty() ? std::string("good") : field(fields, 5));
            const std::string value = field(fields, 4);
            engine->on_sample(
                {field(fields, 3), now.wall_ms, value.empty() ? std::nan("") : std::stod(value),
                 quality.value_or(fw::Quality::good)},
                now, events);
        } else if (kind == "event") {
            engine->on_event(
                {field(fields, 3), now.wall_ms, field(fields, 4), field(fields, 5), "test", "{}"},
                now, events);
        } else if (kind == "tick") {
            engine->on_tick(now, events);
        } else if (kind == "restart") {
            const std::string snapshot = engine->snapshot(now);
            engine = std::make_unique<Engine>(fw::alarms::engine_setup(config), now);
            engine->restore(snapshot, now);
        } else if (kind == "op") {
            const std::string action = field(fields, 3);
            const std::string rule = field(fields, 4);
            const std::string equipment = field(fields, 5);
            const std::string actor = field(fields, 6);
            fw::Status outcome;
            if (action == "ack") {
                outcome = engine->acknowledge(rule, equipment, actor, now, events);
            } else if (action == "shelve") {
                const auto duration = fw::parse_duration(field(fields, 7));
                outcome = engine->shelve(rule, equipment, actor, duration ? duration->count() : 0,
                                         field(fields, 8), now, events);
            } else if (action == "unshelve") {
                outcome = engine->unshelve(rule, equipment, actor, now, events);
            } else if (action == "oos") {
                outcome = engine->remove_from_service(rule, equipment, actor, field(fields, 8), now,
                                                      events);
            } else if (action == "rts") {
                outcome = engine->return_to_service(rule, equipment, actor, now, events);
            } else {
                result.error = where + "unknown op " + action;
                return result;
            }
            if (!outcome) {
                result.output.push_back(boost::json::serialize(boost::json::object{
                    {"t", now.mono_ms}, {"refused", action}, {"message", outcome.error()}}));
            }
        } else {
            result.error = where + "unknown kind '" + kind + "'";
            return result;
        }
        for (const auto& event : events) result.output.push_back(without_version(to_json(event)));
    }
    return result;
}

std::string readable_diff(const std::vector<std::string>& expected,
                          const std::vector<std::string>& actual) {
    std::string text;
    const std::size_t count = std::max(expected.size(), actual.size());
    for (std::size_t i = 0; i < count; ++i) {
        const std::string want = i < expected.size() ? expected[i] : "(nothing)";
        const std::string got = i < actual.size() ? actual[i] : "(nothing)";
        if (want == got) {
            text += "    " + want + "\n";
        } else {
            text += fmt::format("  - expected line {}: {}\n  + actual:           {}\n", i + 1, want,
                                got);
        }
    }
    return text;
}

}  // namespace

TEST_CASE("rule scenarios replay to their expected alarm events") {
    const char* source = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    const fs::path root = fs::path(source) / "rules" / "testcases";
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (entry.is_directory()) folders.push_back(entry.path());
    }
    std::sort(folders.begin(), folders.end());
    REQUIRE(folders.size() >= 10);
    const bool update = std::getenv("FW_UPDATE_GOLDEN") != nullptr;
    for (const auto& folder : folders) {
        SUBCASE(folder.filename().string().c_str()) {
            const Replay result = replay(folder);
            REQUIRE_MESSAGE(result.error.empty(), folder.filename().string(), ": ", result.error);
            if (update) {
                std::ofstream out(folder / "expected.jsonl");
                for (const auto& line : result.output) out << line << '\n';
                continue;
            }
            std::vector<std::string> expected;
            for (const auto& line : read_lines(folder / "expected.jsonl")) {
                expected.push_back(without_version(line));
            }
            CHECK_MESSAGE(expected == result.output, folder.filename().string(),
                          " differs from expected.jsonl:\n",
                          readable_diff(expected, result.output));
        }
    }
}
