#pragma once
// Login throttling: after 5 failed logins within 15 minutes, for one user name or from one
// address, further attempts for it are refused for 1 minute, then 2, 4, ... up to an hour for
// each lock that follows without a success. A success clears the user's and the address's
// record. Guessing a password online becomes impractical, and a person who mistyped waits a
// minute. Core thread; pure (the caller gives the time), so the tests need no clock.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

namespace fw::http {

class LoginThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    struct Policy {
        std::size_t failures = 5;
        Clock::duration window = std::chrono::minutes(15);
        Clock::duration first_lock = std::chrono::minutes(1);
        Clock::duration longest_lock = std::chrono::hours(1);
        std::size_t max_tracked = 10000;  // keys kept; the stalest go first beyond it
    };

    LoginThrottle() = default;
    explicit LoginThrottle(Policy policy) : policy_(policy) {}

    // How long before this user or this address may try again; zero when now.
    Clock::duration wait_before_attempt(std::string_view user, std::string_view address,
                                        Clock::time_point now) const;

    struct Failure {
        bool user_locked = false;     // this failure locked the user name
        bool address_locked = false;  // this failure locked the address
        Clock::duration lock{};       // for how long (the longer of the two)
    };
    Failure record_failure(std::string_view user, std::string_view address, Clock::time_point now);
    void record_success(std::string_view user, std::string_view address);

    std::size_t tracked() const { return entries_.size(); }

  private:
    struct Entry {
        std::deque<Clock::time_point> failures;  // within the window
        Clock::time_point locked_until{};
        std::uint32_t locks = 0;  // in a row, for the doubling
        Clock::time_point last_seen{};
    };

    bool fail(const std::string& key, Clock::time_point now, Clock::duration& lock);
    void forget_stalest(Clock::time_point now);

    Policy policy_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace fw::http
