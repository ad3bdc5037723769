#pragma once
// Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): wall-clock
// milliseconds plus a counter, so that events keep causal order even when gateway clocks drift,
// jump back, or boot without a real-time clock. README.md ("Hybrid logical clock") has the rules.

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>

namespace fw::workflow {

struct Hlc {
    std::int64_t physical_ms = 0;  // Unix epoch milliseconds, never behind any time seen
    std::uint32_t logical = 0;     // orders events within one physical millisecond
    auto operator<=>(const Hlc&) const = default;
};

// What the wall clock says and whether it is known to be right (NTP or GPS synchronised).
struct WallTime {
    std::int64_t ms = 0;
    bool synced = false;
};

// 2024-01-01T00:00:00Z. No plant runs floorwatch earlier, so a wall clock reading before it has
// never been set (a board without a real-time clock booting at 1970), whatever the kernel says.
inline constexpr std::int64_t kSyncedClockFloorMs = 1704067200000;

// Whether a wall-clock reading can be trusted: the kernel says it is synchronised and it is not
// before kSyncedClockFloorMs.
bool clock_synced(std::int64_t wall_ms, bool kernel_synced);

// The wall clock as the workflow sees it; the daemon reads the system clock, tests set it.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual WallTime now() const = 0;
};

class ManualClock : public Clock {
  public:
    explicit ManualClock(std::int64_t ms, bool synced = true) : now_{ms, synced} {}
    WallTime now() const override { return now_; }
    void set(std::int64_t ms) { now_.ms = ms; }
    void advance(std::chrono::milliseconds by) { now_.ms += by.count(); }

  private:
    WallTime now_;
};

// Remote times further ahead than this are refused: a gateway with a wild clock must not drag
// every other clock into the future (DESIGN.md "Sync").
inline constexpr std::chrono::milliseconds kMaxRemoteAhead{5 * 60 * 1000};

class HybridClock {
  public:
    // `last` is the last time this node issued or accepted; the store persists it.
    explicit HybridClock(Hlc last = {}) : last_(last) {}

    // The time of a new local event: after every time issued or seen, and after `wall_ms`.
    Hlc send(std::int64_t wall_ms);

    // Takes in a time from another node. Returns the advanced local time, or nullopt (nothing
    // changed) when `remote` is more than kMaxRemoteAhead ahead of a synchronised `now`. An
    // unsynchronised clock refuses nothing: a gateway that booted at 1970 must take in the
    // centre's present.
    [[nodiscard]] std::optional<Hlc> receive(Hlc remote, const WallTime& now);

    Hlc last() const { return last_; }

  private:
    Hlc last_;
};

}  // namespace fw::workflow
