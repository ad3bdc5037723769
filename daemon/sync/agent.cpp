#include "daemon/sync/agent.hpp"

#include <fmt/format.h>
#include <sys/timex.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <set>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/core/worker_thread.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/store/post_when_durable.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"
#include "daemon/sync/gateway_store.hpp"
#include "daemon/sync/link.hpp"
#include "daemon/sync/protocol.hpp"

namespace fw::sync {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kInstance = "sync";
// How often the agent looks for new local events and checks its timeouts.
constexpr auto kTick = std::chrono::milliseconds(200);
// A log line this often while events wait for the centre.
constexpr auto kBacklogLogInterval = std::chrono::seconds(60);
// After an ack the backlog is read again at most this often: counting it walks every unsynced
// outbox row, so reading it after each of a long drain's acks cost O(backlog) per ack.
constexpr auto kBacklogRefreshInterval = std::chrono::seconds(1);
// A reseed gives up when no seed part came (and none was being applied) for this many
// ack_timeouts.
constexpr int kReseedPatience = 3;

// The agent's own read-only connection on its own thread: outbox reads never block the core and
// never wait for the writer.
class StoreReader {
  public:
    using Job = std::function<void(sqlite3* db)>;
    // Runs on the reader's thread when the job threw, after the connection was dropped (the next
    // job opens it again).
    using Failed = std::function<void(const std::string& error)>;

    explicit StoreReader(std::string path) : path_(std::move(path)), worker_("sync-reader") {}
    ~StoreReader() { stop(); }
    StoreReader(const StoreReader&) = delete;
    StoreReader& operator=(const StoreReader&) = delete;

    void start() {
        worker_.start([this] { run(); });
    }
    void stop() { worker_.stop(); }

    void post(Job job, Failed failed = {}) {
        {
            std::lock_guard lock(worker_.mutex());
            jobs_.push_back({std::move(job), std::move(failed)});
        }
        worker_.wake();
    }

  private:
    void run() {
        store::Connection connection;
        std::unique_lock lock(worker_.mutex());
        while (worker_.wait(lock, [this] { return !jobs_.empty(); })) {
            Posted posted = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            try {
                if (connection.get() == nullptr) {
                    connection = store::open_store_file(path_, store::OpenMode::read_only, false);
                }
                posted.job(connection.get());
            } catch (const std::exception& error) {
                connection = store::Connection();
                if (posted.failed) {
                    posted.failed(error.what());
                } else {
                    // The job's owner hears nothing and asks again on its next tick or timeout.
                    log_error(kInstance, "reading the store: {}", error.what());
                }
            }
            lock.lock();
        }
    }

    struct Posted {
        Job job;
        Failed failed;
    };

    std::string path_;
    std::deque<Posted> jobs_;  // guarded by worker_.mutex()
    WorkerThread worker_;      // last: stopped first
};

struct SentBatch {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    SteadyClock::time_point sent;
};

struct ReadBatch {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::string text;
};

std::int64_t now_ms() {
    return wall_now_ms();
}

// 32 random hex digits: a reseed request's id.
std::string random_request_id() {
    std::random_device device;
    std::string id;
    for (int i = 0; i < 4; ++i) id += fmt::format("{:08x}", device());
    return id;
}

// A reseed under way (README.md "Reseed"): cleared when it finishes, fails or times out.
struct Reseeding {
    std::string request_id;
    std::uint64_t next_part = 0;        // the part expected next
    bool asked = false;                 // the reseed_request went out
    bool applying = false;              // a part is with the order service
    std::deque<Seed> parts;             // received, in order, not yet applied
    std::uint64_t origin_sequence = 0;  // the highest any part said
    std::uint64_t down_last = 0;        // part 0's: later down events come again as duplicates
    SteadyClock::time_point last_progress;
    ReseedOutcome outcome;
    ReseedDone done;
};

// The wall clock and whether it can be trusted (the kernel's NTP state and the 2024 floor).
workflow::WallTime system_wall_time() {
    timex status{};
    const int state = ntp_adjtime(&status);
    const std::int64_t now = wall_now_ms();
    return {now, workflow::clock_synced(now, state >= 0 && state != TIME_ERROR)};
}

}  // namespace

struct GatewayAgent::Impl : std::enable_shared_from_this<GatewayAgent::Impl> {
    Impl(asio::io_context& core_context, store::Writer& store_writer,
         orders::OrderService& order_service, const Config& config)
        : core(core_context),
          writer(store_writer),
          orders(order_service),
          sync(*config.sync),
          origin(workflow::origin_of(config.gateway.site, config.gateway.node)),
          up(up_topic(config.gateway.site, config.gateway.node)),
          down(down_topic(config.gateway.site, config.gateway.node)),
          // Both are bounded by the config (at most 5,000 events and 64 MiB): they fit a 32-bit
          // size_t.
          limits{static_cast<std::size_t>(sync.batch_events),
                 static_cast<std::size_t>(sync.batch_bytes)},
          reader(config.store.path),
          tick_timer(core_context),
          users(config) {}

    // --- lifecycle ---

    void start() {
        reader.start();
        std::weak_ptr<Impl> weak = weak_from_this();
        BrokerLink::Callbacks callbacks;
        callbacks.message = [weak, &context = core](std::string topic, std::string payload) {
            asio::post(context, [weak, topic = std::move(topic), payload = std::move(payload)] {
                if (auto self = weak.lock()) self->on_message(topic, payload);
            });
        };
        callbacks.connection = [weak, &context = core](bool up_now) {
            asio::post(context, [weak, up_now] {
                if (auto self = weak.lock()) self->on_connection(up_now);
            });
        };
        link = std::make_unique<BrokerLink>(sync.broker, down, std::string(kInstance),
                                            std::move(callbacks));
        // The cursors as last stored: the first hello reads them again anyway.
        reader.post([weak, &context = core, origin = origin](sqlite3* db) {
            auto state = read_sync_state(db, origin);
            asio::post(context, [weak, state = std::move(state)] {
                if (auto self = weak.lock()) self->on_initial_state(state);
            });
        });
    }

    void on_initial_state(const GatewaySyncState& state) {
        if (stopping) return;
        acked = state.peer.acked;
        down_applied = state.peer.down_applied;
        backlog = state.backlog;
        oldest_unsynced_ms = state.oldest_unsynced_ms;
        log_info(kInstance,
                 "syncing {} with the centre at {} (store incarnation {}): {} event(s) waiting, "
                 "acknowledged up to {}, down events applied up to {}",
                 origin, sync.broker.uri, state.incarnation, state.backlog, acked, down_applied);
        link->start();
        schedule_tick();
    }

    void stop() {
        stopping = true;
        if (reseeding) finish_reseed(Error{"floorwatchd is stopping; run it again once it runs"});
        tick_timer.cancel();
        if (link) link->stop();
        reader.stop();
    }

    // --- the link ---

    void on_connection(bool connected_now) {
        if (stopping) return;
        connected = connected_now;
        welcomed = false;
        send_again_from_ack();  // reads under way are for a connection that is gone
        if (connected) send_hello();
    }

    void publish(const std::string& text) {
        last_published = SteadyClock::now();
        link->publish(up, text);
    }

    void on_message(const std::string& topic, const std::string& payload) {
        if (stopping) return;
        if (topic != down) {
            note_malformed(fmt::format("a message on {}, not {}", topic, down));
            return;
        }
        auto message = decode_down(payload);
        if (!message) {
            note_malformed(message.error());
            return;
        }
        std::visit([this](auto& decoded) { on_down(decoded); }, *message);
    }

    void note_malformed(const std::string& why) {
        ++stats.malformed;
        const auto now = SteadyClock::now();
        if (now - last_malformed_log < std::chrono::seconds(10)) return;
        last_malformed_log = now;
        log_warning(kInstance, "ignored a message from the centre ({} so far): {}", stats.malformed,
                    why);
    }

    // --- hello / welcome ---

    void send_hello() {
        hello_sent = SteadyClock::now();
        awaiting_welcome = true;
        reader.post([weak = weak_from_this(), &context = core, origin = origin](sqlite3* db) {
            auto state = read_sync_state(db, origin);
            asio::post(context, [weak, state = std::move(state)] {
                if (auto self = weak.lock()) self->say_hello(state);
            });
        });
    }

    void say_hello(const GatewaySyncState& state) {
        if (stopping || !connected) return;
        backlog = state.backlog;
        oldest_unsynced_ms = state.oldest_unsynced_ms;
        wanted_pending = !state.wanted.empty();
        Hello hello;
        hello.incarnation = state.incarnation;
        hello.origin = origin;
        hello.next_sequence = state.next_sequence;
        hello.acked = std::max(acked, state.peer.acked);
        hello.down_applied = std::max(down_applied, state.peer.down_applied);
        hello.centre_max = state.centre_max;
        const auto wall = system_wall_time();
        hello.wall_ms = wall.ms;
        hello.clock_synced = wall.synced;
        hello.hlc = workflow::Hlc{wall.ms, 0};
        publish(encode_up(hello));
        store::post_when_durable(
            writer, core, weak_from_this(),
            [at = now_ms()](sqlite3* db) { write_hello_sent(db, at); },
            [](Impl&, const Status&) {});
    }

    void on_down(const Welcome& welcome) {
        awaiting_welcome = false;
        last_welcome_received = welcome.received;
        store::post_when_durable(
            writer, core, weak_from_this(),
            [welcome, at = now_ms()](sqlite3* db) { write_welcome(db, welcome, at); },
            [](Impl&, const Status&) {});
        if (welcome.verdict == Verdict::reseed) {
            if (!reseed_needed) {
                log_error(kInstance,
                          "the centre holds more of {} than this store wrote ({}); sending stops "
                          "(a re-imaged or restored gateway: see daemon/sync/README.md \"Verdict "
                          "reseed\"). Alarms and local orders carry on.",
                          origin, welcome.message);
            }
            reseed_needed = true;
            welcomed = false;
            send_again_from_ack();
            return;
        }
        reseed_needed = false;
        if (welcome.received < acked) {
            log_warning(kInstance,
                        "the centre holds {} only up to {} but had acknowledged {} (restored "
                        "from a backup?); sending again from {}",
                        origin, welcome.received, acked, welcome.received + 1);
            store::post_when_durable(
                writer, core, weak_from_this(),
                [origin = origin, received = welcome.received](sqlite3* db) {
                    write_rewind(db, origin, received);
                },
                [](Impl&, const Status&) {});
            acked = welcome.received;
        } else {
            take_ack(welcome.received);
        }
        welcomed = true;
        send_again_from_ack();
        log_info(kInstance, "welcomed by the centre (incarnation {}): it holds {} up to {}",
                 welcome.incarnation, origin, welcome.received);
        pump();
    }

    // --- up: events ---

    void on_down(const Ack& ack) {
        take_ack(ack.received);
        while (!in_flight.empty() && in_flight.front().last <= acked) in_flight.pop_front();
        pump();
    }

    void take_ack(std::uint64_t received) {
        if (received <= acked) return;
        acked = received;
        last_ack = SteadyClock::now();
        store::post_when_durable(
            writer, core, weak_from_this(),
            [origin = origin, received, at = now_ms()](sqlite3* db) {
                write_acked(db, origin, received, at);
            },
            [](Impl& self, const Status& written) {
                if (!written) {
                    log_error(kInstance, "the acknowledgement was not stored: {}", written.error());
                }
                self.refresh_backlog_soon();
            });
    }

    // Forgets what was sent and not acknowledged, and what was read and not sent: the next batch
    // starts after the last acknowledged event. Reads under way are dropped when they come back.
    void send_again_from_ack() {
        in_flight.clear();
        read_ahead.reset();
        next_to_read = acked + 1;
        ++generation;
    }

    bool may_send() const { return connected && welcomed && !reseed_needed; }

    // Sends what was read while the window has room, and keeps one batch read ahead of the
    // window: the reader turns the next rows into text while the link sends the batch before, so
    // a long drain is never waiting for both in turn. One read at a time.
    void pump() {
        if (stopping || !may_send()) return;
        if (read_ahead && in_flight.size() < sync.in_flight) {
            publish(read_ahead->text);
            ++stats.batches_sent;
            in_flight.push_back({read_ahead->first, read_ahead->last, SteadyClock::now()});
            read_ahead.reset();
        }
        if (reading || read_ahead) return;
        reading = true;
        reader.post(
            [weak = weak_from_this(), &context = core, origin = origin, from = next_to_read,
             limits = limits, generation = generation](sqlite3* db) {
                auto events = orders::read_origin_event_texts(db, origin, from, limits.max_events);
                std::optional<ReadBatch> batch;
                auto building = EventBatch::up(limits);
                for (auto& event : events) {
                    if (building.add_text(event.sequence, std::move(event.text)) != BatchAdd::added)
                        break;
                }
                if (!building.empty()) {
                    batch = ReadBatch{building.first(), building.last(), building.encode()};
                }
                asio::post(context, [weak, batch = std::move(batch), generation]() mutable {
                    if (auto self = weak.lock()) self->on_read(std::move(batch), generation);
                });
            },
            [weak = weak_from_this(), &context = core](const std::string& error) {
                asio::post(context, [weak, error] {
                    if (auto self = weak.lock()) self->on_read_failed(error);
                });
            });
    }

    // A batch could not be read (an unreadable row, a store error): the tick asks again, so a
    // passing error heals by itself and a lasting one is logged (every kBacklogLogInterval)
    // instead of stopping the agent for good.
    void on_read_failed(const std::string& error) {
        reading = false;
        ++stats.read_failures;
        const auto now = SteadyClock::now();
        if (stats.read_failures > 1 && now - last_read_failure_log < kBacklogLogInterval) return;
        last_read_failure_log = now;
        log_error(kInstance,
                  "cannot read the events to send from {} ({} time(s) so far; trying again every "
                  "{} ms): {}",
                  next_to_read, stats.read_failures, kTick.count(), error);
    }

    void on_read(std::optional<ReadBatch> batch, std::uint64_t read_generation) {
        reading = false;
        if (stopping) return;
        if (read_generation != generation) return pump();  // a rewind or reconnect meanwhile
        if (!batch) return;                                // nothing new: the tick looks again
        next_to_read = batch->last + 1;
        read_ahead = std::move(batch);
        pump();
    }

    // --- down: events from the centre ---

    void on_down(DownEvents& events) {
        // Stopped for a reseed: the orders these events belong to may not be here yet. The seed
        // brings them, and the centre sends the rest again after the next welcome.
        if (reseed_needed) return;
        pending_down.push_back(std::move(events));
        apply_next_down();
    }

    void apply_next_down() {
        if (applying || pending_down.empty() || stopping) return;
        DownEvents message = std::move(pending_down.front());
        pending_down.pop_front();
        if (message.last <= down_applied) {
            send_down_ack();  // a replay of what is applied: say so again
            return apply_next_down();
        }
        if (message.first > down_applied + 1) {
            // A gap: something before it was lost. The centre sends again from down_applied + 1
            // when it sees this ack.
            send_down_ack();
            return apply_next_down();
        }
        std::vector<orders::RemoteEvent> events;
        std::vector<QuarantineEntry> refused;
        for (auto& entry : message.events) {
            if (entry.down <= down_applied) continue;
            events.push_back({entry.down, std::move(entry.event)});
        }
        for (auto& entry : message.refused) {
            if (entry.position <= down_applied) continue;
            refused.push_back({entry.position, "", entry.reason, entry.raw});
        }
        const std::uint64_t up_to = message.last;
        applying = true;
        orders.apply_remote(
            std::move(events),
            [up_to, refused](sqlite3* db, const orders::RemoteApplied& applied) {
                std::vector<QuarantineEntry> all = refused;
                for (const auto& refusal : applied.refused) {
                    all.push_back({refusal.down, refusal.event_id, refusal.reason, refusal.raw});
                }
                write_down_applied(db, up_to, all, applied.missing_attachments, now_ms());
            },
            [weak = weak_from_this(), up_to, codec_refused = refused.size()](
                const Status& written, const orders::RemoteApplied& applied) {
                auto self = weak.lock();
                if (!self) return;
                self->on_down_applied(written, applied, codec_refused, up_to);
            });
    }

    void on_down_applied(const Status& written, const orders::RemoteApplied& applied,
                         std::size_t codec_refused, std::uint64_t up_to) {
        applying = false;
        if (stopping) return;
        if (written) {
            down_applied = std::max(down_applied, up_to);
            stats.down_events_applied += applied.written;
            const std::size_t quarantined = applied.refused.size() + codec_refused;
            stats.quarantined += quarantined;
            for (const auto& refusal : applied.refused) {
                log_error(kInstance, "down event {} ({}) quarantined: {}", refusal.down,
                          refusal.event_id, refusal.reason);
            }
            if (codec_refused > 0) {
                log_error(kInstance, "{} down event(s) up to {} could not be read; quarantined",
                          codec_refused, up_to);
            }
            send_down_ack();
            if (!applied.missing_attachments.empty()) ask_for_attachments();
        }
        apply_next_down();
    }

    void send_down_ack() {
        if (connected) publish(encode_up(DownAck{down_applied}));
    }

    // --- attachments named by the centre's events ---

    void ask_for_attachments() {
        reader.post([weak = weak_from_this(), &context = core, origin = origin](sqlite3* db) {
            auto state = read_sync_state(db, origin);
            asio::post(context, [weak, wanted = std::move(state.wanted)] {
                if (auto self = weak.lock()) self->send_need(wanted);
            });
        });
    }

    void send_need(const std::vector<WantedAttachment>& wanted) {
        wanted_pending = !wanted.empty();
        if (wanted.empty() || !connected) return;
        Need need;
        std::vector<std::string> asked;
        for (const auto& item : wanted) {
            need.attachments.push_back({item.sha256, item.received});
            asked.push_back(item.sha256);
        }
        publish(encode_up(need));
        last_need = SteadyClock::now();
        store::post_when_durable(
            writer, core, weak_from_this(),
            [asked, at = now_ms()](sqlite3* db) { write_need_sent(db, asked, at); },
            [](Impl&, const Status&) {});
    }

    // --- the rest of the down messages ---

    void on_down(const Reannounce&) { send_hello(); }
    // --- reseed (README.md "Reseed") ---

    void reseed(ReseedDone done) {
        const auto refuse = [&](std::string why) {
            asio::post(core, [done = std::move(done), why = std::move(why)] { done(Error{why}); });
        };
        if (stopping) return refuse("floorwatchd is stopping");
        if (reseeding) {
            return refuse(fmt::format(
                "a reseed is under way already (request {}, {} part(s) applied); wait for it",
                reseeding->request_id, reseeding->outcome.parts));
        }
        if (!reseed_needed) {
            if (welcomed) {
                return refuse(fmt::format(
                    "the centre's last verdict for {} is ok, not reseed: this store is in step "
                    "with the centre and there is nothing to re-seed (floorwatch sync shows it)",
                    origin));
            }
            return refuse(fmt::format(
                "the centre has not said reseed for {} (no welcome yet{}); floorwatch sync "
                "shows the verdict once it answers",
                origin, connected ? "" : ", its broker is not connected"));
        }
        if (!connected) {
            return refuse(
                fmt::format("the centre's broker ({}) is not connected; run this again once it is "
                            "(floorwatch sync shows the last contact)",
                            sync.broker.uri));
        }
        reseeding.emplace();
        reseeding->request_id = random_request_id();
        reseeding->outcome.request_id = reseeding->request_id;
        reseeding->done = std::move(done);
        reseeding->last_progress = SteadyClock::now();
        // Events this store wrote itself under sequences the centre holds would collide: say so
        // before asking (the order service checks again, for good, in each part's store job).
        reader.post([weak = weak_from_this(), &context = core, origin = origin,
                     up_to = last_welcome_received, id = reseeding->request_id](sqlite3* db) {
            const auto own = orders::count_unsynced_own_events(db, origin, up_to);
            asio::post(context, [weak, own, id, up_to] {
                if (auto self = weak.lock()) self->send_reseed_request(id, own, up_to);
            });
        });
    }

    void send_reseed_request(const std::string& id, std::uint64_t own, std::uint64_t up_to) {
        if (!reseeding || reseeding->request_id != id || stopping) return;
        if (own > 0) {
            return finish_reseed(Error{fmt::format(
                "this store wrote {} event(s) of {} itself that the centre never acknowledged, "
                "under sequences the centre holds other events for (up to {}); re-seeding would "
                "reuse their ids. Stop floorwatchd, move the store file aside (keep it: "
                "floorwatch orders list --all --db FILE shows its orders), start again, run "
                "floorwatch sync reseed, then report those orders again",
                own, origin, up_to)});
        }
        if (!connected) {
            return finish_reseed(Error{
                fmt::format("the centre's broker ({}) went away; run this again once it is back",
                            sync.broker.uri)});
        }
        publish(encode_up(ReseedRequest{id}));
        reseeding->asked = true;
        reseeding->last_progress = SteadyClock::now();
        log_info(kInstance, "reseed {}: asked the centre for every event of {}'s orders", id,
                 origin);
    }

    void on_down(Seed& seed) {
        if (!reseeding || !reseeding->asked || seed.request_id != reseeding->request_id) {
            // An older request's part, or one nobody here asked for.
            log_debug(kInstance, "ignored seed part {} of request {}: not the reseed under way",
                      seed.part, seed.request_id);
            return;
        }
        if (seed.part < reseeding->next_part) return;  // a repeat of a part taken
        if (seed.part > reseeding->next_part) {
            return finish_reseed(Error{fmt::format(
                "seed part {} came before part {}: a part was lost on the way; run floorwatch "
                "sync reseed again (what was applied stays, nothing is applied twice)",
                seed.part, reseeding->next_part)});
        }
        if (seed.part == 0) reseeding->down_last = seed.down_last;
        reseeding->origin_sequence = std::max(reseeding->origin_sequence, seed.origin_sequence);
        ++reseeding->next_part;
        reseeding->last_progress = SteadyClock::now();
        reseeding->parts.push_back(std::move(seed));
        apply_next_seed();
    }

    void apply_next_seed() {
        if (stopping || !reseeding || reseeding->applying || reseeding->parts.empty()) return;
        Seed part = std::move(reseeding->parts.front());
        reseeding->parts.pop_front();
        std::vector<orders::RemoteEvent> events;
        events.reserve(part.events.size());
        for (std::size_t i = 0; i < part.events.size(); ++i) {
            events.push_back({i, std::move(part.events[i])});
        }
        std::vector<QuarantineEntry> refused;
        refused.reserve(part.refused.size());
        for (auto& entry : part.refused) {
            refused.push_back({entry.position, "",
                               fmt::format("seed part {}: {}", part.part, entry.reason),
                               std::move(entry.raw)});
        }
        reseeding->applying = true;
        const std::uint64_t number = part.part;
        const std::uint64_t origin_sequence = reseeding->origin_sequence;
        const std::uint64_t down_last = reseeding->down_last;
        const std::string message =
            fmt::format("re-seeded from the centre (request {})", reseeding->request_id);
        orders.apply_seed(
            std::move(events), orders::SeedPosition{origin_sequence, part.last},
            [refused, number, last = part.last, origin = origin, origin_sequence, down_last,
             message](sqlite3* db, const orders::RemoteApplied& applied) {
                std::vector<QuarantineEntry> all = refused;
                for (const auto& refusal : applied.refused) {
                    all.push_back({refusal.down, refusal.event_id,
                                   fmt::format("seed part {}: {}", number, refusal.reason),
                                   refusal.raw});
                }
                write_seed_quarantine(db, all, applied.missing_attachments, now_ms());
                if (last) {
                    write_reseeded(db, origin, origin_sequence, down_last, message, now_ms());
                }
            },
            [weak = weak_from_this(), id = reseeding->request_id, last = part.last,
             codec_refused = refused.size()](const Status& written,
                                             const orders::RemoteApplied& applied) {
                if (auto self = weak.lock()) {
                    self->on_seed_applied(id, last, written, applied, codec_refused);
                }
            });
    }

    void on_seed_applied(const std::string& id, bool last, const Status& written,
                         const orders::RemoteApplied& applied, std::size_t codec_refused) {
        if (!reseeding || reseeding->request_id != id) return;  // given up meanwhile
        reseeding->applying = false;
        if (stopping) return;
        if (!written) {
            return finish_reseed(Error{fmt::format("seed part {} was not applied: {}",
                                                   reseeding->outcome.parts, written.error())});
        }
        auto& outcome = reseeding->outcome;
        ++outcome.parts;
        outcome.events += applied.written;
        outcome.duplicates += applied.duplicates;
        outcome.quarantined += applied.refused.size() + codec_refused;
        stats.quarantined += applied.refused.size() + codec_refused;
        for (const auto& refusal : applied.refused) {
            log_error(kInstance, "seed event {} quarantined: {}", refusal.event_id, refusal.reason);
        }
        reseeding->last_progress = SteadyClock::now();
        if (!last) return apply_next_seed();
        outcome.origin_sequence = reseeding->origin_sequence;
        outcome.down_last = reseeding->down_last;
        acked = reseeding->origin_sequence;
        down_applied = reseeding->down_last;
        reseed_needed = false;
        log_info(kInstance,
                 "reseed {} done: {} event(s) of {}'s orders written ({} held already, {} "
                 "quarantined) in {} part(s); this gateway writes from sequence {} on; saying "
                 "hello again",
                 id, outcome.events, origin, outcome.duplicates, outcome.quarantined, outcome.parts,
                 acked + 1);
        const bool wanted = !applied.missing_attachments.empty();
        finish_reseed(outcome);
        refresh_backlog();
        if (connected) send_hello();
        if (wanted) ask_for_attachments();
    }

    // Ends the reseed under way, whatever happened: no flag outlives it.
    void finish_reseed(const Result<ReseedOutcome>& result) {
        if (!reseeding) return;
        if (!result) {
            log_error(kInstance,
                      "reseed {} failed: {}. Sending stays stopped; floorwatch sync reseed may be "
                      "run again",
                      reseeding->request_id, result.error());
        }
        ReseedDone done = std::move(reseeding->done);
        reseeding.reset();
        if (done) done(result);
    }

    void on_reseed_command(const control::Caller& caller, control::Reply reply) {
        if (!may_reseed(caller)) {
            return reply.error(fmt::format(
                "{} may not re-seed this gateway: that needs root or a workflow.users entry "
                "with the admin role",
                caller.user));
        }
        log_info(kInstance, "reseed asked for by {}", caller.user);
        reseed([reply](const Result<ReseedOutcome>& outcome) mutable {
            if (!outcome) return reply.error(outcome.error());
            reply.ok(boost::json::object{{"request_id", outcome->request_id},
                                         {"parts", outcome->parts},
                                         {"events", outcome->events},
                                         {"duplicates", outcome->duplicates},
                                         {"quarantined", outcome->quarantined},
                                         {"origin_sequence", outcome->origin_sequence},
                                         {"next_sequence", outcome->origin_sequence + 1},
                                         {"down_last", outcome->down_last}});
        });
    }

    // As for the other plant-IT commands (floorwatch user passwd): root on the socket, or a
    // workflow user with the admin role.
    bool may_reseed(const control::Caller& caller) const {
        if (caller.uid == 0 && caller.authenticated_user.empty()) return true;
        const auto actor = orders::actor_for(caller, users);
        return actor && actor->holds(workflow::Role::admin);
    }

    // A piece of an attachment this gateway asked for.
    void on_down(const AttachmentChunk& chunk) {
        last_need = SteadyClock::now();  // the centre is answering: no need to ask again yet
        auto taken = std::make_shared<ChunkTaken>(ChunkTaken::not_wanted);
        store::post_when_durable(
            writer, core, weak_from_this(),
            [chunk, taken, at = now_ms()](sqlite3* db) {
                *taken = write_attachment_chunk(db, chunk, at);
            },
            [taken, attachment = workflow::Attachment{chunk.sha256, chunk.media_type, chunk.size,
                                                      chunk.name}](Impl& self,
                                                                   const Status& written) {
                if (!written) {
                    log_error(kInstance, "an attachment piece was not stored: {}", written.error());
                    return;
                }
                switch (*taken) {
                    case ChunkTaken::appended:
                    case ChunkTaken::not_wanted:
                        break;
                    case ChunkTaken::completed:
                        log_info(kInstance, "attachment {} ({}, {} bytes) fetched from the centre",
                                 attachment.sha256, attachment.name, attachment.size);
                        self.orders.add_attachment(attachment);
                        break;
                    case ChunkTaken::corrupt:
                        log_warning(kInstance,
                                    "attachment {} from the centre does not match its sha256; "
                                    "asking for it again",
                                    attachment.sha256);
                        self.ask_for_attachments();
                        break;
                    case ChunkTaken::wrong_offset:
                        self.ask_for_attachments();
                        break;
                }
            });
    }

    // The centre lacks attachments named by this gateway's events: send them in chunks.
    void on_down(const Need& need) {
        reader.post([weak = weak_from_this(), &context = core, need,
                     chunk_size = sync.chunk_size](sqlite3* db) {
            std::vector<std::string> messages;
            for (const auto& wanted : need.attachments) {
                const auto stored = read_attachment(db, wanted.sha256);
                if (!stored) continue;  // not here either: the centre asks whoever has it
                std::uint64_t offset = std::min<std::uint64_t>(wanted.offset, stored->data.size());
                do {
                    const auto chunk = attachment_chunk(stored->attachment, stored->data, offset,
                                                        static_cast<std::size_t>(chunk_size));
                    messages.push_back(encode_up(chunk));
                    offset += chunk.data.size();
                    if (chunk.last) break;
                } while (true);
            }
            asio::post(context, [weak, messages = std::move(messages)] {
                auto self = weak.lock();
                if (!self || !self->connected) return;
                for (const auto& text : messages) self->publish(text);
            });
        });
    }

    // --- the tick: new events, timeouts ---

    void schedule_tick() {
        tick_timer.expires_after(kTick);
        tick_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
            if (error) return;
            if (auto self = weak.lock()) {
                self->tick();
                self->schedule_tick();
            }
        });
    }

    void tick() {
        if (stopping) return;
        const auto now = SteadyClock::now();
        if (connected && awaiting_welcome && now - hello_sent > sync.ack_timeout) {
            log_warning(kInstance, "no welcome from the centre within {}; saying hello again",
                        format_duration(sync.ack_timeout));
            send_hello();
        }
        if (welcomed && !in_flight.empty() && now - in_flight.front().sent > sync.ack_timeout) {
            ++stats.resends;
            log_warning(kInstance, "no acknowledgement within {}; sending again from {}",
                        format_duration(sync.ack_timeout), acked + 1);
            send_again_from_ack();
        }
        if (reseeding && !reseeding->applying &&
            now - reseeding->last_progress > kReseedPatience * sync.ack_timeout) {
            finish_reseed(Error{fmt::format(
                "{} the centre for {}; run floorwatch sync reseed again (what was applied stays, "
                "nothing is applied twice)",
                reseeding->asked
                    ? fmt::format("no seed part ({} taken) came from", reseeding->next_part)
                    : std::string("could not ask"),
                format_duration(kReseedPatience * sync.ack_timeout))});
        }
        if (welcomed && wanted_pending && now - last_need > sync.ack_timeout) {
            last_need = now;
            ask_for_attachments();
        }
        // Presence: an idle gateway repeats its down ack (idempotent at the centre) once per ack
        // timeout, so the centre, which hears of a gateway only through its messages, can tell
        // one that is connected and quiet (its page, its down resends) from one that is gone.
        if (welcomed && connected && now - last_published >= sync.ack_timeout) send_down_ack();
        if (backlog_refresh_due && now - last_backlog_refresh >= kBacklogRefreshInterval) {
            refresh_backlog();
        }
        if (now - last_backlog_log > kBacklogLogInterval) {
            last_backlog_log = now;
            refresh_backlog();
            if (backlog > 0) log_info(kInstance, "{}", status_text());
        }
        pump();
    }

    // After an ack: now, or from the tick once kBacklogRefreshInterval has passed since the last
    // read, so the figure is never more than about a second stale.
    void refresh_backlog_soon() {
        backlog_refresh_due = true;
        if (SteadyClock::now() - last_backlog_refresh >= kBacklogRefreshInterval) {
            refresh_backlog();
        }
    }

    void refresh_backlog() {
        backlog_refresh_due = false;
        last_backlog_refresh = SteadyClock::now();
        reader.post([weak = weak_from_this(), &context = core, origin = origin](sqlite3* db) {
            // The backlog alone: this runs after every ack, and the whole sync state would scan
            // every event each time (gateway_store.hpp read_backlog).
            const auto waiting = read_backlog(db, origin);
            asio::post(context, [weak, waiting] {
                if (auto self = weak.lock()) {
                    self->backlog = waiting.events;
                    self->oldest_unsynced_ms = waiting.oldest_unsynced_ms;
                }
            });
        });
    }

    std::string status_text() const {
        if (reseeding) {
            return fmt::format("sync: stopped, re-seeding from the centre ({} part(s) applied)",
                               reseeding->outcome.parts);
        }
        if (reseed_needed) return "sync: stopped, the centre holds more of this origin (reseed)";
        std::string text = fmt::format("sync: {} unsynced", backlog);
        if (backlog > 0 && oldest_unsynced_ms) {
            text += fmt::format(
                ", oldest {}",
                format_duration(Millis(std::max<std::int64_t>(0, now_ms() - *oldest_unsynced_ms))));
        }
        if (!connected) text += ", centre not connected";
        return text;
    }

    asio::io_context& core;
    store::Writer& writer;
    orders::OrderService& orders;
    SyncConfig sync;
    std::string origin;
    std::string up;
    std::string down;
    BatchLimits limits;
    StoreReader reader;
    std::unique_ptr<BrokerLink> link;

    // What the agent knows now; core thread.
    // What the agent knows now (stats, metrics, the sync.status command); core thread.
    AgentStats snapshot() const {
        AgentStats now = stats;
        now.connected = connected;
        now.welcomed = welcomed;
        now.reseed_needed = reseed_needed;
        now.acked = acked;
        now.down_applied = down_applied;
        now.backlog = backlog;
        now.broker_uri = sync.broker.uri;
        if (link) now.link_error = link->stats().last_error;
        if (backlog > 0 && oldest_unsynced_ms) {
            now.lag = Millis(std::max<std::int64_t>(0, now_ms() - *oldest_unsynced_ms));
        }
        return now;
    }

    asio::steady_timer tick_timer;
    Config users;  // workflow.users, for sync.reseed; updated by reload()

    bool stopping = false;
    bool connected = false;
    bool welcomed = false;
    bool awaiting_welcome = false;
    bool reseed_needed = false;
    bool reading = false;
    bool applying = false;
    bool wanted_pending = false;  // attachments named by down events are still missing
    std::uint64_t generation = 0;
    std::uint64_t acked = 0;
    std::uint64_t next_to_read = 1;  // the first sequence of the next batch to read
    std::uint64_t down_applied = 0;
    std::deque<SentBatch> in_flight;
    std::optional<ReadBatch> read_ahead;  // read, not yet sent: the window was full
    std::deque<DownEvents> pending_down;
    std::uint64_t last_welcome_received = 0;
    std::optional<Reseeding> reseeding;
    std::uint64_t backlog = 0;
    std::optional<std::int64_t> oldest_unsynced_ms;
    SteadyClock::time_point hello_sent{};
    SteadyClock::time_point last_published{};
    SteadyClock::time_point last_ack{};
    SteadyClock::time_point last_need{};
    SteadyClock::time_point last_malformed_log{};
    SteadyClock::time_point last_read_failure_log{};
    SteadyClock::time_point last_backlog_log = SteadyClock::now();
    SteadyClock::time_point last_backlog_refresh{};
    bool backlog_refresh_due = false;  // an ack came since the last backlog read
    AgentStats stats;
};

GatewayAgent::GatewayAgent(asio::io_context& core, store::Writer& writer,
                           orders::OrderService& orders, const Config& config)
    : impl_(std::make_shared<Impl>(core, writer, orders, config)) {}

GatewayAgent::~GatewayAgent() {
    try {
        impl_->stop();
    } catch (...) {
        // Only timer cancels and thread joins can throw, and on Linux they do not for the timers
        // and threads this agent owns; a destructor must not throw.
    }
}

void GatewayAgent::start() {
    impl_->start();
}

void GatewayAgent::stop() {
    impl_->stop();
}

AgentStats GatewayAgent::stats() const {
    return impl_->snapshot();
}

void GatewayAgent::register_commands(control::Server& control) {
    // The link as the daemon sees it now (floorwatch sync shows it beside what the store holds);
    // anyone who may connect to the socket may read it.
    control.handle("sync.status",
                   [weak = std::weak_ptr<Impl>(impl_)](
                       const control::Caller&, const boost::json::object&, control::Reply reply) {
                       const auto self = weak.lock();
                       if (!self) return reply.error("sync is stopping");
                       const auto now = self->snapshot();
                       reply.ok(boost::json::object{{"broker", now.broker_uri},
                                                    {"connected", now.connected},
                                                    {"welcomed", now.welcomed},
                                                    {"stopped_for_reseed", now.reseed_needed},
                                                    {"last_error", now.link_error},
                                                    {"backlog", now.backlog},
                                                    {"lag_ms", now.lag.count()},
                                                    {"batches_sent", now.batches_sent},
                                                    {"resends", now.resends},
                                                    {"malformed", now.malformed},
                                                    {"read_failures", now.read_failures}});
                   });
    control.handle("sync.reseed", [weak = std::weak_ptr<Impl>(impl_)](const control::Caller& caller,
                                                                      const boost::json::object&,
                                                                      control::Reply reply) {
        if (auto self = weak.lock()) return self->on_reseed_command(caller, std::move(reply));
        reply.error("sync is stopping");
    });
}

void GatewayAgent::reload(const Config& config) {
    impl_->users = config;
}

void GatewayAgent::reseed(ReseedDone done) {
    impl_->reseed(std::move(done));
}

std::string GatewayAgent::status_text() const {
    return impl_->status_text();
}

}  // namespace fw::sync
