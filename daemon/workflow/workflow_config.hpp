#pragma once
// The `workflow:` section of floorwatch.yaml (read by daemon/config) and the names the work-order
// model shares with it: roles, risks, review chains, deadlines, number prefixes, attachment limits
// and the users allowed to act. See README.md ("Configuration").

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_config.hpp"

namespace fw::workflow {

using Millis = std::chrono::milliseconds;
// A rule's `hazard.risk` becomes the order's risk unchanged, so both use one enum.
using Risk = rules::Risk;
inline constexpr std::size_t kRiskCount = 4;

// What a user may do is decided by the roles they hold (README.md "Roles"). `system` is the
// daemon itself (alarms, deadlines, recurrence); no user can hold it.
enum class Role { reporter, technician, team_lead, safety, manager, admin, system };
inline constexpr std::size_t kUserRoleCount = 6;

std::string_view role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);
// The six roles a user can hold, in enum order.
std::span<const Role> user_roles();
using rules::risk_from_name;
using rules::risk_name;

// "team_lead, safety" -> {team_lead, safety}. Refuses unknown names, `system`, repeats and an empty
// list, with a message that names the problem.
struct RoleListResult {
    std::vector<Role> roles;
    std::string error;  // empty when the list is valid
};
RoleListResult parse_role_list(std::string_view text);
// "image/jpeg, image/png" -> {"image/jpeg", "image/png"}; the same rules as parse_role_list.
struct NameListResult {
    std::vector<std::string> names;
    std::string error;
};
NameListResult parse_media_types(std::string_view text);

// How orders of one risk are reviewed and how long each step may take.
struct RiskPolicy {
    std::string review;                // as written: "team_lead, safety, manager"
    std::vector<Role> review_levels;   // parsed from `review`, in approval order
    Millis review_deadline{0};         // report (or escalation) until rectification is assigned
    Millis rectification_deadline{0};  // default when an assignment names no deadline
    Millis acceptance_deadline{0};     // submission until acceptance or rejection
};

RiskPolicy default_risk_policy(Risk risk);

// The config loader declares one section per risk; each needs its own type so that the JSON
// Schema and unwritten keys get that risk's defaults.
template <Risk kRisk>
struct RiskPolicyFor : RiskPolicy {
    RiskPolicyFor() : RiskPolicy(default_risk_policy(kRisk)) {}
};

struct AreaPrefix {
    std::string area;    // an area of the declared equipment
    std::string prefix;  // "PRS": PRS-20261129-0042
};

struct AttachmentLimits {
    std::uint64_t max_size = 16ULL * 1024 * 1024;
    std::string types = "image/jpeg, image/png";  // as written
    std::vector<std::string> allowed_types{"image/jpeg", "image/png"};
};

struct UserConfig {
    std::string name;
    std::int64_t uid = -1;  // the Unix uid mapped to this user on the control socket; -1: none
    std::string roles;      // as written: "technician, team_lead"
    std::vector<Role> role_list;
};

struct WorkflowConfig {
    RiskPolicy low = default_risk_policy(Risk::low);
    RiskPolicy medium = default_risk_policy(Risk::medium);
    RiskPolicy high = default_risk_policy(Risk::high);
    RiskPolicy red = default_risk_policy(Risk::red);
    std::string default_prefix = "HZ";
    std::vector<AreaPrefix> prefixes;
    AttachmentLimits attachments;
    std::string overdue_notify = "safety, manager";  // as written
    std::vector<Role> overdue_notify_roles{Role::safety, Role::manager};
    std::vector<UserConfig> users;
    // The mqtt.brokers[] entry order changes are published to; empty: the first broker.
    std::string publish_broker;

    const RiskPolicy& policy(Risk risk) const;
    // The prefix of the area's human numbers; default_prefix for areas without one.
    const std::string& prefix_for_area(std::string_view area) const;
    const UserConfig* find_user(std::string_view name) const;
    const UserConfig* find_user_by_uid(std::int64_t uid) const;
};

}  // namespace fw::workflow
