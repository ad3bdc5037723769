// Retention on the writer thread: delete by age, then by size, a chunk at a time.

#include "daemon/store/retention.hpp"

#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"

namespace fw::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLogInstance = "store";
constexpr std::int64_t kPruneChunkRows = 5000;

}  // namespace

Pruner::Pruner(std::string path, sqlite3* db, WriterCounters& counters, LogRateLimiter& log_limiter)
    : path_(std::move(path)),
      db_(db),
      counters_(counters),
      log_limiter_(log_limiter),
      prune_events_older_than_(db,
                               "DELETE FROM plant_events WHERE id IN (SELECT id FROM "
                               "plant_events WHERE time_ms < ?1 LIMIT ?2)"),
      prune_channel_older_than_(db,
                                "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples "
                                "WHERE channel_id = ?1 AND time_ms < ?2 LIMIT ?3)"),
      prune_oldest_(db,
                    "DELETE FROM samples WHERE rowid IN "
                    "(SELECT rowid FROM samples ORDER BY rowid LIMIT ?1)"),
      page_count_(db, "PRAGMA page_count"),
      freelist_count_(db, "PRAGMA freelist_count"),
      page_size_(db, "PRAGMA page_size") {}

std::optional<std::int64_t> Pruner::pragma_value(Statement& pragma) {
    std::optional<std::int64_t> value;
    if (pragma.step() == SQLITE_ROW) value = pragma.column_int64(0);
    pragma.reset();
    return value;
}

std::optional<std::uint64_t> Pruner::used_bytes() {
    const auto pages = pragma_value(page_count_);
    const auto free_pages = pragma_value(freelist_count_);
    const auto page_size = pragma_value(page_size_);
    if (!pages || !free_pages || !page_size) return std::nullopt;
    return static_cast<std::uint64_t>((*pages - *free_pages) * *page_size);
}

bool Pruner::prune(const Retention& retention, const ChannelIds& channel_ids,
                   const std::function<bool()>& jobs_waiting) {
    std::uint64_t pruned = 0;
    auto report_failure = [&](std::string_view what) {
        ++counters_.write_errors;
        log_error(kLogInstance, "{}: pruning {} failed: {}; retried in {}", path_, what,
                  sqlite3_errmsg(db_), format_duration(retention.prune_interval));
        return true;
    };
    auto interrupted = [&] {
        if (!jobs_waiting()) return false;
        counters_.samples_pruned += pruned;
        return true;
    };

    const std::int64_t cutoff_ms = wall_now_ms() - retention.sample_max_age.count();
    for (const auto& [name, id] : channel_ids) {
        for (;;) {
            prune_channel_older_than_.bind(1, id);
            prune_channel_older_than_.bind(2, cutoff_ms);
            prune_channel_older_than_.bind(3, kPruneChunkRows);
            if (prune_channel_older_than_.run() != SQLITE_DONE) {
                counters_.samples_pruned += pruned;
                return report_failure("old samples");
            }
            const auto deleted = sqlite3_changes64(db_);
            pruned += static_cast<std::uint64_t>(deleted);
            if (deleted < kPruneChunkRows) break;
            if (interrupted()) return false;
        }
        if (interrupted()) return false;
    }
    const std::uint64_t pruned_by_age = pruned;
    for (;;) {
        prune_events_older_than_.bind(1, cutoff_ms);
        prune_events_older_than_.bind(2, kPruneChunkRows);
        if (prune_events_older_than_.run() != SQLITE_DONE) {
            counters_.samples_pruned += pruned;
            return report_failure("old plant events");
        }
        if (sqlite3_changes64(db_) < kPruneChunkRows) break;
        if (interrupted()) return false;
    }

    for (;;) {
        const auto used = used_bytes();
        if (!used) {
            counters_.samples_pruned += pruned;
            return report_failure("to the size cap (reading the page count)");
        }
        if (*used <= retention.max_size_bytes) break;
        prune_oldest_.bind(1, kPruneChunkRows);
        if (prune_oldest_.run() != SQLITE_DONE) {
            counters_.samples_pruned += pruned;
            return report_failure("to the size cap");
        }
        const auto deleted = sqlite3_changes64(db_);
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
    counters_.samples_pruned += pruned;
    if (pruned > 0) {
        log_info(kLogInstance, "{}: pruned {} samples older than {} and {} over the size cap {}",
                 path_, pruned_by_age, format_duration(retention.sample_max_age),
                 pruned - pruned_by_age, format_size(retention.max_size_bytes));
    }
    return true;
}

}  // namespace fw::store
