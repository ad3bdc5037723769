#include "daemon/http/http_options.hpp"

#include <fmt/format.h>

#include "daemon/http/listen_address.hpp"

namespace fw::http {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

namespace {

Section<HttpTlsConfig> tls_section() {
    Section<HttpTlsConfig> section;
    section
        .string("cert", &HttpTlsConfig::cert,
                "PEM file: the server's certificate followed by its chain.")
        .required()
        .not_empty();
    section.string("key", &HttpTlsConfig::key, "PEM file: the certificate's private key.")
        .required()
        .not_empty();
    return section;
}

void check_http(HttpConfig& http, const std::string& path, Reader& reader) {
    const std::string listen_path = join_path(path, "listen");
    for (std::size_t i = 0; i < http.listen.size(); ++i) {
        if (!parse_listen_address(http.listen[i])) {
            reader.issue(config_table::index_path(listen_path, i),
                         fmt::format("'{}' is not an IP address and port such as 127.0.0.1:8080 "
                                     "or [::1]:8080",
                                     http.listen[i]));
        }
    }
    const std::string origins_path = join_path(path, "trusted_origins");
    for (std::size_t i = 0; i < http.trusted_origins.size(); ++i) {
        const std::string& origin = http.trusted_origins[i];
        const bool scheme = origin.starts_with("http://") || origin.starts_with("https://");
        const auto after_scheme = origin.find("://");
        if (!scheme || origin.find('/', after_scheme + 3) != std::string::npos) {
            reader.issue(config_table::index_path(origins_path, i),
                         fmt::format("'{}' is not an origin such as https://floor.example.com "
                                     "(scheme, host and port, no path)",
                                     origin));
        }
    }
}

}  // namespace

Section<HttpConfig> http_section() {
    Section<HttpConfig> section;
    section
        .strings("listen", &HttpConfig::listen,
                 "Addresses and ports to listen on, e.g. ['127.0.0.1:8080', '[::1]:8080']. A "
                 "non-loopback address without tls logs a warning.")
        .min_items(1);
    section.section<HttpTlsConfig>(
        "tls", tls_section(),
        [](HttpConfig& http, HttpTlsConfig&& tls) { http.tls = std::move(tls); },
        "Serve HTTPS with this certificate and key (the session cookie is then Secure).");
    section
        .duration("session_lifetime", &HttpConfig::session_lifetime,
                  "A web session not used for this long ends; every session ends 7 days after "
                  "login at the latest.")
        .between(1min, 7LL * 24h);
    section
        .string("language", &HttpConfig::language,
                "The page's language until a user picks one: en or zh-CN.")
        .pattern("^(en|zh-CN)$", "en or zh-CN");
    section
        .integer("max_connections", &HttpConfig::max_connections,
                 "Open connections at most (event streams included); more are answered 503 and "
                 "closed.")
        .between(1, 10000);
    section
        .duration("request_timeout", &HttpConfig::request_timeout,
                  "A request's header and body must arrive within this; an idle keep-alive "
                  "connection closes after it.")
        .between(1s, 10min);
    section
        .size("max_body", &HttpConfig::max_body,
              "Largest request body; larger ones are refused (413) before they are read. "
              "Default: workflow.attachments.max_size + 8MiB.")
        .no_default();
    section.strings("trusted_origins", &HttpConfig::trusted_origins,
                    "Origin values allowed besides the server's own, e.g. a reverse proxy's "
                    "public https://floor.example.com.");
    section.finish_with(check_http);
    return section;
}

}  // namespace fw::http
