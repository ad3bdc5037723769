#include "daemon/workflow/payload.hpp"

namespace fw::workflow::payload {

std::string text(const boost::json::object& payload, std::string_view key) {
    const auto* value = payload.if_contains(key);
    if (value == nullptr || !value->is_string()) return {};
    return std::string(value->get_string());
}

std::optional<std::int64_t> integer(const boost::json::object& payload, std::string_view key) {
    const auto* value = payload.if_contains(key);
    if (value == nullptr) return std::nullopt;
    if (const auto* number = value->if_int64()) return *number;
    if (const auto* number = value->if_uint64()) {
        if (*number <= static_cast<std::uint64_t>(INT64_MAX)) {
            return static_cast<std::int64_t>(*number);
        }
    }
    return std::nullopt;
}

bool flag(const boost::json::object& payload, std::string_view key) {
    const auto* value = payload.if_contains(key);
    return value != nullptr && value->is_bool() && value->get_bool();
}

boost::json::array attachments_to_json(const std::vector<Attachment>& attachments) {
    boost::json::array list;
    for (const auto& attachment : attachments) {
        list.push_back(boost::json::object{{"sha256", attachment.sha256},
                                           {"media_type", attachment.media_type},
                                           {"size", attachment.size},
                                           {"name", attachment.name}});
    }
    return list;
}

std::vector<Attachment> attachments_from_json(const boost::json::object& payload,
                                              std::string_view key) {
    std::vector<Attachment> attachments;
    const auto* value = payload.if_contains(key);
    if (value == nullptr || !value->is_array()) return attachments;
    for (const auto& item : value->get_array()) {
        const auto* fields = item.if_object();
        if (fields == nullptr) continue;
        Attachment attachment;
        attachment.sha256 = text(*fields, "sha256");
        attachment.media_type = text(*fields, "media_type");
        attachment.size = static_cast<std::uint64_t>(integer(*fields, "size").value_or(0));
        attachment.name = text(*fields, "name");
        attachments.push_back(std::move(attachment));
    }
    return attachments;
}

boost::json::array roles_to_json(const std::vector<Role>& roles) {
    boost::json::array list;
    for (const Role role : roles) list.emplace_back(role_name(role));
    return list;
}

std::vector<Role> roles_from_json(const boost::json::object& payload, std::string_view key) {
    std::vector<Role> roles;
    const auto* value = payload.if_contains(key);
    if (value == nullptr || !value->is_array()) return {};
    for (const auto& item : value->get_array()) {
        if (!item.is_string()) return {};
        const auto role = role_from_name(item.get_string());
        if (!role || *role == Role::system) return {};
        roles.push_back(*role);
    }
    return roles;
}

}  // namespace fw::workflow::payload
