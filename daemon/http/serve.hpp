#pragma once
// What a daemon (a gateway's or a centre's) does around its HTTP server: the options from the
// `http:` section, the log lines that say where the page is, and the server's /metrics families.

#include "daemon/http/http_config.hpp"
#include "daemon/http/prometheus.hpp"
#include "daemon/http/server.hpp"

namespace fw::http {

ServerOptions server_options(const HttpConfig& http);

// "web page at http://127.0.0.1:8080/" per listener, and a warning for each one reachable from
// the network without TLS: passwords and session cookies would cross it in clear text.
void log_listeners(const Server& server);

// floorwatch_http_connections, _connections_refused_total, _timeouts_total, _responses_total.
void server_metrics(PrometheusText& text, const ServerStats& stats);

}  // namespace fw::http
