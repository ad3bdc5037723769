#include "daemon/orders/control_commands.hpp"

#include <fmt/format.h>

#include <set>

#include "daemon/workflow/views.hpp"

namespace fw::orders {
namespace {

namespace json = boost::json;
using control::flag_arg;
using control::integer_arg;
using control::strings_arg;
using control::text_arg;
using workflow::Role;

// Attachment hashes -> the stored attachments, or the first one the store does not have.
Result<std::vector<workflow::Attachment>> resolve_attachments(
    const std::vector<std::string>& hashes, const AttachmentIndex& attachments) {
    std::vector<workflow::Attachment> resolved;
    for (const auto& hash : hashes) {
        const auto it = attachments.find(hash);
        if (it == attachments.end()) {
            return Error{fmt::format("attachment {} is not in the store; upload it first", hash)};
        }
        resolved.push_back(it->second);
    }
    return resolved;
}

Status check_area(const std::string& area, const Config& config) {
    std::set<std::string> areas;
    for (const auto& item : config.equipment) areas.insert(item.area);
    if (areas.contains(area)) return {};
    return Error{fmt::format("unknown area '{}' (areas: {})", area, fmt::join(areas, ", "))};
}

}  // namespace

Result<workflow::Actor> actor_for(const control::Caller& caller, const Config& config) {
    if (!caller.authenticated_user.empty()) {
        if (const auto* user = config.workflow.find_user(caller.authenticated_user)) {
            return workflow::Actor::from_user(*user);
        }
        return Error{fmt::format("{} is no longer in workflow.users; ask plant IT",
                                 caller.authenticated_user)};
    }
    if (const auto* user = config.workflow.find_user_by_uid(caller.uid)) {
        return workflow::Actor::from_user(*user);
    }
    return Error{fmt::format(
        "uid {} ({}) is not a floorwatch user: add it to workflow.users in {}, e.g. "
        "'- {{name: {}, uid: {}, roles: technician}}', and reload floorwatchd (SIGHUP)",
        caller.uid, caller.user, config.source_path.empty() ? "the config" : config.source_path,
        caller.user.starts_with("uid:") ? std::string("name") : caller.user, caller.uid)};
}

Result<workflow::ReportCommand> parse_report(const json::object& args, const Config& config,
                                             const AttachmentIndex& attachments) {
    workflow::ReportCommand report;
    report.equipment = text_arg(args, "equipment");
    report.area = text_arg(args, "area");
    if (!report.equipment.empty()) {
        const auto* equipment = config.find_equipment(report.equipment);
        if (equipment == nullptr) {
            std::vector<std::string> known;
            known.reserve(config.equipment.size());
            for (const auto& item : config.equipment) known.push_back(item.id);
            return Error{fmt::format("unknown equipment '{}' (known: {})", report.equipment,
                                     fmt::join(known, ", "))};
        }
        if (report.area.empty()) report.area = equipment->area;
        if (report.area != equipment->area) {
            return Error{fmt::format("{} is in area {}, not {}", report.equipment, equipment->area,
                                     report.area)};
        }
    } else if (!report.area.empty()) {
        if (auto known = check_area(report.area, config); !known) return Error{known.error()};
    }
    report.hazard_type = text_arg(args, "hazard_type");
    const std::string risk = text_arg(args, "risk");
    if (!risk.empty()) {
        const auto parsed = workflow::risk_from_name(risk);
        if (!parsed) return Error{fmt::format("unknown risk '{}' (low, medium, high, red)", risk)};
        report.risk = *parsed;
    }
    report.title = text_arg(args, "title");
    report.description = text_arg(args, "description");
    report.immediate_measures = text_arg(args, "immediate_measures");
    report.anonymous = flag_arg(args, "anonymous");
    auto resolved = resolve_attachments(strings_arg(args, "attachments"), attachments);
    if (!resolved) return Error{resolved.error()};
    report.attachments = std::move(*resolved);
    return report;
}

Result<workflow::Command> parse_action(const json::object& args,
                                       const AttachmentIndex& attachments) {
    const std::string verb = text_arg(args, "action");
    const std::string reason = text_arg(args, "reason");
    const std::string note = text_arg(args, "note");
    const auto deadline = integer_arg(args, "deadline_ms");
    if (verb == "approve") return workflow::Command{workflow::ApproveCommand{}};
    if (verb == "dismiss") {
        const std::string kind_name = text_arg(args, "kind");
        const auto kind =
            workflow::dismiss_kind_from_name(kind_name.empty() ? "false_alarm" : kind_name);
        if (!kind) {
            return Error{
                fmt::format("unknown dismissal kind '{}' (false_alarm, duplicate)", kind_name)};
        }
        return workflow::Command{workflow::DismissCommand{*kind, reason}};
    }
    if (verb == "assign") {
        return workflow::Command{workflow::AssignCommand{text_arg(args, "assignee"), deadline}};
    }
    if (verb == "reassign") {
        return workflow::Command{
            workflow::ReassignCommand{text_arg(args, "assignee"), deadline, reason}};
    }
    if (verb == "submit") {
        auto resolved = resolve_attachments(strings_arg(args, "attachments"), attachments);
        if (!resolved) return Error{resolved.error()};
        return workflow::Command{workflow::SubmitCommand{note, std::move(*resolved)}};
    }
    if (verb == "accept") return workflow::Command{workflow::AcceptCommand{note}};
    if (verb == "reject") return workflow::Command{workflow::RejectCommand{reason, deadline}};
    if (verb == "escalate") return workflow::Command{workflow::EscalateCommand{reason, ""}};
    return Error{fmt::format(
        "unknown action '{}' (approve, dismiss, assign, reassign, submit, accept, reject, "
        "escalate)",
        verb)};
}

Result<IncidentRecord> parse_incident(const json::object& args, const workflow::Actor& actor,
                                      const Config& config, std::int64_t now_ms) {
    if (!actor.holds(Role::safety) && !actor.holds(Role::manager) && !actor.holds(Role::admin)) {
        return Error{
            fmt::format("{} may not record incidents or hours: that needs safety, manager or admin",
                        actor.user)};
    }
    IncidentRecord record;
    record.kind = text_arg(args, "kind");
    record.area = text_arg(args, "area");
    record.description = text_arg(args, "description");
    record.recorded_by = actor.user;
    record.recorded_ms = now_ms;
    const auto at = integer_arg(args, "at_ms");
    if (record.kind == "incident") {
        if (record.description.empty()) return Error{"describe the incident (--description)"};
        record.at_ms = at.value_or(record.recorded_ms);
        record.until_ms = record.at_ms;
    } else if (record.kind == "hours") {
        const auto until = integer_arg(args, "until_ms");
        const auto* hours = args.if_contains("hours");
        if (!at || !until || *until <= *at) {
            return Error{
                "hours worked need a period: --since TIME --until TIME, since before until"};
        }
        if (hours == nullptr || !hours->is_number() || hours->to_number<double>() <= 0) {
            return Error{"hours worked need --hours N, more than 0"};
        }
        record.at_ms = *at;
        record.until_ms = *until;
        record.hours = hours->to_number<double>();
    } else {
        return Error{fmt::format("unknown record kind '{}' (incident, hours)", record.kind)};
    }
    if (!record.area.empty()) {
        if (auto known = check_area(record.area, config); !known) return Error{known.error()};
    }
    return record;
}

json::object outcome_json(const workflow::Outcome& outcome) {
    json::array events;
    for (const auto& event : outcome.events) events.push_back(json::value(event.id.to_string()));
    json::array notices;
    for (const auto& notice : outcome.notices) notices.push_back(json::value(notice.message));
    return json::object{{"order", workflow::order_view(outcome.state)},
                        {"events", std::move(events)},
                        {"notices", std::move(notices)}};
}

}  // namespace fw::orders
