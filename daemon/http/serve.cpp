#include "daemon/http/serve.hpp"

#include <fmt/format.h>

#include <string>

#include "daemon/core/log.hpp"

namespace fw::http {
namespace {
constexpr std::string_view kInstance = "http";
}  // namespace

ServerOptions server_options(const HttpConfig& http) {
    ServerOptions options;
    options.listen = listen_addresses(http);
    if (http.tls) options.tls = TlsFiles{http.tls->cert, http.tls->key};
    options.max_connections = static_cast<std::size_t>(http.max_connections);
    options.request_timeout = http.request_timeout;
    return options;
}

void log_listeners(const Server& server) {
    for (const auto& endpoint : server.local_endpoints()) {
        const auto address = endpoint.address();
        const std::string where = address.is_v6()
                                      ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                                      : fmt::format("{}:{}", address.to_string(), endpoint.port());
        log_info(kInstance, "web page at {}://{}/", server.secure() ? "https" : "http", where);
        if (!address.is_loopback() && !server.secure()) {
            log_warning(kInstance,
                        "{} is reachable from the network without TLS: passwords and session "
                        "cookies cross it in clear text; set http.tls.cert and http.tls.key, or "
                        "listen on 127.0.0.1 behind a TLS proxy",
                        where);
        }
    }
}

void server_metrics(PrometheusText& text, const ServerStats& stats) {
    text.family("floorwatch_http_connections", "gauge", "Open HTTP connections.");
    text.sample("floorwatch_http_connections", std::uint64_t{stats.connections_open});
    text.family("floorwatch_http_connections_refused_total", "counter",
                "Connections refused over http.max_connections.");
    text.sample("floorwatch_http_connections_refused_total", stats.connections_refused);
    text.family("floorwatch_http_timeouts_total", "counter",
                "Requests, writes and idle connections that ran out of http.request_timeout.");
    text.sample("floorwatch_http_timeouts_total", stats.timeouts);
    text.family("floorwatch_http_responses_total", "counter", "HTTP responses by status.");
    for (const auto& [status, count] : stats.responses_by_status) {
        text.sample("floorwatch_http_responses_total", count, {{"status", std::to_string(status)}});
    }
}

}  // namespace fw::http
