#include "daemon/central/store_workers.hpp"

#include <atomic>
#include <deque>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/core/worker_thread.hpp"

namespace fw::central {
namespace {

constexpr Millis kReopenPauseMin{500};
constexpr Millis kReopenPauseMax{30000};

struct Queued {
    StoreWorkers::Job job;
    StoreWorkers::Failed failed;
};

void tell(const StoreWorkers::Failed& failed, const std::string& why) {
    if (failed) failed(why);
}

}  // namespace

struct StoreWorkers::Impl {
    struct Worker {
        explicit Worker(const std::string& name) : thread(name) {}
        std::deque<Queued> queue;             // guarded by thread.mutex()
        std::unique_ptr<CentralStore> store;  // the worker's thread only
        WorkerThread thread;
    };

    Impl(std::string name, Open opener, std::size_t count, std::size_t limit)
        : instance(std::move(name)), open(std::move(opener)), capacity(limit) {
        for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i) {
            workers.push_back(std::make_unique<Worker>(fmt::format("{}-{}", instance, i)));
        }
    }

    void run(Worker& worker) {
        if (!worker.store) {
            worker.store = open();
            log_info(instance, "{}: store thread {} ready", worker.store->description(),
                     worker.thread.name());
        }
        std::unique_lock lock(worker.thread.mutex());
        while (worker.thread.wait(lock, [&] { return !worker.queue.empty(); })) {
            Queued next = std::move(worker.queue.front());
            worker.queue.pop_front();
            lock.unlock();
            bool reopen = false;
            try {
                next.job(*worker.store);
            } catch (const std::exception& error) {
                ++failed_jobs;
                reopen = worker.store->broken();
                log_error(instance, "a store job failed: {}", error.what());
                tell(next.failed, error.what());
            }
            if (reopen) {
                // The next run of the body opens a new connection, after a pause.
                worker.store.reset();
                throw std::runtime_error("the connection to the store was lost");
            }
            lock.lock();
        }
        // Stopping: what is still queued is refused, not run.
        auto left = std::move(worker.queue);
        worker.queue.clear();
        lock.unlock();
        for (auto& queued : left) tell(queued.failed, "floorwatchd is stopping");
    }

    std::string instance;
    Open open;
    std::size_t capacity;
    std::vector<std::unique_ptr<Worker>> workers;
    std::atomic<std::uint64_t> refused_jobs{0};
    std::atomic<std::uint64_t> failed_jobs{0};
    std::atomic<bool> stopping{false};
};

StoreWorkers::StoreWorkers(std::string instance, Open open, std::size_t threads,
                           std::size_t capacity)
    : impl_(std::make_unique<Impl>(std::move(instance), std::move(open), threads, capacity)) {}

StoreWorkers::~StoreWorkers() {
    stop();
}

void StoreWorkers::start() {
    for (auto& worker : impl_->workers) {
        Impl::Worker* raw = worker.get();
        worker->thread.start(
            [impl = impl_.get(), raw] { impl->run(*raw); },
            WorkerThread::Restart{kReopenPauseMin, kReopenPauseMax,
                                  [impl = impl_.get()](const std::string& error, Millis pause) {
                                      log_error(impl->instance, "{}; trying again in {} ms", error,
                                                pause.count());
                                  }});
    }
}

bool StoreWorkers::post(std::string_view key, Job job, Failed failed) {
    if (impl_->stopping.load()) {
        tell(failed, "floorwatchd is stopping");
        return false;
    }
    auto& worker = *impl_->workers[std::hash<std::string_view>{}(key) % impl_->workers.size()];
    {
        std::lock_guard lock(worker.thread.mutex());
        if (worker.queue.size() < impl_->capacity) {
            worker.queue.push_back({std::move(job), std::move(failed)});
            failed = nullptr;
        }
    }
    if (failed) {
        ++impl_->refused_jobs;
        tell(failed, "the central store is behind: its queue is full");
        return false;
    }
    worker.thread.wake();
    return true;
}

void StoreWorkers::stop() {
    impl_->stopping = true;
    for (auto& worker : impl_->workers) worker->thread.stop();
    for (auto& worker : impl_->workers) {
        std::deque<Queued> left;
        {
            std::lock_guard lock(worker->thread.mutex());
            left = std::move(worker->queue);
            worker->queue.clear();
        }
        for (auto& queued : left) tell(queued.failed, "floorwatchd is stopping");
        worker->store.reset();
    }
}

std::size_t StoreWorkers::threads() const {
    return impl_->workers.size();
}

std::size_t StoreWorkers::queued() const {
    std::size_t total = 0;
    for (const auto& worker : impl_->workers) {
        std::lock_guard lock(worker->thread.mutex());
        total += worker->queue.size();
    }
    return total;
}

std::uint64_t StoreWorkers::refused() const {
    return impl_->refused_jobs.load();
}

std::uint64_t StoreWorkers::failures() const {
    return impl_->failed_jobs.load();
}

}  // namespace fw::central
