#include "daemon/core/worker_thread.hpp"

#include <pthread.h>

#include <algorithm>
#include <exception>

#include "daemon/core/log.hpp"

namespace fw {
namespace {

// The kernel keeps 15 characters of a thread's name.
constexpr std::size_t kThreadNameMax = 15;

std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

}  // namespace

WorkerThread::WorkerThread(std::string name) : name_(std::move(name)) {}

WorkerThread::~WorkerThread() {
    stop();
}

void WorkerThread::start(std::function<void()> body) {
    if (thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stop_requested_ = false;
        finished_ = false;
    }
    thread_ = std::thread([this, body = std::move(body)] { run(body, nullptr); });
}

void WorkerThread::start(std::function<void()> body, Restart restart) {
    if (thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stop_requested_ = false;
        finished_ = false;
    }
    thread_ = std::thread(
        [this, body = std::move(body), restart = std::move(restart)] { run(body, &restart); });
}

void WorkerThread::run(const std::function<void()>& body, const Restart* restart) {
    pthread_setname_np(pthread_self(), name_.substr(0, kThreadNameMax).c_str());
    if (restart != nullptr) {
        run_restarting(body, *restart);
    } else {
        body();
    }
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
    }
    wake_.notify_all();
}

void WorkerThread::run_restarting(const std::function<void()>& body, const Restart& restart) {
    Millis pause = restart.pause_min;
    while (!stop_requested()) {
        const auto started = Clock::now();
        std::string error;
        try {
            body();
            return;
        } catch (...) {
            error = describe_current_exception();
        }
        if (stop_requested()) return;
        // A failure after a long good run is a new story, not the next of a series.
        if (Clock::now() - started > restart.pause_max) pause = restart.pause_min;
        try {
            restart.on_failure(error, pause);
        } catch (...) {
            log_error(name_, "reporting a failure ({}) failed too: {}", error,
                      describe_current_exception());
        }
        if (!sleep_for(pause)) return;
        pause = std::min(pause * 2, restart.pause_max);
    }
}

void WorkerThread::request_stop() {
    {
        std::lock_guard lock(mutex_);
        stop_requested_ = true;
    }
    wake_.notify_all();
}

void WorkerThread::stop() {
    request_stop();
    if (!thread_.joinable()) return;
    {
        std::unique_lock lock(mutex_);
        if (!wake_.wait_for(lock, kSlowStopWarning, [this] { return finished_; })) {
            log_warning(name_, "still busy {} s after being asked to stop; waiting for it",
                        std::chrono::seconds(kSlowStopWarning).count());
        }
    }
    thread_.join();
}

bool WorkerThread::sleep_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return wait_until(lock, deadline, [] { return false; });
}

}  // namespace fw
