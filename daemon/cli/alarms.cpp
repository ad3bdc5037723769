#include "daemon/cli/alarms.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/core/units.hpp"

namespace fw::cli {
namespace {

using rules::AlarmState;

std::string describe_value(double value) {
    return std::isfinite(value) ? fmt::format("{:.4g}", value) : "-";
}

int list_alarms(const Options& options) {
    alarms::AlarmReader reader(store_path(options));
    const auto rows = reader.alarms();
    const bool all = options.has("all");
    if (options.json) {
        boost::json::array list;
        for (const auto& row : rows) {
            if (!all && row.view.state == AlarmState::normal) continue;
            auto json = alarms::alarm_view_json(row.view);
            json["last_change"] = row.last_change_ms != 0
                                      ? boost::json::value(format_time(row.last_change_ms))
                                      : nullptr;
            list.push_back(std::move(json));
        }
        std::cout << boost::json::serialize(list) << '\n';
        return 0;
    }
    std::size_t shown = 0;
    for (const auto& row : rows) {
        const auto& view = row.view;
        if (!all && view.state == AlarmState::normal) continue;
        if (shown++ == 0) {
            std::cout << fmt::format("{:<30} {:<10} {:<14} {:<8} {:>8}  {:<24} {}\n", "RULE",
                                     "EQUIPMENT", "STATE", "SEVERITY", "VALUE", "SINCE", "DETAIL");
        }
        std::string detail = view.detail;
        if (view.state == AlarmState::shelved) {
            detail = fmt::format("shelved by {} until {}: {}", view.shelved_by,
                                 format_time(view.shelved_until_wall_ms), view.reason);
        } else if (view.state == AlarmState::out_of_service) {
            detail = "out of service: " + view.reason;
        }
        if (view.chattering) detail += " [chattering]";
        std::cout << fmt::format("{:<30} {:<10} {:<14} {:<8} {:>8}  {:<24} {}\n", view.rule_id,
                                 view.equipment, rules::alarm_state_name(view.state),
                                 view.status.condition ? rules::severity_name(view.severity) : "-",
                                 describe_value(view.value),
                                 row.last_change_ms != 0 ? format_time(row.last_change_ms) : "-",
                                 detail);
    }
    if (shown == 0) {
        std::cout << (all ? "no alarms are defined (see rules: in the config)\n"
                          : fmt::format("all {} alarm(s) normal\n", rows.size()));
    }
    return 0;
}

int alarm_history(const Options& options) {
    const std::int64_t now = wall_now_ms();
    alarms::HistoryFilter filter;
    filter.since_ms = parse_time(options.get("since").value_or("24h"), now);
    filter.until_ms = options.get("until") ? parse_time(*options.get("until"), now) : now + 1;
    filter.rule = options.get("rule").value_or("");
    filter.equipment = options.get("equipment").value_or("");
    filter.limit = parse_limit(options);
    alarms::AlarmReader reader(store_path(options));
    const auto rows = reader.history(filter);
    if (options.json) {
        for (const auto& row : rows) {
            std::cout << boost::json::serialize(alarms::alarm_event_json(row.id, row.event))
                      << '\n';
        }
        return 0;
    }
    if (rows.empty()) {
        std::cout << "no alarm events in that time\n";
        return 0;
    }
    std::cout << fmt::format("{:<24} {:<30} {:<10} {:<18} {:<28} {:>8}  {}\n", "TIME", "RULE",
                             "EQUIPMENT", "ACTION", "STATE", "VALUE", "DETAIL");
    for (const auto& row : rows) {
        const auto& event = row.event;
        std::string detail = event.detail;
        if (!event.actor.empty()) detail += (detail.empty() ? "by " : " by ") + event.actor;
        if (!event.reason.empty()) detail += ": " + event.reason;
        if (event.chattering) detail += " [chattering]";
        if (event.flood) detail += " [flood]";
        if (event.escalation) detail += " [escalation]";
        std::cout << fmt::format(
            "{:<24} {:<30} {:<10} {:<18} {:<28} {:>8}  {}\n", format_time(event.time.wall_ms),
            event.rule_id.empty() ? "(area " + event.area + ")" : event.rule_id, event.equipment,
            rules::alarm_action_name(event.action),
            fmt::format("{} -> {}", rules::alarm_state_name(event.from),
                        rules::alarm_state_name(event.to)),
            describe_value(event.value), detail);
    }
    return 0;
}

void print_alarm(const Options& options, const boost::json::value& result, std::string_view done) {
    if (options.json) {
        std::cout << boost::json::serialize(result) << '\n';
        return;
    }
    if (!result.is_object()) {
        std::cout << done << '\n';
        return;
    }
    const auto& alarm = result.as_object();
    std::cout << fmt::format("{}: {} on {} is now {}\n", done,
                             std::string_view(alarm.at("rule").as_string()),
                             std::string_view(alarm.at("equipment").as_string()),
                             std::string_view(alarm.at("state").as_string()));
}

}  // namespace

int run_alarms_command(int argc, char** argv) {
    const Options options =
        parse_options(argc, argv,
                      OptionSpec{.valued = {"since", "until", "rule", "equipment", "limit"},
                                 .flags = {"all"},
                                 .max_words = 1});
    if (options.words.empty()) {
        if (options.values.contains("since") || options.values.contains("rule")) {
            throw UsageError("--since, --rule ... belong to 'floorwatch alarms history'");
        }
        return list_alarms(options);
    }
    if (options.words[0] == "history") return alarm_history(options);
    throw UsageError(fmt::format("unknown 'alarms' subcommand '{}' (history)", options.words[0]));
}

int run_alarm_command(int argc, char** argv) {
    const Options options = parse_options(
        argc, argv, OptionSpec{.valued = {"for", "reason"}, .flags = {}, .max_words = 3});
    const std::string& action =
        options.word(0, "an action: ack, shelve, unshelve, disable, enable");
    const std::string& rule = options.word(1, "a rule id and an equipment id (floorwatch alarms)");
    const std::string& equipment = options.word(2, "an equipment id after the rule id");
    boost::json::object args{{"rule", rule}, {"equipment", equipment}};
    if (auto reason = options.get("reason")) args["reason"] = *reason;
    std::string command;
    std::string done;
    if (action == "ack") {
        command = "alarm.ack";
        done = "acknowledged";
    } else if (action == "shelve") {
        const auto duration_text = options.get("for");
        if (!duration_text) throw UsageError("alarm shelve needs --for DURATION (e.g. 2h)");
        const auto duration = parse_duration(*duration_text);
        if (!duration) {
            throw UsageError(
                fmt::format("--for needs a duration like 30m or 2h, got '{}'", *duration_text));
        }
        if (!options.get("reason")) throw UsageError("alarm shelve needs --reason TEXT");
        args["duration_ms"] = static_cast<std::int64_t>(duration->count());
        command = "alarm.shelve";
        done = "shelved";
    } else if (action == "unshelve") {
        command = "alarm.unshelve";
        done = "unshelved";
    } else if (action == "disable") {
        if (!options.get("reason")) throw UsageError("alarm disable needs --reason TEXT");
        command = "alarm.disable";
        done = "taken out of service";
    } else if (action == "enable") {
        command = "alarm.enable";
        done = "returned to service";
    } else {
        throw UsageError(fmt::format(
            "unknown alarm action '{}' (ack, shelve, unshelve, disable, enable)", action));
    }
    print_alarm(options, call_daemon(options, command, args), done);
    return 0;
}

}  // namespace fw::cli
