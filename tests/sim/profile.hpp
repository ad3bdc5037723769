#pragma once
// How a simulated value moves over time. Profile time is the steady clock since start, multiplied
// by the config's time_scale, so a ten-minute warm-up can be watched in one minute in the demo.

#include <cstdint>
#include <vector>

namespace fw::sim {

// One piece of a sequence: holds `from` for `seconds` (from == to) or ramps linearly to `to`.
struct SequenceStep {
    double from = 0.0;
    double to = 0.0;
    double seconds = 0.0;
};

struct Profile {
    enum class Kind { constant, sine, ramp, step, sequence };
    Kind kind = Kind::constant;

    double value = 0.0;  // constant

    double mean = 0.0;  // sine
    double amplitude = 0.0;
    double period_seconds = 60.0;

    double from = 0.0;  // ramp: linear from -> to over duration, then holds `to`
    double to = 0.0;
    double duration_seconds = 0.0;

    double before = 0.0;  // step: `before` until at_seconds, `after` from then on
    double after = 0.0;
    double at_seconds = 0.0;

    std::vector<SequenceStep> steps;  // sequence
    bool repeat = false;              // without repeat the last step's end value holds

    // Standard deviation of Gaussian noise added to any kind; 0 = exact values.
    double noise = 0.0;
};

// The profile's value at profile time `seconds` (>= 0). Noise is a pure function of (seed, stream,
// time slot of 100 ms), so two runs with the same seed give the same values whatever the request
// pattern; `stream` keeps the noise of different values independent.
double profile_value(const Profile& profile, double seconds, std::uint64_t seed,
                     std::uint64_t stream);

}  // namespace fw::sim
