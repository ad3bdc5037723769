// The writer thread: owns the only read-write connection, group-commits what the pipeline queued,
// and prunes samples by age and size. This file is the queue and the thread; one transaction is
// group_commit.cpp, retention is retention.cpp.
//
//   drivers ──enqueue_samples──▶ sample queue (capacity in samples, drop oldest batches, counted)
//   config  ──enqueue_channels─▶ channel / health maps (latest per key wins, never dropped)
//   drivers ──enqueue_health───▶          │
//   services ─enqueue_job──────▶ jobs (never dropped; wake the writer at once)
//                                          ▼  every commit_interval, or at once for jobs/flush()
//                         writer thread: BEGIN IMMEDIATE … COMMIT (one fsync per group)
//                                          │  every prune_interval
//                                          ▼
//                         delete samples older than max_age, then oldest first above max_size

#include <fmt/format.h>

#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "daemon/core/log.hpp"
#include "daemon/store/group_commit.hpp"
#include "daemon/store/retention.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLogInstance = "store";
// Short: a failed attempt is retried on the next cycle anyway, and a long wait would hold up
// shutdown. The only other writer is an operator's sqlite3 shell.
constexpr int kWriterBusyTimeoutMs = 1000;
// While jobs wait, samples are committed in slices of this many: such a commit takes a few
// milliseconds, and jobs take every other turn. Without waiting jobs a backlog is committed whole,
// which is far cheaper per sample when there are many channels.
constexpr std::size_t kSamplesPerSliceWhileJobsWait = 5000;
constexpr int kShutdownCommitAttempts = 3;
constexpr auto kShutdownRetryPause = std::chrono::milliseconds(500);
constexpr auto kLogRepeatInterval = std::chrono::seconds(30);

class SqliteWriter final : public Writer {
  public:
    SqliteWriter(const WriterOptions& options, Connection connection)
        : path_(options.path),
          commit_interval_(options.commit_interval),
          queue_capacity_(options.queue_capacity == 0 ? 1 : options.queue_capacity),
          retention_{options.sample_max_age, options.max_size_bytes, options.prune_interval},
          connection_(std::move(connection)) {
        group_commit_.emplace(path_, commit_interval_, connection_.get(), counters_, log_limiter_);
        pruner_.emplace(path_, connection_.get(), counters_, log_limiter_);
        thread_ = std::thread([this] { run(); });
    }

    ~SqliteWriter() override { close(); }

    void enqueue_samples(SampleBatch batch) override {
        if (batch.empty()) return;
        std::lock_guard lock(mutex_);
        if (closed_) {
            counters_.samples_dropped += batch.size();
            return;
        }
        if (batch.size() > queue_capacity_) {
            const std::size_t excess = batch.size() - queue_capacity_;
            batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(excess));
            note_dropped_locked(excess);
        }
        pending_.sample_count += batch.size();
        pending_.sample_batches.push_back(std::move(batch));
        drop_oldest_beyond_capacity_locked();
        ++enqueued_sequence_;
    }

    void enqueue_channels(std::vector<ChannelInfo> channels) override {
        if (channels.empty()) return;
        std::lock_guard lock(mutex_);
        if (closed_) return;
        for (auto& channel : channels) {
            std::string name = channel.name;
            pending_.channels.insert_or_assign(std::move(name), std::move(channel));
        }
        ++enqueued_sequence_;
    }

    void enqueue_health(DeviceHealth health) override {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        HealthKey key{health.driver, health.bus, health.device};
        pending_.health.insert_or_assign(std::move(key), std::move(health));
        ++enqueued_sequence_;
    }

    void enqueue_events(PlantEventBatch events) override {
        if (events.empty()) return;
        std::lock_guard lock(mutex_);
        if (closed_) {
            counters_.events_dropped += events.size();
            return;
        }
        pending_.event_count += events.size();
        pending_.event_batches.push_back(std::move(events));
        drop_oldest_events_beyond_capacity_locked();
        ++enqueued_sequence_;
    }

    void enqueue_input_health(std::vector<InputHealth> rows) override {
        if (rows.empty()) return;
        std::lock_guard lock(mutex_);
        if (closed_) return;
        for (auto& row : rows) {
            HealthKey key{row.driver, row.connection, row.input};
            pending_.input_health.insert_or_assign(std::move(key), std::move(row));
        }
        ++enqueued_sequence_;
    }

    void enqueue_broker_health(BrokerHealth health) override {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        std::string broker = health.broker;
        pending_.broker_health.insert_or_assign(std::move(broker), std::move(health));
        ++enqueued_sequence_;
    }

    void enqueue_job(WriteJob job) override {
        {
            std::lock_guard lock(mutex_);
            if (!closed_) {
                pending_.jobs.push_back(std::move(job));
                ++enqueued_sequence_;
                wake_writer_.notify_one();
                return;
            }
        }
        if (job.done)
            job.done(Error{fmt::format("{}: the store is closed (daemon stopping)", path_)});
    }

    void flush() override {
        std::unique_lock lock(mutex_);
        const std::uint64_t target = enqueued_sequence_;
        if (settled_sequence_ >= target || thread_done_) return;
        ++flush_waiters_;
        wake_writer_.notify_one();
        flushed_.wait(lock, [&] { return settled_sequence_ >= target || thread_done_; });
        --flush_waiters_;
    }

    void close() override {
        std::lock_guard close_lock(close_mutex_);
        {
            std::lock_guard lock(mutex_);
            if (closed_ && !thread_.joinable()) return;
            closed_ = true;
            stop_requested_ = true;
        }
        wake_writer_.notify_all();
        if (thread_.joinable()) thread_.join();
        pruner_.reset();
        group_commit_.reset();
        connection_.close();
    }

    WriterStats stats() const override { return counters_.snapshot(); }
    const LatencyHistogram& commit_latency() const override { return counters_.commit_latency; }

    void set_retention(Millis sample_max_age, std::uint64_t max_size_bytes,
                       Millis prune_interval) override {
        std::lock_guard lock(mutex_);
        retention_ = {sample_max_age, max_size_bytes, prune_interval};
    }

  private:
  private:
    void note_dropped_locked(std::size_t count) {
        counters_.samples_dropped += count;
        if (auto suppressed = log_limiter_.admit("queue_full", SteadyClock::now())) {
            log_warning(kLogInstance,
                        "{}: sample queue full ({} samples): dropped the oldest {} samples; the "
                        "disk is slower than the drivers ({} more such messages held back)",
                        path_, queue_capacity_, count, *suppressed);
        }
    }

    void drop_oldest_beyond_capacity_locked() {
        while (pending_.sample_count > queue_capacity_ && pending_.sample_batches.size() > 1) {
            const std::size_t oldest_size = pending_.sample_batches.front().size();
            pending_.sample_batches.pop_front();
            pending_.sample_count -= oldest_size;
            note_dropped_locked(oldest_size);
        }
    }

    // A failed transaction's work goes back in front of what arrived meanwhile; entries queued
    // since are newer and win over the failed ones.
    void requeue(PendingWork&& failed) {
        std::lock_guard lock(mutex_);
        for (auto it = failed.sample_batches.rbegin(); it != failed.sample_batches.rend(); ++it) {
            pending_.sample_batches.push_front(std::move(*it));
        }
        pending_.sample_count += failed.sample_count;
        pending_.channels.merge(failed.channels);
        pending_.health.merge(failed.health);
        for (auto it = failed.event_batches.rbegin(); it != failed.event_batches.rend(); ++it) {
            pending_.event_batches.push_front(std::move(*it));
        }
        pending_.event_count += failed.event_count;
        pending_.input_health.merge(failed.input_health);
        pending_.broker_health.merge(failed.broker_health);
        for (auto it = failed.jobs.rbegin(); it != failed.jobs.rend(); ++it) {
            pending_.jobs.push_front(std::move(*it));
        }
        drop_oldest_beyond_capacity_locked();
        drop_oldest_events_beyond_capacity_locked();
    }

    // Events share the queue's capacity figure; a flood of events is as suspect as one of samples.
    void drop_oldest_events_beyond_capacity_locked() {
        while (pending_.event_count > queue_capacity_ && !pending_.event_batches.empty()) {
            const std::size_t oldest_size = pending_.event_batches.front().size();
            pending_.event_batches.pop_front();
            pending_.event_count -= oldest_size;
            counters_.events_dropped += oldest_size;
            if (auto suppressed = log_limiter_.admit("event_queue_full", SteadyClock::now())) {
                log_warning(kLogInstance,
                            "{}: event queue full ({} events): dropped the oldest {} events ({} "
                            "more such messages held back)",
                            path_, queue_capacity_, oldest_size, *suppressed);
            }
        }
    }

    // Moves what the next transaction writes out of pending_. Jobs (alarm events, operators'
    // actions) go in a transaction of their own, without the samples that may have piled up:
    // someone is waiting for them. When samples are due as well, jobs and sample slices take
    // turns (`jobs_turn`), so a flood of alarm events never starves the samples and a job waits
    // at most for one slice (kSamplesPerSliceWhileJobsWait). Returns whether pending_ is now
    // empty.
    bool take_work_locked(PendingWork& work, bool samples_due, bool jobs_turn) {
        if (!pending_.jobs.empty() && (!samples_due || jobs_turn)) {
            std::swap(work.jobs, pending_.jobs);
            std::swap(work.channels, pending_.channels);  // small; jobs may refer to them
            return pending_.empty();
        }
        std::deque<WriteJob> jobs_later;  // their turn comes with the next transaction
        std::swap(jobs_later, pending_.jobs);
        const bool emptied =
            take_samples_locked(work, jobs_later.empty() ? std::numeric_limits<std::size_t>::max()
                                                         : kSamplesPerSliceWhileJobsWait);
        std::swap(jobs_later, pending_.jobs);
        return emptied && pending_.jobs.empty();
    }

    // The samples part of the queue, at most one slice of them, with the small tables; jobs stay.
    bool take_samples_locked(PendingWork& work, std::size_t max_samples) {
        if (pending_.sample_count <= max_samples) {
            std::swap(work, pending_);
            return true;
        }
        std::swap(work.channels, pending_.channels);
        std::swap(work.health, pending_.health);
        std::swap(work.event_batches, pending_.event_batches);
        std::swap(work.event_count, pending_.event_count);
        std::swap(work.input_health, pending_.input_health);
        std::swap(work.broker_health, pending_.broker_health);
        while (!pending_.sample_batches.empty() &&
               (work.sample_count == 0 ||
                work.sample_count + pending_.sample_batches.front().size() <= max_samples)) {
            work.sample_count += pending_.sample_batches.front().size();
            pending_.sample_count -= pending_.sample_batches.front().size();
            work.sample_batches.push_back(std::move(pending_.sample_batches.front()));
            pending_.sample_batches.pop_front();
        }
        return pending_.empty();
    }

    bool jobs_waiting() {
        std::lock_guard lock(mutex_);
        return !pending_.jobs.empty();
    }

    void run() {
        auto next_commit = SteadyClock::now() + commit_interval_;
        auto last_prune = SteadyClock::now() - retention_.prune_interval;
        bool backing_off = false;
        int shutdown_failures = 0;
        bool jobs_turn = true;
        for (;;) {
            PendingWork work;
            std::optional<std::uint64_t> settles;  // set when this transaction empties the queue
            bool stopping = false;
            bool jobs_only = false;
            Retention retention;
            {
                std::unique_lock lock(mutex_);
                // After a failure, wait the full interval: flush() must not turn into a busy loop.
                wake_writer_.wait_until(lock, next_commit, [&] {
                    return stop_requested_ ||
                           (!backing_off &&
                            ((flush_waiters_ > 0 && enqueued_sequence_ > settled_sequence_) ||
                             !pending_.jobs.empty()));
                });
                const bool samples_due = SteadyClock::now() >= next_commit;
                if (take_work_locked(work, samples_due, jobs_turn)) settles = enqueued_sequence_;
                jobs_only = !work.jobs.empty();
                stopping = stop_requested_;
                retention = retention_;
            }
            const bool committed = work.empty() || group_commit_->write(work);
            if (committed) group_commit_->report_jobs(work);
            if (committed && settles) {
                std::lock_guard lock(mutex_);
                settled_sequence_ = *settles;
                flushed_.notify_all();
            } else if (!committed) {
                requeue(std::move(work));
            }
            backing_off = !committed;
            if (committed) jobs_turn = !jobs_only;
            if (committed) group_commit_->checkpoint_if_due(jobs_only);
            const auto now = SteadyClock::now();
            // Samples keep their group-commit rhythm across job transactions; a slice leaves
            // the rest to be written at once.
            if (!committed || !jobs_only)
                next_commit = committed && !settles ? now : now + commit_interval_;
            if (committed && settles && !stopping && now - last_prune >= retention.prune_interval) {
                if (pruner_->prune(retention, group_commit_->channel_ids(),
                                   [this] { return jobs_waiting(); })) {
                    last_prune = SteadyClock::now();
                }
            }
            if (stopping) {
                if (committed && settles) break;
                if (committed) continue;
                if (++shutdown_failures >= kShutdownCommitAttempts) {
                    give_up_on_pending();
                    break;
                }
                std::this_thread::sleep_for(kShutdownRetryPause);
            }
        }
        std::lock_guard lock(mutex_);
        thread_done_ = true;
        flushed_.notify_all();
    }

    void give_up_on_pending() {
        std::lock_guard lock(mutex_);
        log_error(
            kLogInstance,
            "{}: giving up at shutdown after {} failed attempts: {} samples, {} events, {} "
            "channel descriptions and {} health rows were not written",
            path_, kShutdownCommitAttempts, pending_.sample_count, pending_.event_count,
            pending_.channels.size(),
            pending_.health.size() + pending_.input_health.size() + pending_.broker_health.size());
        counters_.samples_dropped += pending_.sample_count;
        counters_.events_dropped += pending_.event_count;
        for (auto& job : pending_.jobs) {
            if (job.done) {
                job.done(Error{
                    fmt::format("{}: not written: the store kept failing at shutdown", path_)});
            }
        }
        pending_ = PendingWork{};
    }

    const std::string path_;
    const Millis commit_interval_;
    const std::size_t queue_capacity_;

    // Shared between producers, flush() and the writer thread.
    mutable std::mutex mutex_;
    std::condition_variable wake_writer_;
    std::condition_variable flushed_;
    PendingWork pending_;
    Retention retention_;
    std::uint64_t enqueued_sequence_ = 0;  // one step per enqueue call
    std::uint64_t settled_sequence_ = 0;   // everything enqueued up to here is committed or dropped
    int flush_waiters_ = 0;
    bool stop_requested_ = false;
    bool closed_ = false;
    bool thread_done_ = false;
    std::mutex close_mutex_;
    LogRateLimiter log_limiter_{kLogRepeatInterval};

    WriterCounters counters_;

    // Writer thread only (and the constructor, before the thread starts).
    Connection connection_;
    std::optional<GroupCommit> group_commit_;
    std::optional<Pruner> pruner_;
    std::thread thread_;
};

}  // namespace

std::unique_ptr<Writer> Writer::open(const WriterOptions& options) {
    Connection connection = open_store_file(options.path, OpenMode::read_write_create, true);
    sqlite3* db = connection.get();
    const auto setting = [&](std::string_view sql, std::string_view what) {
        execute(db, sql, fmt::format("{} on {}", what, options.path));
    };
    setting("PRAGMA journal_mode = WAL", "enabling WAL");
    setting("PRAGMA synchronous = FULL", "setting synchronous");
    setting("PRAGMA foreign_keys = ON", "enabling foreign keys");
    setting(fmt::format("PRAGMA cache_size = -{}", kWriterCacheSizeKiB), "sizing the page cache");
    sqlite3_busy_timeout(db, kWriterBusyTimeoutMs);
    const auto outcome = migrate(db, options.path, embedded_migrations());
    log_info(kLogInstance, "{}: opened (schema v{})", options.path, outcome.to_version);
    return std::make_unique<SqliteWriter>(options, std::move(connection));
}

}  // namespace fw::store
