#pragma once
// One long-running thread of a driver or service (a Modbus bus, an MQTT broker client, the order
// publisher): started, woken by what it waits for, asked to stop, joined. The thread carries its
// owner's instance name ("modbus:line1"), so `top -H`, `ps -L` and gdb show which bus is which.
//
//   owner ──start(body)──▶ thread: body() … returns once stop_requested()
//         ──wake()───────▶   waits in wait_until()/sleep_until() end early
//         ──stop()───────▶ request_stop(), join
//
// With a Restart policy a body that throws is not the end of the thread: the owner is told (to
// mark its health and log), and the body runs again after a pause that doubles with each failure.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/core/units.hpp"

namespace fw {

class WorkerThread {
  public:
    using Clock = std::chrono::steady_clock;

    struct Restart {
        Millis pause_min;
        Millis pause_max;
        // Runs on the thread after the body threw, with what went wrong and the pause before the
        // body runs again. An exception it throws in turn is logged and otherwise ignored.
        std::function<void(const std::string& error, Millis pause)> on_failure;
    };

    // `name` also names the OS thread (cut to the kernel's 15 characters).
    explicit WorkerThread(std::string name);
    ~WorkerThread();  // stop()
    WorkerThread(const WorkerThread&) = delete;
    WorkerThread& operator=(const WorkerThread&) = delete;

    // Runs `body` on a new thread unless one is running. The body returns once stop_requested().
    // An exception escaping it ends the process, as for any std::thread.
    void start(std::function<void()> body);
    // The same, but a body that throws runs again after a pause: pause_min, doubling with each
    // failure up to pause_max, and back to pause_min after a run longer than pause_max.
    void start(std::function<void()> body, Restart restart);

    // Asks the body to return and ends every wait. Any thread.
    void request_stop();
    // request_stop(), then joins. A thread still running after kSlowStopWarning is named in a
    // warning, so a stuck shutdown shows who holds it up; the wait then goes on, because the body
    // uses state its owner is about to destroy.
    void stop();

    bool stop_requested() const { return stop_requested_.load(); }
    const std::string& name() const { return name_; }

    // What a wait's `ready` predicate reads is guarded by this mutex: change it under the lock,
    // then wake().
    std::mutex& mutex() const { return mutex_; }
    void wake() { wake_.notify_all(); }

    // With `lock` holding mutex(): waits until `ready()`, `deadline` or a stop request. Returns
    // false when stopping.
    template <typename Ready>
    bool wait_until(std::unique_lock<std::mutex>& lock, Clock::time_point deadline, Ready ready) {
        wake_.wait_until(lock, deadline, [&] { return stop_requested() || ready(); });
        return !stop_requested();
    }
    // The same without a deadline.
    template <typename Ready>
    bool wait(std::unique_lock<std::mutex>& lock, Ready ready) {
        wake_.wait(lock, [&] { return stop_requested() || ready(); });
        return !stop_requested();
    }
    // Sleeps until `deadline` unless stopped first; returns false when stopping.
    bool sleep_until(Clock::time_point deadline);
    bool sleep_for(Clock::duration pause) { return sleep_until(Clock::now() + pause); }

    static constexpr auto kSlowStopWarning = std::chrono::seconds(5);

  private:
    void run(const std::function<void()>& body, const Restart* restart);
    void run_restarting(const std::function<void()>& body, const Restart& restart);

    const std::string name_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<bool> stop_requested_{false};
    bool finished_ = false;
    std::thread thread_;
};

}  // namespace fw
