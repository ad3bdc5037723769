#pragma once
// Reading and writing the typed fields of event payloads (README.md "Event types").

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/workflow/order.hpp"

namespace fw::workflow::payload {

std::string text(const boost::json::object& payload, std::string_view key);
std::optional<std::int64_t> integer(const boost::json::object& payload, std::string_view key);
bool flag(const boost::json::object& payload, std::string_view key);

boost::json::array attachments_to_json(const std::vector<Attachment>& attachments);
std::vector<Attachment> attachments_from_json(const boost::json::object& payload,
                                              std::string_view key);

boost::json::array roles_to_json(const std::vector<Role>& roles);
// Empty when a name is unknown.
std::vector<Role> roles_from_json(const boost::json::object& payload, std::string_view key);

}  // namespace fw::workflow::payload
