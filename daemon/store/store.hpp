#pragma once
// The store: one SQLite file in WAL mode. One writer thread owns the only read-write connection
// and group-commits what the pipeline hands it; readers (CLI, later HTTP) use their own read-only
// connections and never block the writer. Schema changes are numbered migrations in schemas/,
// embedded in the binary at build time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/core/health.hpp"
#include "daemon/core/latency_histogram.hpp"
#include "daemon/core/plant_event.hpp"
#include "daemon/core/result.hpp"
#include "daemon/core/sample.hpp"

struct sqlite3;

namespace fw::store {

using Millis = std::chrono::milliseconds;

// Startup and open failures: the message names the file and says what to do. A failed SQLite call
// is the subclass SqliteError (sqlite.hpp), which also carries SQLite's result code.
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct WriterOptions {
    std::string path;
    Millis commit_interval{250};
    std::size_t queue_capacity = 200000;  // samples waiting; beyond it the oldest are dropped
    Millis sample_max_age{Millis(30LL * 24 * 3600 * 1000)};
    std::uint64_t max_size_bytes = 512ULL * 1024 * 1024;
    Millis prune_interval{60000};
};

struct WriterStats {
    std::uint64_t samples_committed = 0;
    std::uint64_t samples_dropped = 0;  // evicted from a full queue (oldest first)
    std::uint64_t commits = 0;
    std::uint64_t samples_pruned = 0;
    std::uint64_t write_errors = 0;      // failed transactions (retried; the data stays queued)
    std::uint64_t events_committed = 0;  // plant events
    std::uint64_t events_dropped = 0;    // evicted from a full queue (oldest first)
};

// A write someone waits for (an alarm event, an operator's action on a work order): it runs on the
// writer thread inside the next group-commit transaction, in its own savepoint, wakes the writer
// at once, and is never dropped from the queue.
struct WriteJob {
    // Throws to fail this job alone: its savepoint is rolled back and the rest of the transaction
    // commits. A failed transaction (disk full, I/O error) is retried with the job in it.
    std::function<void(sqlite3* db)> write;
    // Called once on the writer thread: ok once the transaction holding the job is durable,
    // otherwise why it was not written. Must not block: post to your own thread
    // (store/post_when_durable.hpp does that for the services on the core io_context).
    std::function<void(const Status& written)> done;
};

// Schema version the embedded migrations bring a file to.
int latest_schema_version();

class Writer {
  public:
    // Opens (creating if missing) the file, runs `PRAGMA quick_check`, applies pending migrations
    // in one transaction and starts the writer thread. Throws StoreError if the file is not a
    // database, is corrupt, is newer than this build, or cannot be opened; never deletes anything.
    static std::unique_ptr<Writer> open(const WriterOptions& options);
    virtual ~Writer() = default;

    // Never blocks on the disk: queues for the next group commit. Safe from any thread.
    virtual void enqueue_samples(SampleBatch batch) = 0;
    // Upserts channel metadata (name, equipment, area, unit, source).
    virtual void enqueue_channels(std::vector<ChannelInfo> channels) = 0;
    // Upserts one device's health row.
    virtual void enqueue_health(DeviceHealth health) = 0;
    // Queues plant events for the next group commit; beyond queue_capacity events the oldest are
    // dropped and counted. Never blocks on the disk. Safe from any thread.
    virtual void enqueue_events(PlantEventBatch events) = 0;
    // Upserts message counters of inputs (table input_health), the latest per input wins.
    virtual void enqueue_input_health(std::vector<InputHealth> rows) = 0;
    // Upserts one MQTT broker connection's health row (table broker_health).
    virtual void enqueue_broker_health(BrokerHealth health) = 0;
    // Queues a job for the next transaction and wakes the writer. After close() the job is not
    // run and `done` is called at once with the reason.
    virtual void enqueue_job(WriteJob job) = 0;
    // Blocks until everything enqueued before the call is committed (shutdown, tests, benchmarks).
    virtual void flush() = 0;
    // Flushes, stops the thread and closes the connection. Idempotent; the destructor calls it.
    virtual void close() = 0;
    virtual WriterStats stats() const = 0;
    // How long each successful transaction took, BEGIN to COMMIT (fsync included): /metrics.
    virtual const LatencyHistogram& commit_latency() const = 0;
    // Applies new retention settings (SIGHUP) from the writer thread's next cycle on.
    virtual void set_retention(Millis sample_max_age, std::uint64_t max_size_bytes,
                               Millis prune_interval) = 0;
};

struct StoredSample {
    std::int64_t time_ms;
    std::optional<double> value;  // nullopt when quality != good
    Quality quality;
};

struct StoredEvent {
    std::int64_t id;  // increases in insertion order
    PlantEvent event;
};

struct ChannelRow {
    ChannelInfo info;
    std::uint64_t sample_count = 0;
    std::optional<std::int64_t> last_time_ms;
};

// Read-only connection. Opening fails with StoreError naming the file when it does not exist or is
// not a floorwatch database. Not thread-safe: one Reader per thread.
class Reader {
  public:
    static std::unique_ptr<Reader> open(const std::string& path);
    virtual ~Reader() = default;

    virtual bool has_channel(const std::string& channel) = 0;
    virtual std::vector<ChannelRow> channels() = 0;
    // Samples of one channel with since_ms <= time < until_ms, oldest first, at most `limit`
    // (the newest `limit` when there are more).
    virtual std::vector<StoredSample> samples(const std::string& channel, std::int64_t since_ms,
                                              std::int64_t until_ms, std::size_t limit) = 0;
    virtual std::vector<DeviceHealth> device_health() = 0;
    // Plant events with since_ms <= time < until_ms, oldest first, at most `limit` (the newest
    // when there are more); `name` empty = every name.
    virtual std::vector<StoredEvent> events(std::int64_t since_ms, std::int64_t until_ms,
                                            const std::string& name, std::size_t limit) = 0;
    virtual std::vector<InputHealth> input_health() = 0;
    // Empty on a store the daemon has not yet migrated to the broker_health table.
    virtual std::vector<BrokerHealth> broker_health() = 0;
    virtual int schema_version() = 0;
};

}  // namespace fw::store
