#include "daemon/orders/order_service.hpp"

#include <fmt/format.h>
#include <sys/timex.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/time_zone.hpp"
#include "daemon/core/units.hpp"
#include "daemon/orders/alarm_orders.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/order_publisher.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/orders/uploads.hpp"
#include "daemon/store/post_when_durable.hpp"
#include "daemon/store/store_file.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/numbering.hpp"
#include "daemon/workflow/payload.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::orders {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using workflow::Actor;
using workflow::Command;
using workflow::OrderState;
using workflow::Outcome;
using workflow::Role;

constexpr std::string_view kInstance = "orders";
constexpr auto kOverdueInterval = std::chrono::seconds(30);

// The wall clock, and whether the kernel says it is synchronised (NTP, GPS, PTP).
class SystemClock final : public workflow::Clock {
  public:
    workflow::WallTime now() const override {
        timex status{};
        const int state = ntp_adjtime(&status);
        const std::int64_t now = wall_now_ms();
        return {now, workflow::clock_synced(now, state >= 0 && state != TIME_ERROR)};
    }
};

std::string day_text(const LocalTime& local) {
    return fmt::format("{:04}-{:02}-{:02}", local.year, local.month, local.day);
}

// workflow.publish_broker, else the first of mqtt.brokers; nullptr without brokers.
const mqtt::BrokerConfig* publish_broker(const Config& config) {
    const auto& brokers = config.mqtt.brokers;
    if (brokers.empty()) return nullptr;
    const mqtt::BrokerConfig* chosen = &brokers.front();
    for (const auto& broker : brokers) {
        if (broker.name == config.workflow.publish_broker) chosen = &broker;
    }
    return chosen;
}

std::string broker_text(const mqtt::BrokerConfig* broker) {
    return broker != nullptr ? broker->name + " " + broker->uri : std::string();
}

// What to do once an action is decided (`decided`: the outcome or the workflow's refusal) and,
// when accepted, written (`written`).
using Then = std::function<void(const Result<Outcome>& decided, const Status& written)>;

// An action waiting for its turn: the command, who asks, and what to do with the outcome.
struct Action {
    Command command;
    Actor actor;
    std::string order_id;                        // empty for reports
    std::optional<std::int64_t> alarm_event_id;  // the alarm event that caused it
    Then then;
};

// A report's number counter as written with it: ((prefix, plant-local day), counter).
using DayCounter = std::pair<std::pair<std::string, std::string>, std::uint32_t>;

// An accepted action on its way to the store, and what writing it changes once durable.
struct Written {
    std::shared_ptr<workflow::EventWriter> scratch;  // the event writer after its events
    std::shared_ptr<Result<Outcome>> decided;
    std::optional<DayCounter> counter;
    std::optional<std::int64_t> alarm_event_id;
    bool opens_order_from_alarm = false;
};

}  // namespace

struct OrderService::Impl : std::enable_shared_from_this<OrderService::Impl> {
    Impl(asio::io_context& core_context, store::Writer& store_writer, const Config& initial,
         control::Server* control_server, const workflow::Clock* given_clock)
        : core(core_context),
          writer(store_writer),
          config(initial),
          control(control_server),
          clock(given_clock != nullptr ? given_clock : &system_clock),
          origin(workflow::origin_of(initial.gateway.site, initial.gateway.node)),
          event_writer(origin, 1),
          overdue_timer(core_context) {
        load_zone();
    }

    // --- setup ---

    void load_zone() { zone = TimeZone::load_or_utc(config.gateway.timezone, kInstance); }

    void register_commands() {
        if (control == nullptr) return;
        std::weak_ptr<Impl> weak = weak_from_this();
        const auto bind = [weak](auto method) {
            return [weak, method](const control::Caller& caller, const json::object& args,
                                  control::Reply reply) {
                auto self = weak.lock();
                if (!self) return reply.error("work orders are not running (daemon stopping)");
                ((*self).*method)(caller, args, std::move(reply));
            };
        };
        control->handle("order.report", bind(&Impl::on_report));
        control->handle("order.act", bind(&Impl::on_act));
        control->handle("attachment.upload", bind(&Impl::on_upload));
        control->handle("incidents.record", bind(&Impl::on_incident));
    }

    // Subscribed before the alarm service starts, so no durable alarm event goes unheard; those
    // arriving before start() wait for the orders to be loaded.
    void subscribe(alarms::AlarmService& alarm_service) {
        alarm_service.add_listener(
            [weak = weak_from_this()](const std::vector<alarms::StoredAlarmEvent>& events) {
                if (auto self = weak.lock()) self->on_alarm_events(events);
            });
    }

    void start() {
        StoredOrders stored;
        alarms::AlarmHistory missed;
        {
            auto connection =
                store::open_store_file(config.store.path, store::OpenMode::read_only, false);
            stored = load_orders(connection.get());
            missed = alarms::load_alarm_events_after(connection.get(), stored.last_alarm_event_id);
        }
        for (const auto& row : missed.unreadable) {
            log_error(kInstance, "{}; no order is opened from it (floorwatch alarms history)",
                      alarms::describe_unreadable(row));
        }
        for (const auto& row : stored.unreadable) {
            log_error(kInstance,
                      "event {} of order {} (order_events row {}) cannot be read: {}; run "
                      "floorwatch verify",
                      row.event_id, row.order_id, row.row_id, row.problem);
        }
        if (const auto* cursor = stored.cursor_of(origin)) {
            event_writer = workflow::EventWriter(origin, cursor->next_sequence, cursor->last_hlc);
        }
        anonymity_key = stored.anonymity_key;
        day_counters = std::move(stored.day_counters);
        attachments = std::move(stored.attachments);
        alarm_cursor = stored.last_alarm_event_id;
        alarm_seen = std::max(alarm_seen, alarm_cursor);
        index = index_orders(stored.events);
        log_info(kInstance, "{} order(s) loaded, {} open; writing as {} from sequence {}",
                 index.states.size(), open_count(), origin, event_writer.next_sequence());

        start_publisher();
        for (const auto& [id, state] : index.states) publish(state);

        if (!missed.events.empty()) {
            log_info(kInstance, "catching up with {} alarm event(s) stored since the last run",
                     missed.events.size());
            take_alarm_events(missed.events);
        }
        started = true;
        // Alarm events heard while loading: the ids already caught up with are skipped.
        take_alarm_events(std::exchange(early_alarm_events, {}));
        schedule_overdue();
    }

    void start_publisher() {
        if (publisher) {
            // Stopping waits for the broker to answer the disconnect (up to about 2 s): off the
            // core thread, so a reload never holds up alarms, replies or the watchdog.
            std::erase_if(retiring, [](std::future<void>& stopped) {
                return stopped.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
            });
            retiring.push_back(std::async(std::launch::async,
                                          [old = std::move(publisher)]() mutable { old.reset(); }));
        }
        const auto* chosen = publish_broker(config);
        if (chosen == nullptr) return;
        publisher_broker = broker_text(chosen);
        topic_root = order_topic_root(config.gateway.site, config.gateway.node);
        publisher = std::make_unique<OrderPublisher>(
            mqtt::with_default_client_id(*chosen, config.gateway.site, config.gateway.node));
        publisher->start();
        log_info(kInstance, "publishing order states to broker {} under {}/orders/", chosen->name,
                 topic_root);
    }

    void stop() {
        stopping = true;
        overdue_timer.cancel();
        if (publisher) publisher->stop();
        uploads.clear();
    }

    void reload(const Config& next) {
        const std::string previous_broker = publisher_broker;
        const std::string previous_zone = config.gateway.timezone;
        // Site, node and store path need a restart (the daemon says so); keep the running ones.
        const auto gateway = config.gateway;
        const auto store_config = config.store;
        config = next;
        config.gateway.site = gateway.site;
        config.gateway.node = gateway.node;
        config.store = store_config;
        if (config.gateway.timezone != previous_zone) load_zone();
        if (broker_text(publish_broker(config)) != previous_broker) {
            publisher_broker.clear();
            start_publisher();
            for (const auto& [id, state] : index.states) publish(state);
        }
        log_info(kInstance, "workflow configuration reloaded: {} user(s)",
                 config.workflow.users.size());
    }

    // --- the queue: one action at a time ---

    void enqueue(std::function<void()> operation) {
        queue.push_back(std::move(operation));
        if (!busy) run_next();
    }

    void run_next() {
        if (queue.empty()) {
            busy = false;
            return;
        }
        busy = true;
        auto operation = std::move(queue.front());
        queue.pop_front();
        operation();
    }

    // Every operation ends here exactly once; the next starts from the core loop so that a chain
    // of refusals does not grow the stack.
    void finish_operation() {
        asio::post(core, [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->run_next();
        });
    }

    void submit(Action action) {
        enqueue([this, action = std::move(action)]() mutable { run_action(std::move(action)); });
    }

    void run_action(Action action) {
        static const OrderState kNoOrder;
        const OrderState* found = action.order_id.empty() ? nullptr : find_by_id(action.order_id);
        const OrderState& state = found != nullptr ? *found : kNoOrder;
        std::string head;
        if (found != nullptr) head = found->head_hash;

        std::optional<DayCounter> counter;
        if (auto* report = std::get_if<workflow::ReportCommand>(&action.command)) {
            const auto local = zone.local_time(clock->now().ms);
            report->local_date =
                std::chrono::year_month_day{std::chrono::year(local.year),
                                            std::chrono::month(static_cast<unsigned>(local.month)),
                                            std::chrono::day(static_cast<unsigned>(local.day))};
            auto key =
                std::make_pair(config.workflow.prefix_for_area(report->area), day_text(local));
            report->day_counter = day_counters[key] + 1;
            counter = std::make_pair(std::move(key), report->day_counter);
        }

        auto scratch = std::make_shared<workflow::EventWriter>(event_writer);
        auto decided = std::make_shared<Result<Outcome>>(workflow::handle(
            action.command, action.actor, state, head,
            workflow::HandlerContext{config.workflow, *clock, *scratch, anonymity_key}));
        if (!*decided) {
            ++stats.actions_refused;
            if (action.alarm_event_id) {
                log_warning(kInstance, "alarm event {}: {} refused: {}", *action.alarm_event_id,
                            workflow::command_name(action.command), decided->error());
                write_alarm_cursor_only(*action.alarm_event_id,
                                        [decided, then = action.then](const Status& written) {
                                            then(*decided, written);
                                        });
                return;
            }
            action.then(*decided, Status());
            finish_operation();
            return;
        }

        const Outcome& outcome = **decided;
        EventBatch batch;
        batch.events = outcome.events;
        batch.cursor = {origin, scratch->next_sequence(), scratch->last_hlc()};
        batch.day_counter = counter;
        batch.alarm_event_id = action.alarm_event_id;
        batch.queued_ms = clock->now().ms;
        const Written written{scratch, decided, counter, action.alarm_event_id,
                              action.alarm_event_id.has_value() &&
                                  std::holds_alternative<workflow::ReportCommand>(action.command)};
        store::post_when_durable(
            writer, core, weak_from_this(),
            [batch = std::move(batch)](sqlite3* db) { write_event_batch(db, batch); },
            [written, then = std::move(action.then)](Impl& self, const Status& durable) {
                self.on_written(written, durable);
                then(*written.decided, durable);
                self.finish_operation();
            });
    }

    // Moves the alarm cursor past an event that changes no order; `then` runs once written.
    void write_alarm_cursor_only(std::int64_t alarm_event_id,
                                 std::function<void(const Status& written)> then = {}) {
        store::post_when_durable(
            writer, core, weak_from_this(),
            [alarm_event_id](sqlite3* db) { orders::write_alarm_cursor(db, alarm_event_id); },
            [then = std::move(then), alarm_event_id](Impl& self, const Status& written) {
                if (written) self.alarm_cursor = std::max(self.alarm_cursor, alarm_event_id);
                if (then) then(written);
                self.finish_operation();
            });
    }

    void on_written(const Written& action, const Status& durable) {
        if (!durable) {
            ++stats.write_failures;
            log_error(kInstance, "an order action was not stored: {}", durable.error());
            return;
        }
        const Outcome& outcome = **action.decided;
        ++stats.actions_written;
        if (action.opens_order_from_alarm) ++stats.orders_from_alarms;
        event_writer = *action.scratch;
        for (const auto& event : outcome.events) {
            if (!event.clock_synced) {
                last_unsynced_written = std::chrono::steady_clock::now();
                last_unsynced_sequence = event.id.sequence;
            }
        }
        if (const auto& counter = action.counter) {
            day_counters[counter->first] = std::max(day_counters[counter->first], counter->second);
        }
        if (action.alarm_event_id) alarm_cursor = std::max(alarm_cursor, *action.alarm_event_id);
        const std::string& id = outcome.state.id;
        auto& events = index.events_by_order[id];
        events.insert(events.end(), outcome.events.begin(), outcome.events.end());
        index.states[id] = outcome.state;
        if (std::any_of(outcome.events.begin(), outcome.events.end(), [](const auto& event) {
                return event.type == workflow::EventType::clock_corrected;
            })) {
            // A correction shifts the times of earlier events: only the whole fold shows that.
            index.states[id] = workflow::fold(events);
        }
        if (!outcome.state.number.empty()) {
            std::string number = outcome.state.number;
            for (auto& c : number)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            index.id_by_number[number] = id;
        }
        for (const auto& event : outcome.events) {
            log_info(kInstance, "{} {}: {} by {} ({})",
                     outcome.state.number.empty() ? id : outcome.state.number,
                     workflow::event_type_name(event.type),
                     workflow::order_status_name(outcome.state.status), event.actor,
                     workflow::role_name(event.role));
        }
        for (const auto& notice : outcome.notices) {
            std::vector<std::string> who;
            who.reserve(notice.roles.size() + 1);
            for (const Role role : notice.roles) who.emplace_back(workflow::role_name(role));
            if (!notice.user.empty()) who.push_back(notice.user);
            log_warning(kInstance, "notice for {}: {}",
                        who.empty() ? std::string("-") : fmt::format("{}", fmt::join(who, ", ")),
                        notice.message);
        }
        publish(outcome.state);
    }

    const OrderState* find_by_id(const std::string& id) const {
        const auto it = index.states.find(id);
        return it == index.states.end() ? nullptr : &it->second;
    }

    std::size_t open_count() const {
        std::size_t open = 0;
        for (const auto& [id, state] : index.states)
            if (state.open()) ++open;
        return open;
    }

    // --- MQTT ---

    void publish(const OrderState& state) {
        if (!publisher) return;
        json::object view = workflow::order_view(state);
        const std::string payload = json::serialize(view);
        publisher->publish(topic_root + "/orders/" + state.id, payload);
        const std::string assignee =
            state.open() && state.status == workflow::OrderStatus::rectifying ? state.assignee
                                                                              : std::string();
        auto& previous = published_assignee[state.id];
        if (!previous.empty() && previous != assignee) {
            publisher->publish(topic_root + "/assignees/" + previous + "/orders/" + state.id, "");
        }
        if (!assignee.empty()) {
            publisher->publish(topic_root + "/assignees/" + assignee + "/orders/" + state.id,
                               payload);
        }
        previous = assignee;
    }

    // --- alarms ---

    void on_alarm_events(const std::vector<alarms::StoredAlarmEvent>& events) {
        if (!started) {
            early_alarm_events.insert(early_alarm_events.end(), events.begin(), events.end());
            return;
        }
        take_alarm_events(events);
    }

    void take_alarm_events(const std::vector<alarms::StoredAlarmEvent>& events) {
        std::int64_t last_ignored = 0;
        bool last_is_action = false;
        for (const auto& stored : events) {
            if (stored.id <= alarm_seen) continue;  // already queued or written
            alarm_seen = stored.id;
            if (stored.event.action != rules::AlarmAction::activate) {
                last_ignored = stored.id;
                last_is_action = false;
                continue;
            }
            enqueue([this, stored] { run_alarm(stored); });
            last_is_action = true;
        }
        // Events that cause nothing still move the cursor, so a restart does not re-read them.
        if (last_ignored > 0 && !last_is_action) {
            enqueue([this, last_ignored] { write_alarm_cursor_only(last_ignored); });
        }
    }

    // Decided when its turn comes, on the orders as they are then.
    void run_alarm(const alarms::StoredAlarmEvent& stored) {
        auto decided = order_action_for_alarm(stored, index.all(), config);
        if (!decided) return write_alarm_cursor_only(stored.id);
        run_action(Action{std::move(decided->command), Actor::system(),
                          std::move(decided->order_id), stored.id,
                          [](const Result<Outcome>&, const Status&) {}});
    }

    // --- overdue ---

    void schedule_overdue() {
        if (stopping) return;
        overdue_timer.expires_after(kOverdueInterval);
        overdue_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            if (error) return;
            if (auto self = weak.lock()) {
                self->check_overdue();
                self->schedule_overdue();
            }
        });
    }

    // --- clock corrections (daemon/workflow/README.md "Clock corrections") ---

    // Once the clock turns synchronised: one clock_corrected event per stretch of this node's
    // unsynchronised events on every order holding some, queued like any action. Deadlines are
    // judged after that (overdue_steps skips orders still waiting).
    void check_clock() {
        const auto now = clock->now();
        if (!now.synced) {
            corrections_planned = false;
            return;
        }
        if (corrections_planned) return;
        corrections_planned = true;
        std::vector<workflow::Event> all;
        for (const auto& [id, events] : index.events_by_order) {
            all.insert(all.end(), events.begin(), events.end());
        }
        const auto unsynced = workflow::uncorrected_unsynced(all, origin);
        if (unsynced.empty()) return;
        std::optional<std::int64_t> since_last;
        if (last_unsynced_written && last_unsynced_sequence == unsynced.back().id.sequence) {
            since_last = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - *last_unsynced_written)
                             .count();
        }
        for (const auto& correction :
             workflow::plan_clock_corrections(unsynced, now.ms, since_last)) {
            std::set<std::string> orders;
            for (const auto& event : unsynced) {
                if (event.id.sequence >= correction.first_sequence &&
                    event.id.sequence <= correction.last_sequence) {
                    orders.insert(event.order_id);
                }
            }
            log_info(kInstance,
                     "the clock is synchronised: events {}..{} were written {} off; correcting "
                     "{} order(s)",
                     correction.first_sequence, correction.last_sequence,
                     format_duration(Millis(correction.offset_ms)), orders.size());
            for (const auto& order_id : orders) {
                submit(Action{
                    workflow::CorrectClockCommand{correction.first_sequence,
                                                  correction.last_sequence, correction.offset_ms},
                    Actor::system(), order_id, std::nullopt,
                    [](const Result<Outcome>& decided, const Status& written) {
                        if (!decided) {
                            log_warning(kInstance, "clock correction refused: {}", decided.error());
                        } else if (!written) {
                            log_error(kInstance, "clock correction not stored: {}",
                                      written.error());
                        }
                    }});
            }
        }
    }

    void check_overdue() {
        check_clock();
        for (const auto& due : workflow::overdue_steps(index.all(), clock->now())) {
            if (!overdue_queued.insert({due.order_id, due.step_index}).second) continue;
            submit(Action{workflow::MarkOverdueCommand{due.step_index}, Actor::system(),
                          due.order_id, std::nullopt,
                          [this, key = std::make_pair(due.order_id, due.step_index)](
                              const Result<Outcome>& decided, const Status& written) {
                              overdue_queued.erase(key);
                              if (!decided) {
                                  log_debug(kInstance, "overdue mark skipped: {}", decided.error());
                              } else if (written) {
                                  ++stats.overdue_marked;
                              }
                          }});
        }
    }

    // --- control commands (parsed in control_commands.cpp) ---

    bool ready(control::Reply& reply) {
        if (started && !stopping) return true;
        reply.error(stopping ? "floorwatchd is stopping; try again once it runs"
                             : "work orders are still loading; try again in a moment");
        return false;
    }

    static Then replying(control::Reply reply) {
        return [reply](const Result<Outcome>& decided, const Status& written) mutable {
            if (!decided) return reply.error(decided.error());
            if (!written) return reply.error("not stored: " + written.error());
            reply.ok(outcome_json(*decided));
        };
    }

    void on_report(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, config);
        if (!actor) return reply.error(actor.error());
        auto report = parse_report(args, config, attachments);
        if (!report) return reply.error(report.error());
        submit(Action{std::move(*report), std::move(*actor), "", std::nullopt,
                      replying(std::move(reply))});
    }

    void on_act(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, config);
        if (!actor) return reply.error(actor.error());
        const std::string reference = control::text_arg(args, "order");
        const OrderState* order = index.find(reference);
        if (order == nullptr) {
            return reply.error(
                fmt::format("no order '{}' (floorwatch orders list shows them)", reference));
        }
        auto command = parse_action(args, attachments);
        if (!command) return reply.error(command.error());
        submit(Action{std::move(*command), std::move(*actor), order->id, std::nullopt,
                      replying(std::move(reply))});
    }

    void on_upload(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, config);
        if (!actor) return reply.error(actor.error());
        auto progress = uploads.add(caller, args, config.workflow.attachments,
                                    std::chrono::steady_clock::now());
        if (!progress) return reply.error(progress.error());
        if (!progress->finished) return reply.ok(json::object{{"upload", progress->upload_id}});
        AttachmentUpload stored = std::move(*progress->finished);
        stored.uploaded_by = actor->user;
        stored.uploaded_ms = clock->now().ms;
        enqueue([this, stored = std::move(stored), reply = std::move(reply)]() mutable {
            const workflow::Attachment meta = stored.attachment;
            store::post_when_durable(
                writer, core, weak_from_this(),
                [stored = std::move(stored)](sqlite3* db) { write_attachment(db, stored); },
                [meta, reply](Impl& self, const Status& written) mutable {
                    if (written) {
                        self.attachments.emplace(meta.sha256, meta);
                        reply.ok(json::object{{"sha256", meta.sha256},
                                              {"media_type", meta.media_type},
                                              {"size", meta.size},
                                              {"name", meta.name}});
                    } else {
                        reply.error("not stored: " + written.error());
                    }
                    self.finish_operation();
                },
                [reply]() mutable { reply.error("daemon stopping"); });
        });
    }

    void on_incident(const control::Caller& caller, const json::object& args,
                     control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, config);
        if (!actor) return reply.error(actor.error());
        auto record = parse_incident(args, *actor, config, clock->now().ms);
        if (!record) return reply.error(record.error());
        enqueue([this, record = std::move(*record), reply = std::move(reply)]() mutable {
            store::post_when_durable(
                writer, core, weak_from_this(),
                [record](sqlite3* db) { write_incident(db, record); },
                [reply, kind = record.kind](Impl& self, const Status& written) mutable {
                    if (written) {
                        reply.ok(json::object{{"recorded", kind}});
                    } else {
                        reply.error("not stored: " + written.error());
                    }
                    self.finish_operation();
                },
                [reply]() mutable { reply.error("daemon stopping"); });
        });
    }

    // --- events from the centre ---

    void apply_remote(std::vector<RemoteEvent> events, RemoteWrite also_write, RemoteDone done) {
        enqueue([this, events = std::move(events), also_write = std::move(also_write),
                 done = std::move(done)]() mutable {
            run_remote(std::move(events), also_write, done, std::nullopt);
        });
    }

    void apply_seed(std::vector<RemoteEvent> events, SeedPosition position, RemoteWrite also_write,
                    RemoteDone done) {
        enqueue([this, events = std::move(events), position, also_write = std::move(also_write),
                 done = std::move(done)]() mutable {
            run_remote(std::move(events), also_write, done, position);
        });
    }

    // The order number counters the seeded events' orders need: every order they touch folded
    // with what the store holds, its human number read back.
    DayCounters seeded_counters(const std::vector<workflow::Event>& seeded) const {
        std::map<std::string, std::vector<workflow::Event>, std::less<>> by_order;
        for (const auto& event : seeded) by_order[event.order_id].push_back(event);
        DayCounters counters;
        for (auto& [id, events] : by_order) {
            if (const auto held = index.events_by_order.find(id);
                held != index.events_by_order.end()) {
                events.insert(events.begin(), held->second.begin(), held->second.end());
            }
            const auto number = workflow::parse_human_number(workflow::fold(events).number);
            if (!number) continue;
            const std::string prefix = number->prefix;
            const std::string day =
                fmt::format("{:04}-{:02}-{:02}", static_cast<int>(number->date.year()),
                            static_cast<unsigned>(number->date.month()),
                            static_cast<unsigned>(number->date.day()));
            auto& last = counters[{prefix, day}];
            last = std::max(last, number->day_counter);
        }
        return counters;
    }

    // Why `event` cannot be applied here, or nullopt. Advances `scratch`'s clock when it can.
    std::optional<std::string> remote_refusal(const workflow::Event& event,
                                              workflow::EventWriter& scratch,
                                              const std::set<workflow::EventId>& taken, bool seed) {
        if (!seed && event.id.origin == origin) {
            return fmt::format(
                "it carries this gateway's own origin {}; only the centre's "
                "events come down",
                origin);
        }
        if (!event.order_id.starts_with(origin + ".")) {
            return fmt::format("order {} is not one of this gateway's ({})", event.order_id,
                               origin);
        }
        const auto held = index.events_by_order.find(event.order_id);
        if (held == index.events_by_order.end() && !seed) {
            return fmt::format(
                "order {} is not in this store (a re-imaged gateway: floorwatch "
                "sync reseed)",
                event.order_id);
        }
        const std::vector<workflow::Event> none;
        for (const auto& stored : held == index.events_by_order.end() ? none : held->second) {
            if (stored.id == event.id && stored.hash != event.hash) {
                return fmt::format(
                    "{} is held already with other content (hash {}..., "
                    "received {}...)",
                    event.id.to_string(), stored.hash.substr(0, 12), event.hash.substr(0, 12));
            }
        }
        if (taken.contains(event.id)) return std::nullopt;  // a duplicate, counted by the caller
        if (!scratch.clock().receive(event.hlc, clock->now())) {
            return fmt::format(
                "its time is more than {} ahead of this gateway's synchronised "
                "clock",
                format_duration(Millis(workflow::kMaxRemoteAhead)));
        }
        return std::nullopt;
    }

    // `seed`: a part of a reseed (apply_seed); nullopt: down events (apply_remote).
    void run_remote(std::vector<RemoteEvent> events, const RemoteWrite& also_write,
                    const RemoteDone& done, std::optional<SeedPosition> seed) {
        auto scratch = std::make_shared<workflow::EventWriter>(event_writer);
        auto applied = std::make_shared<RemoteApplied>();
        auto accepted = std::make_shared<std::vector<workflow::Event>>();
        std::set<workflow::EventId> taken;
        for (const auto& [id, order_events] : index.events_by_order) {
            for (const auto& event : order_events) taken.insert(event.id);
        }
        std::set<std::string> missing;
        for (auto& remote : events) {
            if (auto refusal = remote_refusal(remote.event, *scratch, taken, seed.has_value())) {
                applied->refused.push_back(
                    {remote.down, remote.event.id.to_string(), std::move(*refusal),
                     json::serialize(workflow::event_to_json(remote.event))});
                continue;
            }
            if (!taken.insert(remote.event.id).second) {
                ++applied->duplicates;
                continue;
            }
            for (auto& attachment :
                 workflow::payload::attachments_from_json(remote.event.payload, "attachments")) {
                if (attachments.contains(attachment.sha256) ||
                    !missing.insert(attachment.sha256).second) {
                    continue;
                }
                applied->missing_attachments.push_back(std::move(attachment));
            }
            accepted->push_back(std::move(remote.event));
        }
        applied->written = accepted->size();
        if (seed && seed->last && scratch->next_sequence() <= seed->origin_sequence) {
            // Never reuse an id the centre holds: this node's next event comes after them.
            *scratch =
                workflow::EventWriter(origin, seed->origin_sequence + 1, scratch->last_hlc());
        }
        const WriterCursor cursor{origin, scratch->next_sequence(), scratch->last_hlc()};
        auto counters = std::make_shared<DayCounters>();
        if (seed) *counters = seeded_counters(*accepted);
        store::post_when_durable(
            writer, core, weak_from_this(),
            [accepted, applied, cursor, also_write, seed, counters, origin = origin](sqlite3* db) {
                if (seed) {
                    const std::uint64_t up_to = seed->origin_sequence;
                    if (const auto own = count_unsynced_own_events(db, origin, up_to); own > 0) {
                        throw std::runtime_error(fmt::format(
                            "this store wrote {} event(s) of {} itself that the centre never "
                            "acknowledged, under sequences the centre holds other events for "
                            "(up to {}); re-seeding would reuse their ids. Stop floorwatchd, move "
                            "the store file aside (keep it: floorwatch orders list --all --db FILE "
                            "shows its orders), start again, run floorwatch sync reseed, then "
                            "report those orders again",
                            own, origin, up_to));
                    }
                    write_day_counters(db, *counters);
                }
                write_remote_events(db, *accepted, cursor);
                if (also_write) also_write(db, *applied);
            },
            [scratch, accepted, applied, done, counters](Impl& self, const Status& durable) {
                if (durable) {
                    for (const auto& [key, last] : *counters) {
                        self.day_counters[key] = std::max(self.day_counters[key], last);
                    }
                    self.on_remote_written(*scratch, *accepted);
                } else {
                    ++self.stats.write_failures;
                    log_error(kInstance, "events from the centre were not stored: {}",
                              durable.error());
                }
                if (done) done(durable, *applied);
                self.finish_operation();
            },
            [applied, done]() {
                if (done) done(Status(Error{"daemon stopping"}), *applied);
            });
    }

    void on_remote_written(const workflow::EventWriter& scratch,
                           const std::vector<workflow::Event>& written) {
        // Actions run one at a time: nothing wrote since the scratch writer was copied.
        event_writer = scratch;
        std::set<std::string> changed;
        for (const auto& event : written) {
            index.events_by_order[event.order_id].push_back(event);
            changed.insert(event.order_id);
        }
        for (const auto& id : changed) {
            auto& state = index.states[id];
            const auto before = state.status;
            state = workflow::fold(index.events_by_order[id]);
            log_info(kInstance, "{}: {} event(s) from the centre; {} (was {})",
                     state.number.empty() ? id : state.number,
                     std::count_if(written.begin(), written.end(),
                                   [&id](const auto& event) { return event.order_id == id; }),
                     workflow::order_status_name(state.status),
                     workflow::order_status_name(before));
            publish(state);
        }
    }

    asio::io_context& core;
    store::Writer& writer;
    Config config;
    control::Server* control;
    SystemClock system_clock;
    const workflow::Clock* clock;
    std::string origin;
    TimeZone zone;

    workflow::EventWriter event_writer;
    std::string anonymity_key;
    DayCounters day_counters;
    AttachmentIndex attachments;
    OrderIndex index;
    std::int64_t alarm_cursor = 0;  // durable
    std::int64_t alarm_seen = 0;    // queued or durable
    std::vector<alarms::StoredAlarmEvent> early_alarm_events;

    std::deque<std::function<void()>> queue;
    bool busy = false;
    bool started = false;
    bool stopping = false;
    std::set<std::pair<std::string, std::uint32_t>> overdue_queued;
    // This boot's last event written with an unsynchronised clock: the correction measures the
    // time since it on the monotonic clock (before this boot it is unknown, counted as zero).
    std::optional<std::chrono::steady_clock::time_point> last_unsynced_written;
    std::uint64_t last_unsynced_sequence = 0;
    bool corrections_planned = false;  // for the clock's current synchronised stretch
    Uploads uploads;

    std::unique_ptr<OrderPublisher> publisher;

    std::vector<std::future<void>> retiring;  // publishers being stopped after a reload
    std::string publisher_broker;
    std::string topic_root;
    std::map<std::string, std::string> published_assignee;

    asio::steady_timer overdue_timer;
    struct {
        std::uint64_t actions_written = 0;
        std::uint64_t actions_refused = 0;
        std::uint64_t write_failures = 0;
        std::uint64_t orders_from_alarms = 0;
        std::uint64_t overdue_marked = 0;
    } stats;
};

OrderService::OrderService(asio::io_context& core, store::Writer& writer, const Config& config,
                           control::Server* control, alarms::AlarmService* alarms,
                           const workflow::Clock* clock)
    : impl_(std::make_shared<Impl>(core, writer, config, control, clock)) {
    impl_->register_commands();
    if (alarms != nullptr) impl_->subscribe(*alarms);
}

OrderService::~OrderService() {
    try {
        impl_->stop();
    } catch (...) {
        // Only the timer's cancel() and the publisher's thread join can throw, and on Linux they
        // do not for a timer and a thread this service owns; a destructor must not throw.
    }
}

void OrderService::start() {
    impl_->start();
}

void OrderService::reload(const Config& config) {
    impl_->reload(config);
}

void OrderService::stop() {
    impl_->stop();
}

void OrderService::on_alarm_events(const std::vector<alarms::StoredAlarmEvent>& events) {
    impl_->on_alarm_events(events);
}

void OrderService::check_overdue() {
    impl_->check_overdue();
}

void OrderService::apply_seed(std::vector<RemoteEvent> events, SeedPosition position,
                              RemoteWrite also_write, RemoteDone done) {
    impl_->apply_seed(std::move(events), position, std::move(also_write), std::move(done));
}

void OrderService::apply_remote(std::vector<RemoteEvent> events, RemoteWrite also_write,
                                RemoteDone done) {
    impl_->apply_remote(std::move(events), std::move(also_write), std::move(done));
}

void OrderService::add_attachment(const workflow::Attachment& attachment) {
    impl_->attachments.emplace(attachment.sha256, attachment);
}

bool OrderService::writes_in_flight() const {
    return impl_->busy || !impl_->queue.empty();
}

OrderServiceStats OrderService::stats() const {
    OrderServiceStats stats;
    stats.orders = impl_->index.states.size();
    stats.open = impl_->open_count();
    const auto now = impl_->clock->now().ms;
    for (const auto& [id, state] : impl_->index.states) {
        const auto* step = state.current_step();
        if (state.open() && (state.overdue() || (step != nullptr && step->deadline_ms < now))) {
            ++stats.overdue;
        }
    }
    stats.actions_written = impl_->stats.actions_written;
    stats.actions_refused = impl_->stats.actions_refused;
    stats.write_failures = impl_->stats.write_failures;
    stats.orders_from_alarms = impl_->stats.orders_from_alarms;
    stats.last_alarm_event_id = impl_->alarm_cursor;
    return stats;
}

}  // namespace fw::orders
