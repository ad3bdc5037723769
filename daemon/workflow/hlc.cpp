#include "daemon/workflow/hlc.hpp"

#include <algorithm>

namespace fw::workflow {

Hlc HybridClock::send(std::int64_t wall_ms) {
    const std::int64_t physical = std::max(last_.physical_ms, wall_ms);
    last_.logical = physical == last_.physical_ms ? last_.logical + 1 : 0;
    last_.physical_ms = physical;
    return last_;
}

bool clock_synced(std::int64_t wall_ms, bool kernel_synced) {
    return kernel_synced && wall_ms >= kSyncedClockFloorMs;
}

std::optional<Hlc> HybridClock::receive(Hlc remote, const WallTime& now) {
    const std::int64_t wall_ms = now.ms;
    if (now.synced && remote.physical_ms - wall_ms > kMaxRemoteAhead.count()) return std::nullopt;
    const std::int64_t physical = std::max({last_.physical_ms, remote.physical_ms, wall_ms});
    std::uint32_t logical = 0;
    if (physical == last_.physical_ms && physical == remote.physical_ms) {
        logical = std::max(last_.logical, remote.logical) + 1;
    } else if (physical == last_.physical_ms) {
        logical = last_.logical + 1;
    } else if (physical == remote.physical_ms) {
        logical = remote.logical + 1;
    }
    last_ = {physical, logical};
    return last_;
}

}  // namespace fw::workflow
