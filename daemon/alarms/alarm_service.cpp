#include "daemon/alarms/alarm_service.hpp"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <set>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/alarms/engine_setup.hpp"
#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/store/post_when_durable.hpp"

namespace fw::alarms {
namespace {

constexpr std::string_view kInstance = "alarms";
constexpr auto kTickInterval = std::chrono::milliseconds(500);
// Between alarm events, delays in progress and window contents are saved this often; a crash
// loses at most this much of an on-delay's progress, never an alarm event.
constexpr auto kSnapshotInterval = std::chrono::seconds(10);
constexpr auto kLogRepeatInterval = std::chrono::seconds(60);

// Shelving and taking an alarm out of service hide it from everyone: when the config names
// users, only these roles may; acknowledging is for anyone allowed on the socket.
constexpr std::array kSupervisorRoles{workflow::Role::team_lead, workflow::Role::safety,
                                      workflow::Role::manager, workflow::Role::admin};

rules::TimePoint now_point() {
    const auto mono = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
    return {mono, wall_now_ms()};
}

using control::text_arg;

}  // namespace

struct AlarmService::Impl : std::enable_shared_from_this<AlarmService::Impl> {
    Impl(boost::asio::io_context& core_context, store::Writer& store_writer, const Config& config,
         control::Server* control_server)
        : core(core_context),
          writer(store_writer),
          store_path(config.store.path),
          workflow(config.workflow),
          engine(std::make_unique<rules::Engine>(engine_setup(config), now_point())),
          control(control_server) {}

    boost::asio::io_context& core;
    store::Writer& writer;
    std::string store_path;
    workflow::WorkflowConfig workflow;
    std::unique_ptr<rules::Engine> engine;
    control::Server* control;
    boost::asio::steady_timer tick_timer{core};
    boost::asio::steady_timer snapshot_timer{core};
    std::vector<AlarmListener> listeners;
    std::vector<rules::AlarmEvent> out;
    bool running = false;
    std::size_t in_flight = 0;  // write jobs not yet reported back
    std::uint64_t events_written = 0;
    std::uint64_t write_failures = 0;
    LogRateLimiter log_limiter{kLogRepeatInterval};

    // --- persisting ---

    // After the write: `then` on the core while the service lives, else `if_gone`.
    using Then = std::function<void(Impl& self, const Status& written)>;
    using IfGone = std::function<void()>;

    // Writes `events` with the alarms they touched and the engine's snapshot in one transaction,
    // so a restart never restores an engine that does not know about an event already stored.
    void persist(std::vector<rules::AlarmEvent> events, Then then = {}, IfGone if_gone = {}) {
        if (events.empty()) {
            if (then) then(*this, Status());
            return;
        }
        for (const auto& event : events) log_event(event);
        std::set<std::pair<std::string, std::string>> touched;
        for (const auto& event : events) {
            if (!event.rule_id.empty()) touched.emplace(event.rule_id, event.equipment);
        }
        std::vector<rules::AlarmView> views;
        for (auto& view : engine->alarms()) {
            if (touched.contains({view.rule_id, view.equipment})) views.push_back(std::move(view));
        }
        const auto now = now_point();
        auto shared_events = std::make_shared<std::vector<rules::AlarmEvent>>(std::move(events));
        auto ids = std::make_shared<std::vector<std::int64_t>>();
        std::string snapshot = engine->snapshot(now);
        ++in_flight;
        const auto write = [shared_events, ids, views = std::move(views),
                            snapshot = std::move(snapshot), saved_ms = now.wall_ms](sqlite3* db) {
            *ids = insert_alarm_events(db, *shared_events);
            std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>>
                last;
            for (std::size_t i = 0; i < shared_events->size(); ++i) {
                const auto& event = (*shared_events)[i];
                last[{event.rule_id, event.equipment}] = {(*ids)[i], event.time.wall_ms};
            }
            std::vector<AlarmRowUpdate> rows;
            for (const auto& view : views) {
                const auto& [id, changed] = last[{view.rule_id, view.equipment}];
                rows.push_back({view, id, changed});
            }
            upsert_alarms(db, rows);
            save_engine_state(db, saved_ms, snapshot);
        };
        store::post_when_durable(
            writer, core, weak_from_this(), write,
            [shared_events, ids, then = std::move(then)](Impl& self, const Status& written) {
                --self.in_flight;
                self.on_durable(*shared_events, *ids, written);
                if (then) then(self, written);
            },
            std::move(if_gone));
    }

    void on_durable(const std::vector<rules::AlarmEvent>& events,
                    const std::vector<std::int64_t>& ids, const Status& written) {
        if (!written) {
            write_failures += events.size();
            log_error(kInstance, "{} alarm event(s) could not be stored: {}", events.size(),
                      written.error());
            return;
        }
        events_written += events.size();
        std::vector<StoredAlarmEvent> stored;
        stored.reserve(events.size());
        for (std::size_t i = 0; i < events.size() && i < ids.size(); ++i) {
            stored.push_back({ids[i], events[i]});
        }
        for (const auto& listener : listeners) listener(stored);
    }

    void save_snapshot() {
        const auto now = now_point();
        ++in_flight;
        store::post_when_durable(
            writer, core, weak_from_this(),
            [snapshot = engine->snapshot(now), saved_ms = now.wall_ms](sqlite3* db) {
                save_engine_state(db, saved_ms, snapshot);
            },
            [](Impl& self, const Status& written) {
                --self.in_flight;
                if (!written)
                    log_error(kInstance, "saving the rules engine's state: {}", written.error());
            });
    }

    // Start and reload: the `alarms` table lists exactly the alarms the rules define now.
    void sync_alarm_table() {
        ++in_flight;
        store::post_when_durable(
            writer, core, weak_from_this(),
            [views = engine->alarms()](sqlite3* db) { replace_alarms(db, views); },
            [](Impl& self, const Status& written) {
                --self.in_flight;
                if (!written) log_error(kInstance, "updating the alarm list: {}", written.error());
            });
    }

    void log_event(const rules::AlarmEvent& event) {
        using rules::AlarmAction;
        const std::string subject = event.rule_id.empty()
                                        ? fmt::format("area {}", event.area)
                                        : fmt::format("{} on {}", event.rule_id, event.equipment);
        const std::string value =
            std::isfinite(event.value) ? fmt::format(" (value {:.6g})", event.value) : "";
        const std::string who = event.actor.empty() ? "" : fmt::format(" by {}", event.actor);
        const std::string why = event.reason.empty() ? "" : fmt::format(": {}", event.reason);
        switch (event.action) {
            case AlarmAction::activate:
                log_warning(kInstance, "{} {} {}: {}{}{}", rules::severity_name(event.severity),
                            subject, rules::alarm_state_name(event.to), event.detail, value,
                            event.escalation ? " [escalation]" : "");
                break;
            case AlarmAction::flood:
                log_warning(kInstance, "alarm flood in {}: {}", subject, event.detail);
                break;
            default:
                log_info(kInstance, "{} {}: {} -> {}{}{}{}{}", subject,
                         rules::alarm_action_name(event.action),
                         rules::alarm_state_name(event.from), rules::alarm_state_name(event.to),
                         event.detail.empty() ? "" : " " + event.detail, value, who, why);
        }
    }

    // --- timers ---

    void schedule_tick() {
        tick_timer.expires_after(kTickInterval);
        tick_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            auto self = weak.lock();
            if (error || !self || !self->running) return;
            self->engine->on_tick(now_point(), self->out);
            self->flush_out();
            self->schedule_tick();
        });
    }

    void schedule_snapshot() {
        snapshot_timer.expires_after(kSnapshotInterval);
        snapshot_timer.async_wait(
            [weak = weak_from_this()](const boost::system::error_code& error) {
                auto self = weak.lock();
                if (error || !self || !self->running) return;
                self->save_snapshot();
                self->schedule_snapshot();
            });
    }

    void flush_out() {
        if (out.empty()) return;
        std::vector<rules::AlarmEvent> events;
        events.swap(out);
        persist(std::move(events));
    }

    // --- operators ---

    struct Who {
        std::string name;
        bool supervisor = false;
    };

    // The signed-in web user, else the workflow user mapped to the caller's uid, else the Unix
    // user. Without configured users, whoever the socket's mode lets in may do everything.
    Who identify(const control::Caller& caller) const {
        const auto* user = caller.authenticated_user.empty()
                               ? workflow.find_user_by_uid(caller.uid)
                               : workflow.find_user(caller.authenticated_user);
        if (user != nullptr) {
            Who who{user->name, false};
            for (auto role : user->role_list) {
                for (auto supervisor : kSupervisorRoles) who.supervisor |= role == supervisor;
            }
            return who;
        }
        return {caller.user, workflow.users.empty()};
    }

    // What an operator asks of one alarm, as the command handlers see it.
    struct Request {
        std::string rule;
        std::string equipment;
        Who who;
        const boost::json::object& args;
        rules::TimePoint now;
    };
    using Operation = std::function<Status(rules::Engine& engine, const Request& request,
                                           std::vector<rules::AlarmEvent>& events)>;

    void register_command(const std::string& name, bool supervisors_only,
                          const Operation& operation) {
        control->handle(name, [weak = weak_from_this(), name, supervisors_only, operation](
                                  const control::Caller& caller, const boost::json::object& args,
                                  control::Reply reply) {
            auto self = weak.lock();
            if (!self) return reply.error("alarms are not running (daemon stopping)");
            self->run_command(name, supervisors_only, operation, caller, args, std::move(reply));
        });
    }

    void run_command(const std::string& name, bool supervisors_only, const Operation& operation,
                     const control::Caller& caller, const boost::json::object& args,
                     control::Reply reply) {
        Request request{text_arg(args, "rule"), text_arg(args, "equipment"), identify(caller), args,
                        now_point()};
        if (request.rule.empty() || request.equipment.empty()) {
            return reply.error(
                fmt::format("{} needs a rule and an equipment id (see 'floorwatch alarms')", name));
        }
        if (supervisors_only && !request.who.supervisor) {
            return reply.error(fmt::format(
                "{} may not {}: shelving and taking alarms out of service is for team_lead, "
                "safety, manager or admin (workflow.users)",
                request.who.name,
                name == "alarm.shelve" ? "shelve alarms" : "change service state"));
        }
        std::vector<rules::AlarmEvent> events;
        if (const auto operated = operation(*engine, request, events); !operated) {
            return reply.error(operated.error());
        }
        if (caller.authenticated_user.empty()) {
            log_info(kInstance, "{} by {} (uid {}) on {} / {}", name, request.who.name, caller.uid,
                     request.rule, request.equipment);
        } else {
            log_info(kInstance, "{} by {} (web page) on {} / {}", name, request.who.name,
                     request.rule, request.equipment);
        }
        persist(
            std::move(events),
            [reply, rule = request.rule, equipment = request.equipment](
                Impl& self, const Status& written) mutable {
                if (!written)
                    return reply.error("not recorded, the store refused it: " + written.error());
                for (const auto& view : self.engine->alarms()) {
                    if (view.rule_id == rule && view.equipment == equipment) {
                        return reply.ok(alarm_view_json(view));
                    }
                }
                reply.ok();
            },
            [reply]() mutable {
                reply.error("not recorded: the daemon stopped before it was durable");
            });
    }

    void register_commands() {
        if (control == nullptr) return;
        register_command("alarm.ack", false,
                         [](rules::Engine& rules_engine, const Request& request,
                            std::vector<rules::AlarmEvent>& events) {
                             return rules_engine.acknowledge(request.rule, request.equipment,
                                                             request.who.name, request.now, events);
                         });
        register_command("alarm.shelve", true,
                         [](rules::Engine& rules_engine, const Request& request,
                            std::vector<rules::AlarmEvent>& events) -> Status {
                             const auto* duration = request.args.if_contains("duration_ms");
                             if (duration == nullptr || !duration->is_int64()) {
                                 return Error{"shelving needs a duration (--for 2h)"};
                             }
                             return rules_engine.shelve(request.rule, request.equipment,
                                                        request.who.name, duration->get_int64(),
                                                        text_arg(request.args, "reason"),
                                                        request.now, events);
                         });
        register_command("alarm.unshelve", true,
                         [](rules::Engine& rules_engine, const Request& request,
                            std::vector<rules::AlarmEvent>& events) {
                             return rules_engine.unshelve(request.rule, request.equipment,
                                                          request.who.name, request.now, events);
                         });
        register_command("alarm.disable", true,
                         [](rules::Engine& rules_engine, const Request& request,
                            std::vector<rules::AlarmEvent>& events) -> Status {
                             const std::string reason = text_arg(request.args, "reason");
                             if (reason.empty()) {
                                 return Error{"taking an alarm out of service needs a reason"};
                             }
                             return rules_engine.remove_from_service(
                                 request.rule, request.equipment, request.who.name, reason,
                                 request.now, events);
                         });
        register_command("alarm.enable", true,
                         [](rules::Engine& rules_engine, const Request& request,
                            std::vector<rules::AlarmEvent>& events) {
                             return rules_engine.return_to_service(request.rule, request.equipment,
                                                                   request.who.name, request.now,
                                                                   events);
                         });
    }

    void restore_saved_state() {
        std::optional<std::string> saved;
        try {
            AlarmReader reader(store_path);
            saved = reader.engine_state();
        } catch (const std::exception& error) {
            log_error(kInstance, "cannot read the saved alarm state, starting fresh: {}",
                      error.what());
            return;
        }
        if (!saved) {
            log_info(kInstance, "no saved alarm state: every alarm starts normal");
            return;
        }
        try {
            engine->restore(*saved, now_point());
            log_info(kInstance, "restored the state of {} alarm(s)", engine->alarms().size());
        } catch (const std::exception& error) {
            log_error(kInstance,
                      "the saved alarm state could not be restored, starting fresh (alarms that "
                      "are still active will be raised again): {}",
                      error.what());
        }
    }
};

AlarmService::AlarmService(boost::asio::io_context& core, store::Writer& writer,
                           const Config& config, control::Server* control)
    : impl_(std::make_shared<Impl>(core, writer, config, control)) {
    impl_->register_commands();
}

AlarmService::~AlarmService() {
    impl_->running = false;
    try {
        impl_->tick_timer.cancel();
        impl_->snapshot_timer.cancel();
    } catch (...) {
        // cancel() throws only if the reactor refuses, which epoll does not; a handler that
        // still runs sees `running` false and does nothing. A destructor must not throw.
    }
}

void AlarmService::start() {
    impl_->restore_saved_state();
    impl_->sync_alarm_table();
    impl_->running = true;
    // The first tick raises whatever the restored state and elapsed time call for.
    impl_->engine->on_tick(now_point(), impl_->out);
    impl_->flush_out();
    impl_->schedule_tick();
    impl_->schedule_snapshot();
    const auto rules = impl_->engine->rules().size();
    log_info(kInstance, "{} rule(s), {} alarm(s) armed", rules, impl_->engine->alarms().size());
}

void AlarmService::on_samples(const SampleBatch& batch) {
    if (!impl_->running) return;
    const auto now = now_point();
    for (const auto& sample : batch) impl_->engine->on_sample(sample, now, impl_->out);
    impl_->flush_out();
}

void AlarmService::on_events(const PlantEventBatch& events) {
    if (!impl_->running) return;
    const auto now = now_point();
    for (const auto& event : events) impl_->engine->on_event(event, now, impl_->out);
    impl_->flush_out();
}

void AlarmService::reload(const Config& config) {
    const auto now = now_point();
    try {
        auto engine = std::make_unique<rules::Engine>(engine_setup(config), now);
        engine->restore(impl_->engine->snapshot(now), now);
        impl_->engine = std::move(engine);
        impl_->workflow = config.workflow;
    } catch (const std::exception& error) {
        log_error(kInstance, "rules not reloaded, the running rules stay: {}", error.what());
        return;
    }
    impl_->sync_alarm_table();
    impl_->save_snapshot();
    log_info(kInstance, "rules reloaded: {} rule(s), {} alarm(s)", impl_->engine->rules().size(),
             impl_->engine->alarms().size());
}

void AlarmService::stop() {
    if (!impl_->running) return;
    impl_->running = false;
    impl_->tick_timer.cancel();
    impl_->snapshot_timer.cancel();
    impl_->save_snapshot();
}

void AlarmService::add_listener(AlarmListener listener) {
    impl_->listeners.push_back(std::move(listener));
}

bool AlarmService::writes_in_flight() const {
    return impl_->in_flight > 0;
}

AlarmServiceStats AlarmService::stats() const {
    AlarmServiceStats stats;
    for (const auto& view : impl_->engine->alarms()) {
        ++stats.alarms;
        if (view.status.condition) ++stats.active;
        if (view.state == rules::AlarmState::unack_active ||
            view.state == rules::AlarmState::rtn_unack) {
            ++stats.unacknowledged;
        }
    }
    stats.events_written = impl_->events_written;
    stats.write_failures = impl_->write_failures;
    stats.engine = impl_->engine->counters();
    return stats;
}

}  // namespace fw::alarms
