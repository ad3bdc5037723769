#include "daemon/cli/alarms.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"

namespace fw::cli {
namespace {

using rules::AlarmState;

std::string describe_value(double value) {
    return std::isfinite(value) ? fmt::format("{:.4g}", value) : "-";
}

struct ListOptions : CommonOptions {
    bool all = false;
};

struct HistoryOptions : TimeRangeOptions {
    std::optional<std::string> rule;
    std::optional<std::string> equipment;
};

struct ActionOptions : CommonOptions {
    std::string rule;
    std::string equipment;
    std::optional<std::string> duration;
    std::optional<std::string> reason;
};

// Rows this build cannot read are named on stderr after the listing; the exit status is then 1,
// because what was listed is incomplete.
int report_unreadable(const std::vector<alarms::UnreadableAlarmRow>& unreadable) {
    for (const auto& row : unreadable) {
        std::cerr << fmt::format(
            "floorwatch: {} (written by a newer floorwatch, or edited by hand)\n",
            alarms::describe_unreadable(row));
    }
    return unreadable.empty() ? 0 : 1;
}

int list_alarms(const ListOptions& options) {
    alarms::AlarmReader reader(store_path(options));
    const auto table = reader.alarms();
    const auto& rows = table.alarms;
    const bool all = options.all;
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
        return report_unreadable(table.unreadable);
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
    if (shown == 0 && table.unreadable.empty()) {
        std::cout << (all ? "no alarms are defined (see rules: in the config)\n"
                          : fmt::format("all {} alarm(s) normal\n", rows.size()));
    }
    return report_unreadable(table.unreadable);
}

int alarm_history(const HistoryOptions& options) {
    const std::int64_t now = wall_now_ms();
    alarms::HistoryFilter filter;
    filter.since_ms = parse_time(options.since, now);
    filter.until_ms = options.until ? parse_time(*options.until, now) : now + 1;
    filter.rule = options.rule.value_or("");
    filter.equipment = options.equipment.value_or("");
    filter.limit = options.limit;
    alarms::AlarmReader reader(store_path(options));
    const auto history = reader.history(filter);
    const auto& rows = history.events;
    if (options.json) {
        for (const auto& row : rows) {
            std::cout << boost::json::serialize(alarms::alarm_event_json(row.id, row.event))
                      << '\n';
        }
        return report_unreadable(history.unreadable);
    }
    if (rows.empty() && history.unreadable.empty()) {
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
    return report_unreadable(history.unreadable);
}

void print_alarm(const CommonOptions& options, const boost::json::value& result,
                 std::string_view done) {
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

// Asks the daemon for `command` on the alarm the options name, then prints it as `done`.
int ask_daemon(const ActionOptions& options, const std::string& command, std::string_view done,
               boost::json::object args = {}) {
    args["rule"] = options.rule;
    args["equipment"] = options.equipment;
    if (options.reason) args["reason"] = *options.reason;
    print_alarm(options, call_daemon(options, command, args), done);
    return 0;
}

int acknowledge(const ActionOptions& options) {
    return ask_daemon(options, "alarm.ack", "acknowledged");
}

int shelve(const ActionOptions& options) {
    if (!options.duration) throw UsageError("alarm shelve needs --for DURATION (e.g. 2h)");
    const auto duration = parse_duration(*options.duration);
    if (!duration) {
        throw UsageError(
            fmt::format("--for needs a duration like 30m or 2h, got '{}'", *options.duration));
    }
    if (!options.reason) throw UsageError("alarm shelve needs --reason TEXT");
    return ask_daemon(options, "alarm.shelve", "shelved",
                      {{"duration_ms", static_cast<std::int64_t>(duration->count())}});
}

int unshelve(const ActionOptions& options) {
    return ask_daemon(options, "alarm.unshelve", "unshelved");
}

int disable(const ActionOptions& options) {
    if (!options.reason) throw UsageError("alarm disable needs --reason TEXT");
    return ask_daemon(options, "alarm.disable", "taken out of service");
}

int enable(const ActionOptions& options) {
    return ask_daemon(options, "alarm.enable", "returned to service");
}

using AlarmAction = int (*)(const ActionOptions&);

enum class Reason { optional, required };

Command<ActionOptions> add_action(CommandTable& commands, CLI::App& alarm, const std::string& name,
                                  const std::string& description, AlarmAction action,
                                  Reason reason) {
    auto command = add_command(commands, alarm, name, description, action);
    command.app.add_option("RULE", command.options.rule, "the rule id (see floorwatch alarms)")
        ->type_name("")
        ->required();
    command.app.add_option("EQUIPMENT", command.options.equipment, "the equipment id")
        ->type_name("")
        ->required();
    command.app
        .add_option(
            "--reason", command.options.reason,
            reason == Reason::required ? "why (required)" : "why (recorded with the change)")
        ->type_name("TEXT");
    return command;
}

}  // namespace

void add_alarms_commands(CLI::App& root, CommandTable& commands) {
    auto list =
        add_command(commands, root, "alarms",
                    "alarms that are not normal (--all: every alarm); alarms history", list_alarms);
    list.app.add_flag("--all", list.options.all, "every alarm, normal ones too");

    auto history = add_command(commands, list.app, "history",
                               "every alarm state change, oldest first", alarm_history);
    add_time_range_options(history.app, history.options, "24h", "changes");
    history.app.add_option("--rule", history.options.rule, "only this rule")->type_name("ID");
    history.app.add_option("--equipment", history.options.equipment, "only this equipment")
        ->type_name("ID");
    list.app.group("Alarms");

    CLI::App& alarm = *root.add_subcommand(
        "alarm", "ack, shelve, unshelve, disable or enable one alarm (asks the daemon)");
    alarm.require_subcommand(1);
    alarm.footer(
        "These ask the running daemon over its control socket (--socket PATH, or the config's\n"
        "control.socket). Shelving and service changes need team_lead, safety, manager or\n"
        "admin when workflow.users is configured.");
    add_action(commands, alarm, "ack", "acknowledge", acknowledge, Reason::optional);
    auto shelf = add_action(commands, alarm, "shelve", "shelve for a while (auto unshelve)", shelve,
                            Reason::required);
    shelf.app.add_option("--for", shelf.options.duration, "how long, e.g. 30m or 2h (required)")
        ->type_name("DURATION");
    add_action(commands, alarm, "unshelve", "unshelve", unshelve, Reason::optional);
    add_action(commands, alarm, "disable", "take out of service (maintenance)", disable,
               Reason::required);
    add_action(commands, alarm, "enable", "return to service", enable, Reason::optional);
    alarm.group("Alarms");
}

}  // namespace fw::cli
