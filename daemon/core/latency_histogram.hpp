#pragma once
// A latency histogram one thread records into and any thread reads (the store writer's commit
// latency, scraped by /metrics on the core thread): fixed bucket bounds, relaxed atomic counters,
// no lock. A reader may see a sample's bucket before the sum that includes it; Prometheus
// tolerates that, and nothing else reads these figures.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace fw {

class LatencyHistogram {
  public:
    // Upper bounds in microseconds, Prometheus' "le": from 0.5 ms (a commit in the page cache) to
    // 10 s (an SD card stalling on a flush); slower falls in +Inf.
    static constexpr std::array<std::int64_t, 14> kBoundsMicros{
        500,    1000,   2500,   5000,    10000,   25000,   50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

    struct Snapshot {
        // cumulative[i]: samples <= kBoundsMicros[i]; count: every sample (the +Inf bucket).
        std::array<std::uint64_t, kBoundsMicros.size()> cumulative{};
        std::uint64_t count = 0;
        double sum_seconds = 0;
    };

    void record(std::chrono::steady_clock::duration elapsed) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
        std::size_t bucket = 0;
        while (bucket < kBoundsMicros.size() && micros > kBoundsMicros[bucket]) ++bucket;
        counts_[bucket].fetch_add(1, std::memory_order_relaxed);
        sum_micros_.fetch_add(static_cast<std::uint64_t>(micros < 0 ? 0 : micros),
                              std::memory_order_relaxed);
    }

    Snapshot snapshot() const {
        Snapshot result;
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < kBoundsMicros.size(); ++i) {
            running += counts_[i].load(std::memory_order_relaxed);
            result.cumulative[i] = running;
        }
        result.count = running + counts_.back().load(std::memory_order_relaxed);
        result.sum_seconds =
            static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1'000'000.0;
        return result;
    }

  private:
    // One more than the bounds: the last counts what is slower than every bound.
    std::array<std::atomic<std::uint64_t>, kBoundsMicros.size() + 1> counts_{};
    std::atomic<std::uint64_t> sum_micros_{0};
};

}  // namespace fw
