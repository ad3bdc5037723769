#include "daemon/workflow/workflow_config.hpp"

#include <algorithm>
#include <array>

#include "daemon/core/enum_names.hpp"

namespace fw::workflow {
namespace {

using namespace std::chrono_literals;

constexpr auto kRoleNames = enum_names<Role>({
    {Role::reporter, "reporter"},
    {Role::technician, "technician"},
    {Role::team_lead, "team_lead"},
    {Role::safety, "safety"},
    {Role::manager, "manager"},
    {Role::admin, "admin"},
    {Role::system, "system"},
});
constexpr std::array<Role, kUserRoleCount> kUserRoles{
    Role::reporter, Role::technician, Role::team_lead, Role::safety, Role::manager, Role::admin};

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// Splits "a, b ,c" at commas; empty items are kept so the caller can report them.
std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    while (true) {
        const auto comma = text.find(',');
        items.push_back(trim(text.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return items;
}

std::string role_choices() {
    std::string text;
    for (const Role role : kUserRoles) {
        if (!text.empty()) text += ", ";
        text += role_name(role);
    }
    return text;
}

}  // namespace

std::string_view role_name(Role role) {
    return kRoleNames.name_of(role);
}

std::optional<Role> role_from_name(std::string_view name) {
    return kRoleNames.from_name(name);
}

std::span<const Role> user_roles() {
    return kUserRoles;
}

RoleListResult parse_role_list(std::string_view text) {
    RoleListResult result;
    for (const auto item : split_list(text)) {
        if (item.empty()) {
            result.error = "expected role names separated by ',', e.g. 'team_lead, safety'";
            return result;
        }
        const auto role = role_from_name(item);
        if (!role || *role == Role::system) {
            result.error =
                "unknown role '" + std::string(item) + "' (expected " + role_choices() + ")";
            return result;
        }
        if (std::ranges::find(result.roles, *role) != result.roles.end()) {
            result.error = "role '" + std::string(item) + "' is listed twice";
            return result;
        }
        result.roles.push_back(*role);
    }
    return result;
}

NameListResult parse_media_types(std::string_view text) {
    NameListResult result;
    for (const auto item : split_list(text)) {
        const auto slash = item.find('/');
        const bool well_formed = slash != std::string_view::npos && slash > 0 &&
                                 slash + 1 < item.size() &&
                                 item.find_first_of(" \t;", 0) == std::string_view::npos;
        if (!well_formed) {
            result.error = "'" + std::string(item) +
                           "' is not a media type; expected e.g. 'image/jpeg, image/png'";
            return result;
        }
        if (std::ranges::find(result.names, item) != result.names.end()) {
            result.error = "media type '" + std::string(item) + "' is listed twice";
            return result;
        }
        result.names.emplace_back(item);
    }
    return result;
}

RiskPolicy default_risk_policy(Risk risk) {
    switch (risk) {
        case Risk::low:
            return {"safety", {Role::safety}, 7 * 24h, 30 * 24h, 7 * 24h};
        case Risk::medium:
            return {
                "team_lead, safety", {Role::team_lead, Role::safety}, 3 * 24h, 14 * 24h, 3 * 24h};
        case Risk::high:
            return {"team_lead, safety, manager",
                    {Role::team_lead, Role::safety, Role::manager},
                    24h,
                    7 * 24h,
                    48h};
        case Risk::red:
            break;
    }
    return {
        "team_lead, safety, manager", {Role::team_lead, Role::safety, Role::manager}, 4h, 24h, 8h};
}

const RiskPolicy& WorkflowConfig::policy(Risk risk) const {
    switch (risk) {
        case Risk::low:
            return low;
        case Risk::medium:
            return medium;
        case Risk::high:
            return high;
        case Risk::red:
            break;
    }
    return red;
}

const std::string& WorkflowConfig::prefix_for_area(std::string_view area) const {
    for (const auto& entry : prefixes) {
        if (entry.area == area) return entry.prefix;
    }
    return default_prefix;
}

const UserConfig* WorkflowConfig::find_user(std::string_view name) const {
    for (const auto& user : users) {
        if (user.name == name) return &user;
    }
    return nullptr;
}

const UserConfig* WorkflowConfig::find_user_by_uid(std::int64_t uid) const {
    if (uid < 0) return nullptr;
    for (const auto& user : users) {
        if (user.uid == uid) return &user;
    }
    return nullptr;
}

}  // namespace fw::workflow
