#include "daemon/http/http_config.hpp"

#include <fmt/format.h>

#include <charconv>

#include "daemon/http/listen_address.hpp"

namespace fw::http {

std::string ListenAddress::to_string() const {
    if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), port);
    return fmt::format("{}:{}", address.to_string(), port);
}

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
    std::string_view host;
    std::string_view port_text;
    if (text.starts_with('[')) {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs [ ]
    }
    unsigned port = 0;
    const auto [end, parse_error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || parse_error != std::errc() ||
        end != port_text.data() + port_text.size() || port > 65535) {
        return std::nullopt;
    }
    boost::system::error_code error;
    const auto address = boost::asio::ip::make_address(std::string(host), error);
    if (error) return std::nullopt;
    return ListenAddress{address, static_cast<std::uint16_t>(port)};
}

std::vector<ListenAddress> listen_addresses(const HttpConfig& http) {
    std::vector<ListenAddress> addresses;
    for (const auto& item : http.listen) {
        if (auto address = parse_listen_address(item)) addresses.push_back(*address);
    }
    return addresses;
}

std::uint64_t HttpConfig::body_limit(std::uint64_t attachment_max_size) const {
    constexpr std::uint64_t kMultipartOverhead = 8ULL * 1024 * 1024;
    return max_body != 0 ? max_body : attachment_max_size + kMultipartOverhead;
}

}  // namespace fw::http
