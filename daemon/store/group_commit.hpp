#pragma once
// Private to the store: one group-commit transaction of the writer thread (writer.cpp). What the
// queue hands over is written in one BEGIN IMMEDIATE ... COMMIT: channel descriptions, samples,
// device health, plant events, input health, then each job in a savepoint of its own.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "daemon/core/latency_histogram.hpp"
#include "daemon/core/log.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"

namespace fw::store {

using HealthKey = std::tuple<std::string, std::string, std::string>;
using ChannelIds = std::unordered_map<std::string, std::int64_t>;

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

// The writer's figures (WriterStats), counted by the thread and read from any other.
struct WriterCounters {
    std::atomic<std::uint64_t> samples_committed{0};
    std::atomic<std::uint64_t> samples_dropped{0};
    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> samples_pruned{0};
    std::atomic<std::uint64_t> write_errors{0};
    std::atomic<std::uint64_t> events_committed{0};
    std::atomic<std::uint64_t> events_dropped{0};
    // How long each successful transaction took, BEGIN to COMMIT (fsync included): /metrics.
    LatencyHistogram commit_latency;

    WriterStats snapshot() const;
};

// Writer thread only. Holds the prepared statements of a transaction and the channel ids they use.
class GroupCommit {
  public:
    // Prepares the statements and reads the channel ids; throws StoreError.
    GroupCommit(std::string path, Millis retry_interval, sqlite3* db, WriterCounters& counters,
                LogRateLimiter& log_limiter);
    ~GroupCommit();
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Writes `work` in one transaction. True once it is durable; false when it failed and was
    // rolled back (counted and logged), and `work` is to be queued again. Never throws.
    bool write(PendingWork& work);
    // After a successful write: each job learns that it is durable or why it was left out.
    void report_jobs(PendingWork& work);
    // After a samples transaction once the WAL holds kCheckpointPages (SQLite's own default),
    // after a jobs-only one only when the WAL has grown far beyond it.
    void checkpoint_if_due(bool after_jobs_only);

    const ChannelIds& channel_ids() const { return channel_ids_; }

  private:
    struct Statements {
        explicit Statements(sqlite3* db);
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
    };

    bool commit(PendingWork& work);
    void load_channel_ids();
    void forget_channels_inserted_in_transaction();
    void remember_channel(const std::string& name, std::int64_t id);
    std::optional<std::int64_t> channel_id(const std::string& name);
    bool write_channels(const PendingWork& work);
    bool write_samples(const PendingWork& work);
    bool write_health(const PendingWork& work);
    bool write_events(const PendingWork& work);
    bool write_input_health(const PendingWork& work);
    bool write_broker_health(const PendingWork& work);
    bool write_jobs(const PendingWork& work);
    static int note_wal_size(void* self, sqlite3* db, const char* name, int pages);

    const std::string path_;
    const Millis retry_interval_;
    sqlite3* const db_;
    WriterCounters& counters_;
    LogRateLimiter& log_limiter_;
    Statements sql_;
    ChannelIds channel_ids_;
    std::vector<std::string> channels_inserted_in_transaction_;
    std::vector<Status> job_errors_;  // of the transaction being written, by job index
    int wal_pages_ = 0;               // pages in the WAL after the last commit
};

}  // namespace fw::store
