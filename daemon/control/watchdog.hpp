#pragma once
// The systemd watchdog of a floorwatchd process (gateway or centre), petted from a timer on the
// core io_context at half of WatchdogSec: a wedged core loop stops the petting and systemd
// restarts the service. Nothing happens when the unit has no watchdog.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace fw::control {

class SystemdWatchdog {
  public:
    explicit SystemdWatchdog(boost::asio::io_context& core) : timer_(core) {}

    // Core thread. Logs the interval once when systemd asked for a watchdog.
    void start();
    void stop() { timer_.cancel(); }

  private:
    void pet();

    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::duration interval_{};
};

}  // namespace fw::control
