#include "daemon/http/work_pool.hpp"

#include <pthread.h>

#include "daemon/core/log.hpp"

namespace fw::http {

WorkPool::WorkPool(std::string name, std::size_t workers, std::size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued) {
    for (std::size_t worker = 0; worker < workers; ++worker) {
        threads_.emplace_back([this, worker] { run(worker); });
        // Thread names show in top and gdb: "fw-http-read0".
        const std::string thread_name = ("fw-" + name_ + std::to_string(worker)).substr(0, 15);
        pthread_setname_np(threads_.back().native_handle(), thread_name.c_str());
    }
}

WorkPool::~WorkPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        jobs_.clear();
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
}

bool WorkPool::try_submit(Job job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.size() >= max_queued_) return false;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

std::size_t WorkPool::queued() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

void WorkPool::run(std::size_t worker) {
    while (true) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job(worker);
        } catch (const std::exception& error) {
            // A job answers its own failures; one that throws is a bug, logged, never fatal.
            log_error(name_, "a job failed: {}", error.what());
        }
    }
}

}  // namespace fw::http
