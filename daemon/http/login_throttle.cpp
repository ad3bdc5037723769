#include "daemon/http/login_throttle.hpp"

#include <algorithm>

namespace fw::http {
namespace {

std::string user_key(std::string_view user) {
    return "user:" + std::string(user);
}
std::string address_key(std::string_view address) {
    return "address:" + std::string(address);
}

}  // namespace

LoginThrottle::Clock::duration LoginThrottle::wait_before_attempt(std::string_view user,
                                                                  std::string_view address,
                                                                  Clock::time_point now) const {
    Clock::duration wait{};
    for (const auto& key : {user_key(user), address_key(address)}) {
        const auto it = entries_.find(key);
        if (it != entries_.end() && it->second.locked_until > now) {
            wait = std::max(wait, it->second.locked_until - now);
        }
    }
    return wait;
}

bool LoginThrottle::fail(const std::string& key, Clock::time_point now, Clock::duration& lock) {
    Entry& entry = entries_[key];
    entry.last_seen = now;
    // A lock long past (a window since it ended) no longer counts towards the doubling.
    if (entry.locks > 0 && now - entry.locked_until > policy_.window) entry.locks = 0;
    while (!entry.failures.empty() && now - entry.failures.front() > policy_.window) {
        entry.failures.pop_front();
    }
    entry.failures.push_back(now);
    if (entry.failures.size() < policy_.failures) return false;
    // Doubling per lock in a row: 1, 2, 4, ... minutes, capped.
    Clock::duration duration = policy_.first_lock;
    for (std::uint32_t i = 0; i < entry.locks && duration < policy_.longest_lock; ++i) {
        duration *= 2;
    }
    duration = std::min(duration, policy_.longest_lock);
    ++entry.locks;
    entry.locked_until = now + duration;
    entry.failures.clear();
    lock = std::max(lock, duration);
    return true;
}

LoginThrottle::Failure LoginThrottle::record_failure(std::string_view user,
                                                     std::string_view address,
                                                     Clock::time_point now) {
    Failure failure;
    failure.user_locked = fail(user_key(user), now, failure.lock);
    failure.address_locked = fail(address_key(address), now, failure.lock);
    if (entries_.size() > policy_.max_tracked) forget_stalest(now);
    return failure;
}

void LoginThrottle::record_success(std::string_view user, std::string_view address) {
    entries_.erase(user_key(user));
    entries_.erase(address_key(address));
}

void LoginThrottle::forget_stalest(Clock::time_point now) {
    // Entries neither locked nor failing within the window first; then the oldest seen.
    std::erase_if(entries_, [&](const auto& item) {
        const Entry& entry = item.second;
        return entry.locked_until <= now &&
               (entry.failures.empty() || now - entry.failures.back() > policy_.window);
    });
    while (entries_.size() > policy_.max_tracked) {
        const auto stalest = std::min_element(
            entries_.begin(), entries_.end(),
            [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
        entries_.erase(stalest);
    }
}

}  // namespace fw::http
