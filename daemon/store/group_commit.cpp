// One group-commit transaction of the writer thread: everything the queue handed over, in one
// BEGIN IMMEDIATE ... COMMIT, so that many enqueues cost one fsync.

#include "daemon/store/group_commit.hpp"

#include <fmt/format.h>

#include <cmath>
#include <new>

#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"

namespace fw::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLogInstance = "store";
constexpr int kCheckpointPages = 1000;

// A job's failure that is about the disk or the database (full, I/O error, locked, out of
// memory, damaged) is the transaction's: everything is rolled back and retried, so the job is
// never lost to it. Anything else (a constraint the job broke) fails that job alone.
bool transient_failure(int sqlite_code) {
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

}  // namespace

WriterStats WriterCounters::snapshot() const {
    WriterStats stats;
    stats.samples_committed = samples_committed.load();
    stats.samples_dropped = samples_dropped.load();
    stats.commits = commits.load();
    stats.samples_pruned = samples_pruned.load();
    stats.write_errors = write_errors.load();
    stats.events_committed = events_committed.load();
    stats.events_dropped = events_dropped.load();
    return stats;
}

GroupCommit::Statements::Statements(sqlite3* db)
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
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)") {}

GroupCommit::GroupCommit(std::string path, Millis retry_interval, sqlite3* db,
                         WriterCounters& counters, LogRateLimiter& log_limiter)
    : path_(std::move(path)),
      retry_interval_(retry_interval),
      db_(db),
      counters_(counters),
      log_limiter_(log_limiter),
      sql_(db) {
    load_channel_ids();
    // Checkpoints are ours to schedule, not SQLite's: its automatic one runs inside whichever
    // commit crosses the threshold, and that may be the one an operator or an alarm waits for.
    sqlite3_wal_hook(db_, &GroupCommit::note_wal_size, this);
}

GroupCommit::~GroupCommit() {
    sqlite3_wal_hook(db_, nullptr, nullptr);
}

void GroupCommit::load_channel_ids() {
    Statement& query = sql_.all_channels;
    const std::string doing = fmt::format("reading the channels of {}", path_);
    while (query.next_row(doing)) {
        channel_ids_.emplace(query.column_text(1), query.column_int64(0));
    }
}

void GroupCommit::report_jobs(PendingWork& work) {
    for (std::size_t i = 0; i < work.jobs.size(); ++i) {
        if (!work.jobs[i].done) continue;
        work.jobs[i].done(i < job_errors_.size() ? job_errors_[i] : Status());
    }
    job_errors_.clear();
}

bool GroupCommit::write(PendingWork& work) {
    try {
        return commit(work);
    } catch (const std::exception& error) {
        // Out of memory and the like: treat as a failed transaction, the data stays queued.
        if (!sqlite3_get_autocommit(db_)) sql_.rollback.run();
        forget_channels_inserted_in_transaction();
        ++counters_.write_errors;
        log_error(kLogInstance, "{}: write failed: {}", path_, error.what());
        return false;
    }
}

bool GroupCommit::commit(PendingWork& work) {
    channels_inserted_in_transaction_.clear();
    const char* failed_step = nullptr;
    const auto started = std::chrono::steady_clock::now();
    if (sql_.begin.run() != SQLITE_DONE) {
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
    } else if (sql_.commit.run() != SQLITE_DONE) {
        failed_step = "committing";
    }
    if (failed_step == nullptr) {
        counters_.samples_committed += work.sample_count;
        counters_.events_committed += work.event_count;
        ++counters_.commits;
        counters_.commit_latency.record(std::chrono::steady_clock::now() - started);
        return true;
    }

    const std::string error = sqlite3_errmsg(db_);
    if (!sqlite3_get_autocommit(db_)) sql_.rollback.run();
    forget_channels_inserted_in_transaction();
    ++counters_.write_errors;
    if (auto suppressed = log_limiter_.admit("write_failed", SteadyClock::now())) {
        log_error(kLogInstance,
                  "{}: write failed while {}: {}; {} samples stay queued and are retried in "
                  "{} ({} more such messages held back)",
                  path_, failed_step, error, work.sample_count, format_duration(retry_interval_),
                  *suppressed);
    }
    return false;
}

// A rolled-back transaction also rolls back the channel rows it inserted.
void GroupCommit::forget_channels_inserted_in_transaction() {
    for (const auto& name : channels_inserted_in_transaction_) channel_ids_.erase(name);
    channels_inserted_in_transaction_.clear();
}

void GroupCommit::remember_channel(const std::string& name, std::int64_t id) {
    auto [it, inserted] = channel_ids_.try_emplace(name, id);
    if (inserted) channels_inserted_in_transaction_.push_back(name);
}

bool GroupCommit::write_channels(const PendingWork& work) {
    Statement& upsert = sql_.upsert_channel;
    for (const auto& [name, info] : work.channels) {
        upsert.bind_all(std::string_view(info.name), std::string_view(info.equipment),
                        std::string_view(info.area), std::string_view(info.unit),
                        std::string_view(info.source));
        const int rc = upsert.step();
        if (rc == SQLITE_ROW) remember_channel(name, upsert.column_int64(0));
        const int final_rc = rc == SQLITE_ROW ? upsert.step() : rc;
        upsert.reset();
        if (final_rc != SQLITE_DONE) return false;
    }
    return true;
}

std::optional<std::int64_t> GroupCommit::channel_id(const std::string& name) {
    if (auto it = channel_ids_.find(name); it != channel_ids_.end()) return it->second;
    Statement& ensure = sql_.ensure_channel;
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

bool GroupCommit::write_samples(const PendingWork& work) {
    Statement& insert = sql_.insert_sample;
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

bool GroupCommit::write_health(const PendingWork& work) {
    Statement& upsert = sql_.upsert_health;
    const std::int64_t now_ms = wall_now_ms();
    for (const auto& [key, health] : work.health) {
        upsert.bind_all(std::string_view(health.driver), std::string_view(health.bus),
                        std::string_view(health.device), std::int64_t{health.online ? 1 : 0},
                        std::string_view(health.last_error), health.last_change_ms,
                        health.last_success_ms, health.poll_interval_ms, health.polls,
                        health.polls_failed, health.requests, health.timeouts, health.exceptions,
                        health.reconnects, health.samples, now_ms);
        if (upsert.run() != SQLITE_DONE) return false;
    }
    return true;
}

bool GroupCommit::write_events(const PendingWork& work) {
    Statement& insert = sql_.insert_event;
    for (const PlantEventBatch& batch : work.event_batches) {
        for (const PlantEvent& event : batch) {
            insert.bind_all(std::string_view(event.name), event.time_ms,
                            std::string_view(event.equipment), std::string_view(event.area),
                            std::string_view(event.source));
            const std::string_view attributes =
                event.attributes.empty() ? std::string_view("{}") : event.attributes;
            insert.bind(6, attributes);
            if (insert.run() != SQLITE_DONE) return false;
        }
    }
    return true;
}

bool GroupCommit::write_input_health(const PendingWork& work) {
    Statement& upsert = sql_.upsert_input_health;
    const std::int64_t now_ms = wall_now_ms();
    for (const auto& [key, row] : work.input_health) {
        upsert.bind_all(std::string_view(row.driver), std::string_view(row.connection),
                        std::string_view(row.input), std::string_view(row.topic), row.received,
                        row.accepted, row.rejected, std::string_view(row.rejected_by_reason),
                        std::string_view(row.last_rejection), row.last_rejection_ms,
                        row.last_accepted_ms, now_ms);
        if (upsert.run() != SQLITE_DONE) return false;
    }
    return true;
}

bool GroupCommit::write_broker_health(const PendingWork& work) {
    Statement& upsert = sql_.upsert_broker_health;
    const std::int64_t now_ms = wall_now_ms();
    for (const auto& [broker, health] : work.broker_health) {
        upsert.bind_all(health.broker, std::int64_t{health.connected ? 1 : 0}, health.last_error,
                        health.last_change_ms, health.connect_attempts, health.reconnects,
                        health.thread_restarts, health.messages_received, health.messages_accepted,
                        health.messages_rejected, health.last_accepted_ms, now_ms);
        if (upsert.run() != SQLITE_DONE) return false;
    }
    return true;
}

// Called by SQLite after each commit with the number of pages in the WAL.
int GroupCommit::note_wal_size(void* self, sqlite3*, const char*, int pages) {
    static_cast<GroupCommit*>(self)->wal_pages_ = pages;
    return SQLITE_OK;
}

// PASSIVE: readers are never waited for; what they still need is copied back at a later
// checkpoint.
void GroupCommit::checkpoint_if_due(bool after_jobs_only) {
    const int due_at = after_jobs_only ? kCheckpointPages * 8 : kCheckpointPages;
    if (wal_pages_ < due_at) return;
    int wal_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                             &checkpointed);
    if (rc == SQLITE_OK) {
        wal_pages_ = 0;
    } else if (auto suppressed = log_limiter_.admit("checkpoint", SteadyClock::now())) {
        log_warning(kLogInstance,
                    "{}: WAL checkpoint failed: {} ({} more such messages held "
                    "back)",
                    path_, sqlite3_errmsg(db_), *suppressed);
    }
}

// Each job in its own savepoint, so one job that breaks a constraint does not take the samples
// and the other jobs down with it. Returns false when the transaction itself has to be
// retried (a failure about the disk, or the savepoint statements failing).
bool GroupCommit::write_jobs(const PendingWork& work) {
    job_errors_.assign(work.jobs.size(), Status());
    for (std::size_t i = 0; i < work.jobs.size(); ++i) {
        if (sql_.savepoint.run() != SQLITE_DONE) return false;
        std::optional<std::string> refusal;
        try {
            work.jobs[i].write(db_);
        } catch (const std::bad_alloc&) {
            return false;
        } catch (const SqliteError& error) {
            if (transient_failure(error.code())) return false;
            refusal = error.what();
        } catch (const std::exception& error) {
            // The job's own check, or SQLite under it: the connection tells which.
            if (transient_failure(sqlite3_extended_errcode(db_))) return false;
            refusal = error.what();
        }
        if (refusal) {
            if (sql_.rollback_to_savepoint.run() != SQLITE_DONE) return false;
            if (auto suppressed = log_limiter_.admit("job_failed", SteadyClock::now())) {
                log_error(kLogInstance,
                          "{}: a record was refused by the store: {} ({} more "
                          "such messages held back)",
                          path_, *refusal, *suppressed);
            }
            job_errors_[i] = Error{std::move(*refusal)};
        }
        if (sql_.release_savepoint.run() != SQLITE_DONE) return false;
    }
    return true;
}

}  // namespace fw::store
