#pragma once
// The addresses of http.listen as the server binds them.

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/http_config.hpp"

namespace fw::http {

// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8443" as the config writes them.
struct ListenAddress {
    boost::asio::ip::address address;
    std::uint16_t port = 0;
    bool loopback() const { return address.is_loopback(); }
    std::string to_string() const;
};
// nullopt when the text is not an IP address and a port ("localhost:8080" is not: the listener
// binds an address, and a name would hide which).
std::optional<ListenAddress> parse_listen_address(std::string_view text);

// Every address of http.listen (the loader has checked them all).
std::vector<ListenAddress> listen_addresses(const HttpConfig& http);

}  // namespace fw::http
