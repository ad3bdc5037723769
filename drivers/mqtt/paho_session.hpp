#pragma once
// What every Paho client of floorwatch does the same way: the connect options a broker's config
// asks for (MQTT 3.1.1, keep-alive, TLS with hostname verification, password read from its file
// at each connect), waiting on a token without holding up a stop, and a quiet disconnect. Used by
// the subscribing broker clients (drivers/mqtt) and the order publisher (daemon/orders).

#include <mqtt/async_client.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/result.hpp"
#include "drivers/mqtt/mqtt_config.hpp"

namespace fw::mqtt::paho {

// Paho's message for the exception, or what() when it has none.
std::string describe(const ::mqtt::exception& error);

// The password file's content without a trailing newline; nullopt when it cannot be read.
std::optional<std::string> read_password_file(const std::string& path);

// The password to connect with, read at each connect so a rotated file takes effect: "" when the
// broker has no password_file; an error for the log when the file is unreadable.
Result<std::string> connect_password(const BrokerConfig& broker);

// A client without Paho's own persistence (the SQLite store is the record), reporting to
// `callback`, whose methods run on Paho's thread and must not block or call the client.
std::unique_ptr<::mqtt::async_client> make_client(const BrokerConfig& broker,
                                                  const std::string& client_id,
                                                  ::mqtt::callback& callback);

// `clean_session`: false for subscribers (the broker keeps QoS 1 messages while the gateway is
// away), true for publishers. Paho's automatic reconnect stays off: each client runs its own
// backoff loop, because Paho's does not retry a first connect that fails. No TLS error handler:
// Paho C++ 1.2.0 (Debian 12) calls it through a pointer to the options copy that connect() has
// already destroyed (eclipse-paho/paho.mqtt.cpp#325), which crashed floorwatchd when a handshake
// failed after the connect attempt was abandoned, e.g. at SIGTERM.
::mqtt::connect_options connect_options(const BrokerConfig& broker, const std::string& password,
                                        bool clean_session);

// Waits for the token in 100 ms slices, giving up when `stopping()` turns true, so a broker that
// does not answer never holds up a stop. Returns whether the token completed in time.
bool wait_for(::mqtt::token& token, std::chrono::milliseconds timeout,
              const std::function<bool()>& stopping);

// Disconnects if connected (1 s for the broker to answer); failures are logged at debug level
// under `instance`, since the connection is being given up anyway.
void disconnect_quietly(::mqtt::async_client& client, std::string_view instance);

}  // namespace fw::mqtt::paho
