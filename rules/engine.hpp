#pragma once
// The rules engine: samples, plant events, operator commands and clock ticks in; AlarmEvent values
// out. Pure logic on one thread (the daemon's core io_context): no I/O, no locks, no clock reads —
// the caller passes the time of every input, so tests replay scenarios on a controlled clock.
//
//   samples ─┐                    ┌─ threshold / rate / health ──┐
//   events  ─┼─> channel id ─────>┤                              ├─> debounce (on/off delay)
//   ticks   ─┘                    └─ compound / recurrence <─────┘        │
//                                                                         ▼
//            schedule + suppression ──> alarm state machine (ISA-18.2) ──> AlarmEvent values
//
// Delays, windows and shelving run on the monotonic time; schedules on wall time in the plant's
// zone. A wall-clock jump therefore neither fires nor cancels a delay.

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/core/plant_event.hpp"
#include "daemon/core/result.hpp"
#include "daemon/core/sample.hpp"
#include "daemon/core/time_zone.hpp"
#include "rules/alarm.hpp"
#include "rules/rule_check.hpp"
#include "rules/rule_config.hpp"
#include "rules/schedule.hpp"

namespace fw::rules {

// Thrown when rules cannot be compiled or a snapshot cannot be restored; the message says which
// rule or key and what to change.
class RulesError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct EngineSetup {
    std::vector<RuleConfig> rules;  // as written, templates not yet expanded
    RuleCatalog catalog;
    TimeZone zone;
};

// A rule after template expansion, with its version: the first 16 hex digits of a hash of its
// definition, recorded on every alarm event so a changed rule is visible in the history.
struct RuleInfo {
    RuleConfig config;
    std::string version;
};

// One alarm as an operator sees it.
struct AlarmView {
    std::string rule_id;
    std::string rule_version;
    std::string equipment;
    std::string area;
    AlarmState state = AlarmState::normal;
    AlarmStatus status;
    Severity severity = Severity::warning;
    double value = std::numeric_limits<double>::quiet_NaN();
    std::string detail;
    bool chattering = false;
    std::int64_t shelved_until_wall_ms = 0;
    std::string shelved_by;
    std::string reason;  // shelving or out-of-service reason
};

// How many inputs the engine turned away, for the daemon's counters.
struct EngineCounters {
    std::uint64_t samples = 0;
    std::uint64_t samples_unknown_channel = 0;
    std::uint64_t samples_bad_quality = 0;
    std::uint64_t events = 0;
};

class Engine {
  public:
    using ChannelId = std::uint32_t;
    static constexpr std::int64_t kChatterWindowMs = 60'000;
    static constexpr std::size_t kChatterActivations = 3;
    static constexpr std::int64_t kFloodWindowMs = 600'000;
    static constexpr std::size_t kFloodActivations = 10;    // more than this is a flood
    static constexpr std::size_t kFloodEndActivations = 5;  // at most this ends it

    // Throws RulesError listing every problem (the same checks the config loader makes).
    Engine(EngineSetup setup, TimePoint start);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // The one string lookup per sample; nullopt for channels no rule reads.
    std::optional<ChannelId> channel_id(std::string_view channel) const;

    // Events are appended to `out`, which is not cleared.
    void on_sample(const Sample& sample, TimePoint now, std::vector<AlarmEvent>& out);
    void on_sample(ChannelId channel, double value, Quality quality, TimePoint now,
                   std::vector<AlarmEvent>& out);
    // Plant events feed compound rules: an event with equipment counts for that equipment's
    // rules, one without for every rule in its area (or everywhere when it has no area).
    void on_event(const PlantEvent& event, TimePoint now, std::vector<AlarmEvent>& out);
    // Delays, windows, staleness, schedules and shelving expiry advance here, so they are as
    // precise as the calls are frequent: the daemon calls it every 500 ms (daemon/alarms).
    void on_tick(TimePoint now, std::vector<AlarmEvent>& out);

    // Operator commands on the alarm (rule, equipment): an error says why it was refused, for
    // the operator.
    Status acknowledge(std::string_view rule, std::string_view equipment, std::string_view actor,
                       TimePoint now, std::vector<AlarmEvent>& out);
    Status shelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                  std::int64_t duration_ms, std::string_view reason, TimePoint now,
                  std::vector<AlarmEvent>& out);
    Status unshelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                    TimePoint now, std::vector<AlarmEvent>& out);
    Status remove_from_service(std::string_view rule, std::string_view equipment,
                               std::string_view actor, std::string_view reason, TimePoint now,
                               std::vector<AlarmEvent>& out);
    Status return_to_service(std::string_view rule, std::string_view equipment,
                             std::string_view actor, TimePoint now, std::vector<AlarmEvent>& out);
    static constexpr std::int64_t kMaxShelveMs = 30LL * 24 * 3600 * 1000;

    std::vector<AlarmView> alarms() const;
    std::vector<RuleInfo> rules() const;
    const RuleInfo* find_rule(std::string_view id) const;
    const EngineCounters& counters() const;

    // Everything that must survive a restart (delays in progress, windows, alarm states,
    // shelving) as JSON text. Times are stored against `now`, so a restore after a reboot (a new
    // monotonic epoch) ages them by the wall time that passed while the daemon was down.
    std::string snapshot(TimePoint now) const;
    // Restores into a freshly built engine. State of rules whose version changed is dropped
    // (their alarms keep operator state: shelving, out of service). Throws RulesError on a
    // snapshot that is not one.
    void restore(std::string_view snapshot, TimePoint now);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fw::rules
