#pragma once
// The central store's own threads: every call that blocks on the database runs here, never on the
// core io_context. Each thread opens its own CentralStore (one connection each) and runs the jobs
// of its queue in order. A job goes to the thread its key maps to, so one gateway's messages are
// applied in the order they arrived within a process (several processes are serialised by the
// database's row locks instead).
//
//   core ──post(key, job)──▶ queue[hash(key) % threads] ──▶ thread: job(store) ──post(core, ...)
//
// Queues are bounded; the overflow policy is discard_new: the job is refused at once and its
// `failed` callback says so. Every message the centre receives is repeated by its sender until
// it is answered (sync/README.md), so a refused message costs a retry, not data.
//
// A thread whose store cannot be opened, or whose connection was lost, retries with backoff
// (WorkerThread's restart policy) while its queue waits.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/central/central_store.hpp"

namespace fw::central {

class StoreWorkers {
  public:
    using Open = std::function<std::unique_ptr<CentralStore>()>;
    using Job = std::function<void(CentralStore& store)>;
    // Called instead of, or after, a job that did not complete: why, in words. Runs on whichever
    // thread found out; post to your own.
    using Failed = std::function<void(const std::string& why)>;

    // `instance` names the threads and log lines ("central:store"). `capacity`: jobs waiting per
    // thread.
    StoreWorkers(std::string instance, Open open, std::size_t threads, std::size_t capacity);
    ~StoreWorkers();
    StoreWorkers(const StoreWorkers&) = delete;
    StoreWorkers& operator=(const StoreWorkers&) = delete;

    void start();
    // Any thread. Returns false when the job was refused (queue full, or stopping); `failed` has
    // then been called. A job that throws is logged and reported to `failed`.
    bool post(std::string_view key, Job job, Failed failed = {});
    // Lets the running jobs finish, refuses the queued ones (failed: "stopping"), joins.
    void stop();

    std::size_t threads() const;
    std::size_t queued() const;
    std::uint64_t refused() const;   // queue full
    std::uint64_t failures() const;  // jobs that threw

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fw::central
