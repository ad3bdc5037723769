#pragma once
// One Modbus bus (a TCP connection or a serial line) polled by its own thread with its own
// libmodbus context (contexts are not thread-safe). Devices on the bus are polled in turn by due
// time; a dead device costs the others at most its timeout; other buses are never affected.
// An exception on the bus thread (a sink that throws, out of memory) marks every device of the
// bus offline with the error, is logged, and the loop starts again after a pause that doubles
// with each failure, from reconnect_min up to reconnect_max.

#include <functional>
#include <memory>

#include "daemon/core/health.hpp"
#include "daemon/core/sample.hpp"
#include "drivers/modbus/modbus_config.hpp"

namespace fw::modbus {

// Called on the bus thread once per device poll cycle with that cycle's samples (every point, good
// or not). Must not block: the daemon pushes into a bounded drop-oldest queue.
using SampleSink = std::function<void(SampleBatch&&)>;
// Called on the bus thread when a device's health changes (online/offline, error text, interval)
// and at most every few seconds with updated counters.
using HealthSink = std::function<void(const DeviceHealth&)>;

class BusPoller {
  public:
    BusPoller(BusConfig bus, SampleSink samples, HealthSink health);
    ~BusPoller();  // stops and joins
    BusPoller(const BusPoller&) = delete;
    BusPoller& operator=(const BusPoller&) = delete;

    void start();
    // Wakes the thread (even mid-backoff) and joins it; an in-flight request finishes first, so
    // stop() takes at most the longest device timeout.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fw::modbus
