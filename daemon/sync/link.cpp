#include "daemon/sync/link.hpp"

#include <mqtt/async_client.h>

#include <deque>
#include <mutex>

#include "daemon/core/log.hpp"
#include "daemon/core/units.hpp"
#include "daemon/core/worker_thread.hpp"
#include "drivers/mqtt/paho_session.hpp"

namespace fw::sync {
namespace {

namespace paho = mqtt::paho;

struct Outgoing {
    std::string topic;
    std::string payload;
};

}  // namespace

struct BrokerLink::Impl : public virtual ::mqtt::callback {
    Impl(mqtt::BrokerConfig config, std::string subscription, std::string name, Callbacks given)
        : broker(std::move(config)),
          filter(std::move(subscription)),
          instance(std::move(name)),
          callbacks(std::move(given)),
          worker(instance) {}

    // --- Paho's callback thread: never block, never call the client ---

    void connection_lost(const std::string& cause) override {
        {
            std::lock_guard lock(worker.mutex());
            lost = true;
            stats.connected = false;
            stats.last_error = cause.empty() ? std::string("connection lost") : cause;
        }
        worker.wake();
    }

    void message_arrived(::mqtt::const_message_ptr message) override {
        {
            std::lock_guard lock(worker.mutex());
            ++stats.received;
        }
        if (callbacks.message) callbacks.message(message->get_topic(), message->to_string());
    }

    // --- the link's thread ---

    void run() {
        auto backoff = broker.reconnect_min;
        while (!stopping()) {
            if (!connect()) {
                if (stopping()) break;
                log_warning(instance, "cannot connect to {}: {}; retrying in {}", broker.uri,
                            last_error(), format_duration(backoff));
                worker.sleep_for(backoff);
                backoff = std::min(backoff * 2, broker.reconnect_max);
                continue;
            }
            backoff = broker.reconnect_min;
            if (callbacks.connection) callbacks.connection(true);
            publish_until_lost();
            if (callbacks.connection) callbacks.connection(false);
            if (stopping()) break;
            log_warning(instance, "disconnected from {}: {}; reconnecting in {}", broker.uri,
                        last_error(), format_duration(backoff));
            worker.sleep_for(backoff);
        }
        if (client) paho::disconnect_quietly(*client, instance);
    }

    bool connect() {
        const auto password = paho::connect_password(broker);
        if (!password) {
            set_error(password.error());
            return false;
        }
        try {
            if (!client) client = paho::make_client(broker, broker.client_id, *this);
            {
                std::lock_guard lock(worker.mutex());
                lost = false;
            }
            // A persistent session: the broker keeps the gateways' messages while this process is
            // briefly away.
            auto connected = client->connect(paho::connect_options(broker, *password, false));
            if (!wait(*connected, broker.connect_timeout + std::chrono::seconds(1))) {
                set_error(stopping() ? "stopping" : "connect timed out");
                return false;
            }
            const bool resumed = connected->get_connect_response().is_session_present();
            // Subscribed again after every connect: the broker may have lost the session.
            auto subscribed = client->subscribe(filter, 1);
            if (!wait(*subscribed, broker.connect_timeout)) {
                set_error("subscribe to " + filter + " timed out");
                paho::disconnect_quietly(*client, instance);
                return false;
            }
            const auto codes = subscribed->get_subscribe_response().get_reason_codes();
            if (!codes.empty() && static_cast<int>(codes.front()) >= 0x80) {
                set_error("the broker refused the subscription to " + filter +
                          " (not authorised? see the ACL in docs/plant-it.md)");
                paho::disconnect_quietly(*client, instance);
                return false;
            }
            {
                std::lock_guard lock(worker.mutex());
                stats.connected = true;
                stats.last_error.clear();
                ++stats.connects;
            }
            log_info(instance, "connected to {} as {} (session {}), subscribed to {}", broker.uri,
                     broker.client_id, resumed ? "resumed" : "new", filter);
            return true;
        } catch (const ::mqtt::exception& error) {
            set_error(paho::describe(error));
            return false;
        }
    }

    // Sends the queue in order, up to kWindow awaiting the broker at once, until the connection
    // is lost or the link stops. A message the broker did not acknowledge is dropped and counted:
    // the protocol repeats it.
    void publish_until_lost() {
        std::deque<::mqtt::delivery_token_ptr> in_flight;
        const auto settle = [&](std::size_t keep) {
            while (in_flight.size() > keep) {
                auto token = std::move(in_flight.front());
                in_flight.pop_front();
                bool delivered = false;
                try {
                    delivered = wait(*token, broker.connect_timeout);
                } catch (const ::mqtt::exception& error) {
                    set_error(paho::describe(error));
                }
                std::lock_guard lock(worker.mutex());
                if (delivered) {
                    ++stats.published;
                } else {
                    ++stats.publish_failures;
                }
            }
        };
        std::unique_lock lock(worker.mutex());
        while (!worker.stop_requested() && !lost) {
            if (queue.empty()) {
                lock.unlock();
                settle(0);
                lock.lock();
                worker.wait(lock, [&] { return lost || !queue.empty(); });
                continue;
            }
            Outgoing next = std::move(queue.front());
            queue.pop_front();
            pending_bytes -= next.payload.size();
            stats.pending = queue.size();
            lock.unlock();
            try {
                in_flight.push_back(
                    client->publish(::mqtt::make_message(next.topic, next.payload, 1, false)));
            } catch (const ::mqtt::exception& error) {
                set_error(paho::describe(error));
                std::lock_guard failed(worker.mutex());
                ++stats.publish_failures;
            }
            settle(kWindow - 1);
            lock.lock();
        }
        lock.unlock();
        settle(0);
    }

    bool wait(::mqtt::token& token, std::chrono::milliseconds timeout) {
        return paho::wait_for(token, timeout, [this] { return stopping(); });
    }

    bool stopping() const { return worker.stop_requested(); }

    void set_error(std::string error) {
        std::lock_guard lock(worker.mutex());
        stats.connected = false;
        stats.last_error = std::move(error);
    }

    std::string last_error() {
        std::lock_guard lock(worker.mutex());
        return stats.last_error;
    }

    mqtt::BrokerConfig broker;
    const std::string filter;
    const std::string instance;
    Callbacks callbacks;
    // Guarded by worker.mutex():
    bool lost = false;
    std::deque<Outgoing> queue;
    std::size_t pending_bytes = 0;
    LinkStats stats;
    std::unique_ptr<::mqtt::async_client> client;  // the link's thread only
    // Last: destroyed (stopped and joined) first.
    WorkerThread worker;
};

BrokerLink::BrokerLink(mqtt::BrokerConfig broker, std::string filter, std::string instance,
                       Callbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(broker), std::move(filter), std::move(instance),
                                   std::move(callbacks))) {}

BrokerLink::~BrokerLink() {
    stop();
}

void BrokerLink::start() {
    impl_->worker.start([impl = impl_.get()] { impl->run(); });
}

void BrokerLink::publish(std::string topic, std::string payload) {
    {
        std::lock_guard lock(impl_->worker.mutex());
        if (impl_->pending_bytes + payload.size() > kMaxPendingBytes) {
            ++impl_->stats.dropped;
            return;
        }
        impl_->pending_bytes += payload.size();
        impl_->queue.push_back({std::move(topic), std::move(payload)});
        impl_->stats.pending = impl_->queue.size();
    }
    impl_->worker.wake();
}

void BrokerLink::stop() {
    impl_->worker.stop();
    impl_->client.reset();
}

LinkStats BrokerLink::stats() const {
    std::lock_guard lock(impl_->worker.mutex());
    return impl_->stats;
}

}  // namespace fw::sync
