#include "daemon/central/central_service.hpp"

#include <fmt/format.h>
#include <sys/timex.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>

#include "daemon/central/central_store.hpp"
#include "daemon/central/store_workers.hpp"
#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/time_zone.hpp"
#include "daemon/core/units.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/uploads.hpp"
#include "daemon/sync/link.hpp"
#include "daemon/sync/protocol.hpp"

namespace fw::central {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view kInstance = "central";
// Jobs waiting per store thread; beyond it a message is refused and its sender repeats it.
constexpr std::size_t kQueueCapacity = 10'000;
// SQLite has one writer per file; PostgreSQL serialises per row, so threads add throughput.
constexpr std::size_t kSqliteThreads = 1;
constexpr std::size_t kPostgresThreads = 4;
// A malformed message is logged at most this often (the rest are counted).
constexpr auto kMalformedLogInterval = std::chrono::seconds(10);
// Down events are resent only to gateways heard from within this many ack timeouts: one that is
// away gets them with the welcome when it comes back.
constexpr int kResendWithinTimeouts = 3;

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

// "floorwatch/v1/<site>/<node>/down" of an origin "<site>.<node>" (site and node hold no dot).
std::string down_topic_of(std::string_view origin) {
    const auto dot = origin.find('.');
    return sync::down_topic(origin.substr(0, dot),
                            dot == std::string_view::npos ? "" : origin.substr(dot + 1));
}

void log_alerts(const std::vector<Alert>& alerts) {
    for (const auto& alert : alerts) {
        if (alert.level == Alert::Level::error) {
            log_error(kInstance, "{}", alert.text);
        } else {
            log_warning(kInstance, "{}", alert.text);
        }
    }
}

}  // namespace

struct CentralService::Impl : std::enable_shared_from_this<CentralService::Impl> {
    Impl(asio::io_context& core_context, const Config& initial, control::Server* control_server,
         const workflow::Clock* given_clock)
        : core(core_context),
          config(std::make_shared<const Config>(initial)),
          sync_config(*initial.sync),
          control(control_server),
          clock(given_clock != nullptr ? given_clock : &system_clock),
          origin(workflow::origin_of(initial.gateway.site, initial.gateway.node)),
          location{initial.store.path, initial.sync->postgresql},
          limits{static_cast<std::size_t>(sync_config.batch_events),
                 static_cast<std::size_t>(sync_config.batch_bytes)},
          resend_timer(core_context) {
        load_zone(initial);
        // Created and migrated once, here: a store that cannot be opened stops the start.
        const auto store = CentralStore::open(location, false);
        log_info(kInstance, "central store: {} (incarnation {}); writing as {}",
                 store->description(), store->incarnation(), origin);
    }

    void load_zone(const Config& given) {
        zone = TimeZone::load_or_utc(given.gateway.timezone, kInstance);
    }

    // --- lifecycle ---

    void start() {
        workers = std::make_unique<StoreWorkers>(
            "central:store", [location = location] { return CentralStore::open(location, false); },
            location.postgresql ? kPostgresThreads : kSqliteThreads, kQueueCapacity);
        workers->start();
        register_commands();
        std::weak_ptr<Impl> weak = weak_from_this();
        link = std::make_unique<sync::BrokerLink>(
            sync_config.broker, sync::central_subscription(sync_config.share_group), "central:mqtt",
            sync::BrokerLink::Callbacks{
                [weak, &context = core](std::string topic, std::string payload) {
                    asio::post(context, [weak, topic = std::move(topic),
                                         payload = std::move(payload)]() mutable {
                        if (auto self = weak.lock()) {
                            self->on_message(std::move(topic), std::move(payload));
                        }
                    });
                },
                [](bool) {}});
        link->start();
        schedule_resend();
    }

    void stop() {
        stopping = true;
        resend_timer.cancel();
        if (link) link->stop();
        if (workers) workers->stop();
    }

    void reload(const Config& next) {
        auto updated = std::make_shared<Config>(*current_config());
        updated->workflow = next.workflow;
        {
            std::lock_guard lock(config_mutex);
            config = std::move(updated);
        }
        log_info(kInstance,
                 "workflow configuration reloaded: {} user(s); other changes (sync, store, "
                 "gateway) take effect after a restart",
                 next.workflow.users.size());
    }

    std::shared_ptr<const Config> current_config() const {
        std::lock_guard lock(config_mutex);
        return config;
    }

    // --- gateway messages (core: route; store thread: the rest) ---

    void on_message(std::string topic, std::string payload) {
        if (stopping) return;
        const auto address = sync::parse_topic(topic);
        if (!address || address->direction != sync::Direction::up) {
            malformed(topic, address ? std::string("not an up topic") : address.error());
            return;
        }
        const std::string gateway = address->origin();
        workers->post(
            gateway,
            [weak = weak_from_this(), gateway, topic = std::move(topic),
             payload = std::move(payload)](CentralStore& store) {
                if (auto self = weak.lock()) self->handle(store, gateway, topic, payload);
            },
            [weak = weak_from_this(), gateway](const std::string& why) {
                if (auto self = weak.lock()) {
                    ++self->counters.store_failures;
                    log_warning(kInstance, "a message of {} was not stored: {}", gateway, why);
                }
            });
    }

    void handle(CentralStore& store, const std::string& gateway, const std::string& topic,
                const std::string& payload) {
        auto decoded = sync::decode_up(payload);
        if (!decoded) {
            malformed(topic, decoded.error());
            return;
        }
        ++counters.messages;
        std::visit([&](const auto& message) { take(store, gateway, message); }, *decoded);
    }

    void take(CentralStore& store, const std::string& gateway, const sync::Hello& hello) {
        if (hello.origin != gateway) {
            malformed("the up topic of " + gateway,
                      fmt::format("a hello of origin {}", hello.origin));
            return;
        }
        const auto outcome = store.hello(gateway, hello, clock->now());
        log_alerts(outcome.alerts);
        publish(gateway, outcome.welcome);
        if (outcome.welcome.verdict != sync::Verdict::ok) return;
        send_down_from(store, gateway, outcome.replay_from - 1, std::nullopt);
        send_needs(gateway, store.needs_of(gateway, clock->now().ms));
    }

    void take(CentralStore& store, const std::string& gateway, const sync::UpEvents& message) {
        const auto outcome = store.ingest(gateway, message, clock->now());
        log_alerts(outcome.alerts);
        counters.events_stored += outcome.stored;
        counters.duplicates += outcome.duplicates;
        counters.quarantined += outcome.quarantined;
        counters.integrity_alarms += outcome.integrity_alarms;
        if (outcome.stored > 0) {
            log_debug(kInstance, "{}: {} event(s) stored ({}..{}), acked {}", gateway,
                      outcome.stored, message.first, message.last, outcome.received);
        }
        publish(gateway, sync::Ack{outcome.received});
        send_needs(gateway, outcome.needs);
    }

    void take(CentralStore& store, const std::string& gateway, const sync::DownAck& message) {
        store.down_ack(gateway, message.down_applied, clock->now().ms);
    }

    void take(CentralStore& store, const std::string& gateway, const sync::AttachmentChunk& chunk) {
        const auto outcome = store.receive_chunk(gateway, chunk, clock->now().ms);
        if (outcome.kind == ChunkOutcome::Kind::stored) {
            log_info(kInstance, "attachment {} ({} bytes) received from {}", chunk.sha256,
                     chunk.size, gateway);
        } else if (outcome.kind == ChunkOutcome::Kind::corrupt) {
            log_warning(kInstance,
                        "attachment {} from {} does not match its sha256; asked again from 0",
                        chunk.sha256, gateway);
        }
        if (outcome.ask) send_needs(gateway, {*outcome.ask});
    }

    void take(CentralStore& store, const std::string& gateway, const sync::Need& need) {
        // At most 16 MiB (sync.chunk_size's limit): fits a 32-bit size_t.
        const auto chunk_size =
            static_cast<std::size_t>(std::max<std::uint64_t>(sync_config.chunk_size, 1));
        for (const auto& wanted : need.attachments) {
            const auto found = store.attachment(wanted.sha256);
            if (!found) {
                log_warning(kInstance, "{} asked for attachment {}, which this centre lacks",
                            gateway, wanted.sha256);
                continue;
            }
            const std::uint64_t size = found->data.size();
            for (std::uint64_t offset = std::min(wanted.offset, size); offset < size;
                 offset += chunk_size) {
                publish(gateway,
                        sync::attachment_chunk(found->attachment, found->data, offset, chunk_size));
            }
        }
    }

    void take(CentralStore& store, const std::string& gateway, const sync::Reannounce&) {
        publish(gateway, store.welcome(gateway, clock->now()));
    }

    void take(CentralStore& store, const std::string& gateway, const sync::ReseedRequest& request) {
        std::string after;
        std::uint64_t part = 0;
        std::size_t events = 0;
        for (;;) {
            const auto page = store.seed_page(gateway, after, limits.max_events);
            auto batch = sync::EventBatch::seed(limits, request.request_id, part,
                                                page.origin_sequence, page.down_last);
            for (const auto& event : page.events) {
                if (batch.add(event) == sync::BatchAdd::full) {
                    link->publish(down_topic_of(gateway), batch.encode(false));
                    batch = sync::EventBatch::seed(limits, request.request_id, ++part,
                                                   page.origin_sequence, page.down_last);
                    (void)batch.add(event);  // the first event of a batch always fits
                }
            }
            events += page.events.size();
            after = page.last_order;
            if (page.done) {
                link->publish(down_topic_of(gateway), batch.encode(true));
                break;
            }
            link->publish(down_topic_of(gateway), batch.encode(false));
            ++part;
        }
        log_info(kInstance, "reseed {} of {}: {} event(s) sent in {} part(s)", request.request_id,
                 gateway, events, part + 1);
    }

    // --- centre -> gateway ---

    void publish(const std::string& gateway, const sync::DownMessage& message) {
        link->publish(down_topic_of(gateway), sync::encode_down(message));
    }

    void send_needs(const std::string& gateway, std::vector<sync::NeededAttachment> needs) {
        if (needs.empty()) return;
        publish(gateway, sync::Need{std::move(needs)});
    }

    // Down events after `after`, in batches; `max_messages` bounds a resend, nullopt sends all.
    void send_down_from(CentralStore& store, const std::string& gateway, std::uint64_t after,
                        std::optional<std::size_t> max_messages) {
        std::size_t messages = 0;
        while (!max_messages || messages < *max_messages) {
            const auto events = store.down_events(gateway, after, limits.max_events);
            if (events.empty()) return;
            messages += send_down(gateway, events);
            after = events.back().down;
            if (events.size() < limits.max_events) return;
        }
    }

    std::size_t send_down(const std::string& gateway, const std::vector<sync::DownEvent>& events) {
        std::size_t messages = 0;
        auto batch = sync::EventBatch::down(limits);
        const auto flush = [&] {
            if (batch.empty()) return;
            link->publish(down_topic_of(gateway), batch.encode());
            counters.down_sent += batch.size();
            ++messages;
            batch = sync::EventBatch::down(limits);
        };
        for (const auto& item : events) {
            auto added = batch.add(item.down, item.event);
            if (added != sync::BatchAdd::added) {
                flush();
                added = batch.add(item.down, item.event);
            }
            if (added != sync::BatchAdd::added) {
                log_error(kInstance, "down event {} of {} could not be batched", item.down,
                          gateway);
            }
        }
        flush();
        return messages;
    }

    // --- the resend timer ---

    void schedule_resend() {
        resend_timer.expires_after(sync_config.ack_timeout);
        resend_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            if (error) return;
            auto self = weak.lock();
            if (!self || self->stopping) return;
            self->workers->post("", [weak](CentralStore& store) {
                if (auto again = weak.lock()) again->resend(store);
            });
            self->schedule_resend();
        });
    }

    void resend(CentralStore& store) {
        const std::int64_t now = clock->now().ms;
        const std::int64_t timeout = sync_config.ack_timeout.count();
        for (const auto& gateway : store.gateways()) {
            if (gateway.verdict != sync::Verdict::ok) continue;
            const bool heard_lately =
                gateway.last_message_ms &&
                now - *gateway.last_message_ms <= kResendWithinTimeouts * timeout;
            if (heard_lately && gateway.down_next - 1 > gateway.down_acked) {
                send_down_from(store, gateway.gateway, gateway.down_acked,
                               static_cast<std::size_t>(sync_config.in_flight));
            }
        }
        std::map<std::string, std::vector<sync::NeededAttachment>> due;
        for (auto& item : store.due_needs(now - timeout, now)) {
            due[item.gateway].push_back(std::move(item.need));
        }
        for (auto& [gateway, needs] : due) send_needs(gateway, std::move(needs));
    }

    // --- central actions (control socket) ---

    void register_commands() {
        if (control == nullptr) return;
        std::weak_ptr<Impl> weak = weak_from_this();
        const auto bind = [weak](bool report) {
            return [weak, report](const control::Caller& caller, const json::object& args,
                                  control::Reply reply) {
                auto self = weak.lock();
                if (!self || self->stopping) return reply.error("floorwatchd is stopping");
                self->on_action(caller, args, std::move(reply), report);
            };
        };
        control->handle("order.report", bind(true));
        control->handle("order.act", bind(false));
        control->handle(
            "attachment.upload",
            [weak](const control::Caller& caller, const json::object& args, control::Reply reply) {
                auto self = weak.lock();
                if (!self || self->stopping) return reply.error("floorwatchd is stopping");
                self->on_upload(caller, args, std::move(reply));
            });
    }

    // A photo uploaded at the centre (e.g. the after-photo of an office decision): assembled on
    // the core as on a gateway, stored by a store thread; a gateway whose events name it asks for
    // it with a `need`.
    void on_upload(const control::Caller& caller, const json::object& args, control::Reply reply) {
        const auto running = current_config();
        auto actor = orders::actor_for(caller, *running);
        if (!actor) return reply.error(actor.error());
        auto progress = uploads.add(caller, args, running->workflow.attachments,
                                    std::chrono::steady_clock::now());
        if (!progress) return reply.error(progress.error());
        if (!progress->finished) return reply.ok(json::object{{"upload", progress->upload_id}});
        orders::AttachmentUpload upload = std::move(*progress->finished);
        upload.uploaded_by = actor->user;
        upload.uploaded_ms = clock->now().ms;
        workers->post(
            upload.attachment.sha256,
            [weak = weak_from_this(), upload, reply](CentralStore& store) mutable {
                auto self = weak.lock();
                if (!self) return;
                store.store_attachment(upload);
                const workflow::Attachment& meta = upload.attachment;
                asio::post(self->core, [reply, meta]() mutable {
                    reply.ok(json::object{{"sha256", meta.sha256},
                                          {"media_type", meta.media_type},
                                          {"size", meta.size},
                                          {"name", meta.name}});
                });
            },
            [weak = weak_from_this(), reply](const std::string& why) mutable {
                if (auto self = weak.lock()) {
                    asio::post(self->core,
                               [reply, why]() mutable { reply.error("not stored: " + why); });
                }
            });
    }

    void on_action(const control::Caller& caller, const json::object& args, control::Reply reply,
                   bool report) {
        const auto running = current_config();
        auto actor = orders::actor_for(caller, *running);
        if (!actor) return reply.error(actor.error());
        const std::string order = report ? std::string() : control::text_arg(args, "order");
        const auto refused = [weak = weak_from_this(), reply](const std::string& why) mutable {
            if (auto self = weak.lock()) {
                asio::post(self->core, [reply, why]() mutable { reply.error(why); });
            }
        };
        workers->post(
            order.empty() ? std::string_view("report") : std::string_view(order),
            [weak = weak_from_this(), running, actor = std::move(*actor), args, order, reply,
             report](CentralStore& store) mutable {
                auto self = weak.lock();
                if (!self) return;
                self->act(store, *running, std::move(actor), args, order, std::move(reply), report);
            },
            refused);
    }

    void act(CentralStore& store, const Config& running, workflow::Actor actor,
             const json::object& args, const std::string& order, control::Reply reply,
             bool report) {
        const auto answer = [this, &reply](Result<json::object> result) {
            asio::post(core, [reply, result = std::move(result)]() mutable {
                if (result) {
                    reply.ok(std::move(*result));
                } else {
                    reply.error(result.error());
                }
            });
        };
        const auto named = store.attachments(control::strings_arg(args, "attachments"));
        auto command = [&]() -> Result<workflow::Command> {
            if (!report) return orders::parse_action(args, named);
            auto parsed = orders::parse_report(args, running, named);
            if (!parsed) return Error{parsed.error()};
            return workflow::Command(std::move(*parsed));
        }();
        if (!command) return answer(Error{command.error()});

        const auto local = zone.local_time(clock->now().ms);
        const ActionContext context{
            running.workflow, *clock, origin,
            std::chrono::year_month_day{std::chrono::year(local.year),
                                        std::chrono::month(static_cast<unsigned>(local.month)),
                                        std::chrono::day(static_cast<unsigned>(local.day))},
            fmt::format("{:04}-{:02}-{:02}", local.year, local.month, local.day)};
        auto done = store.act(ActionRequest{std::move(*command), std::move(actor), order}, context);
        if (!done) return answer(Error{done.error()});
        ++counters.actions;
        answer(orders::outcome_json(done->outcome));
        if (done->gateway && !done->down.empty()) send_down(*done->gateway, done->down);
    }

    // --- counting ---

    void malformed(const std::string& topic, const std::string& why) {
        const std::uint64_t count = ++counters.malformed;
        std::lock_guard lock(malformed_mutex);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_malformed_log >= kMalformedLogInterval) {
            last_malformed_log = now;
            log_warning(kInstance, "message on {} ignored: {} ({} malformed so far)", topic, why,
                        count);
        }
    }

    struct Counters {
        std::atomic<std::uint64_t> messages{0};
        std::atomic<std::uint64_t> malformed{0};
        std::atomic<std::uint64_t> events_stored{0};
        std::atomic<std::uint64_t> duplicates{0};
        std::atomic<std::uint64_t> quarantined{0};
        std::atomic<std::uint64_t> integrity_alarms{0};
        std::atomic<std::uint64_t> actions{0};
        std::atomic<std::uint64_t> down_sent{0};
        std::atomic<std::uint64_t> store_failures{0};
    };

    asio::io_context& core;
    mutable std::mutex config_mutex;
    std::shared_ptr<const Config> config;  // guarded by config_mutex; store threads take a copy
    const sync::SyncConfig sync_config;
    control::Server* control;
    SystemClock system_clock;
    const workflow::Clock* clock;
    const std::string origin;
    const StoreLocation location;
    const sync::BatchLimits limits;
    TimeZone zone;  // replaced only before start
    asio::steady_timer resend_timer;
    std::atomic<bool> stopping{false};
    Counters counters;
    std::mutex malformed_mutex;
    std::chrono::steady_clock::time_point last_malformed_log{};
    orders::Uploads uploads;  // the core only
    std::unique_ptr<StoreWorkers> workers;
    std::unique_ptr<sync::BrokerLink> link;
};

CentralService::CentralService(asio::io_context& core, const Config& config,
                               control::Server* control, const workflow::Clock* clock)
    : impl_(std::make_shared<Impl>(core, config, control, clock)) {}

CentralService::~CentralService() {
    try {
        impl_->stop();
    } catch (...) {
        // Only timer cancels and thread joins can throw, and on Linux they do not for the timers
        // and threads this service owns; a destructor must not throw.
    }
}

void CentralService::start() {
    impl_->start();
}

void CentralService::stop() {
    impl_->stop();
}

void CentralService::reload(const Config& config) {
    impl_->reload(config);
}

CentralStats CentralService::stats() const {
    const auto& counters = impl_->counters;
    CentralStats stats;
    stats.connected = impl_->link && impl_->link->stats().connected;
    stats.messages = counters.messages;
    stats.malformed = counters.malformed;
    stats.events_stored = counters.events_stored;
    stats.duplicates = counters.duplicates;
    stats.quarantined = counters.quarantined;
    stats.integrity_alarms = counters.integrity_alarms;
    stats.actions = counters.actions;
    stats.down_sent = counters.down_sent;
    stats.store_failures = counters.store_failures;
    return stats;
}

std::string CentralService::status_text() const {
    const auto stats = this->stats();
    std::string text = fmt::format(
        "central: {}; {} message(s), {} event(s) stored, {} quarantined, {} integrity alarm(s), "
        "{} action(s), {} down event(s) sent",
        stats.connected ? "connected" : "broker not connected", stats.messages, stats.events_stored,
        stats.quarantined, stats.integrity_alarms, stats.actions, stats.down_sent);
    if (stats.malformed > 0) text += fmt::format(", {} malformed", stats.malformed);
    if (stats.store_failures > 0)
        text += fmt::format(", {} store failure(s)", stats.store_failures);
    return text;
}

}  // namespace fw::central
