#pragma once
// A few threads for what the core thread must not wait on: the HTTP handlers' reads from the
// store (each worker keeps its own read-only connection, so the index of the worker comes with
// each job) and Argon2id password checks. Bounded: when `max_queued` jobs wait, try_submit()
// refuses and the caller answers 503 at once instead of letting a burst of requests pile up.
// Jobs post their results back to the core io_context themselves.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fw::http {

class WorkPool {
  public:
    using Job = std::function<void(std::size_t worker)>;

    WorkPool(std::string name, std::size_t workers, std::size_t max_queued);
    // Runs no more jobs: the running ones finish, the queued ones are dropped (their callbacks
    // then never run; HTTP responders answer 500 when dropped unanswered).
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    bool try_submit(Job job);
    std::size_t workers() const { return threads_.size(); }
    std::size_t queued() const;

  private:
    void run(std::size_t worker);

    std::string name_;
    std::size_t max_queued_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace fw::http
