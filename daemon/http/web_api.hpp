#pragma once
// The page's JSON API, /healthz, /readyz, /metrics and the embedded page itself: the Handler the
// HTTP server hands every request to (README.md "API"). Core thread; it never waits for the disk.
//
//   request ─▶ static file? ─▶ the embedded table (no file system)
//      │
//      ▼ /api/v1/...: router ─▶ session (cookie) ─▶ state change? X-CSRF-Token + Origin
//      │
//      ├─ reads ───▶ read pool (own read-only store connections) ─▶ answer
//      ├─ actions ─▶ control::Server::dispatch (the one command table, as the web user)
//      │               ─▶ answered once the store has made the action durable
//      └─ login ───▶ password pool (Argon2id) ─▶ session opened, stored through the writer
//
// It also answers the control commands user.passwd, user.sessions and user.revoke (the CLI's
// `floorwatch user ...`), HTTP server or not, so passwords can be set before the page is on.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/http/api_reads.hpp"
#include "daemon/http/prometheus.hpp"
#include "daemon/http/server.hpp"
#include "daemon/http/web_users.hpp"
#include "daemon/store/store.hpp"

namespace fw::http {

// Counters that move when something of a kind changed: the event stream tells open pages to
// fetch that kind again when its counter moved.
struct ChangeCounters {
    std::uint64_t orders = 0;
    std::uint64_t alarms = 0;
    std::uint64_t readings = 0;
};

struct WebApiHooks {
    // The core thread's figures for /metrics (pipeline, services, the server itself).
    std::function<void(PrometheusText&)> core_metrics;
    // Store open and the core loop ticking: /readyz.
    std::function<bool()> ready;
    std::function<ChangeCounters()> changes;
};

// What the API stands on: the role it tells the page (a centre's page shows gateways, not
// alarms or readings), where its reads come from, and where users and sessions are kept.
struct WebApiBackend {
    std::string role = "gateway";  // "gateway" or "central"
    ReadSourceFactory open_reads;  // one per read pool worker
    std::unique_ptr<WebUserStore> users;
};

// A gateway's: reads from its store file, users and sessions written by its store writer.
WebApiBackend gateway_web_backend(boost::asio::io_context& core, store::Writer& writer,
                                  const std::string& store_path);

class WebApi final : public Handler {
  public:
    // Registers user.passwd, user.sessions and user.revoke on `control` when given.
    WebApi(boost::asio::io_context& core, WebApiBackend backend, const Config& config,
           control::Server* control, WebApiHooks hooks);
    ~WebApi() override;
    WebApi(const WebApi&) = delete;
    WebApi& operator=(const WebApi&) = delete;

    // Core thread, after the store is migrated: reads passwords and sessions, starts the pools
    // and the timers. Throws std::exception when the store cannot be read.
    void start();
    // Core thread: users, roles and http settings take effect for the next request.
    void reload(const Config& config);
    // Stops the timers and the pools and closes every event stream.
    void stop();
    bool writes_in_flight() const;
    std::size_t live_sessions() const;
    std::size_t event_streams() const;

    std::uint64_t body_limit(const RequestHeader& header) override;
    void handle(Incoming request, Responder responder) override;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::http
