// Rules engine throughput: samples/s through fw::rules::Engine on one core with 1,000 channels
// and 1,000 rules of mixed kinds, against a baseline loop that only reads the same samples.
// Prints figures; asserts nothing about speed. See bench/README.md.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "rules/engine.hpp"

namespace {

using namespace fw::rules;
using namespace std::chrono_literals;

constexpr std::size_t kChannels = 1000;
constexpr std::size_t kEquipment = 100;

EngineSetup make_setup() {
    EngineSetup setup;
    for (std::size_t e = 0; e < kEquipment; ++e) {
        setup.catalog.equipment_area.emplace(fmt::format("eq-{}", e),
                                             fmt::format("area-{}", e / 10));
    }
    for (std::size_t c = 0; c < kChannels; ++c) {
        setup.catalog.channel_equipment.emplace(fmt::format("ch{}", c),
                                                fmt::format("eq-{}", c % kEquipment));
    }
    // 1,000 rules: 400 threshold (100 of them with a schedule and a suppression), 250 rate,
    // 250 health, 50 compound, 50 recurrence. Channels 900-999 carry no rule of their own: they
    // are the suppression signals ("machine running") of the first 100 threshold rules.
    for (std::size_t c = 0; c < 900; ++c) {
        RuleConfig rule;
        rule.id = fmt::format("r{}", c);
        rule.channel = fmt::format("ch{}", c);
        rule.hazard = HazardConfig{c % 2 == 0 ? "vibration" : "overheating", Risk::medium, ""};
        if (c < 400) {
            rule.kind = RuleKind::threshold;
            rule.limits = {{2.8, kUnset, Severity::warning}, {4.5, kUnset, Severity::alarm}};
            rule.deadband = 0.2;
            rule.on_delay = 2s;
            rule.off_delay = 5s;
            if (c < 100) {
                rule.schedule = ScheduleConfig{"mon-fri", "06:00", "22:00"};
                rule.suppress_when = SuppressionConfig{fmt::format("ch{}", 900 + c), kUnset, 0.5};
            }
        } else if (c < 650) {
            rule.kind = RuleKind::rate;
            rule.rise = 3.0;
            rule.window = 30s;
        } else {
            rule.kind = RuleKind::health;
            rule.stale_after = 30s;
            rule.frozen_after = 10min;
            rule.min = -10;
            rule.max = 50;
        }
        setup.rules.push_back(std::move(rule));
    }
    for (std::size_t i = 0; i < 50; ++i) {
        RuleConfig rule;
        rule.id = fmt::format("compound{}", i);
        rule.kind = RuleKind::compound;
        rule.equipment = fmt::format("eq-{}", i);
        rule.mode = CompoundMode::all_of;
        rule.window = 1h;
        rule.conditions = {{fmt::format("r{}", i + 100), ""}, {"", "material_arrival"}};
        setup.rules.push_back(std::move(rule));
        RuleConfig recurrence;
        recurrence.id = fmt::format("recurrence{}", i);
        recurrence.kind = RuleKind::recurrence;
        recurrence.equipment = fmt::format("eq-{}", i);
        recurrence.hazard_type = i % 2 == 0 ? "vibration" : "overheating";
        recurrence.count = 3;
        recurrence.window = 24h;
        setup.rules.push_back(std::move(recurrence));
    }
    return setup;
}

struct Input {
    Engine::ChannelId channel;
    double value;
};

}  // namespace

int main(int argc, char** argv) {
    const std::size_t sample_count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
    Engine engine(make_setup(), {0, 1'774'000'000'000});

    // Values wander around 2 mm/s with noise, so thresholds, rates and deadbands all do work and
    // some alarms come and go.
    std::vector<Input> inputs(1'000'000);
    std::mt19937_64 random(42);
    std::normal_distribution<double> noise(0.0, 0.6);
    std::vector<Engine::ChannelId> ids;
    for (std::size_t c = 0; c < kChannels; ++c)
        ids.push_back(*engine.channel_id(fmt::format("ch{}", c)));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const std::size_t channel = i % kChannels;
        const std::size_t step = i / kChannels;  // every channel gets one sample per step
        const double slow =
            1.5 * std::sin(static_cast<double>(step) / 50.0 + static_cast<double>(channel));
        inputs[i] = {ids[channel], 2.0 + slow + noise(random)};
    }

    using Clock = std::chrono::steady_clock;
    // Baseline: read the same samples and fold them into a number the compiler must keep.
    double checksum = 0;
    const auto baseline_start = Clock::now();
    for (std::size_t i = 0; i < sample_count; ++i) {
        const Input& input = inputs[i % inputs.size()];
        checksum += input.value + static_cast<double>(input.channel);
    }
    const double baseline_s = std::chrono::duration<double>(Clock::now() - baseline_start).count();

    // Engine: 1,000 channels sampled every 10 ms of simulated time (100,000 samples/s), one tick
    // per simulated second as the daemon does.
    std::vector<AlarmEvent> events;
    std::size_t event_count = 0;
    const auto engine_start = Clock::now();
    for (std::size_t i = 0; i < sample_count; ++i) {
        const Input& input = inputs[i % inputs.size()];
        const std::int64_t mono = static_cast<std::int64_t>(i / kChannels) * 10;
        const TimePoint now{mono, 1'774'000'000'000 + mono};
        engine.on_sample(input.channel, input.value, fw::Quality::good, now, events);
        if (i % 100'000 == 99'999) {
            engine.on_tick(now, events);
            event_count += events.size();
            events.clear();
        }
    }
    const double engine_s = std::chrono::duration<double>(Clock::now() - engine_start).count();
    event_count += events.size();

    const double baseline_rate = static_cast<double>(sample_count) / baseline_s;
    const double engine_rate = static_cast<double>(sample_count) / engine_s;
    fmt::print("rules_bench: {} samples, 1,000 channels, {} rules ({} alarms)\n", sample_count,
               engine.rules().size(), engine.alarms().size());
    fmt::print("  baseline (read the samples only): {:>14.0f} samples/s  (checksum {:.0f})\n",
               baseline_rate, checksum);
    fmt::print("  engine (evaluate every rule):     {:>14.0f} samples/s  (target >= 2,000,000)\n",
               engine_rate);
    fmt::print("  engine / baseline: {:.3f}; {:.0f} ns per sample; {} alarm events\n",
               engine_rate / baseline_rate, 1e9 * engine_s / static_cast<double>(sample_count),
               event_count);
    return 0;
}
