#include "daemon/orders/order_publisher.hpp"

#include <mqtt/async_client.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "daemon/core/log.hpp"
#include "daemon/core/units.hpp"
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
        : broker(std::move(config)), instance("orders:mqtt/" + broker.name) {
        broker.client_id += "-orders";
    }

    // Paho's callback thread: never block, never call the client.
    void connection_lost(const std::string& cause) override {
        {
            std::lock_guard lock(mutex);
            lost = true;
            stats.connected = false;
            stats.last_error = cause.empty() ? std::string("connection lost") : cause;
        }
        wake.notify_all();
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
                sleep(backoff);
                backoff = std::min(backoff * 2, broker.reconnect_max);
                continue;
            }
            backoff = broker.reconnect_min;
            {
                // The broker may have lost its retained messages: publish every latest state.
                std::lock_guard lock(mutex);
                for (const auto& [topic, latest] : latest_by_topic) pending.insert(topic);
                stats.pending = pending.size();
            }
            publish_until_lost();
        }
        disconnect();
    }

    bool connect() {
        std::string password_error;
        const auto password = mqtt::paho::connect_password(broker, password_error);
        if (!password) {
            set_error(password_error);
            return false;
        }
        try {
            if (!client) client = mqtt::paho::make_client(broker, broker.client_id, *this);
            {
                std::lock_guard lock(mutex);
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
            std::lock_guard lock(mutex);
            stats.connected = true;
            stats.last_error.clear();
        }
        log_info(instance, "connected to {} as {}; publishing order states", broker.uri,
                 broker.client_id);
        return true;
    }

    void publish_until_lost() {
        std::unique_lock lock(mutex);
        while (!stop_requested && !lost) {
            if (pending.empty()) {
                wake.wait(lock, [&] { return stop_requested || lost || !pending.empty(); });
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
                if (!stop_requested) {
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

    void sleep(std::chrono::milliseconds pause) {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, pause, [&] { return stop_requested; });
    }

    void disconnect() {
        if (client) mqtt::paho::disconnect_quietly(*client, instance);
    }

    bool stopping() {
        std::lock_guard lock(mutex);
        return stop_requested;
    }

    void set_error(std::string error) {
        std::lock_guard lock(mutex);
        stats.connected = false;
        stats.last_error = std::move(error);
    }

    std::string last_error() {
        std::lock_guard lock(mutex);
        return stats.last_error;
    }

    mqtt::BrokerConfig broker;
    const std::string instance;
    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stop_requested = false;
    bool lost = false;
    std::uint64_t next_version = 1;
    std::map<std::string, Latest> latest_by_topic;
    std::set<std::string> pending;
    PublisherStats stats;
    std::unique_ptr<::mqtt::async_client> client;  // the publisher's thread only
    std::thread thread;
};

OrderPublisher::OrderPublisher(mqtt::BrokerConfig broker)
    : impl_(std::make_unique<Impl>(std::move(broker))) {}

OrderPublisher::~OrderPublisher() {
    stop();
}

void OrderPublisher::start() {
    if (impl_->thread.joinable()) return;
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void OrderPublisher::publish(const std::string& topic, std::string payload) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->latest_by_topic[topic] = {std::move(payload), impl_->next_version++};
        impl_->pending.insert(topic);
        impl_->stats.pending = impl_->pending.size();
    }
    impl_->wake.notify_all();
}

void OrderPublisher::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stop_requested = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->client.reset();
}

PublisherStats OrderPublisher::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

}  // namespace fw::orders
