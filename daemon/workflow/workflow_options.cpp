#include "daemon/workflow/workflow_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace fw::workflow {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

constexpr config_table::Pattern kRoleList{"^[a-z_]+( *, *[a-z_]+)*$",
                                          "role names separated by ',', e.g. 'team_lead, safety'"};

// Fills `roles` from the text at `path`, or reports why it cannot.
void read_role_list(const std::string& text, std::vector<Role>& roles, const std::string& path,
                    Reader& reader) {
    if (reader.failed(path)) return;
    auto parsed = parse_role_list(text);
    if (!parsed.error.empty()) {
        reader.issue(path, parsed.error);
        return;
    }
    roles = std::move(parsed.roles);
}

template <Risk kRisk>
Section<RiskPolicyFor<kRisk>> risk_policy_section() {
    Section<RiskPolicyFor<kRisk>> section;
    section
        .string("review", &RiskPolicy::review,
                "Review levels in approval order, e.g. 'team_lead, safety'; each level is approved "
                "by a different person holding that role.")
        .pattern(kRoleList);
    section
        .duration("review_deadline", &RiskPolicy::review_deadline,
                  "From report (or escalation) until rectification is assigned.")
        .at_least(1min);
    section
        .duration("rectification_deadline", &RiskPolicy::rectification_deadline,
                  "Default rectification deadline when an assignment names none.")
        .at_least(1min);
    section
        .duration("acceptance_deadline", &RiskPolicy::acceptance_deadline,
                  "From submission until the rectification is accepted or rejected.")
        .at_least(1min);
    section.finish_with([](RiskPolicy& policy, const std::string& path, Reader& reader) {
        read_role_list(policy.review, policy.review_levels, join_path(path, "review"), reader);
    });
    return section;
}

Section<AreaPrefix> area_prefix_section() {
    Section<AreaPrefix> section;
    section.string("area", &AreaPrefix::area, "An area of the declared equipment.")
        .required()
        .pattern(config_table::kIdName);
    section.string("prefix", &AreaPrefix::prefix, "Its order numbers' prefix: PRS-20261129-0042.")
        .required()
        .pattern("^[A-Z0-9]{1,8}$", "1 to 8 capital letters or digits");
    return section;
}

Section<AttachmentLimits> attachment_limits_section() {
    Section<AttachmentLimits> section;
    section.size("max_size", &AttachmentLimits::max_size, "Largest photo or file accepted.")
        .between(1024, 1024LL * 1024 * 1024);
    section
        .string("types", &AttachmentLimits::types,
                "Accepted media types, separated by ',', e.g. 'image/jpeg, image/png'.")
        .not_empty();
    section.finish_with([](AttachmentLimits& limits, const std::string& path, Reader& reader) {
        const std::string types_path = join_path(path, "types");
        if (reader.failed(types_path)) return;
        auto parsed = parse_media_types(limits.types);
        if (!parsed.error.empty()) {
            reader.issue(types_path, parsed.error);
            return;
        }
        limits.allowed_types = std::move(parsed.names);
    });
    return section;
}

Section<UserConfig> workflow_user_section() {
    Section<UserConfig> section;
    section.string("name", &UserConfig::name, "User name, unique; recorded on every action.")
        .required()
        .pattern("^[a-z][a-z0-9_.-]*$", "lowercase letters, digits, '_', '.' and '-'");
    section
        .integer("uid", &UserConfig::uid,
                 "Unix uid that acts as this user on the local control socket.")
        .between(0, 4294967294)
        .no_default();
    section
        .string("roles", &UserConfig::roles,
                "Roles held: reporter, technician, team_lead, safety, manager, admin.")
        .required()
        .pattern(kRoleList);
    section.finish_with([](UserConfig& user, const std::string& path, Reader& reader) {
        const std::string name_path = join_path(path, "name");
        if ((user.name == "system" || user.name == "anonymous") && !reader.failed(name_path)) {
            reader.issue(name_path, fmt::format("'{}' is reserved for the workflow's own "
                                                "entries; choose another name",
                                                user.name));
        }
        read_role_list(user.roles, user.role_list, join_path(path, "roles"), reader);
    });
    return section;
}

void finish_workflow(WorkflowConfig& workflow, const std::string& path, Reader& reader) {
    read_role_list(workflow.overdue_notify, workflow.overdue_notify_roles,
                   join_path(path, "overdue_notify"), reader);
    std::vector<NamedAt> names;
    std::vector<NamedAt> uids;
    for (std::size_t i = 0; i < workflow.users.size(); ++i) {
        const std::string user_path = index_path(join_path(path, "users"), i);
        names.push_back({workflow.users[i].name, join_path(user_path, "name")});
        if (workflow.users[i].uid >= 0) {
            uids.push_back({std::to_string(workflow.users[i].uid), join_path(user_path, "uid")});
        }
    }
    report_repeats(names, "user name", reader);
    report_repeats(uids, "uid", reader);
    report_repeated_key(workflow.prefixes, join_path(path, "prefixes"), "area", &AreaPrefix::area,
                        "area", reader);
}

}  // namespace

Section<WorkflowConfig> workflow_section() {
    Section<WorkflowConfig> section;
    section.section<RiskPolicyFor<Risk::low>>(
        "low", risk_policy_section<Risk::low>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::low>&& policy) { workflow.low = policy; },
        "Review and deadlines of low-risk orders.");
    section.section<RiskPolicyFor<Risk::medium>>(
        "medium", risk_policy_section<Risk::medium>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::medium>&& policy) {
            workflow.medium = policy;
        },
        "Review and deadlines of medium-risk orders.");
    section.section<RiskPolicyFor<Risk::high>>(
        "high", risk_policy_section<Risk::high>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::high>&& policy) {
            workflow.high = policy;
        },
        "Review and deadlines of high-risk orders.");
    section.section<RiskPolicyFor<Risk::red>>(
        "red", risk_policy_section<Risk::red>(),
        [](WorkflowConfig& workflow, RiskPolicyFor<Risk::red>&& policy) { workflow.red = policy; },
        "Review and deadlines of red orders, and of every order escalated to red.");
    section
        .string("default_prefix", &WorkflowConfig::default_prefix,
                "Order number prefix of areas not listed under prefixes.")
        .pattern("^[A-Z0-9]{1,8}$", "1 to 8 capital letters or digits");
    section.list("prefixes", &WorkflowConfig::prefixes, area_prefix_section(),
                 "Order number prefix per area.");
    section.section("attachments", &WorkflowConfig::attachments, attachment_limits_section(),
                    "Photos and files attached to reports and submissions.");
    section
        .string("overdue_notify", &WorkflowConfig::overdue_notify,
                "Roles told when a step of an order is overdue (the assignee too, in "
                "rectification).")
        .pattern(kRoleList);
    section.list("users", &WorkflowConfig::users, workflow_user_section(),
                 "People who act on orders, with their roles.");
    section.string("publish_broker", &WorkflowConfig::publish_broker,
                   "Name of the mqtt.brokers entry every order change is published to (retained, "
                   "QoS 1); empty: the first broker. Nothing is published without brokers.");
    section.finish_with(finish_workflow);
    return section;
}

// Number prefixes name areas that some equipment is in.
void check_workflow_references(const WorkflowConfig& workflow, const std::string& path,
                               const std::set<std::string, std::less<>>& areas,
                               const std::vector<std::string>& broker_names, Reader& reader) {
    for (std::size_t i = 0; i < workflow.prefixes.size(); ++i) {
        const auto& area = workflow.prefixes[i].area;
        const std::string area_path = fmt::format("{}.prefixes[{}].area", path, i);
        if (area.empty() || reader.failed(area_path) || areas.contains(area)) continue;
        reader.issue(area_path,
                     fmt::format("no equipment is in area '{}' (areas: {})", area,
                                 areas.empty() ? std::string("none")
                                               : fmt::format("{}", fmt::join(areas, ", "))));
    }
    const auto& broker = workflow.publish_broker;
    const std::string broker_path = join_path(path, "publish_broker");
    if (!broker.empty() && !reader.failed(broker_path) &&
        std::ranges::find(broker_names, broker) == broker_names.end()) {
        reader.issue(
            broker_path,
            fmt::format("no MQTT broker is named '{}' (brokers: {})", broker,
                        broker_names.empty() ? std::string("none")
                                             : fmt::format("{}", fmt::join(broker_names, ", "))));
    }
}

}  // namespace fw::workflow
