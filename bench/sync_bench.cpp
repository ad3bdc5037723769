// Sync with the central store: how fast a gateway drains a long backlog, and how much a centre
// ingests from many gateways. Prints figures; asserts nothing about speed.
//
//   sync_bench [EVENTS] [GATEWAYS] [ORDERS_PER_GATEWAY] [OFFERED_EVENTS_PER_S]
//   [sqlite|postgresql|both]
//              (defaults 100000 1000 10 1000 both)
//
// 1. Drain: the real floorwatchd as a gateway with EVENTS waiting in its store (written through
//    the order-store code, tests/support/order_backlog.hpp), a real Mosquitto on loopback, and on
//    the other side (a) a centre scripted here that acks each `events` message as it arrives
//    (what the gateway's agent can do alone) and (b) the real central floorwatchd on SQLite (end
//    to end). Rate: events / (the ack of the last event - the first events message), both as the
//    bench's own subscriber sees them on the broker. The baseline in the same run: the same
//    number of messages of the same sizes published at QoS 1 through the same broker to
//    mosquitto_sub, as events/s of the same byte volume.
// 2. Central ingest: GATEWAYS simulated gateways (one Paho client, each its own origin and up
//    topic, events made by the workflow's handler, sent through the codec) say hello, then send
//    their orders (3 events per message) round robin at OFFERED_EVENTS_PER_S against a real
//    central floorwatchd on SQLite and on PostgreSQL (tests/support/postgres.hpp): events/s
//    applied and the latency from a message's publish to the ack that covers it (p50, p99, max).

#include <mqtt/async_client.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/test_harness.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/order_backlog.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kGatewayOrigin = "bench.gw-1";
const std::string kUpTopic = fw::sync::up_topic("bench", "gw-1");
const std::string kDownTopic = fw::sync::down_topic("bench", "gw-1");

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

// Paho refuses a publish while its queue is full ("no more messages can be buffered"): wait for
// it to drain, as mqtt_bench does.
::mqtt::delivery_token_ptr publish_when_queued(::mqtt::async_client& client,
                                               const ::mqtt::message_ptr& message) {
    for (;;) {
        try {
            return client.publish(message);
        } catch (const ::mqtt::exception&) {
            std::this_thread::sleep_for(1ms);
        }
    }
}

std::string gateway_yaml(const fs::path& dir, const std::string& broker_uri) {
    return "gateway: {site: bench, node: gw-1, log_level: warning}\n"
           "store: {path: " +
           (dir / "gateway.db").string() +
           "}\ncontrol: {socket: " + (dir / "gateway.sock").string() +
           "}\n"
           "equipment:\n  - {id: press-1, area: stamping}\n"
           "workflow:\n  prefixes: [{area: stamping, prefix: PRS}]\n"
           // A week-old backlog: no overdue events from the daemon's timer mid-drain.
           "  medium: {review_deadline: 30d}\n  users:\n"
           "    - {name: rita, uid: 1001, roles: reporter}\n"
           "    - {name: sam, uid: 1002, roles: team_lead}\n"
           "    - {name: sara, uid: 1003, roles: safety}\n"
           "    - {name: max, uid: 1004, roles: manager}\n"
           "sync:\n  broker: {uri: '" +
           broker_uri + "', reconnect_min: 100ms, reconnect_max: 500ms}\n";
}

std::string central_yaml(const fs::path& dir, const std::string& name,
                         const std::string& broker_uri, const std::string& postgresql) {
    std::string yaml = "role: central\ngateway: {site: bench, node: " + name +
                       ", log_level: warning}\nstore: {path: " + (dir / (name + ".db")).string() +
                       "}\ncontrol: {socket: " + (dir / (name + ".sock")).string() +
                       "}\nworkflow:\n  users:\n    - {name: lea, uid: 1001, roles: team_lead}\n"
                       "sync:\n  broker: {uri: '" +
                       broker_uri + "', reconnect_min: 100ms, reconnect_max: 500ms}\n";
    // A JSON string is a YAML double-quoted scalar; the conninfo holds single quotes.
    if (!postgresql.empty())
        yaml += "  postgresql: " + json::serialize(json::string(postgresql)) + "\n";
    return yaml;
}

fw::test::ChildProcess start_daemon(const fs::path& config, const fs::path& log) {
    fw::test::SpawnOptions logs;
    logs.stdout_path = log;
    logs.stderr_path = log;
    return fw::test::ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()}, logs);
}

// The broker side of a drain as the bench sees it: every up message's size and type, and the
// acks on the down topic; with `scripted`, it is also the centre (welcome, then an ack of each
// events message's last sequence).
class DrainWatcher : public virtual ::mqtt::callback {
  public:
    DrainWatcher(const std::string& uri, bool scripted)
        : client_(uri, scripted ? "bench-scripted-centre" : "bench-watcher",
                  ::mqtt::create_options(MQTTVERSION_3_1_1)),
          scripted_(scripted) {
        client_.set_callback(*this);
        client_.connect(::mqtt::connect_options_builder().clean_session(true).finalize())->wait();
        client_.subscribe(kUpTopic, 1)->wait();
        client_.subscribe(kDownTopic, 1)->wait();
    }
    ~DrainWatcher() override {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const ::mqtt::exception&) {
        }
    }

    void message_arrived(::mqtt::const_message_ptr message) override {
        const auto now = Clock::now();
        const std::string& text = message->get_payload_str();
        if (message->get_topic() == kUpTopic) {
            if (text.find("\"type\":\"events\"") != std::string::npos) {
                std::uint64_t last = 0;
                if (scripted_)
                    last = json::parse(text).as_object().at("last").to_number<std::uint64_t>();
                std::lock_guard lock(mutex_);
                if (!first_events_) first_events_ = now;
                sizes_.push_back(text.size());
                if (scripted_) reply(fw::sync::encode_down(fw::sync::Ack{last}));
            } else if (scripted_ && text.find("\"type\":\"hello\"") != std::string::npos) {
                fw::sync::Welcome welcome;
                welcome.incarnation = std::string(32, 'c');
                welcome.received = 0;
                reply(fw::sync::encode_down(welcome));
            }
            return;
        }
        if (text.find("\"type\":\"ack\"") == std::string::npos) return;
        const auto received =
            json::parse(text).as_object().at("received").to_number<std::uint64_t>();
        std::lock_guard lock(mutex_);
        if (received > highest_ack_) {
            highest_ack_ = received;
            last_ack_ = now;
        }
    }

    std::uint64_t highest_ack() const {
        std::lock_guard lock(mutex_);
        return highest_ack_;
    }
    std::optional<Clock::time_point> first_events() const {
        std::lock_guard lock(mutex_);
        return first_events_;
    }
    Clock::time_point last_ack() const {
        std::lock_guard lock(mutex_);
        return last_ack_;
    }
    std::vector<std::size_t> sizes() const {
        std::lock_guard lock(mutex_);
        return sizes_;
    }

  private:
    void reply(const std::string& text) {
        publish_when_queued(client_, ::mqtt::make_message(kDownTopic, text, 1, false));
    }

    ::mqtt::async_client client_;
    bool scripted_;
    mutable std::mutex mutex_;
    std::optional<Clock::time_point> first_events_;
    Clock::time_point last_ack_;
    std::uint64_t highest_ack_ = 0;
    std::vector<std::size_t> sizes_;
};

// mosquitto_sub receiving messages of `sizes` from one QoS 1 publisher: seconds from the first
// publish to its exit after the last message.
double broker_baseline(const fw::test::Mosquitto& broker, const fs::path& dir,
                       const std::vector<std::size_t>& sizes) {
    fw::test::SpawnOptions quiet;
    quiet.stdout_path = "/dev/null";
    quiet.stderr_path = dir / "mosquitto_sub.log";
    auto subscriber = fw::test::ChildProcess::spawn(
        "/usr/bin/mosquitto_sub",
        {"-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-t", "bench/baseline", "-q", "1",
         "-C", std::to_string(sizes.size())},
        quiet);
    std::this_thread::sleep_for(500ms);  // subscribed (a fresh local connection takes ms)
    ::mqtt::async_client publisher(broker.uri(), "bench-baseline-publisher",
                                   ::mqtt::create_options(MQTTVERSION_3_1_1));
    publisher.connect()->wait();
    const std::size_t largest = *std::max_element(sizes.begin(), sizes.end());
    const std::string filler(largest, 'x');
    const auto start = Clock::now();
    std::vector<::mqtt::delivery_token_ptr> tokens;
    tokens.reserve(sizes.size());
    for (const auto size : sizes) {
        tokens.push_back(publish_when_queued(
            publisher, ::mqtt::make_message("bench/baseline", filler.data(), size, 1, false)));
    }
    for (auto& token : tokens) token->wait();
    const bool done = subscriber.wait_exit(120s).has_value();
    const auto end = Clock::now();
    publisher.disconnect()->wait();
    if (!done) return -1;
    return seconds_between(start, end);
}

struct DrainFigures {
    double seconds = -1;
    std::uint64_t events = 0;
    std::vector<std::size_t> sizes;
};

// One drain of the backlog in `store` (copied to the gateway's path first).
DrainFigures drain(const fw::test::Mosquitto& broker, const fs::path& dir, const fs::path& store,
                   std::uint64_t events, bool scripted) {
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(dir / ("gateway.db" + std::string(suffix)));
    fs::copy_file(store, dir / "gateway.db");
    std::optional<fw::test::ChildProcess> central;
    if (!scripted) {
        for (const char* suffix : {"", "-wal", "-shm"})
            fs::remove(dir / ("central-1.db" + std::string(suffix)));
        fw::test::write_text_file(dir / "central-1.yaml",
                                  central_yaml(dir, "central-1", broker.uri(), ""));
        central = start_daemon(dir / "central-1.yaml", dir / "central-drain.log");
        wait_until([&] { return fs::exists(dir / "central-1.sock"); }, 30s);
        std::this_thread::sleep_for(1s);  // subscribed
    }
    DrainWatcher watcher(broker.uri(), scripted);
    auto gateway = start_daemon(dir / "gateway.yaml", dir / "gateway.log");
    DrainFigures figures;
    figures.events = events;
    const bool done = wait_until([&] { return watcher.highest_ack() >= events; }, 600s);
    if (done && watcher.first_events()) {
        figures.seconds = seconds_between(*watcher.first_events(), watcher.last_ack());
    } else {
        std::printf("drain incomplete: acked %llu of %llu\n%s\n",
                    static_cast<unsigned long long>(watcher.highest_ack()),
                    static_cast<unsigned long long>(events),
                    fw::test::read_text_file(dir / "gateway.log").c_str());
    }
    figures.sizes = watcher.sizes();
    gateway.stop(30s);
    if (central) central->stop(30s);
    return figures;
}

void run_drains(std::uint64_t backlog_events) {
    fw::test::TempDir dir("fw-sync-bench");
    // As examples/mosquitto/floorwatch-broker.conf sets it for sync.
    fw::test::Mosquitto broker(dir.path(), "broker", "set_tcp_nodelay true\n");
    fw::test::write_text_file(dir / "gateway.yaml", gateway_yaml(dir.path(), broker.uri()));

    // The gateway's store: made by floorwatchd (no centre yet: it only says hello), then the
    // backlog written into it, kept as a template for both drains.
    {
        auto gateway = start_daemon(dir / "gateway.yaml", dir / "gateway-first.log");
        wait_until([&] { return fs::exists(dir / "gateway.sock"); }, 30s);
        gateway.stop(30s);
    }
    const auto workflow = fw::load_config((dir / "gateway.yaml").string()).workflow;
    const auto written_at = Clock::now();
    const auto written =
        fw::test::write_order_backlog(dir / "gateway.db", kGatewayOrigin, workflow, backlog_events,
                                      fw::wall_now_ms() - 7LL * 24 * 3600 * 1000, 6s);
    std::printf("backlog: %llu events of %llu orders, written in %.1f s\n",
                static_cast<unsigned long long>(written.last_sequence),
                static_cast<unsigned long long>(written.orders),
                seconds_between(written_at, Clock::now()));
    fs::copy_file(dir / "gateway.db", dir / "backlog.db");

    for (const bool scripted : {true, false}) {
        const auto figures =
            drain(broker, dir.path(), dir / "backlog.db", written.last_sequence, scripted);
        if (figures.seconds <= 0) continue;
        std::uint64_t bytes = 0;
        for (const auto size : figures.sizes) bytes += size;
        const double rate = static_cast<double>(figures.events) / figures.seconds;
        const double baseline_s = broker_baseline(broker, dir.path(), figures.sizes);
        const double baseline_rate = static_cast<double>(figures.events) / baseline_s;
        std::printf("\n%s\n",
                    scripted
                        ? "drain to a scripted centre (acks each message at once: the agent alone)"
                        : "drain to the real central floorwatchd (SQLite): end to end");
        std::printf("  %zu events messages, %.1f MB (%.0f bytes/event)\n", figures.sizes.size(),
                    static_cast<double>(bytes) / 1e6,
                    static_cast<double>(bytes) / static_cast<double>(figures.events));
        std::printf("  gateway drain, first events message to last ack: %.2f s = %10.0f events/s\n",
                    figures.seconds, rate);
        std::printf("  mosquitto_sub, same messages at QoS 1:           %.2f s = %10.0f events/s\n",
                    baseline_s, baseline_rate);
        std::printf("  ratio drain / broker:                                         %.2f\n",
                    rate / baseline_rate);
    }
}

// ---- central ingest from many gateways ----

// One simulated gateway: its own plant (origin, events) and its messages.
struct SimulatedGateway {
    std::string node;
    std::string up;
    std::string down;
    fw::sync::Hello hello;
    std::vector<std::string> messages;   // events messages, in order
    std::vector<std::uint64_t> last_of;  // each message's last sequence
    std::deque<std::pair<std::uint64_t, Clock::time_point>> waiting;  // (last, sent), unacked
    std::uint64_t acked = 0;
    bool welcomed = false;
};

class Fleet : public virtual ::mqtt::callback {
  public:
    Fleet(const std::string& uri, std::size_t gateways, std::size_t orders_each)
        : client_(uri, "bench-fleet", ::mqtt::create_options(MQTTVERSION_3_1_1)) {
        for (std::size_t g = 0; g < gateways; ++g) {
            SimulatedGateway gateway;
            char node[32];
            std::snprintf(node, sizeof node, "gw-%04zu", g);
            gateway.node = node;
            gateway.up = fw::sync::up_topic("bench", node);
            gateway.down = fw::sync::down_topic("bench", node);
            fw::workflow::testing::Plant plant("bench." + gateway.node);
            for (std::size_t o = 0; o < orders_each; ++o) {
                const auto first = plant.log.size();
                plant.approve_all(plant.report());
                const std::span order(plant.log.data() + first, plant.log.size() - first);
                auto texts = fw::sync::batch_up_events(order, fw::sync::BatchLimits{});
                for (auto& text : texts) {
                    gateway.messages.push_back(std::move(text));
                    gateway.last_of.push_back(plant.log.back().id.sequence);
                }
            }
            events_ += plant.log.size();
            gateway.hello.incarnation = std::string(32, 'a');
            gateway.hello.origin = "bench." + gateway.node;
            gateway.hello.next_sequence = plant.log.size() + 1;
            gateway.hello.wall_ms = fw::wall_now_ms();
            gateway.hello.clock_synced = true;
            by_down_[gateway.down] = g;
            gateways_.push_back(std::move(gateway));
        }
        client_.set_callback(*this);
        client_.connect(::mqtt::connect_options_builder().clean_session(true).finalize())->wait();
        client_.subscribe("floorwatch/v1/bench/+/down", 1)->wait();
    }
    ~Fleet() override {
        try {
            client_.disconnect()->wait_for(2s);
        } catch (const ::mqtt::exception&) {
        }
    }

    std::size_t events() const { return events_; }

    void message_arrived(::mqtt::const_message_ptr message) override {
        const auto now = Clock::now();
        const auto found = by_down_.find(message->get_topic());
        if (found == by_down_.end()) return;
        auto decoded = fw::sync::decode_down(message->get_payload_str());
        if (!decoded) return;
        std::lock_guard lock(mutex_);
        auto& gateway = gateways_[found->second];
        if (std::holds_alternative<fw::sync::Welcome>(*decoded)) {
            if (!gateway.welcomed) ++welcomed_;
            gateway.welcomed = true;
        } else if (const auto* ack = std::get_if<fw::sync::Ack>(&*decoded)) {
            gateway.acked = std::max(gateway.acked, ack->received);
            while (!gateway.waiting.empty() && gateway.waiting.front().first <= gateway.acked) {
                latencies_.push_back(seconds_between(gateway.waiting.front().second, now));
                applied_events_end_ = now;
                gateway.waiting.pop_front();
            }
        }
    }

    bool hello_all(std::chrono::seconds timeout) {
        for (const auto& gateway : gateways_) {
            publish_when_queued(
                client_,
                ::mqtt::make_message(gateway.up, fw::sync::encode_up(gateway.hello), 1, false));
        }
        return wait_until(
            [&] {
                std::lock_guard lock(mutex_);
                return welcomed_ == gateways_.size();
            },
            timeout);
    }

    // Every gateway's messages, round robin, one message every 1 / (rate / events per message).
    // Returns the seconds from the first publish to the last ack.
    double run(double offered_events_per_s) {
        const std::size_t rounds = gateways_.front().messages.size();
        const double events_per_message =
            static_cast<double>(events_) / static_cast<double>(rounds * gateways_.size());
        const auto interval =
            std::chrono::duration<double>(events_per_message / offered_events_per_s);
        const auto start = Clock::now();
        std::size_t sent = 0;
        for (std::size_t round = 0; round < rounds; ++round) {
            for (auto& gateway : gateways_) {
                const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                             interval * static_cast<double>(sent));
                std::this_thread::sleep_until(due);
                {
                    std::lock_guard lock(mutex_);
                    gateway.waiting.emplace_back(gateway.last_of[round], Clock::now());
                }
                publish_when_queued(
                    client_, ::mqtt::make_message(gateway.up, gateway.messages[round], 1, false));
                ++sent;
            }
        }
        offered_seconds_ = seconds_between(start, Clock::now());
        const bool done = wait_until(
            [&] {
                std::lock_guard lock(mutex_);
                return latencies_.size() == sent;
            },
            600s);
        if (!done) return -1;
        std::lock_guard lock(mutex_);
        return seconds_between(start, applied_events_end_);
    }

    double offered_seconds() const { return offered_seconds_; }
    std::vector<double> latencies() const {
        std::lock_guard lock(mutex_);
        return latencies_;
    }

  private:
    ::mqtt::async_client client_;
    mutable std::mutex mutex_;
    std::vector<SimulatedGateway> gateways_;
    std::map<std::string, std::size_t> by_down_;
    std::size_t welcomed_ = 0;
    std::size_t events_ = 0;
    std::vector<double> latencies_;
    Clock::time_point applied_events_end_;
    double offered_seconds_ = 0;
};

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    return values[index];
}

void run_ingest(const std::string& backend, std::size_t gateways, std::size_t orders_each,
                double offered) {
    fw::test::TempDir dir("fw-sync-bench-ingest");
    fw::test::Mosquitto broker(dir.path());
    std::optional<fw::test::PostgresServer> postgres;
    std::string conninfo;
    if (backend == "postgresql") {
        postgres.emplace();
        conninfo = postgres->conninfo(postgres->create_database("bench"));
    }
    fw::test::write_text_file(dir / "central-1.yaml",
                              central_yaml(dir.path(), "central-1", broker.uri(), conninfo));
    auto central = start_daemon(dir / "central-1.yaml", dir / "central.log");
    wait_until([&] { return fs::exists(dir / "central-1.sock"); }, 60s);
    std::this_thread::sleep_for(1s);  // subscribed

    const auto made = Clock::now();
    Fleet fleet(broker.uri(), gateways, orders_each);
    std::printf("\ncentral ingest, %s: %zu gateways, %zu events made in %.1f s\n", backend.c_str(),
                gateways, fleet.events(), seconds_between(made, Clock::now()));
    if (!fleet.hello_all(120s)) {
        std::printf("  not every gateway was welcomed within 120 s\n%s\n",
                    fw::test::read_text_file(dir / "central.log").c_str());
        return;
    }
    const double seconds = fleet.run(offered);
    if (seconds <= 0) {
        std::printf("  not every message was acked within 600 s\n");
        return;
    }
    const auto latencies = fleet.latencies();
    std::printf(
        "  offered %.0f events/s (sent in %.1f s); applied %.0f events/s (last ack after "
        "%.1f s)\n",
        static_cast<double>(fleet.events()) / fleet.offered_seconds(), fleet.offered_seconds(),
        static_cast<double>(fleet.events()) / seconds, seconds);
    std::printf(
        "  publish -> ack latency over %zu messages: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        latencies.size(), 1e3 * percentile(latencies, 0.50), 1e3 * percentile(latencies, 0.99),
        1e3 * percentile(latencies, 1.0));
    central.stop(30s);
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    try {
        const std::uint64_t events = argc > 1 ? std::stoull(argv[1]) : 100000;
        const std::size_t gateways = argc > 2 ? std::stoul(argv[2]) : 1000;
        const std::size_t orders_each = argc > 3 ? std::stoul(argv[3]) : 10;
        const double offered = argc > 4 ? std::stod(argv[4]) : 1000;
        const std::string backends = argc > 5 ? argv[5] : "both";
        if (events > 0) run_drains(events);
        if (gateways > 0) {
            if (backends != "postgresql") run_ingest("sqlite", gateways, orders_each, offered);
            if (backends != "sqlite") run_ingest("postgresql", gateways, orders_each, offered);
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "sync_bench: %s\n", error.what());
        return 1;
    }
}
