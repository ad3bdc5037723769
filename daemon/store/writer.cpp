// The writer thread: owns the only read-write connection, group-commits what the pipeline queued,
// and prunes samples by age and size.
//
//   drivers ──enqueue_samples──▶ sample queue (capacity in samples, drop oldest batches, counted)
//   config  ──enqueue_channels─▶ channel / health maps (latest per key wins, never dropped)
//   drivers ──enqueue_health───▶          │
//                                          ▼  every commit_interval, or at once for flush()/close()
//                         writer thread: BEGIN IMMEDIATE … COMMIT (one fsync per group)
//                                          │  every prune_interval
//                                          ▼
//                         delete samples older than max_age, then oldest first above max_size

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLogInstance = "store";
// Short: a failed attempt is retried on the next cycle anyway, and a long wait would hold up
// shutdown. The only other writer is an operator's sqlite3 shell.
constexpr int kWriterBusyTimeoutMs = 1000;
constexpr std::int64_t kPruneChunkRows = 5000;
// While jobs wait, samples are committed in slices of this many: such a commit takes a few
// milliseconds, and jobs take every other turn. Without waiting jobs a backlog is committed whole,
// which is far cheaper per sample when there are many channels.
constexpr std::size_t kSamplesPerSliceWhileJobsWait = 5000;
constexpr int kCheckpointPages = 1000;
constexpr int kShutdownCommitAttempts = 3;
constexpr auto kShutdownRetryPause = std::chrono::milliseconds(500);
constexpr auto kLogRepeatInterval = std::chrono::seconds(30);

using HealthKey = std::tuple<std::string, std::string, std::string>;

// Everything queued for the next transaction.
struct PendingWork {
    std::deque<SampleBatch> sample_batches;
    std::size_t sample_count = 0;
    std::map<std::string, ChannelInfo> channels;  // by name; the latest description wins
    std::map<HealthKey, DeviceHealth> health;     // by driver/bus/device; the latest wins
    std::deque<PlantEventBatch> event_batches;
    std::size_t event_count = 0;
    std::map<HealthKey, InputHealth> input_health;  // by driver/connection/input; the latest wins
    std::map<std::string, BrokerHealth> broker_health;  // by broker; the latest wins
    std::deque<WriteJob> jobs;                          // in the order they were queued

    bool empty() const {
        return sample_batches.empty() && channels.empty() && health.empty() &&
               event_batches.empty() && input_health.empty() && broker_health.empty() &&
               jobs.empty();
    }
};

struct Retention {
    Millis sample_max_age;
    std::uint64_t max_size_bytes;
    Millis prune_interval;
};

struct WriterStatements {
    explicit WriterStatements(sqlite3* db)
        : begin(db, "BEGIN IMMEDIATE"),
          commit(db, "COMMIT"),
          rollback(db, "ROLLBACK"),
          savepoint(db, "SAVEPOINT job"),
          rollback_to_savepoint(db, "ROLLBACK TO job"),
          release_savepoint(db, "RELEASE job"),
          all_channels(db, "SELECT id, name FROM channels"),
          ensure_channel(db,
                         "INSERT INTO channels (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET "
                         "name = excluded.name RETURNING id"),
          upsert_channel(db,
                         "INSERT INTO channels (name, equipment, area, unit, source) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
                         "equipment = excluded.equipment, area = excluded.area, "
                         "unit = excluded.unit, source = excluded.source RETURNING id"),
          insert_sample(db,
                        "INSERT INTO samples (channel_id, time_ms, value, quality) "
                        "VALUES (?1, ?2, ?3, ?4)"),
          upsert_health(db,
                        "INSERT INTO device_health (driver, bus, device, online, last_error, "
                        "last_change_ms, last_success_ms, poll_interval_ms, polls, polls_failed, "
                        "requests, timeouts, exceptions, reconnects, samples, updated_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                        "?15, ?16) ON CONFLICT (driver, bus, device) DO UPDATE SET "
                        "online = excluded.online, last_error = excluded.last_error, "
                        "last_change_ms = excluded.last_change_ms, "
                        "last_success_ms = excluded.last_success_ms, "
                        "poll_interval_ms = excluded.poll_interval_ms, polls = excluded.polls, "
                        "polls_failed = excluded.polls_failed, requests = excluded.requests, "
                        "timeouts = excluded.timeouts, exceptions = excluded.exceptions, "
                        "reconnects = excluded.reconnects, samples = excluded.samples, "
                        "updated_ms = excluded.updated_ms"),
          insert_event(db,
                       "INSERT INTO plant_events (name, time_ms, equipment, area, source, "
                       "attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
          upsert_input_health(
              db,
              "INSERT INTO input_health (driver, connection, input, topic, received, accepted, "
              "rejected, rejected_by_reason, last_rejection, last_rejection_ms, last_accepted_ms, "
              "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
              "ON CONFLICT (driver, connection, input) DO UPDATE SET topic = excluded.topic, "
              "received = excluded.received, accepted = excluded.accepted, "
              "rejected = excluded.rejected, rejected_by_reason = excluded.rejected_by_reason, "
              "last_rejection = excluded.last_rejection, "
              "last_rejection_ms = excluded.last_rejection_ms, "
              "last_accepted_ms = excluded.last_accepted_ms, updated_ms = excluded.updated_ms"),
          upsert_broker_health(
              db,
              "INSERT OR REPLACE INTO broker_health (broker, connected, last_error, "
              "last_change_ms, connect_attempts, reconnects, thread_restarts, messages_received, "
              "messages_accepted, messages_rejected, last_accepted_ms, updated_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
          prune_events_older_than(db,
                                  "DELETE FROM plant_events WHERE id IN (SELECT id FROM "
                                  "plant_events WHERE time_ms < ?1 LIMIT ?2)"),
          prune_channel_older_than(db,
                                   "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples "
                                   "WHERE channel_id = ?1 AND time_ms < ?2 LIMIT ?3)"),
          prune_oldest(db,
                       "DELETE FROM samples WHERE rowid IN "
                       "(SELECT rowid FROM samples ORDER BY rowid LIMIT ?1)"),
          page_count(db, "PRAGMA page_count"),
          freelist_count(db, "PRAGMA freelist_count"),
          page_size(db, "PRAGMA page_size") {}

    Statement begin;
    Statement commit;
    Statement rollback;
    Statement savepoint;
    Statement rollback_to_savepoint;
    Statement release_savepoint;
    Statement all_channels;
    Statement ensure_channel;
    Statement upsert_channel;
    Statement insert_sample;
    Statement upsert_health;
    Statement insert_event;
    Statement upsert_input_health;
    Statement upsert_broker_health;
    Statement prune_events_older_than;
    Statement prune_channel_older_than;
    Statement prune_oldest;
    Statement page_count;
    Statement freelist_count;
    Statement page_size;
};

class SqliteWriter final : public Writer {
  public:
    SqliteWriter(const WriterOptions& options, Connection connection)
        : path_(options.path),
          commit_interval_(options.commit_interval),
          queue_capacity_(options.queue_capacity == 0 ? 1 : options.queue_capacity),
          retention_{options.sample_max_age, options.max_size_bytes, options.prune_interval},
          connection_(std::move(connection)),
          statements_(connection_.get()) {
        load_channel_ids();
        // Checkpoints are ours to schedule, not SQLite's: its automatic one runs inside whichever
        // commit crosses the threshold, and that may be the one an operator or an alarm waits for.
        sqlite3_wal_hook(connection_.get(), &SqliteWriter::note_wal_size, this);
        thread_ = std::thread([this] { run(); });
    }

    ~SqliteWriter() override { close(); }

    void enqueue_samples(SampleBatch batch) override {
        if (batch.empty()) return;
        std::lock_guard lock(mutex_);
        if (closed_) {
            samples_dropped_ += batch.size();
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
            events_dropped_ += events.size();
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
        statements_.reset();
        connection_.close();
    }

    WriterStats stats() const override {
        WriterStats stats;
        stats.samples_committed = samples_committed_.load();
        stats.samples_dropped = samples_dropped_.load();
        stats.commits = commits_.load();
        stats.samples_pruned = samples_pruned_.load();
        stats.write_errors = write_errors_.load();
        stats.events_committed = events_committed_.load();
        stats.events_dropped = events_dropped_.load();
        return stats;
    }

    void set_retention(Millis sample_max_age, std::uint64_t max_size_bytes,
                       Millis prune_interval) override {
        std::lock_guard lock(mutex_);
        retention_ = {sample_max_age, max_size_bytes, prune_interval};
    }

  private:
    void load_channel_ids() {
        Statement& query = statements_->all_channels;
        const std::string doing = fmt::format("reading the channels of {}", path_);
        while (query.next_row(doing)) {
            channel_ids_.emplace(query.column_text(1), query.column_int64(0));
        }
    }

    void note_dropped_locked(std::size_t count) {
        samples_dropped_ += count;
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
            events_dropped_ += oldest_size;
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
            const bool committed = work.empty() || commit_guarded(work);
            if (committed) report_jobs(work);
            if (committed && settles) {
                std::lock_guard lock(mutex_);
                settled_sequence_ = *settles;
                flushed_.notify_all();
            } else if (!committed) {
                requeue(std::move(work));
            }
            backing_off = !committed;
            if (committed) jobs_turn = !jobs_only;
            if (committed) checkpoint_if_due(jobs_only);
            const auto now = SteadyClock::now();
            // Samples keep their group-commit rhythm across job transactions; a slice leaves
            // the rest to be written at once.
            if (!committed || !jobs_only)
                next_commit = committed && !settles ? now : now + commit_interval_;
            if (committed && settles && !stopping && now - last_prune >= retention.prune_interval) {
                if (prune(retention)) last_prune = SteadyClock::now();
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
        samples_dropped_ += pending_.sample_count;
        events_dropped_ += pending_.event_count;
        for (auto& job : pending_.jobs) {
            if (job.done) {
                job.done(Error{
                    fmt::format("{}: not written: the store kept failing at shutdown", path_)});
            }
        }
        pending_ = PendingWork{};
    }

    // After the commit: each job learns whether it is durable or why it was left out.
    void report_jobs(PendingWork& work) {
        for (std::size_t i = 0; i < work.jobs.size(); ++i) {
            if (!work.jobs[i].done) continue;
            work.jobs[i].done(i < job_errors_.size() ? job_errors_[i] : Status());
        }
        job_errors_.clear();
    }

    bool commit_guarded(PendingWork& work) {
        try {
            return commit(work);
        } catch (const std::exception& error) {
            // Out of memory and the like: treat as a failed transaction, the data stays queued.
            if (!sqlite3_get_autocommit(connection_.get())) statements_->rollback.run();
            forget_channels_inserted_in_transaction();
            ++write_errors_;
            log_error(kLogInstance, "{}: write failed: {}", path_, error.what());
            return false;
        }
    }

    bool commit(PendingWork& work) {
        WriterStatements& sql = *statements_;
        channels_inserted_in_transaction_.clear();
        const char* failed_step = nullptr;
        if (sql.begin.run() != SQLITE_DONE) {
            failed_step = "starting a transaction";
        } else if (!write_channels(work)) {
            failed_step = "writing channel descriptions";
        } else if (!write_samples(work)) {
            failed_step = "writing samples";
        } else if (!write_health(work)) {
            failed_step = "writing device health";
        } else if (!write_events(work)) {
            failed_step = "writing plant events";
        } else if (!write_input_health(work)) {
            failed_step = "writing input health";
        } else if (!write_broker_health(work)) {
            failed_step = "writing broker health";
        } else if (!write_jobs(work)) {
            failed_step = "writing alarm and work-order records";
        } else if (sql.commit.run() != SQLITE_DONE) {
            failed_step = "committing";
        }
        if (failed_step == nullptr) {
            samples_committed_ += work.sample_count;
            events_committed_ += work.event_count;
            ++commits_;
            return true;
        }

        const std::string error = sqlite3_errmsg(connection_.get());
        if (!sqlite3_get_autocommit(connection_.get())) sql.rollback.run();
        forget_channels_inserted_in_transaction();
        ++write_errors_;
        if (auto suppressed = log_limiter_.admit("write_failed", SteadyClock::now())) {
            log_error(kLogInstance,
                      "{}: write failed while {}: {}; {} samples stay queued and are retried in "
                      "{} ({} more such messages held back)",
                      path_, failed_step, error, work.sample_count,
                      format_duration(commit_interval_), *suppressed);
        }
        return false;
    }

    // A rolled-back transaction also rolls back the channel rows it inserted.
    void forget_channels_inserted_in_transaction() {
        for (const auto& name : channels_inserted_in_transaction_) channel_ids_.erase(name);
        channels_inserted_in_transaction_.clear();
    }

    void remember_channel(const std::string& name, std::int64_t id) {
        auto [it, inserted] = channel_ids_.try_emplace(name, id);
        if (inserted) channels_inserted_in_transaction_.push_back(name);
    }

    bool write_channels(const PendingWork& work) {
        Statement& upsert = statements_->upsert_channel;
        for (const auto& [name, info] : work.channels) {
            upsert.bind(1, std::string_view(info.name));
            upsert.bind(2, std::string_view(info.equipment));
            upsert.bind(3, std::string_view(info.area));
            upsert.bind(4, std::string_view(info.unit));
            upsert.bind(5, std::string_view(info.source));
            const int rc = upsert.step();
            if (rc == SQLITE_ROW) remember_channel(name, upsert.column_int64(0));
            const int final_rc = rc == SQLITE_ROW ? upsert.step() : rc;
            upsert.reset();
            if (final_rc != SQLITE_DONE) return false;
        }
        return true;
    }

    std::optional<std::int64_t> channel_id(const std::string& name) {
        if (auto it = channel_ids_.find(name); it != channel_ids_.end()) return it->second;
        Statement& ensure = statements_->ensure_channel;
        ensure.bind(1, std::string_view(name));
        const int rc = ensure.step();
        std::optional<std::int64_t> id;
        if (rc == SQLITE_ROW) id = ensure.column_int64(0);
        const int final_rc = rc == SQLITE_ROW ? ensure.step() : rc;
        ensure.reset();
        if (final_rc != SQLITE_DONE || !id) return std::nullopt;
        remember_channel(name, *id);
        return id;
    }

    bool write_samples(const PendingWork& work) {
        Statement& insert = statements_->insert_sample;
        for (const SampleBatch& batch : work.sample_batches) {
            for (const Sample& sample : batch) {
                const auto id = channel_id(sample.channel);
                if (!id) return false;
                insert.bind(1, *id);
                insert.bind(2, sample.time_ms);
                if (sample.quality == Quality::good && !std::isnan(sample.value)) {
                    insert.bind(3, sample.value);
                } else {
                    insert.bind_null(3);
                }
                insert.bind(4, static_cast<std::int64_t>(sample.quality));
                const int rc = insert.step();
                insert.rewind();
                if (rc != SQLITE_DONE) return false;
            }
        }
        return true;
    }

    bool write_health(const PendingWork& work) {
        Statement& upsert = statements_->upsert_health;
        const std::int64_t now_ms = wall_now_ms();
        for (const auto& [key, health] : work.health) {
            upsert.bind(1, std::string_view(health.driver));
            upsert.bind(2, std::string_view(health.bus));
            upsert.bind(3, std::string_view(health.device));
            upsert.bind(4, std::int64_t{health.online ? 1 : 0});
            upsert.bind(5, std::string_view(health.last_error));
            upsert.bind(6, health.last_change_ms);
            upsert.bind(7, health.last_success_ms);
            upsert.bind(8, health.poll_interval_ms);
            upsert.bind(9, health.polls);
            upsert.bind(10, health.polls_failed);
            upsert.bind(11, health.requests);
            upsert.bind(12, health.timeouts);
            upsert.bind(13, health.exceptions);
            upsert.bind(14, health.reconnects);
            upsert.bind(15, health.samples);
            upsert.bind(16, now_ms);
            if (upsert.run() != SQLITE_DONE) return false;
        }
        return true;
    }

    bool write_events(const PendingWork& work) {
        Statement& insert = statements_->insert_event;
        for (const PlantEventBatch& batch : work.event_batches) {
            for (const PlantEvent& event : batch) {
                insert.bind(1, std::string_view(event.name));
                insert.bind(2, event.time_ms);
                insert.bind(3, std::string_view(event.equipment));
                insert.bind(4, std::string_view(event.area));
                insert.bind(5, std::string_view(event.source));
                const std::string_view attributes =
                    event.attributes.empty() ? std::string_view("{}") : event.attributes;
                insert.bind(6, attributes);
                if (insert.run() != SQLITE_DONE) return false;
            }
        }
        return true;
    }

    bool write_input_health(const PendingWork& work) {
        Statement& upsert = statements_->upsert_input_health;
        const std::int64_t now_ms = wall_now_ms();
        for (const auto& [key, row] : work.input_health) {
            upsert.bind(1, std::string_view(row.driver));
            upsert.bind(2, std::string_view(row.connection));
            upsert.bind(3, std::string_view(row.input));
            upsert.bind(4, std::string_view(row.topic));
            upsert.bind(5, row.received);
            upsert.bind(6, row.accepted);
            upsert.bind(7, row.rejected);
            upsert.bind(8, std::string_view(row.rejected_by_reason));
            upsert.bind(9, std::string_view(row.last_rejection));
            upsert.bind(10, row.last_rejection_ms);
            upsert.bind(11, row.last_accepted_ms);
            upsert.bind(12, now_ms);
            if (upsert.run() != SQLITE_DONE) return false;
        }
        return true;
    }

    bool write_broker_health(const PendingWork& work) {
        Statement& upsert = statements_->upsert_broker_health;
        const std::int64_t now_ms = wall_now_ms();
        for (const auto& [broker, health] : work.broker_health) {
            upsert.bind(1, std::string_view(health.broker));
            upsert.bind(2, std::int64_t{health.connected ? 1 : 0});
            upsert.bind(3, std::string_view(health.last_error));
            upsert.bind(4, health.last_change_ms);
            upsert.bind(5, health.connect_attempts);
            upsert.bind(6, health.reconnects);
            upsert.bind(7, health.thread_restarts);
            upsert.bind(8, health.messages_received);
            upsert.bind(9, health.messages_accepted);
            upsert.bind(10, health.messages_rejected);
            upsert.bind(11, health.last_accepted_ms);
            upsert.bind(12, now_ms);
            if (upsert.run() != SQLITE_DONE) return false;
        }
        return true;
    }

    // Called by SQLite after each commit with the number of pages in the WAL.
    static int note_wal_size(void* self, sqlite3*, const char*, int pages) {
        static_cast<SqliteWriter*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
    }

    // After a samples transaction once the WAL holds kCheckpointPages (SQLite's own default),
    // after a jobs-only one only when the WAL has grown far beyond it. PASSIVE: readers are never
    // waited for; what they still need is copied back at a later checkpoint.
    void checkpoint_if_due(bool after_jobs_only) {
        const int due_at = after_jobs_only ? kCheckpointPages * 8 : kCheckpointPages;
        if (wal_pages_ < due_at) return;
        int wal_frames = 0;
        int checkpointed = 0;
        const int rc = sqlite3_wal_checkpoint_v2(
            connection_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &checkpointed);
        if (rc == SQLITE_OK) {
            wal_pages_ = 0;
        } else if (auto suppressed = log_limiter_.admit("checkpoint", SteadyClock::now())) {
            log_warning(kLogInstance,
                        "{}: WAL checkpoint failed: {} ({} more such messages held "
                        "back)",
                        path_, sqlite3_errmsg(connection_.get()), *suppressed);
        }
    }

    // A job's failure that is about the disk or the database (full, I/O error, locked, out of
    // memory, damaged) is the transaction's: everything is rolled back and retried, so the job is
    // never lost to it. Anything else (a constraint the job broke) fails that job alone.
    static bool transient_failure(int sqlite_code) {
        switch (sqlite_code & 0xff) {
            case SQLITE_FULL:
            case SQLITE_IOERR:
            case SQLITE_NOMEM:
            case SQLITE_BUSY:
            case SQLITE_LOCKED:
            case SQLITE_CORRUPT:
            case SQLITE_NOTADB:
            case SQLITE_READONLY:
            case SQLITE_CANTOPEN:
            case SQLITE_PROTOCOL:
            case SQLITE_INTERRUPT:
                return true;
            default:
                return false;
        }
    }

    // Each job in its own savepoint, so one job that breaks a constraint does not take the samples
    // and the other jobs down with it. Returns false when the transaction itself has to be
    // retried (a failure about the disk, or the savepoint statements failing).
    bool write_jobs(const PendingWork& work) {
        WriterStatements& sql = *statements_;
        job_errors_.assign(work.jobs.size(), Status());
        for (std::size_t i = 0; i < work.jobs.size(); ++i) {
            if (sql.savepoint.run() != SQLITE_DONE) return false;
            std::optional<std::string> refusal;
            try {
                work.jobs[i].write(connection_.get());
            } catch (const std::bad_alloc&) {
                return false;
            } catch (const SqliteError& error) {
                if (transient_failure(error.code())) return false;
                refusal = error.what();
            } catch (const std::exception& error) {
                // The job's own check, or SQLite under it: the connection tells which.
                if (transient_failure(sqlite3_extended_errcode(connection_.get()))) return false;
                refusal = error.what();
            }
            if (refusal) {
                if (sql.rollback_to_savepoint.run() != SQLITE_DONE) return false;
                if (auto suppressed = log_limiter_.admit("job_failed", SteadyClock::now())) {
                    log_error(kLogInstance,
                              "{}: a record was refused by the store: {} ({} more "
                              "such messages held back)",
                              path_, *refusal, *suppressed);
                }
                job_errors_[i] = Error{std::move(*refusal)};
            }
            if (sql.release_savepoint.run() != SQLITE_DONE) return false;
        }
        return true;
    }

    std::optional<std::int64_t> pragma_value(Statement& pragma) {
        std::optional<std::int64_t> value;
        if (pragma.step() == SQLITE_ROW) value = pragma.column_int64(0);
        pragma.reset();
        return value;
    }

    std::optional<std::uint64_t> used_bytes() {
        WriterStatements& sql = *statements_;
        const auto pages = pragma_value(sql.page_count);
        const auto free_pages = pragma_value(sql.freelist_count);
        const auto page_size = pragma_value(sql.page_size);
        if (!pages || !free_pages || !page_size) return std::nullopt;
        return static_cast<std::uint64_t>((*pages - *free_pages) * *page_size);
    }

    // Each DELETE is its own small transaction so the WAL stays small and drivers' commits are not
    // held up behind one huge delete. Freed pages go to the freelist and are reused by later
    // inserts, so the file stops growing once it reaches the cap. A job (an alarm event, an
    // operator's action) arriving meanwhile interrupts it: returns false, and the writer commits
    // the job and prunes again on its next cycle. Returns true once pruning is done (or failed
    // and is to be retried after prune_interval).
    bool prune(const Retention& retention) {
        WriterStatements& sql = *statements_;
        std::uint64_t pruned = 0;
        auto report_failure = [&](std::string_view what) {
            ++write_errors_;
            log_error(kLogInstance, "{}: pruning {} failed: {}; retried in {}", path_, what,
                      sqlite3_errmsg(connection_.get()), format_duration(retention.prune_interval));
            return true;
        };
        auto interrupted = [&] {
            if (!jobs_waiting()) return false;
            samples_pruned_ += pruned;
            return true;
        };

        const std::int64_t cutoff_ms = wall_now_ms() - retention.sample_max_age.count();
        for (const auto& [name, id] : channel_ids_) {
            for (;;) {
                sql.prune_channel_older_than.bind(1, id);
                sql.prune_channel_older_than.bind(2, cutoff_ms);
                sql.prune_channel_older_than.bind(3, kPruneChunkRows);
                if (sql.prune_channel_older_than.run() != SQLITE_DONE) {
                    samples_pruned_ += pruned;
                    return report_failure("old samples");
                }
                const auto deleted = sqlite3_changes64(connection_.get());
                pruned += static_cast<std::uint64_t>(deleted);
                if (deleted < kPruneChunkRows) break;
                if (interrupted()) return false;
            }
            if (interrupted()) return false;
        }
        const std::uint64_t pruned_by_age = pruned;
        for (;;) {
            sql.prune_events_older_than.bind(1, cutoff_ms);
            sql.prune_events_older_than.bind(2, kPruneChunkRows);
            if (sql.prune_events_older_than.run() != SQLITE_DONE) {
                samples_pruned_ += pruned;
                return report_failure("old plant events");
            }
            if (sqlite3_changes64(connection_.get()) < kPruneChunkRows) break;
            if (interrupted()) return false;
        }

        for (;;) {
            const auto used = used_bytes();
            if (!used) {
                samples_pruned_ += pruned;
                return report_failure("to the size cap (reading the page count)");
            }
            if (*used <= retention.max_size_bytes) break;
            sql.prune_oldest.bind(1, kPruneChunkRows);
            if (sql.prune_oldest.run() != SQLITE_DONE) {
                samples_pruned_ += pruned;
                return report_failure("to the size cap");
            }
            const auto deleted = sqlite3_changes64(connection_.get());
            pruned += static_cast<std::uint64_t>(deleted);
            if (deleted > 0 && interrupted()) return false;
            if (deleted == 0) {
                if (log_limiter_.admit("cap_without_samples", SteadyClock::now())) {
                    log_warning(kLogInstance,
                                "{}: {} bytes in use with no samples left, above store size cap "
                                "{}; only samples are pruned, raise the cap",
                                path_, *used, format_size(retention.max_size_bytes));
                }
                break;
            }
        }
        samples_pruned_ += pruned;
        if (pruned > 0) {
            log_info(kLogInstance,
                     "{}: pruned {} samples older than {} and {} over the size cap {}", path_,
                     pruned_by_age, format_duration(retention.sample_max_age),
                     pruned - pruned_by_age, format_size(retention.max_size_bytes));
        }
        return true;
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

    std::atomic<std::uint64_t> samples_committed_{0};
    std::atomic<std::uint64_t> samples_dropped_{0};
    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> samples_pruned_{0};
    std::atomic<std::uint64_t> write_errors_{0};
    std::atomic<std::uint64_t> events_committed_{0};
    std::atomic<std::uint64_t> events_dropped_{0};

    // Writer thread only (and the constructor, before the thread starts).
    Connection connection_;
    std::optional<WriterStatements> statements_;
    std::unordered_map<std::string, std::int64_t> channel_ids_;
    std::vector<std::string> channels_inserted_in_transaction_;
    std::vector<Status> job_errors_;  // of the transaction being written, by job index
    int wal_pages_ = 0;               // pages in the WAL after the last commit
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
