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
#include <memory>
#include <string>
#include <vector>

#include "daemon/alarms/alarm_service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/store/store.hpp"
#include "daemon/workflow/hlc.hpp"

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

    bool writes_in_flight() const;
    OrderServiceStats stats() const;

  private:
    // Callbacks hold weak pointers to it (store/post_when_durable.hpp: the lifetime idiom).
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::orders
