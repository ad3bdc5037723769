#pragma once
// A real Mosquitto broker for tests and benchmarks: started on a free 127.0.0.1 port with a config
// the test writes, stopped (and restarted on the same port) when the test says, killed when the
// object goes out of scope.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace fw::test {

// A TCP port on 127.0.0.1 that nobody listens on right now.
std::uint16_t free_loopback_port();

class Mosquitto {
  public:
    // Writes `dir`/<name>.conf with one listener on 127.0.0.1 and `listener_options` (e.g. TLS
    // cafile/certfile/keyfile lines) and starts it. Throws std::runtime_error, with the broker's
    // log, if it does not accept connections within 10 s.
    Mosquitto(const std::filesystem::path& dir, const std::string& name = "mosquitto",
              const std::string& listener_options = "");
    ~Mosquitto();
    Mosquitto(const Mosquitto&) = delete;
    Mosquitto& operator=(const Mosquitto&) = delete;

    std::uint16_t port() const { return port_; }
    // "tcp://127.0.0.1:<port>"; scheme "ssl" for a TLS listener.
    std::string uri(const std::string& scheme = "tcp") const;
    // SIGTERM and wait: clients see their connection drop. The broker keeps no state (persistence
    // off), as after a crash.
    void stop();
    // Starts again on the same port.
    void start();
    bool running();
    std::string log() const;

    // Publishes with mosquitto_pub (payload bytes as they are, from a file); returns its exit
    // code. `extra_args` e.g. {"--cafile", ca}.
    int publish(const std::string& topic, const std::string& payload, int qos = 1,
                const std::vector<std::string>& extra_args = {});

  private:
    std::filesystem::path dir_;
    std::string name_;
    std::uint16_t port_ = 0;
    ChildProcess process_;
    int published_ = 0;
};

}  // namespace fw::test
