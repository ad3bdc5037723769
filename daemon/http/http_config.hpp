#pragma once
// What the `http:` section of floorwatch.yaml holds (declared in http_options.hpp): where the web
// page and the JSON API listen, TLS, sessions, limits. No section, no HTTP server.
//
//   http:
//     listen: ['127.0.0.1:8080', '[::1]:8080']
//     tls: {cert: /etc/floorwatch/tls/cert.pem, key: /etc/floorwatch/tls/key.pem}
//     session_lifetime: 12h
//     language: en

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fw::http {

inline constexpr std::string_view kLanguages[] = {"en", "zh-CN"};

struct HttpTlsConfig {
    std::string cert;  // PEM: the server's certificate, then its chain
    std::string key;   // PEM
};

struct HttpConfig {
    std::vector<std::string> listen{"127.0.0.1:8080"};  // address:port, as the config writes it
    std::optional<HttpTlsConfig> tls;
    std::chrono::milliseconds session_lifetime{12LL * 3600 * 1000};
    std::string language = "en";
    std::int64_t max_connections = 64;
    std::chrono::milliseconds request_timeout{30'000};
    // 0: workflow.attachments.max_size + 8 MiB (the largest photo and the multipart around it).
    std::uint64_t max_body = 0;
    std::vector<std::string> trusted_origins;  // extra Origin values (a reverse proxy's URL)

    std::uint64_t body_limit(std::uint64_t attachment_max_size) const;
};

}  // namespace fw::http
