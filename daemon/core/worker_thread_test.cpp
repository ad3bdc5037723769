#include "daemon/core/worker_thread.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("worker thread: a stop request ends a sleep and a wait at once") {
    fw::WorkerThread worker("test-worker");
    std::atomic<bool> slept_through{false};
    bool ready = false;
    worker.start([&] {
        if (worker.sleep_for(1h)) slept_through = true;
        std::unique_lock lock(worker.mutex());
        if (worker.wait(lock, [&] { return ready; })) slept_through = true;
    });
    const auto began = std::chrono::steady_clock::now();
    worker.stop();
    // Not a speed bound: a stop that waited out the sleep would take an hour.
    CHECK(std::chrono::steady_clock::now() - began < 1h);
    CHECK_FALSE(slept_through);
}

TEST_CASE("worker thread: wake() ends a wait whose condition came true") {
    fw::WorkerThread worker("test-worker");
    bool ready = false;
    std::atomic<bool> woke{false};
    worker.start([&] {
        std::unique_lock lock(worker.mutex());
        woke = worker.wait_until(lock, fw::WorkerThread::Clock::now() + 1h, [&] { return ready; });
        lock.unlock();
        worker.sleep_for(1h);
    });
    {
        std::lock_guard lock(worker.mutex());
        ready = true;
    }
    worker.wake();
    while (!woke) std::this_thread::sleep_for(1ms);
    worker.stop();
    CHECK(woke);
}

TEST_CASE("worker thread: a failing body runs again after pauses that double up to the cap") {
    fw::WorkerThread worker("test-worker");
    std::vector<std::string> errors;
    std::vector<fw::Millis> pauses;
    std::atomic<int> runs{0};
    std::atomic<bool> settled{false};
    worker.start(
        [&] {
            if (++runs <= 4) throw std::runtime_error("failure " + std::to_string(runs.load()));
            settled = true;
            worker.sleep_for(1h);
        },
        {1ms, 4ms, [&](const std::string& error, fw::Millis pause) {
             errors.push_back(error);
             pauses.push_back(pause);
         }});
    while (!settled) std::this_thread::sleep_for(1ms);
    worker.stop();
    CHECK(runs == 5);
    CHECK(errors == std::vector<std::string>{"failure 1", "failure 2", "failure 3", "failure 4"});
    CHECK(pauses == std::vector<fw::Millis>{1ms, 2ms, 4ms, 4ms});
}

TEST_CASE("worker thread: a body that returns is not run again, and stop() interrupts a pause") {
    fw::WorkerThread done_worker("test-done");
    std::atomic<int> runs{0};
    done_worker.start([&] { ++runs; }, {1ms, 1ms, [](const std::string&, fw::Millis) {}});
    std::this_thread::sleep_for(20ms);
    done_worker.stop();
    CHECK(runs == 1);

    fw::WorkerThread failing("test-failing");
    std::atomic<int> failures{0};
    failing.start([] { throw std::runtime_error("always"); },
                  {1h, 1h, [&](const std::string&, fw::Millis) { ++failures; }});
    while (failures == 0) std::this_thread::sleep_for(1ms);
    failing.stop();
    CHECK(failures == 1);
}

TEST_CASE("worker thread: an exception from the failure report itself does not end the thread") {
    fw::WorkerThread worker("test-worker");
    std::atomic<int> runs{0};
    std::atomic<bool> settled{false};
    worker.start(
        [&] {
            if (++runs == 1) throw std::runtime_error("first");
            settled = true;
            worker.sleep_for(1h);
        },
        {1ms, 1ms, [](const std::string&, fw::Millis) { throw std::runtime_error("report"); }});
    while (!settled) std::this_thread::sleep_for(1ms);
    worker.stop();
    CHECK(runs == 2);
}
