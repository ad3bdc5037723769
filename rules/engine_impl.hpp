#pragma once
// The engine's state, shared by its three sources: engine.cpp (compiling the rules, the public
// surface), engine_evaluate.cpp (evaluation, alarms, operator actions) and engine_snapshot.cpp
// (snapshot and restore). Internal to fw::rules: nothing outside rules/ includes it.

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/engine.hpp"

namespace fw::rules {

inline constexpr int kNoLevel = -1;
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

struct Engine::Impl {
    struct Compiled {
        RuleInfo info;
        RuleHazard hazard;  // copied into each of its events
        std::optional<Schedule> schedule;
        int channel = -1;
        int suppress_channel = -1;
        std::vector<int> condition_rule;     // compound: index of the rule, or -1 for events
        std::vector<std::size_t> instances;  // its alarms
        std::vector<std::size_t> feeds;      // compound and recurrence rules counting it
    };

    // One alarm (rule, equipment) and the evaluation state behind it.
    struct Instance {
        std::size_t rule = 0;
        std::string equipment;
        std::string area;
        // debounce: levels are severities as ints, kNoLevel when the condition is not active
        int raw = kNoLevel;
        int debounced = kNoLevel;
        int pending = kNoLevel;
        bool pending_active = false;
        std::int64_t pending_since = 0;
        bool value_known = true;  // threshold and rate: false after a bad sample
        double value = std::numeric_limits<double>::quiet_NaN();
        std::string detail;
        std::uint32_t limit_mask = 0;
        std::deque<std::pair<std::int64_t, double>> window;  // rate: monotonic extreme deque
        std::int64_t last_good = 0;                          // health
        double frozen_value = std::numeric_limits<double>::quiet_NaN();
        std::int64_t frozen_since = 0;
        bool has_good = false;
        std::deque<std::int64_t> activations;  // recurrence: counted activations
        std::vector<std::int64_t> seen;        // compound: last occurrence of each condition
        bool outside_schedule = false;
        bool suppressed_by_condition = false;
        // alarm
        AlarmStatus status;
        Severity severity = Severity::warning;
        std::int64_t shelved_until_mono = 0;
        std::int64_t shelved_until_wall = 0;
        std::string shelved_by;
        std::string reason;
        std::deque<std::int64_t> recent_activations;  // chattering window
        bool chattering = false;
    };

    struct AreaFlood {
        std::deque<std::int64_t> activations;
        bool active = false;
    };

    EngineSetup setup;
    std::vector<Compiled> rules;
    std::vector<Instance> instances;
    std::unordered_map<std::string, ChannelId> channel_ids;
    std::vector<std::string> channel_names;
    std::vector<std::vector<std::size_t>> rules_by_channel;       // rules reading the channel
    std::vector<std::vector<std::size_t>> suppressed_by_channel;  // rules it can suppress
    std::vector<double> channel_values;  // latest good value, NaN when unknown
    std::map<std::string, std::size_t, std::less<>> instance_by_key;
    std::map<std::string, AreaFlood, std::less<>> floods;
    std::vector<std::size_t> compound_rules;
    std::vector<std::size_t> event_compounds;  // compound rules with an event condition
    std::int64_t schedule_minute = kNever;
    EngineCounters counters;

    static std::string key_of(std::string_view rule, std::string_view equipment) {
        std::string key(rule);
        key += '\x1f';
        key += equipment;
        return key;
    }

    const RuleConfig& config_of(const Instance& instance) const {
        return rules[instance.rule].info.config;
    }

    // Compiling (engine.cpp).
    ChannelId intern(const std::string& channel);
    std::size_t add_instance(std::size_t rule, const std::string& equipment, TimePoint start);
    void compile(TimePoint start);
    Instance* find_instance(std::string_view rule, std::string_view equipment);
    AlarmEvent make_event(const Instance& instance, AlarmAction action, AlarmState from,
                          TimePoint now) const;
    void apply(Instance& instance, AlarmAction action, TimePoint now, std::vector<AlarmEvent>& out);

    // The alarm side (engine_evaluate.cpp, as all below).
    void activated(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);
    void cleared(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);
    AlarmEvent flood_event(const std::string& area, bool starts, TimePoint now) const;
    void set_level(std::size_t index, int level, TimePoint now, std::vector<AlarmEvent>& out);
    void debounce(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);

    // Rule kinds.
    void evaluate_threshold(Instance& instance, double value);
    void evaluate_rate(Instance& instance, std::int64_t now_mono);
    void add_rate_point(Instance& instance, double value, std::int64_t now_mono);
    void evaluate_health(Instance& instance, std::int64_t now_mono);
    void evaluate_recurrence(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);
    void note_rule_condition(std::size_t index, std::size_t source_rule, TimePoint now,
                             std::vector<AlarmEvent>& out);
    void evaluate_compound(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);

    // Suppression and schedules.
    void update_hidden(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out);
    void refresh_schedules(TimePoint now, std::vector<AlarmEvent>& out);
    void update_suppression_channel(ChannelId channel, TimePoint now, std::vector<AlarmEvent>& out);

    // Inputs.
    void sample(ChannelId channel, double value, Quality quality, TimePoint now,
                std::vector<AlarmEvent>& out);
    void tick(TimePoint now, std::vector<AlarmEvent>& out);
    // Runs an operator action on one alarm; the event records who. `then` sets what the action
    // keeps on the alarm and in its event (a shelving's end, a reason) before the event goes to
    // `out`. An error says why it was refused, and nothing changes.
    using ActionDetails = std::function<void(Instance& instance, AlarmEvent& event)>;
    Status operate(std::string_view rule, std::string_view equipment, AlarmAction action,
                   std::string_view actor, TimePoint now, std::vector<AlarmEvent>& out,
                   const ActionDetails& then);
    void event(const PlantEvent& input, TimePoint now, std::vector<AlarmEvent>& out);
};

}  // namespace fw::rules
