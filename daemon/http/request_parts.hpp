#pragma once
// Reading the parts of a request the API needs: the target's path segments (percent-decoded, with
// anything that could walk out of a path refused), the query string, cookies, and the origin the
// request came from. Pure functions, tested on their own.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/server.hpp"

namespace fw::http {

struct Target {
    std::string path;  // as sent, not decoded: "/api/v1/orders/PRS-20261129-0001"
    std::map<std::string, std::string, std::less<>> query;  // decoded; a repeated key: the last
};
Target split_target(std::string_view target);

// "%2F" -> "/", and with plus_is_space "+" -> " " (query strings). nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The decoded segments of a path ("/api/v1/orders/a%20b" -> {"api", "v1", "orders", "a b"}), or
// nullopt when a segment is empty (a "//"), "." or "..", or decodes to something holding '/',
// '\\' or a control character: such a path names nothing the server has.
std::optional<std::vector<std::string>> path_segments(std::string_view path);

// The value of one cookie of the Cookie header; empty when absent.
std::string cookie_value(const RequestHeader& header, std::string_view name);

// "https://gateway.example:8443" for a request that arrived over TLS with Host
// "gateway.example:8443": the origin a browser names when it sends a request to us.
std::string own_origin(const RequestHeader& header, bool secure);

// The origin a browser says the request comes from: the Origin header, else the scheme, host and
// port of the Referer. Empty when there is neither (not a browser, or a privacy setting).
std::string request_origin(const RequestHeader& header);

}  // namespace fw::http
