#pragma once
// The gateway's sync agent (README.md): sends this node's order events to the centre in sequence
// order and applies what the centre sends down, over the central broker.
//
//   link thread (Paho) ──message / connection──▶ core (post) ──▶ GatewayAgent
//   core ──read job──▶ reader thread (own read-only connection): outbox batches, hello state
//        ◀──────────── result posted back
//   core ──store job (writer thread): acks, welcome, down cursor with the remote events
//        ──publish──▶ link: QoS 1 on floorwatch/v1/<site>/<node>/up
//
// Up: after every connect a hello; the welcome says what the centre holds (`received`); events
// go from there in batches (at most sync.in_flight unacknowledged, each within batch_events and
// batch_bytes), read from the store one batch at a time so memory stays bounded whatever the
// backlog. Each ack marks the outbox rows synced in a store job; no ack within ack_timeout sends
// again from the last ack; the centre skips duplicates by (origin, sequence) and hash.
// Down: central events are applied through the order service (the one writer of order events)
// together with the down cursor, in down order; then a down_ack. A verdict `reseed` stops
// sending until `floorwatch sync reseed` (control command `sync.reseed`, README.md "Reseed")
// brings the centre's events of this gateway's orders back and moves the writer past them.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/result.hpp"
#include "daemon/orders/order_service.hpp"
#include "daemon/store/store.hpp"

namespace fw::sync {

struct AgentStats {
    bool connected = false;
    bool welcomed = false;
    bool reseed_needed = false;
    std::uint64_t acked = 0;
    std::uint64_t down_applied = 0;
    std::uint64_t batches_sent = 0;
    std::uint64_t resends = 0;  // ack timeouts
    std::uint64_t down_events_applied = 0;
    std::uint64_t quarantined = 0;
    std::uint64_t malformed = 0;      // messages that could not be decoded
    std::uint64_t read_failures = 0;  // outbox reads that failed (retried every tick)
    std::uint64_t backlog = 0;        // events not yet acknowledged by the centre
    // How long the oldest of them has waited (0 when in step), from the last backlog refresh.
    std::chrono::milliseconds lag{0};
    std::string broker_uri;
    std::string link_error;  // why the link is down (the last connect or subscribe failure)
};

// What a finished reseed did (README.md "Reseed").
struct ReseedOutcome {
    std::string request_id;
    std::uint64_t parts = 0;
    std::uint64_t events = 0;       // written into the store
    std::uint64_t duplicates = 0;   // held already with the same hash
    std::uint64_t quarantined = 0;  // could not be applied: in sync_quarantine
    std::uint64_t origin_sequence = 0;
    std::uint64_t down_last = 0;
};
using ReseedDone = std::function<void(const Result<ReseedOutcome>& outcome)>;

class GatewayAgent {
  public:
    // `config.sync` must be set. Events are applied through `orders`, stored by `writer`.
    GatewayAgent(boost::asio::io_context& core, store::Writer& writer, orders::OrderService& orders,
                 const Config& config);
    ~GatewayAgent();
    GatewayAgent(const GatewayAgent&) = delete;
    GatewayAgent& operator=(const GatewayAgent&) = delete;

    // Core thread, after the order service started.
    void start();
    void stop();
    AgentStats stats() const;
    // Registers `sync.reseed` (root, or a workflow user with the admin role).
    void register_commands(control::Server& control);
    // Core thread: the users who may run sync.reseed.
    void reload(const Config& config);
    // Core thread: asks the centre for this gateway's orders and applies them (README.md
    // "Reseed"); `done` runs once, when it finished, failed or was refused, never before this
    // returns.
    void reseed(ReseedDone done);
    // "sync: 12 unsynced, oldest 3h" style text for the systemd STATUS line; empty when in step.
    std::string status_text() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::sync
