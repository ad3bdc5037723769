#include "drivers/mqtt/paho_session.hpp"

#include <fstream>
#include <sstream>

#include "daemon/core/log.hpp"

namespace fw::mqtt::paho {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
constexpr auto kDisconnectTimeout = std::chrono::milliseconds(1000);

}  // namespace

std::string describe(const ::mqtt::exception& error) {
    std::string text = error.get_message();
    if (text.empty()) text = error.what();
    return text;
}

std::optional<std::string> read_password_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    std::string password = text.str();
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
        password.pop_back();
    }
    return password;
}

Result<std::string> connect_password(const BrokerConfig& broker) {
    if (broker.password_file.empty()) return std::string();
    auto password = read_password_file(broker.password_file);
    if (!password) {
        return Error{"cannot read password_file " + broker.password_file +
                     " (check that it exists and floorwatchd may read it)"};
    }
    return std::move(*password);
}

std::unique_ptr<::mqtt::async_client> make_client(const BrokerConfig& broker,
                                                  const std::string& client_id,
                                                  ::mqtt::callback& callback) {
    ::mqtt::iclient_persistence* no_persistence = nullptr;
    auto client = std::make_unique<::mqtt::async_client>(broker.uri, client_id, no_persistence);
    client->set_callback(callback);
    return client;
}

::mqtt::connect_options connect_options(const BrokerConfig& broker, const std::string& password,
                                        bool clean_session) {
    ::mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_3_1_1);
    options.set_clean_session(clean_session);
    options.set_keep_alive_interval(broker.keep_alive);
    options.set_connect_timeout(broker.connect_timeout);
    options.set_automatic_reconnect(false);
    if (!broker.username.empty()) options.set_user_name(broker.username);
    if (!broker.password_file.empty()) options.set_password(password);
    if (broker.uri.starts_with("ssl://")) {
        ::mqtt::ssl_options ssl;
        const TlsConfig tls = broker.tls.value_or(TlsConfig{});
        if (!tls.ca_file.empty()) ssl.set_trust_store(tls.ca_file);
        if (!tls.cert_file.empty()) ssl.set_key_store(tls.cert_file);
        if (!tls.key_file.empty()) ssl.set_private_key(tls.key_file);
        ssl.set_enable_server_cert_auth(true);
        ssl.set_verify(tls.verify_hostname);
        options.set_ssl(std::move(ssl));
    }
    return options;
}

bool wait_for(::mqtt::token& token, std::chrono::milliseconds timeout,
              const std::function<bool()>& stopping) {
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
        if (token.wait_for(kWaitSlice)) return true;
        if (stopping()) return false;
    }
    return false;
}

void disconnect_quietly(::mqtt::async_client& client, std::string_view instance) {
    try {
        if (client.is_connected()) {
            client.disconnect(kDisconnectTimeout)->wait_for(kDisconnectTimeout * 2);
        }
    } catch (const ::mqtt::exception& error) {
        log_debug(instance, "disconnect: {}", describe(error));
    }
}

}  // namespace fw::mqtt::paho
