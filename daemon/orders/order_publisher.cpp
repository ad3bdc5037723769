#include "daemon/orders/order_publisher.hpp"

#include <mqtt/async_client.h>

#include <map>
#include <mutex>
#include <set>

#include "daemon/core/log.hpp"
#include "daemon/core/units.hpp"
#include "daemon/core/worker_thread.hpp"
#include "drivers/mqtt/paho_session.hpp"

namespace fw::orders {
namespace {

using mqtt::paho::describe;

}  // namespace

std::string order_topic_root(const std::string& site, const std::string& node) {
    return "floorwatch/" + site + "/" + node;
}

struct OrderPublisher::Impl : public virtual ::mqtt::callback {
    explicit Impl(mqtt::BrokerConfig config)
        : broker(std::move(config)), instance("orders:mqtt/" + broker.name), worker(instance) {
        broker.client_id += "-orders";
    }

    // Paho's callback thread: never block, never call the client.
    void connection_lost(const std::string& cause) override {
        {
            std::lock_guard lock(worker.mutex());
            lost = true;
            stats.connected = false;
            stats.last_error = cause.empty() ? std::string("connection lost") : cause;
        }
        worker.wake();
    }

    struct Latest {
        std::string payload;
        std::uint64_t version = 0;
    };

    void run() {
        auto backoff = broker.reconnect_min;
        while (!stopping()) {
            if (!connect()) {
                log_warning(instance, "cannot connect to {} to publish orders: {}; retrying in {}",
                            broker.uri, last_error(), format_duration(backoff));
                worker.sleep_for(backoff);
                backoff = std::min(backoff * 2, broker.reconnect_max);
                continue;
            }
            backoff = broker.reconnect_min;
            {
                // The broker may have lost its retained messages: publish every latest state.
                std::lock_guard lock(worker.mutex());
                for (const auto& [topic, latest] : latest_by_topic) pending.insert(topic);
                stats.pending = pending.size();
            }
            publish_until_lost();
        }
        disconnect();
    }

    bool connect() {
        const auto password = mqtt::paho::connect_password(broker);
        if (!password) {
            set_error(password.error());
            return false;
        }
        try {
            if (!client) client = mqtt::paho::make_client(broker, broker.client_id, *this);
            {
                std::lock_guard lock(worker.mutex());
                lost = false;
            }
            auto token = client->connect(mqtt::paho::connect_options(broker, *password, true));
            if (!wait(*token, broker.connect_timeout + std::chrono::seconds(1))) {
                set_error("connect timed out");
                return false;
            }
        } catch (const ::mqtt::exception& error) {
            set_error(describe(error));
            return false;
        }
        {
            std::lock_guard lock(worker.mutex());
            stats.connected = true;
            stats.last_error.clear();
        }
        log_info(instance, "connected to {} as {}; publishing order states", broker.uri,
                 broker.client_id);
        return true;
    }

    void publish_until_lost() {
        std::unique_lock lock(worker.mutex());
        while (!worker.stop_requested() && !lost) {
            if (pending.empty()) {
                worker.wait(lock, [&] { return lost || !pending.empty(); });
                continue;
            }
            const std::string topic = *pending.begin();
            const Latest latest = latest_by_topic[topic];
            lock.unlock();
            bool delivered = false;
            std::string error;
            try {
                auto message = ::mqtt::make_message(topic, latest.payload, 1, true);
                auto token = client->publish(message);
                delivered = wait(*token, broker.connect_timeout);
                if (!delivered) error = "no acknowledgement from the broker";
            } catch (const ::mqtt::exception& failure) {
                error = describe(failure);
            }
            lock.lock();
            if (!delivered) {
                ++stats.failed;
                stats.last_error = error;
                if (!worker.stop_requested()) {
                    lock.unlock();
                    log_warning(instance, "publishing {} failed: {}; reconnecting", topic, error);
                    // The reconnect in run() starts afresh.
                    mqtt::paho::disconnect_quietly(*client, instance);
                    lock.lock();
                }
                stats.connected = false;
                return;
            }
            ++stats.published;
            auto it = latest_by_topic.find(topic);
            if (it != latest_by_topic.end() && it->second.version == latest.version) {
                pending.erase(topic);
                // A cleared topic needs no republishing after a reconnect.
                if (latest.payload.empty()) latest_by_topic.erase(it);
            }
            stats.pending = pending.size();
        }
    }

    bool wait(::mqtt::token& token, std::chrono::milliseconds timeout) {
        return mqtt::paho::wait_for(token, timeout, [this] { return stopping(); });
    }

    void disconnect() {
        if (client) mqtt::paho::disconnect_quietly(*client, instance);
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
    const std::string instance;
    // Guarded by worker.mutex() (the core thread publishes, the publisher's thread sends):
    bool lost = false;
    std::uint64_t next_version = 1;
    std::map<std::string, Latest> latest_by_topic;
    std::set<std::string> pending;
    PublisherStats stats;
    std::unique_ptr<::mqtt::async_client> client;  // the publisher's thread only
    // Last: destroyed (stopped and joined) first.
    WorkerThread worker;
};

OrderPublisher::OrderPublisher(mqtt::BrokerConfig broker)
    : impl_(std::make_unique<Impl>(std::move(broker))) {}

OrderPublisher::~OrderPublisher() {
    stop();
}

void OrderPublisher::start() {
    impl_->worker.start([impl = impl_.get()] { impl->run(); });
}

void OrderPublisher::publish(const std::string& topic, std::string payload) {
    {
        std::lock_guard lock(impl_->worker.mutex());
        impl_->latest_by_topic[topic] = {std::move(payload), impl_->next_version++};
        impl_->pending.insert(topic);
        impl_->stats.pending = impl_->pending.size();
    }
    impl_->worker.wake();
}

void OrderPublisher::stop() {
    impl_->worker.stop();
    impl_->client.reset();
}

PublisherStats OrderPublisher::stats() const {
    std::lock_guard lock(impl_->worker.mutex());
    return impl_->stats;
}

}  // namespace fw::orders
