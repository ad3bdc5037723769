#include "drivers/mqtt/broker_client.hpp"

#include <mqtt/async_client.h>

#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/core/worker_thread.hpp"
#include "drivers/mqtt/paho_session.hpp"

namespace fw::mqtt {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kHealthInterval = std::chrono::seconds(5);
constexpr auto kRejectLogInterval = std::chrono::minutes(1);

// Counters of one input; written on Paho's callback thread, read by the health reports.
struct InputCounters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::array<std::atomic<std::uint64_t>, kRejectReasonCount> by_reason{};
    std::atomic<std::int64_t> last_accepted_ms{0};
};

struct LastRejection {
    std::string text;
    std::int64_t time_ms = 0;
};

using paho::describe;

}  // namespace

struct BrokerClient::Impl : public virtual ::mqtt::callback {
    Impl(BrokerConfig broker_config, const AreaLookup& areas, Sinks sink_functions)
        : broker(std::move(broker_config)),
          sinks(std::move(sink_functions)),
          instance("mqtt:" + broker.name),
          worker(instance) {
        const DecoderLimits limits{broker.max_payload, broker.max_clock_skew.count()};
        for (const auto& input : broker.inputs) {
            decoders.emplace_back(input, limits, "mqtt:" + broker.name + "/" + input.name, areas);
            input_instances.push_back(instance + "/" + input.name);
        }
        counters = std::make_unique<InputCounters[]>(broker.inputs.size());
        last_rejections.resize(broker.inputs.size());
        health.broker = broker.name;
        health.last_error = "not connected yet";
    }

    // --- Paho callbacks: never block, never call the client ---

    void connected(const std::string&) override {}

    void connection_lost(const std::string& cause) override {
        {
            std::lock_guard lock(worker.mutex());
            connection_lost_flag = true;
            lost_cause = cause.empty() ? "connection lost (broker gone or keep-alive expired)"
                                       : "connection lost: " + cause;
        }
        worker.wake();
    }

    // An exception must not unwind into Paho's C code: the client's thread takes it over and fails
    // the way its own exceptions do (health offline with the error, log, restart with backoff).
    void message_arrived(::mqtt::const_message_ptr message) override {
        try {
            handle_message(*message);
        } catch (const std::exception& error) {
            {
                std::lock_guard lock(worker.mutex());
                if (callback_failure.empty()) {
                    callback_failure = fmt::format("handling a message on {}: {}",
                                                   message->get_topic(), error.what());
                }
            }
            worker.wake();
        }
    }

    void handle_message(const ::mqtt::message& message) {
        const std::int64_t now_ms = wall_now_ms();
        const std::string& topic = message.get_topic();
        const auto& payload_ref = message.get_payload_ref();
        const std::string_view payload(payload_ref.data(), payload_ref.size());
        messages_received.fetch_add(1, std::memory_order_relaxed);

        std::size_t index = 0;
        while (index < decoders.size() && !topic_matches(decoders[index].config().topic, topic)) {
            ++index;
        }
        if (index == decoders.size()) {
            unmatched.fetch_add(1, std::memory_order_relaxed);
            if (auto held_back = log_limiter.admit("(unmatched)", SteadyClock::now())) {
                log_warning(instance, "message on {} matches no input; dropped{}", topic,
                            *held_back == 0 ? std::string()
                                            : fmt::format(" ({} more such messages held back in "
                                                          "the last minute)",
                                                          *held_back));
            }
            return;
        }

        InputCounters& counter = counters[index];
        counter.received.fetch_add(1, std::memory_order_relaxed);
        Decoded decoded = decoders[index].decode(topic, payload, now_ms);
        if (auto* value = std::get_if<DecodedValue>(&decoded)) {
            if (seen_channels.insert(value->channel.name).second && sinks.channels) {
                sinks.channels({std::move(value->channel)});
            }
            counter.accepted.fetch_add(1, std::memory_order_relaxed);
            counter.last_accepted_ms.store(now_ms, std::memory_order_relaxed);
            if (sinks.samples) sinks.samples(SampleBatch{std::move(value->sample)});
        } else if (auto* event = std::get_if<PlantEvent>(&decoded)) {
            counter.accepted.fetch_add(1, std::memory_order_relaxed);
            counter.last_accepted_ms.store(now_ms, std::memory_order_relaxed);
            if (sinks.events) sinks.events(PlantEventBatch{std::move(*event)});
        } else {
            const auto& rejection = std::get<Rejection>(decoded);
            counter.rejected.fetch_add(1, std::memory_order_relaxed);
            counter.by_reason[static_cast<std::size_t>(rejection.reason)].fetch_add(
                1, std::memory_order_relaxed);
            const std::string text =
                fmt::format("{}: {}", reject_reason_name(rejection.reason), rejection.detail);
            {
                std::lock_guard lock(worker.mutex());
                last_rejections[index] = {text, now_ms};
            }
            if (auto held_back = log_limiter.admit(input_instances[index], SteadyClock::now())) {
                log_warning(input_instances[index],
                            "message dropped, {}{}; counts by reason: floorwatch mqtt", text,
                            *held_back == 0 ? std::string()
                                            : fmt::format(" ({} more dropped messages held back "
                                                          "in the last minute)",
                                                          *held_back));
            }
        }
    }

    // --- the client's own thread ---

    void run() {
        auto backoff = broker.reconnect_min;
        while (!stopping()) {
            const bool was_online = attempt_connect();
            if (stopping()) break;
            if (was_online) {
                backoff = broker.reconnect_min;
                wait_while_connected();
                if (stopping()) break;
                std::string cause;
                {
                    std::lock_guard lock(worker.mutex());
                    cause = lost_cause;
                }
                set_offline(cause);
                log_warning(instance, "disconnected from {}: {}; reconnecting in {}", broker.uri,
                            cause, format_duration(backoff));
            } else {
                log_warning(instance, "cannot connect to {}: {}; retrying in {}", broker.uri,
                            current_error(), format_duration(backoff));
            }
            sleep_reporting(backoff);
            backoff = std::min(backoff * 2, broker.reconnect_max);
        }
        disconnect();
        report_health();
    }

    // After run() threw (a sink failed, out of memory) or a Paho callback did: the connection is
    // given up so the next run() starts from a clean connect and subscribe.
    void recover(const std::string& error, Millis pause) {
        log_error(instance, "client thread failed: {}; restarting it in {}", error,
                  format_duration(pause));
        {
            std::lock_guard lock(worker.mutex());
            ++health.thread_restarts;
            callback_failure.clear();
        }
        if (client) paho::disconnect_quietly(*client, instance);
        set_offline("client thread failed: " + error);
    }

    bool stopping() const { return worker.stop_requested(); }

    std::string current_error() {
        std::lock_guard lock(worker.mutex());
        return health.last_error;
    }

    // One connect and subscribe attempt. Returns whether the client is now connected and
    // subscribed; on failure the reason is in health.last_error.
    bool attempt_connect() {
        {
            std::lock_guard lock(worker.mutex());
            ++health.connect_attempts;
            connection_lost_flag = false;
        }
        const auto password = paho::connect_password(broker);
        if (!password) {
            set_offline(password.error());
            return false;
        }
        try {
            if (!client) client = paho::make_client(broker, broker.client_id, *this);
            // A persistent session: QoS 1/2 messages published while the gateway is away are kept
            // by the broker. Subscriptions are renewed on every connect anyway.
            auto token = client->connect(paho::connect_options(broker, *password, false));
            if (!wait(*token, broker.connect_timeout + std::chrono::seconds(1))) {
                set_offline(stopping() ? "stopping" : "connect timed out");
                return false;
            }
            const bool session_present = token->get_connect_response().is_session_present();
            // The broker may have lost the session (restart without persistence): subscribe anyway.
            for (const auto& input : broker.inputs) {
                auto subscribed = client->subscribe(input.topic, input.qos);
                if (!wait(*subscribed, broker.connect_timeout)) {
                    set_offline("subscribe to " + input.topic + " timed out");
                    client->disconnect();
                    return false;
                }
                const ::mqtt::subscribe_response response = subscribed->get_subscribe_response();
                const std::vector<::mqtt::ReasonCode>& codes = response.get_reason_codes();
                if (!codes.empty() && static_cast<int>(codes.front()) >= 0x80) {
                    log_error(instance,
                              "the broker refused the subscription to {} (not "
                              "authorised?); input {} receives nothing",
                              input.topic, input.name);
                }
            }
            set_online();
            log_info(instance,
                     "connected to {} as {} (session {}), subscribed to {} topic filter(s)",
                     broker.uri, broker.client_id, session_present ? "resumed" : "new",
                     broker.inputs.size());
            report_health();
            return true;
        } catch (const ::mqtt::exception& error) {
            std::string reason = describe(error);
            if (broker.uri.starts_with("ssl://")) {
                // Paho reports every TLS failure alike (paho_session.hpp: no OpenSSL detail).
                reason +=
                    " (broker unreachable, or the TLS handshake failed: check ca_file and that "
                    "the broker's certificate names the uri's host)";
            }
            set_offline(reason);
            return false;
        }
    }

    // In slices, so stop() is never held up by a broker that does not answer.
    bool wait(::mqtt::token& token, std::chrono::milliseconds timeout) {
        return paho::wait_for(token, timeout, [this] { return stopping(); });
    }

    // Returns when the connection is lost or a stop is requested; throws what a Paho callback
    // could not.
    void wait_while_connected() {
        auto next_report = SteadyClock::now() + kHealthInterval;
        std::unique_lock lock(worker.mutex());
        const auto lost_or_failed = [&] {
            return connection_lost_flag || !callback_failure.empty();
        };
        while (!lost_or_failed()) {
            if (!worker.wait_until(lock, next_report, lost_or_failed)) return;
            if (!callback_failure.empty()) throw std::runtime_error(callback_failure);
            if (SteadyClock::now() >= next_report) {
                lock.unlock();
                report_health();
                lock.lock();
                next_report = SteadyClock::now() + kHealthInterval;
            }
        }
    }

    void sleep_reporting(std::chrono::milliseconds pause) {
        report_health();
        worker.sleep_for(pause);
    }

    void disconnect() {
        if (!client) return;
        paho::disconnect_quietly(*client, instance);
        set_offline("stopped");
    }

    void set_online() {
        std::lock_guard lock(worker.mutex());
        if (!health.connected) health.last_change_ms = wall_now_ms();
        if (ever_connected) ++health.reconnects;
        ever_connected = true;
        health.connected = true;
        health.last_error.clear();
    }

    void set_offline(const std::string& reason) {
        bool changed = false;
        {
            std::lock_guard lock(worker.mutex());
            changed = health.connected || health.last_error != reason;
            if (health.connected) health.last_change_ms = wall_now_ms();
            health.connected = false;
            health.last_error = reason;
        }
        if (changed) report_health();
    }

    void report_health() {
        BrokerHealth snapshot;
        std::vector<InputHealth> inputs;
        std::uint64_t accepted = 0;
        std::uint64_t rejected = 0;
        std::int64_t last_accepted_ms = 0;
        {
            std::lock_guard lock(worker.mutex());
            for (std::size_t i = 0; i < broker.inputs.size(); ++i) {
                const InputCounters& counter = counters[i];
                InputHealth row;
                row.driver = "mqtt";
                row.connection = broker.name;
                row.input = broker.inputs[i].name;
                row.topic = broker.inputs[i].topic;
                row.received = counter.received.load();
                row.accepted = counter.accepted.load();
                row.rejected = counter.rejected.load();
                std::string reasons;
                for (std::size_t r = 0; r < kRejectReasonCount; ++r) {
                    const auto count = counter.by_reason[r].load();
                    if (count == 0) continue;
                    reasons += fmt::format("{}\"{}\":{}", reasons.empty() ? "" : ",",
                                           reject_reason_name(static_cast<RejectReason>(r)), count);
                }
                row.rejected_by_reason = "{" + reasons + "}";
                row.last_rejection = last_rejections[i].text;
                row.last_rejection_ms = last_rejections[i].time_ms;
                row.last_accepted_ms = counter.last_accepted_ms.load();
                accepted += row.accepted;
                rejected += row.rejected;
                last_accepted_ms = std::max(last_accepted_ms, row.last_accepted_ms);
                inputs.push_back(std::move(row));
            }
            InputHealth unmatched_row;
            unmatched_row.driver = "mqtt";
            unmatched_row.connection = broker.name;
            unmatched_row.received = unmatched.load();
            unmatched_row.rejected = unmatched_row.received;
            unmatched_row.rejected_by_reason =
                unmatched_row.received == 0
                    ? "{}"
                    : fmt::format("{{\"unmatched\":{}}}", unmatched_row.received);
            inputs.push_back(std::move(unmatched_row));

            health.messages_received = messages_received.load();
            health.messages_accepted = accepted;
            health.messages_rejected = rejected + unmatched.load();
            health.last_accepted_ms = last_accepted_ms;
            snapshot = health;
        }
        if (sinks.health) sinks.health(snapshot);
        if (sinks.input_health) sinks.input_health(inputs);
    }

    const BrokerConfig broker;
    const Sinks sinks;
    const std::string instance;
    std::vector<InputDecoder> decoders;
    std::vector<std::string> input_instances;
    std::unique_ptr<InputCounters[]> counters;
    std::atomic<std::uint64_t> messages_received{0};
    std::atomic<std::uint64_t> unmatched{0};
    LogRateLimiter log_limiter{kRejectLogInterval};
    std::unordered_set<std::string> seen_channels;  // Paho's callback thread only

    // Guarded by worker.mutex():
    bool connection_lost_flag = false;
    std::string lost_cause;
    std::string callback_failure;  // what a Paho callback threw, for the client's thread
    BrokerHealth health;
    bool ever_connected = false;
    std::vector<LastRejection> last_rejections;

    std::unique_ptr<::mqtt::async_client> client;  // the client's thread only
    // Last: destroyed (stopped and joined) first.
    WorkerThread worker;
};

BrokerClient::BrokerClient(BrokerConfig broker, const AreaLookup& areas, Sinks sinks)
    : impl_(std::make_unique<Impl>(std::move(broker), areas, std::move(sinks))) {}

BrokerClient::~BrokerClient() {
    stop();
}

void BrokerClient::start() {
    log_info(impl_->instance, "connecting to {} with {} input(s)", impl_->broker.uri,
             impl_->broker.inputs.size());
    Impl* impl = impl_.get();
    impl->worker.start(
        [impl] { impl->run(); },
        {impl->broker.reconnect_min, impl->broker.reconnect_max,
         [impl](const std::string& error, Millis pause) { impl->recover(error, pause); }});
}

void BrokerClient::stop() {
    impl_->worker.stop();
    // Destroying a Paho client can wait for a connect attempt still in flight (a TLS handshake);
    // done here, stop() of every broker runs in parallel, so shutdown waits for the slowest one
    // only instead of their sum.
    impl_->client.reset();
}

}  // namespace fw::mqtt
