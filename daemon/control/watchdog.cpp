#include "daemon/control/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include "daemon/core/log.hpp"

namespace fw::control {

void SystemdWatchdog::start() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    interval_ = std::chrono::microseconds(usec / 2);
    log_info("systemd", "watchdog enabled, petting every {} ms",
             std::chrono::duration_cast<std::chrono::milliseconds>(interval_).count());
    pet();
}

void SystemdWatchdog::pet() {
    sd_notify(0, "WATCHDOG=1");
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error) pet();
    });
}

}  // namespace fw::control
