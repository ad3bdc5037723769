#pragma once
// Hazard work orders in the running daemon. Everything runs on the core io_context; the store's
// writer thread makes each action durable and only then is it applied, published and answered.
//
//   control socket (order.*, attachment.upload, incidents.record) ─┐
//   alarm listener (durable alarm events; catch-up at start) ──────┼─▶ one action at a time:
//   overdue timer (30 s) ──────────────────────────────────────────┘   handle() → WriteJob
//                                                                        (events + outbox +
//                                                                         cursor, one savepoint)
//                                  durable ◀─────────────────────────────────┘
//                                     │
//                                     ├─▶ in-memory orders updated, reply to the caller
//                                     ├─▶ MQTT: latest order state, retained (OrderPublisher)
//                                     └─▶ notices (overdue, escalation) logged
//
// Actions are serialised: the next one is decided on the state the previous one made durable,
// so two people acting on the same order at once get one accepted and one refused with a reason.
// An alarm event carries its rule's hazard, so what it does to the orders (alarm_orders.hpp)
// needs nothing from the alarm service; control_commands.hpp turns requests into commands and
// uploads.hpp assembles attachments.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/alarms/alarm_service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/store/store.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/order.hpp"

namespace fw::orders {

struct OrderServiceStats {
    std::size_t orders = 0;
    std::size_t open = 0;
    std::size_t overdue = 0;
    std::uint64_t actions_written = 0;
    std::uint64_t actions_refused = 0;
    std::uint64_t write_failures = 0;
    std::uint64_t orders_from_alarms = 0;  // new orders opened by alarms, counted once durable
    std::int64_t last_alarm_event_id = 0;
};

// An event another node (the centre) wrote on one of this gateway's orders, as the sync agent
// received it with its down sequence.
struct RemoteEvent {
    std::uint64_t down = 0;
    workflow::Event event;
};

// A remote event that cannot be applied: quarantined by the sync agent, never retried.
struct RemoteRefusal {
    std::uint64_t down = 0;
    std::string event_id;  // "<origin>:<sequence>"
    std::string reason;
    std::string raw;  // the event as JSON
};

struct RemoteApplied {
    std::size_t written = 0;
    std::size_t duplicates = 0;  // held already with the same hash: nothing to do
    std::vector<RemoteRefusal> refused;
    // Named by the written events and not in the store: the agent asks the centre for them.
    std::vector<workflow::Attachment> missing_attachments;
};

// Runs inside the store job that writes the remote events (the sync agent's cursor and
// quarantine rows), so both are durable together. Throws to fail the whole job.
using RemoteWrite = std::function<void(sqlite3* db, const RemoteApplied& applied)>;
using RemoteDone = std::function<void(const Status& written, const RemoteApplied& applied)>;

// Where a seed part stands: the highest sequence of this node's origin the centre holds, and
// whether it is the last part.
struct SeedPosition {
    std::uint64_t origin_sequence = 0;
    bool last = false;
};

class OrderService {
  public:
    // Registers the order commands on `control` and listens to the durable events of `alarms`
    // when given (nullptr: no automatic orders; tests feed on_alarm_events). `clock`: the wall
    // clock the workflow reads (nullptr: the system clock, with NTP synchronisation from the
    // kernel).
    OrderService(boost::asio::io_context& core, store::Writer& writer, const Config& config,
                 control::Server* control, alarms::AlarmService* alarms,
                 const workflow::Clock* clock = nullptr);
    ~OrderService();
    OrderService(const OrderService&) = delete;
    OrderService& operator=(const OrderService&) = delete;

    // Core thread, after the Writer has migrated the store: loads every order (read-only
    // connection), processes alarm events stored since the last run, publishes every order's
    // state and starts the overdue timer. Throws std::runtime_error when the store cannot be read.
    void start();
    // Core thread: users, roles, deadlines and prefixes take effect for the next action.
    void reload(const Config& config);
    // Stops the timer and the publisher; actions in flight still complete when the writer
    // flushes.
    void stop();

    // Core thread: alarm events, durable, in id order (the AlarmService listener).
    void on_alarm_events(const std::vector<alarms::StoredAlarmEvent>& events);
    // Core thread: one pass of the overdue timer (also run every 30 s).
    void check_overdue();

    // Core thread: events from the centre, queued behind local actions. Each is checked (not
    // this node's origin; on one of this node's orders that it holds; its HLC not more than
    // 5 min ahead of a synchronised clock; an id held already is a duplicate if its hash is the
    // same, refused otherwise), the accepted ones are written with `also_write` in one store
    // job, and once durable the orders are folded again and published; `done` runs then (also
    // after a failed write, with nothing applied).
    void apply_remote(std::vector<RemoteEvent> events, RemoteWrite also_write, RemoteDone done);

    // Core thread: one part of a reseed from the centre (daemon/sync/README.md "Reseed"), queued
    // behind local actions like apply_remote, with the same checks except that events of this
    // node's own origin, and orders the store does not hold yet, are taken. `down` of each event
    // is its index in the part. The writer's HLC goes past every event taken and the order
    // number counters past the seeded orders'; with the last part the writer cursor goes to
    // origin_sequence + 1 at least (before it the centre's verdict stays reseed, so a reseed that
    // fails half way can be run again). The store job first refuses the whole part (nothing
    // written, `done` gets why) when this node wrote events of its own, not yet acknowledged, at
    // or below origin_sequence: the centre holds other events under those ids.
    void apply_seed(std::vector<RemoteEvent> events, SeedPosition position, RemoteWrite also_write,
                    RemoteDone done);

    // Core thread: an attachment the sync agent stored (fetched from the centre) is known now.
    void add_attachment(const workflow::Attachment& attachment);

    bool writes_in_flight() const;
    OrderServiceStats stats() const;

  private:
    // Callbacks hold weak pointers to it (store/post_when_durable.hpp: the lifetime idiom).
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::orders
