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
#include "daemon/core/units.hpp"
#include "daemon/orders/attachments.hpp"
#include "daemon/orders/order_publisher.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/store/post_when_durable.hpp"
#include "daemon/store/sqlite_util.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/views.hpp"
#include "rules/time_zone.hpp"

namespace fw::orders {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using workflow::Actor;
using workflow::Command;
using workflow::Event;
using workflow::OrderState;
using workflow::Outcome;
using workflow::Role;

constexpr std::string_view kInstance = "orders";
constexpr auto kOverdueInterval = std::chrono::seconds(30);
// A request carries at most 1 MiB; 512 KiB of bytes is 683 KiB of base64 plus the JSON around it.
constexpr std::size_t kMaxUploadChunk = 512 * 1024;
constexpr std::size_t kMaxOpenUploads = 8;
constexpr auto kUploadExpiry = std::chrono::minutes(10);

// The wall clock, and whether the kernel says it is synchronised (NTP, GPS, PTP).
class SystemClock final : public workflow::Clock {
  public:
    workflow::WallTime now() const override {
        timex status{};
        const int state = ntp_adjtime(&status);
        return {wall_now_ms(), state >= 0 && state != TIME_ERROR};
    }
};

std::string text_arg(const json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    if (value == nullptr || !value->is_string()) return "";
    return std::string(value->as_string());
}

std::optional<std::int64_t> integer_arg(const json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    if (value == nullptr) return std::nullopt;
    if (value->is_int64()) return value->as_int64();
    if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
    return std::nullopt;
}

bool flag_arg(const json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    return value != nullptr && value->is_bool() && value->as_bool();
}

std::vector<std::string> strings_arg(const json::object& args, std::string_view key) {
    std::vector<std::string> values;
    const auto* value = args.if_contains(key);
    if (value == nullptr || !value->is_array()) return values;
    for (const auto& item : value->as_array()) {
        if (item.is_string()) values.emplace_back(item.as_string());
    }
    return values;
}

std::string day_text(const rules::LocalTime& local) {
    return fmt::format("{:04}-{:02}-{:02}", local.year, local.month, local.day);
}

// An action waiting for its turn: the command, who asks, and what to do with the outcome.
struct Action {
    Command command;
    Actor actor;
    std::string order_id;                        // empty for reports
    std::optional<std::int64_t> alarm_event_id;  // the alarm event that caused it
    std::function<void(const Result<Outcome>& decided, const Status& written)> then;
};

// An alarm event as the order service needs it, from the listener or from the store at start.
struct AlarmTrigger {
    std::int64_t id = 0;
    std::string rule_id;
    std::string rule_version;
    std::string equipment;
    std::string area;
    bool activate = false;
    bool escalation = false;
    std::string detail;
    std::optional<double> value;
};

struct Upload {
    uid_t uid = 0;
    std::string name;
    std::string data;
    std::chrono::steady_clock::time_point touched;
};

}  // namespace

struct OrderService::Impl : std::enable_shared_from_this<OrderService::Impl> {
    Impl(asio::io_context& core_context, store::Writer& store_writer, const Config& initial,
         control::Server* control_server, AlarmHooks hooks, const workflow::Clock* given_clock)
        : core(core_context),
          writer(store_writer),
          config(initial),
          control(control_server),
          alarms(std::move(hooks)),
          clock(given_clock != nullptr ? given_clock : &system_clock),
          origin(workflow::origin_of(initial.gateway.site, initial.gateway.node)),
          event_writer(origin, 1),
          overdue_timer(core_context) {
        load_zone();
    }

    // --- setup ---

    void load_zone() {
        try {
            zone = rules::TimeZone::load(config.gateway.timezone);
        } catch (const std::exception& error) {
            log_warning(kInstance, "{}; order numbers use UTC dates", error.what());
            zone = rules::TimeZone();
        }
    }

    void register_commands() {
        if (control == nullptr) return;
        std::weak_ptr<Impl> weak = weak_from_this();
        const auto bind = [weak](auto method) {
            return [weak, method](const control::Caller& caller, const json::object& args,
                                  control::Reply reply) {
                auto self = weak.lock();
                if (!self) {
                    reply.error("work orders are not running (daemon stopping)");
                    return;
                }
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
    void subscribe_alarms() {
        if (!alarms.subscribe) return;
        std::weak_ptr<Impl> weak = weak_from_this();
        alarms.subscribe([weak](const std::vector<alarms::StoredAlarmEvent>& events) {
            if (auto self = weak.lock()) self->on_alarm_events(events);
        });
    }

    void start() {
        StoredOrders stored;
        std::vector<AlarmEventRow> missed;
        {
            auto connection = store::detail::open_store_file(
                config.store.path, store::detail::OpenMode::read_only, false);
            stored = load_orders(connection.get());
            missed = load_alarm_events_after(connection.get(), stored.last_alarm_event_id);
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

        if (!missed.empty()) {
            log_info(kInstance, "catching up with {} alarm event(s) stored since the last run",
                     missed.size());
            std::vector<AlarmTrigger> triggers;
            for (const auto& row : missed) {
                triggers.push_back({row.id, row.rule_id, row.rule_version, row.equipment, row.area,
                                    row.action == "activate", row.escalation, row.detail,
                                    row.value});
            }
            take_alarm_triggers(std::move(triggers));
        }
        started = true;
        // Alarm events heard while loading: the ids already caught up with are skipped.
        take_alarm_triggers(std::exchange(early_triggers, {}));
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
        const auto& brokers = config.mqtt.brokers;
        if (brokers.empty()) return;
        const mqtt::BrokerConfig* chosen = &brokers.front();
        for (const auto& broker : brokers) {
            if (broker.name == config.workflow.publish_broker) chosen = &broker;
        }
        publisher_broker = chosen->name + " " + chosen->uri;
        topic_root = order_topic_root(config.gateway.site, config.gateway.node);
        publisher = std::make_unique<OrderPublisher>(*chosen);
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
        std::string broker_now;
        if (!config.mqtt.brokers.empty()) {
            const mqtt::BrokerConfig* chosen = &config.mqtt.brokers.front();
            for (const auto& broker : config.mqtt.brokers) {
                if (broker.name == config.workflow.publish_broker) chosen = &broker;
            }
            broker_now = chosen->name + " " + chosen->uri;
        }
        if (broker_now != previous_broker) {
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
        if (found != nullptr) head = index.events_by_order[found->id].back().hash;

        std::optional<std::pair<std::pair<std::string, std::string>, std::uint32_t>> counter;
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
        auto outcome = std::make_shared<Result<Outcome>>(workflow::handle(
            action.command, action.actor, state, head,
            workflow::HandlerContext{config.workflow, *clock, *scratch, anonymity_key}));
        if (!*outcome) {
            ++stats.actions_refused;
            if (action.alarm_event_id) {
                log_warning(kInstance, "alarm event {}: {} refused: {}", *action.alarm_event_id,
                            workflow::command_name(action.command), outcome->error());
                write_alarm_cursor_only(*action.alarm_event_id, std::move(action.then), outcome);
                return;
            }
            action.then(*outcome, Status());
            finish_operation();
            return;
        }

        EventBatch batch;
        batch.events = (*outcome)->events;
        batch.cursor = {origin, scratch->next_sequence(), scratch->last_hlc()};
        batch.day_counter = counter;
        batch.alarm_event_id = action.alarm_event_id;
        batch.queued_ms = clock->now().ms;
        auto then = std::make_shared<decltype(action.then)>(std::move(action.then));
        const auto alarm_event_id = action.alarm_event_id;
        store::post_when_durable(
            writer, core, weak_from_this(),
            [batch = std::move(batch)](sqlite3* db) { write_event_batch(db, batch); },
            [scratch, outcome, then, counter, alarm_event_id](Impl& self, const Status& written) {
                self.on_written(*scratch, **outcome, counter, alarm_event_id, written);
                (*then)(*outcome, written);
                self.finish_operation();
            });
    }

    void write_alarm_cursor_only(std::int64_t alarm_event_id,
                                 std::function<void(const Result<Outcome>&, const Status&)> then,
                                 std::shared_ptr<Result<Outcome>> outcome) {
        store::post_when_durable(
            writer, core, weak_from_this(),
            [alarm_event_id](sqlite3* db) { orders::write_alarm_cursor(db, alarm_event_id); },
            [then = std::move(then), outcome, alarm_event_id](Impl& self, const Status& written) {
                if (written) self.alarm_cursor = std::max(self.alarm_cursor, alarm_event_id);
                if (then) then(*outcome, written);
                self.finish_operation();
            });
    }

    void on_written(
        const workflow::EventWriter& scratch, const Outcome& outcome,
        const std::optional<std::pair<std::pair<std::string, std::string>, std::uint32_t>>& counter,
        std::optional<std::int64_t> alarm_event_id, const Status& written) {
        if (!written) {
            ++stats.write_failures;
            log_error(kInstance, "an order action was not stored: {}", written.error());
            return;
        }
        ++stats.actions_written;
        event_writer = scratch;
        if (counter)
            day_counters[counter->first] = std::max(day_counters[counter->first], counter->second);
        if (alarm_event_id) alarm_cursor = std::max(alarm_cursor, *alarm_event_id);
        const std::string& id = outcome.state.id;
        auto& events = index.events_by_order[id];
        events.insert(events.end(), outcome.events.begin(), outcome.events.end());
        index.states[id] = outcome.state;
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
        std::vector<AlarmTrigger> triggers;
        for (const auto& stored : events) {
            const auto& event = stored.event;
            std::optional<double> value;
            if (!std::isnan(event.value)) value = event.value;
            triggers.push_back({stored.id, event.rule_id, event.rule_version, event.equipment,
                                event.area, event.action == rules::AlarmAction::activate,
                                event.escalation, event.detail, value});
        }
        if (!started) {
            early_triggers.insert(early_triggers.end(), triggers.begin(), triggers.end());
            return;
        }
        take_alarm_triggers(std::move(triggers));
    }

    void take_alarm_triggers(std::vector<AlarmTrigger> triggers) {
        std::int64_t last_ignored = 0;
        bool last_is_action = false;
        for (auto& trigger : triggers) {
            if (trigger.id <= alarm_seen) continue;  // already queued or written
            alarm_seen = trigger.id;
            if (!trigger.activate) {
                last_ignored = trigger.id;
                last_is_action = false;
                continue;
            }
            enqueue([this, trigger = std::move(trigger)] { run_alarm(trigger); });
            last_is_action = true;
        }
        // Events that cause nothing still move the cursor, so a restart does not re-read them.
        if (last_ignored > 0 && !last_is_action) {
            enqueue([this, last_ignored] {
                write_alarm_cursor_only(last_ignored, nullptr,
                                        std::make_shared<Result<Outcome>>(Error{"no action"}));
            });
        }
    }

    // Decided when its turn comes, on the orders as they are then.
    void run_alarm(const AlarmTrigger& trigger) {
        const rules::RuleInfo* rule =
            alarms.find_rule ? alarms.find_rule(trigger.rule_id) : nullptr;
        const auto skip = [&] {
            write_alarm_cursor_only(trigger.id, nullptr,
                                    std::make_shared<Result<Outcome>>(Error{"no action"}));
        };
        if (rule == nullptr) return skip();
        const auto& rule_config = rule->config;
        const std::string area = !trigger.area.empty() ? trigger.area : [&] {
            const auto* equipment = config.find_equipment(trigger.equipment);
            return equipment ? equipment->area : std::string();
        }();
        const std::string what =
            rule_config.description.empty() ? rule_config.id : rule_config.description;
        const std::string description = trigger.value ? fmt::format("{}: {} (value {:.4g})", what,
                                                                    trigger.detail, *trigger.value)
                                                      : fmt::format("{}: {}", what, trigger.detail);
        const workflow::RuleSource source{
            trigger.rule_id, trigger.rule_version.empty() ? rule->version : trigger.rule_version};
        const auto all = index.all();
        Action action;
        action.actor = Actor::system();
        action.alarm_event_id = trigger.id;
        action.then = [](const Result<Outcome>&, const Status&) {};
        if (trigger.escalation || rule_config.kind == rules::RuleKind::recurrence) {
            const std::string hazard_type =
                !rule_config.hazard_type.empty()
                    ? rule_config.hazard_type
                    : (rule_config.hazard ? rule_config.hazard->type : "");
            if (const auto target =
                    workflow::order_to_escalate(all, trigger.equipment, hazard_type)) {
                action.order_id = *target;
                action.command = workflow::EscalateCommand{
                    fmt::format("recurrence rule {}: {}", trigger.rule_id, trigger.detail),
                    trigger.rule_id};
            } else {
                workflow::ReportCommand report;
                report.equipment = trigger.equipment;
                report.area = area;
                report.hazard_type = hazard_type;
                report.risk = workflow::Risk::red;
                report.title = rule_config.hazard && !rule_config.hazard->title.empty()
                                   ? rule_config.hazard->title
                                   : "";
                report.description = description;
                report.rule = source;
                action.command = std::move(report);
            }
        } else if (rule_config.hazard) {
            if (const auto open =
                    workflow::open_order_for_activation(all, trigger.rule_id, trigger.equipment)) {
                action.order_id = *open;
                action.command = workflow::RecordOccurrenceCommand{source};
            } else {
                workflow::ReportCommand report;
                report.equipment = trigger.equipment;
                report.area = area;
                report.hazard_type = rule_config.hazard->type;
                report.risk = rule_config.hazard->risk;
                report.title = rule_config.hazard->title;
                report.description = description;
                report.rule = source;
                action.command = std::move(report);
                ++stats.orders_from_alarms;
            }
        } else {
            return skip();
        }
        run_action(std::move(action));
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

    void check_overdue() {
        for (const auto& due : workflow::overdue_steps(index.all(), clock->now().ms)) {
            if (!overdue_queued.insert({due.order_id, due.step_index}).second) continue;
            Action action;
            action.command = workflow::MarkOverdueCommand{due.step_index};
            action.actor = Actor::system();
            action.order_id = due.order_id;
            action.then = [this, key = std::make_pair(due.order_id, due.step_index)](
                              const Result<Outcome>& outcome, const Status& written) {
                overdue_queued.erase(key);
                if (!outcome) {
                    log_debug(kInstance, "overdue mark skipped: {}", outcome.error());
                } else if (written) {
                    ++stats.overdue_marked;
                }
            };
            submit(std::move(action));
        }
    }

    // --- control commands ---

    std::optional<Actor> actor_for(const control::Caller& caller, control::Reply& reply) {
        if (const auto* user = config.workflow.find_user_by_uid(caller.uid)) {
            return Actor::from_user(*user);
        }
        reply.error(fmt::format(
            "uid {} ({}) is not a floorwatch user: add it to workflow.users in {}, e.g. "
            "'- {{name: {}, uid: {}, roles: technician}}', and reload floorwatchd (SIGHUP)",
            caller.uid, caller.user, config.source_path.empty() ? "the config" : config.source_path,
            caller.user.starts_with("uid:") ? std::string("name") : caller.user, caller.uid));
        return std::nullopt;
    }

    bool ready(control::Reply& reply) {
        if (started && !stopping) return true;
        reply.error(stopping ? "floorwatchd is stopping; try again once it runs"
                             : "work orders are still loading; try again in a moment");
        return false;
    }

    // Attachment hashes -> stored attachments, or the reason one is unknown.
    std::optional<std::string> resolve_attachments(const std::vector<std::string>& hashes,
                                                   std::vector<workflow::Attachment>& out) {
        for (const auto& hash : hashes) {
            const auto it = attachments.find(hash);
            if (it == attachments.end()) {
                return fmt::format("attachment {} is not in the store; upload it first", hash);
            }
            out.push_back(it->second);
        }
        return std::nullopt;
    }

    std::function<void(const Result<Outcome>&, const Status&)> replying(control::Reply reply) {
        return [reply](const Result<Outcome>& outcome, const Status& written) mutable {
            if (!outcome) return reply.error(outcome.error());
            if (!written) return reply.error("not stored: " + written.error());
            json::array events;
            for (const auto& event : outcome->events)
                events.push_back(json::value(event.id.to_string()));
            json::array notices;
            for (const auto& notice : outcome->notices)
                notices.push_back(json::value(notice.message));
            reply.ok(json::object{{"order", workflow::order_view(outcome->state)},
                                  {"events", std::move(events)},
                                  {"notices", std::move(notices)}});
        };
    }

    void on_report(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, reply);
        if (!actor) return;
        workflow::ReportCommand report;
        report.equipment = text_arg(args, "equipment");
        report.area = text_arg(args, "area");
        if (!report.equipment.empty()) {
            const auto* equipment = config.find_equipment(report.equipment);
            if (equipment == nullptr) {
                std::vector<std::string> known;
                for (const auto& item : config.equipment) known.push_back(item.id);
                return reply.error(fmt::format("unknown equipment '{}' (known: {})",
                                               report.equipment, fmt::join(known, ", ")));
            }
            if (report.area.empty()) report.area = equipment->area;
            if (report.area != equipment->area) {
                return reply.error(fmt::format("{} is in area {}, not {}", report.equipment,
                                               equipment->area, report.area));
            }
        } else if (!report.area.empty()) {
            std::set<std::string> areas;
            for (const auto& item : config.equipment) areas.insert(item.area);
            if (!areas.contains(report.area)) {
                return reply.error(fmt::format("unknown area '{}' (areas: {})", report.area,
                                               fmt::join(areas, ", ")));
            }
        }
        report.hazard_type = text_arg(args, "hazard_type");
        const std::string risk = text_arg(args, "risk");
        if (!risk.empty()) {
            const auto parsed = workflow::risk_from_name(risk);
            if (!parsed)
                return reply.error(fmt::format("unknown risk '{}' (low, medium, high, red)", risk));
            report.risk = *parsed;
        }
        report.title = text_arg(args, "title");
        report.description = text_arg(args, "description");
        report.immediate_measures = text_arg(args, "immediate_measures");
        report.anonymous = flag_arg(args, "anonymous");
        if (auto problem =
                resolve_attachments(strings_arg(args, "attachments"), report.attachments)) {
            return reply.error(*problem);
        }
        submit(Action{std::move(report), *actor, "", std::nullopt, replying(std::move(reply))});
    }

    void on_act(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, reply);
        if (!actor) return;
        const std::string reference = text_arg(args, "order");
        const OrderState* order = index.find(reference);
        if (order == nullptr) {
            return reply.error(
                fmt::format("no order '{}' (floorwatch orders list shows them)", reference));
        }
        const std::string verb = text_arg(args, "action");
        const std::string reason = text_arg(args, "reason");
        const std::string note = text_arg(args, "note");
        const auto deadline = integer_arg(args, "deadline_ms");
        Command command;
        if (verb == "approve") {
            command = workflow::ApproveCommand{};
        } else if (verb == "dismiss") {
            const std::string kind_name = text_arg(args, "kind");
            const auto kind =
                workflow::dismiss_kind_from_name(kind_name.empty() ? "false_alarm" : kind_name);
            if (!kind)
                return reply.error(
                    fmt::format("unknown dismissal kind '{}' (false_alarm, duplicate)", kind_name));
            command = workflow::DismissCommand{*kind, reason};
        } else if (verb == "assign") {
            command = workflow::AssignCommand{text_arg(args, "assignee"), deadline};
        } else if (verb == "reassign") {
            command = workflow::ReassignCommand{text_arg(args, "assignee"), deadline, reason};
        } else if (verb == "submit") {
            workflow::SubmitCommand submit_command{note, {}};
            if (auto problem = resolve_attachments(strings_arg(args, "attachments"),
                                                   submit_command.attachments)) {
                return reply.error(*problem);
            }
            command = std::move(submit_command);
        } else if (verb == "accept") {
            command = workflow::AcceptCommand{note};
        } else if (verb == "reject") {
            command = workflow::RejectCommand{reason, deadline};
        } else if (verb == "escalate") {
            command = workflow::EscalateCommand{reason, ""};
        } else {
            return reply.error(fmt::format(
                "unknown action '{}' (approve, dismiss, assign, reassign, submit, accept, reject, "
                "escalate)",
                verb));
        }
        submit(Action{std::move(command), *actor, order->id, std::nullopt,
                      replying(std::move(reply))});
    }

    void on_upload(const control::Caller& caller, const json::object& args, control::Reply reply) {
        if (!ready(reply)) return;
        auto actor = actor_for(caller, reply);
        if (!actor) return;
        const auto now = std::chrono::steady_clock::now();
        std::erase_if(
            uploads, [&](const auto& entry) { return now - entry.second.touched > kUploadExpiry; });
        const auto chunk = base64_decode(text_arg(args, "data"));
        if (!chunk) return reply.error("attachment data is not base64");
        if (chunk->size() > kMaxUploadChunk) {
            return reply.error(
                fmt::format("send attachments in chunks of at most {} bytes", kMaxUploadChunk));
        }
        std::string id = text_arg(args, "upload");
        if (id.empty()) {
            if (uploads.size() >= kMaxOpenUploads) {
                return reply.error("too many uploads in progress; try again in a minute");
            }
            id = fmt::format("u{}", ++upload_counter);
            const std::string name = text_arg(args, "name");
            uploads[id] =
                Upload{caller.uid, name.empty() ? std::string("attachment") : name, "", now};
        }
        const auto it = uploads.find(id);
        if (it == uploads.end() || it->second.uid != caller.uid) {
            return reply.error(
                fmt::format("no upload '{}' in progress (expired after 10 minutes?)", id));
        }
        Upload& upload = it->second;
        upload.touched = now;
        upload.data += *chunk;
        const auto& limits = config.workflow.attachments;
        if (upload.data.size() > limits.max_size) {
            const std::string too_large =
                fmt::format("{} is larger than {} bytes (workflow.attachments.max_size)",
                            upload.name, limits.max_size);
            uploads.erase(it);
            return reply.error(too_large);
        }
        if (!flag_arg(args, "last")) return reply.ok(json::object{{"upload", id}});

        AttachmentUpload stored;
        stored.data = std::move(upload.data);
        stored.attachment.name = upload.name;
        uploads.erase(it);
        if (stored.data.empty()) return reply.error("the attachment is empty");
        stored.attachment.media_type = sniff_media_type(stored.data);
        if (std::ranges::find(limits.allowed_types, stored.attachment.media_type) ==
            limits.allowed_types.end()) {
            return reply.error(
                fmt::format("{} is {}; accepted types are {} (workflow.attachments.types)",
                            stored.attachment.name,
                            stored.attachment.media_type.empty() ? std::string("of an unknown type")
                                                                 : stored.attachment.media_type,
                            limits.types));
        }
        stored.attachment.size = stored.data.size();
        stored.attachment.sha256 = workflow::sha256_hex(stored.data);
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
        auto actor = actor_for(caller, reply);
        if (!actor) return;
        if (!actor->holds(Role::safety) && !actor->holds(Role::manager) &&
            !actor->holds(Role::admin)) {
            return reply.error(fmt::format(
                "{} may not record incidents or hours: that needs safety, manager or admin",
                actor->user));
        }
        IncidentRecord record;
        record.kind = text_arg(args, "kind");
        record.area = text_arg(args, "area");
        record.description = text_arg(args, "description");
        record.recorded_by = actor->user;
        record.recorded_ms = clock->now().ms;
        const auto at = integer_arg(args, "at_ms");
        if (record.kind == "incident") {
            if (record.description.empty())
                return reply.error("describe the incident (--description)");
            record.at_ms = at.value_or(record.recorded_ms);
            record.until_ms = record.at_ms;
        } else if (record.kind == "hours") {
            const auto until = integer_arg(args, "until_ms");
            const auto* hours = args.if_contains("hours");
            if (!at || !until || *until <= *at) {
                return reply.error(
                    "hours worked need a period: --since TIME --until TIME, since before until");
            }
            if (hours == nullptr || !hours->is_number() || hours->to_number<double>() <= 0) {
                return reply.error("hours worked need --hours N, more than 0");
            }
            record.at_ms = *at;
            record.until_ms = *until;
            record.hours = hours->to_number<double>();
        } else {
            return reply.error(
                fmt::format("unknown record kind '{}' (incident, hours)", record.kind));
        }
        if (!record.area.empty()) {
            std::set<std::string> areas;
            for (const auto& item : config.equipment) areas.insert(item.area);
            if (!areas.contains(record.area)) {
                return reply.error(fmt::format("unknown area '{}' (areas: {})", record.area,
                                               fmt::join(areas, ", ")));
            }
        }
        enqueue([this, record = std::move(record), reply = std::move(reply)]() mutable {
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

    asio::io_context& core;
    store::Writer& writer;
    Config config;
    control::Server* control;
    AlarmHooks alarms;
    SystemClock system_clock;
    const workflow::Clock* clock;
    std::string origin;
    rules::TimeZone zone;

    workflow::EventWriter event_writer;
    std::string anonymity_key;
    DayCounters day_counters;
    std::map<std::string, workflow::Attachment, std::less<>> attachments;
    OrderIndex index;
    std::int64_t alarm_cursor = 0;  // durable
    std::int64_t alarm_seen = 0;    // queued or durable
    std::vector<AlarmTrigger> early_triggers;

    std::deque<std::function<void()>> queue;
    bool busy = false;
    bool started = false;
    bool stopping = false;
    std::set<std::pair<std::string, std::uint32_t>> overdue_queued;
    std::map<std::string, Upload> uploads;
    std::uint64_t upload_counter = 0;

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
                           control::Server* control, AlarmHooks alarms,
                           const workflow::Clock* clock)
    : impl_(std::make_shared<Impl>(core, writer, config, control, std::move(alarms), clock)) {
    impl_->register_commands();
    impl_->subscribe_alarms();
}

OrderService::OrderService(asio::io_context& core, store::Writer& writer, const Config& config,
                           control::Server* control, alarms::AlarmService* alarms)
    : OrderService(core, writer, config, control,
                   alarms != nullptr ? alarm_hooks(*alarms) : AlarmHooks{}, nullptr) {}

OrderService::~OrderService() {
    impl_->stop();
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
