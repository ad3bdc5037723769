#include "tests/sim/profile.hpp"

#include <cmath>
#include <numbers>

namespace fw::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// Uniform in (0, 1], never 0 so the logarithm below stays finite.
double unit_interval(std::uint64_t bits) {
    return (static_cast<double>(bits >> 11) + 1.0) / 9007199254740992.0;  // 2^53
}

double gaussian(std::uint64_t seed, std::uint64_t stream, std::int64_t slot) {
    const std::uint64_t key =
        splitmix64(seed ^ splitmix64(stream ^ splitmix64(static_cast<std::uint64_t>(slot))));
    const double u1 = unit_interval(splitmix64(key));
    const double u2 = unit_interval(splitmix64(key + 1));
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double lerp_clamped(double from, double to, double fraction) {
    if (fraction <= 0.0) return from;
    if (fraction >= 1.0) return to;
    return from + (to - from) * fraction;
}

double sequence_value(const Profile& profile, double seconds) {
    if (profile.steps.empty()) return 0.0;
    double total = 0.0;
    for (const auto& step : profile.steps) total += step.seconds;
    if (total <= 0.0) return profile.steps.back().to;
    if (seconds >= total) {
        if (!profile.repeat) return profile.steps.back().to;
        seconds = std::fmod(seconds, total);
    }
    for (const auto& step : profile.steps) {
        if (seconds < step.seconds) {
            return lerp_clamped(step.from, step.to, seconds / step.seconds);
        }
        seconds -= step.seconds;
    }
    return profile.steps.back().to;
}

double exact_value(const Profile& profile, double seconds) {
    switch (profile.kind) {
        case Profile::Kind::constant:
            return profile.value;
        case Profile::Kind::sine:
            return profile.mean + profile.amplitude * std::sin(2.0 * std::numbers::pi * seconds /
                                                               profile.period_seconds);
        case Profile::Kind::ramp:
            if (profile.duration_seconds <= 0.0) return profile.to;
            return lerp_clamped(profile.from, profile.to, seconds / profile.duration_seconds);
        case Profile::Kind::step:
            return seconds < profile.at_seconds ? profile.before : profile.after;
        case Profile::Kind::sequence:
            return sequence_value(profile, seconds);
    }
    return 0.0;
}

}  // namespace

double profile_value(const Profile& profile, double seconds, std::uint64_t seed,
                     std::uint64_t stream) {
    const double value = exact_value(profile, seconds < 0.0 ? 0.0 : seconds);
    if (profile.noise <= 0.0) return value;
    const auto slot = static_cast<std::int64_t>(std::floor(seconds * 10.0));
    return value + profile.noise * gaussian(seed, stream, slot);
}

}  // namespace fw::sim
