#pragma once
// Private to the store: the writer thread's retention (writer.cpp). Samples older than the maximum
// age and plant events as old go first, then the oldest samples while the file is over its size
// cap. Alarms and work orders are never pruned.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "daemon/core/log.hpp"
#include "daemon/store/group_commit.hpp"
#include "daemon/store/sqlite.hpp"

namespace fw::store {

struct Retention {
    Millis sample_max_age;
    std::uint64_t max_size_bytes;
    Millis prune_interval;
};

// Writer thread only.
class Pruner {
  public:
    // Prepares its statements; throws StoreError.
    Pruner(std::string path, sqlite3* db, WriterCounters& counters, LogRateLimiter& log_limiter);

    // Each DELETE is its own small transaction so the WAL stays small and drivers' commits are not
    // held up behind one huge delete. Freed pages go to the freelist and are reused by later
    // inserts, so the file stops growing once it reaches the cap. A job (an alarm event, an
    // operator's action) arriving meanwhile interrupts it (`jobs_waiting`): returns false, and
    // the writer commits the job and prunes again on its next cycle. Returns true once pruning is
    // done (or failed and is to be retried after prune_interval).
    bool prune(const Retention& retention, const ChannelIds& channel_ids,
               const std::function<bool()>& jobs_waiting);

  private:
    std::optional<std::int64_t> pragma_value(Statement& pragma);
    std::optional<std::uint64_t> used_bytes();

    const std::string path_;
    sqlite3* const db_;
    WriterCounters& counters_;
    LogRateLimiter& log_limiter_;
    Statement prune_events_older_than_;
    Statement prune_channel_older_than_;
    Statement prune_oldest_;
    Statement page_count_;
    Statement freelist_count_;
    Statement page_size_;
};

}  // namespace fw::store
