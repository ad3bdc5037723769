#include "rules/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "daemon/core/units.hpp"
#include "rules/rule_fields.hpp"
#include "rules/templates.hpp"

namespace fw::rules {
namespace {

constexpr int kNoLevel = -1;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
// A rate window keeps at most this many points; beyond it every other one is dropped, which can
// only make a rise look smaller by less than the thinned steps, never larger.
constexpr std::size_t kRateWindowCap = 4096;

bool is_set(double value) {
    return !std::isnan(value);
}

std::string number_text(double value) {
    return fmt::format("{}", value);
}

// A measured change for people: 10.7, not the 10.700000000000003 that subtraction leaves.
std::string reading_text(double value) {
    return fmt::format("{:.4g}", value);
}

}  // namespace

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

    ChannelId intern(const std::string& channel) {
        const auto [found, inserted] =
            channel_ids.emplace(channel, static_cast<ChannelId>(channel_names.size()));
        if (inserted) {
            channel_names.push_back(channel);
            rules_by_channel.emplace_back();
            suppressed_by_channel.emplace_back();
            channel_values.push_back(std::numeric_limits<double>::quiet_NaN());
        }
        return found->second;
    }

    std::size_t add_instance(std::size_t rule, const std::string& equipment, TimePoint start) {
        Instance instance;
        instance.rule = rule;
        instance.equipment = equipment;
        const auto area = setup.catalog.equipment_area.find(equipment);
        if (area != setup.catalog.equipment_area.end()) instance.area = area->second;
        instance.last_good = start.mono_ms;
        instance.seen.assign(rules[rule].info.config.conditions.size(), kNever);
        instance_by_key.emplace(key_of(rules[rule].info.config.id, equipment), instances.size());
        rules[rule].instances.push_back(instances.size());
        instances.push_back(std::move(instance));
        return instances.size() - 1;
    }

    void compile(TimePoint start) {
        const auto issues = check_rules(setup.rules, setup.catalog);
        if (!issues.empty()) {
            std::string message = "the rules cannot be used:";
            for (const auto& issue : issues) {
                message += fmt::format("\n  rules[{}]{}{}: {}", issue.index,
                                       issue.key.empty() ? "" : ".", issue.key, issue.message);
            }
            throw RulesError(message);
        }
        std::vector<std::string> errors;
        for (const auto& entry : setup.rules) {
            for (auto& rule : expand_rule(entry, errors)) {
                Compiled compiled;
                compiled.info.version = rule_version(rule);
                rule.equipment = rule_equipment(rule, setup.catalog);
                compiled.hazard = rule_hazard(rule);
                compiled.info.config = std::move(rule);
                rules.push_back(std::move(compiled));
            }
        }
        std::map<std::string, std::size_t, std::less<>> rule_index;
        for (std::size_t r = 0; r < rules.size(); ++r) {
            rule_index.emplace(rules[r].info.config.id, r);
        }
        for (std::size_t r = 0; r < rules.size(); ++r) {
            auto& compiled = rules[r];
            const RuleConfig& config = compiled.info.config;
            if (config.schedule) {
                // check_rules() above refused schedules that do not parse.
                if (auto parsed = parse_schedule(*config.schedule)) compiled.schedule = *parsed;
            }
            if (config.suppress_when) {
                const ChannelId id = intern(config.suppress_when->channel);
                compiled.suppress_channel = static_cast<int>(id);
                suppressed_by_channel[id].push_back(r);
            }
            switch (config.kind) {
                case RuleKind::threshold:
                case RuleKind::rate:
                case RuleKind::health: {
                    const ChannelId id = intern(config.channel);
                    compiled.channel = static_cast<int>(id);
                    rules_by_channel[id].push_back(r);
                    add_instance(r, config.equipment, start);
                    break;
                }
                case RuleKind::recurrence:
                    if (!config.equipment.empty()) {
                        add_instance(r, config.equipment, start);
                    } else {
                        for (const auto& [equipment, area] : setup.catalog.equipment_area) {
                            add_instance(r, equipment, start);
                        }
                    }
                    break;
                case RuleKind::compound:
                    compound_rules.push_back(r);
                    add_instance(r, config.equipment, start);
                    for (const auto& condition : config.conditions) {
                        const auto found = condition.rule.empty() ? rule_index.end()
                                                                  : rule_index.find(condition.rule);
                        compiled.condition_rule.push_back(
                            found == rule_index.end() ? -1 : static_cast<int>(found->second));
                        if (found != rule_index.end()) rules[found->second].feeds.push_back(r);
                    }
                    if (std::any_of(config.conditions.begin(), config.conditions.end(),
                                    [](const auto& c) { return !c.event.empty(); })) {
                        event_compounds.push_back(r);
                    }
                    break;
            }
        }
        // Recurrence rules count the activations of every other rule with their hazard type.
        for (std::size_t r = 0; r < rules.size(); ++r) {
            const RuleConfig& config = rules[r].info.config;
            if (config.kind != RuleKind::recurrence) continue;
            for (std::size_t other = 0; other < rules.size(); ++other) {
                const RuleConfig& candidate = rules[other].info.config;
                if (candidate.kind != RuleKind::recurrence && candidate.hazard &&
                    candidate.hazard->type == config.hazard_type) {
                    rules[other].feeds.push_back(r);
                }
            }
        }
    }

    Instance* find_instance(std::string_view rule, std::string_view equipment) {
        const auto found = instance_by_key.find(key_of(rule, equipment));
        return found == instance_by_key.end() ? nullptr : &instances[found->second];
    }

    AlarmEvent make_event(const Instance& instance, AlarmAction action, AlarmState from,
                          TimePoint now) const {
        const auto& compiled = rules[instance.rule];
        AlarmEvent event;
        event.rule_id = compiled.info.config.id;
        event.rule_version = compiled.info.version;
        event.equipment = instance.equipment;
        event.area = instance.area;
        event.action = action;
        event.from = from;
        event.to = instance.status.state();
        event.severity = instance.severity;
        event.condition = instance.status.condition;
        event.value = instance.value;
        event.detail = instance.detail;
        event.time = now;
        event.chattering = instance.chattering;
        const auto flood = floods.find(instance.area);
        event.flood = flood != floods.end() && flood->second.active;
        event.escalation = compiled.info.config.kind == RuleKind::recurrence;
        event.rule_hazard = compiled.hazard;
        return event;
    }

    void apply(Instance& instance, AlarmAction action, TimePoint now,
               std::vector<AlarmEvent>& out) {
        const AlarmState from = instance.status.state();
        const bool condition_before = instance.status.condition;
        instance.status = apply_action(instance.status, action).value_or(instance.status);
        if (from != instance.status.state() || condition_before != instance.status.condition) {
            out.push_back(make_event(instance, action, from, now));
        }
    }

    // --- alarm side ------------------------------------------------------------------------

    void activated(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        auto& recent = instance.recent_activations;
        while (!recent.empty() && recent.front() <= now.mono_ms - kChatterWindowMs) {
            recent.pop_front();
        }
        // A debounced activation: the first after a quiet minute. Bursts count once.
        const bool counts = recent.empty() && !instance.chattering;
        recent.push_back(now.mono_ms);
        const bool starts_chattering = !instance.chattering && recent.size() >= kChatterActivations;
        if (starts_chattering) instance.chattering = true;

        auto& flood = floods[instance.area];
        flood.activations.push_back(now.mono_ms);
        while (flood.activations.front() <= now.mono_ms - kFloodWindowMs) {
            flood.activations.pop_front();
        }
        const bool starts_flood = !flood.active && flood.activations.size() > kFloodActivations;
        if (starts_flood) flood.active = true;

        apply(instance, AlarmAction::activate, now, out);
        if (starts_chattering) {
            out.push_back(
                make_event(instance, AlarmAction::chattering, instance.status.state(), now));
        }
        if (starts_flood) out.push_back(flood_event(instance.area, true, now));

        const bool meaningful = !instance.status.suppressed && !instance.status.out_of_service;
        for (const std::size_t fed : rules[instance.rule].feeds) {
            Instance* target = find_instance(rules[fed].info.config.id, instance.equipment);
            if (target == nullptr) continue;
            const std::size_t target_index = static_cast<std::size_t>(target - instances.data());
            if (rules[fed].info.config.kind == RuleKind::recurrence) {
                if (!counts || !meaningful) continue;
                target->activations.push_back(now.mono_ms);
                evaluate_recurrence(target_index, now, out);
            } else {
                note_rule_condition(target_index, instance.rule, now, out);
            }
        }
    }

    void cleared(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        apply(instances[index], AlarmAction::clear, now, out);
        for (const std::size_t fed : rules[instances[index].rule].feeds) {
            if (rules[fed].info.config.kind != RuleKind::compound) continue;
            Instance* target = find_instance(rules[fed].info.config.id, instances[index].equipment);
            if (target != nullptr) {
                evaluate_compound(static_cast<std::size_t>(target - instances.data()), now, out);
            }
        }
    }

    AlarmEvent flood_event(const std::string& area, bool starts, TimePoint now) const {
        AlarmEvent event;
        event.area = area;
        event.action = starts ? AlarmAction::flood : AlarmAction::flood_end;
        event.time = now;
        event.flood = starts;
        event.detail = fmt::format("{} activations in 10m", floods.at(area).activations.size());
        return event;
    }

    void set_level(std::size_t index, int level, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        const int old = instance.debounced;
        instance.debounced = level;
        if (level != kNoLevel) instance.severity = static_cast<Severity>(level);
        if (old == kNoLevel && level != kNoLevel) {
            activated(index, now, out);
        } else if (old != kNoLevel && level == kNoLevel) {
            cleared(index, now, out);
        } else {
            const AlarmState state = instance.status.state();
            out.push_back(make_event(instance, AlarmAction::severity_change, state, now));
        }
    }

    void debounce(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        if (instance.raw == instance.debounced || !instance.value_known) {
            instance.pending_active = false;
            return;
        }
        if (!instance.pending_active || instance.pending != instance.raw) {
            instance.pending = instance.raw;
            instance.pending_since = now.mono_ms;
            instance.pending_active = true;
        }
        const RuleConfig& config = config_of(instance);
        const Millis delay = instance.raw > instance.debounced ? config.on_delay : config.off_delay;
        if (now.mono_ms - instance.pending_since >= delay.count()) {
            instance.pending_active = false;
            set_level(index, instance.raw, now, out);
        }
    }

    // --- rule kinds ------------------------------------------------------------------------

    void evaluate_threshold(Instance& instance, double value) {
        const RuleConfig& config = config_of(instance);
        int level = kNoLevel;
        for (std::size_t i = 0; i < config.limits.size(); ++i) {
            const auto& limit = config.limits[i];
            const std::uint32_t bit = 1U << i;
            const bool was_in = (instance.limit_mask & bit) != 0;
            // Once in, a limit is left only past the deadband, so noise at the limit does not
            // make the alarm come and go.
            const bool in =
                is_set(limit.above)
                    ? (was_in ? value > limit.above - config.deadband : value > limit.above)
                    : (was_in ? value < limit.below + config.deadband : value < limit.below);
            instance.limit_mask = in ? (instance.limit_mask | bit) : (instance.limit_mask & ~bit);
            if (in && static_cast<int>(limit.severity) > level) {
                level = static_cast<int>(limit.severity);
                instance.detail = is_set(limit.above)
                                      ? fmt::format("above {}", number_text(limit.above))
                                      : fmt::format("below {}", number_text(limit.below));
            }
        }
        instance.raw = level;
    }

    void evaluate_rate(Instance& instance, std::int64_t now_mono) {
        const RuleConfig& config = config_of(instance);
        auto& window = instance.window;
        while (!window.empty() && window.front().first < now_mono - config.window.count()) {
            window.pop_front();
        }
        if (window.empty() || !instance.value_known) return;
        const double change = is_set(config.rise) ? instance.value - window.front().second
                                                  : window.front().second - instance.value;
        // Once active, the change must drop the deadband below what activated it, so a rate
        // hovering at the limit does not make the alarm come and go.
        const double needed = (is_set(config.rise) ? config.rise : config.fall) -
                              (instance.raw != kNoLevel ? config.deadband : 0.0);
        instance.raw = change >= needed ? static_cast<int>(config.severity) : kNoLevel;
        instance.detail = fmt::format("{} {} in {}", is_set(config.rise) ? "rise" : "fall",
                                      reading_text(change), format_duration(config.window));
    }

    void add_rate_point(Instance& instance, double value, std::int64_t now_mono) {
        const bool rise = is_set(config_of(instance).rise);
        auto& window = instance.window;
        // Keeps only points that can still be the window's minimum (rise) or maximum (fall).
        while (!window.empty() &&
               (rise ? window.back().second >= value : window.back().second <= value)) {
            window.pop_back();
        }
        window.emplace_back(now_mono, value);
        if (window.size() > kRateWindowCap) {
            std::deque<std::pair<std::int64_t, double>> thinned;
            for (std::size_t i = 0; i < window.size(); i += 2) thinned.push_back(window[i]);
            if (thinned.back() != window.back()) thinned.push_back(window.back());
            window.swap(thinned);
        }
    }

    void evaluate_health(Instance& instance, std::int64_t now_mono) {
        const RuleConfig& config = config_of(instance);
        std::string detail;
        if (config.stale_after.count() > 0 &&
            now_mono - instance.last_good >= config.stale_after.count()) {
            detail =
                fmt::format("stale: no good sample for {}", format_duration(config.stale_after));
        } else if (config.frozen_after.count() > 0 && instance.has_good &&
                   now_mono - instance.frozen_since >= config.frozen_after.count()) {
            detail = fmt::format("frozen: unchanged for {}", format_duration(config.frozen_after));
        } else if (instance.has_good && ((is_set(config.min) && instance.value < config.min) ||
                                         (is_set(config.max) && instance.value > config.max))) {
            detail = "out of range";
        }
        instance.raw = detail.empty() ? kNoLevel : static_cast<int>(config.severity);
        if (!detail.empty()) instance.detail = std::move(detail);
    }

    void evaluate_recurrence(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        const RuleConfig& config = config_of(instance);
        auto& activations = instance.activations;
        while (!activations.empty() && activations.front() <= now.mono_ms - config.window.count()) {
            activations.pop_front();
        }
        instance.raw = static_cast<std::int64_t>(activations.size()) >= config.count
                           ? static_cast<int>(config.severity)
                           : kNoLevel;
        instance.detail =
            fmt::format("{} in {}", activations.size(), format_duration(config.window));
        debounce(index, now, out);
    }

    void note_rule_condition(std::size_t index, std::size_t source_rule, TimePoint now,
                             std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        const auto& conditions = rules[instance.rule].condition_rule;
        for (std::size_t i = 0; i < conditions.size(); ++i) {
            if (conditions[i] == static_cast<int>(source_rule)) instance.seen[i] = now.mono_ms;
        }
        evaluate_compound(index, now, out);
    }

    void evaluate_compound(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        const auto& compiled = rules[instance.rule];
        const RuleConfig& config = compiled.info.config;
        const std::int64_t since = now.mono_ms - config.window.count();
        const auto active_now = [&](std::size_t i) {
            if (compiled.condition_rule[i] < 0) return false;
            const Instance* source = find_instance(
                rules[static_cast<std::size_t>(compiled.condition_rule[i])].info.config.id,
                instance.equipment);
            return source != nullptr && source->debounced != kNoLevel;
        };
        const auto recent = [&](std::size_t i) {
            return instance.seen[i] != kNever && instance.seen[i] >= since;
        };
        bool holds = false;
        const std::size_t count = instance.seen.size();
        switch (config.mode) {
            case CompoundMode::all_of:
                holds = true;
                for (std::size_t i = 0; i < count; ++i)
                    holds = holds && (active_now(i) || recent(i));
                break;
            case CompoundMode::any_of:
                for (std::size_t i = 0; i < count; ++i) holds = holds || active_now(i) || recent(i);
                break;
            case CompoundMode::sequence:
                // Each condition after the one before it, all within the window of the first.
                holds = count > 0 && recent(0);
                for (std::size_t i = 1; i < count && holds; ++i) {
                    holds = instance.seen[i] != kNever && instance.seen[i] >= instance.seen[i - 1];
                }
                break;
        }
        instance.raw = holds ? static_cast<int>(config.severity) : kNoLevel;
        instance.detail = std::string(compound_mode_name(config.mode));
        debounce(index, now, out);
    }

    // --- suppression and schedules ----------------------------------------------------------

    void update_hidden(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
        Instance& instance = instances[index];
        const bool want = instance.outside_schedule || instance.suppressed_by_condition;
        if (want == instance.status.suppressed) return;
        const std::size_t before = out.size();
        apply(instance, want ? AlarmAction::suppress : AlarmAction::unsuppress, now, out);
        if (out.size() > before) {
            out.back().detail = !want                       ? "released"
                                : instance.outside_schedule ? "outside schedule"
                                                            : "suppress_when holds";
        }
    }

    void refresh_schedules(TimePoint now, std::vector<AlarmEvent>& out) {
        // Schedule boundaries fall on whole minutes, so one look per wall minute is exact.
        const std::int64_t minute =
            now.wall_ms >= 0 ? now.wall_ms / 60000 : (now.wall_ms - 59999) / 60000;
        if (minute == schedule_minute) return;
        schedule_minute = minute;
        std::optional<LocalTime> local;
        for (const auto& compiled : rules) {
            if (!compiled.schedule) continue;
            if (!local) local = setup.zone.local_time(now.wall_ms);
            const bool outside = !compiled.schedule->active_at(*local);
            for (const std::size_t index : compiled.instances) {
                instances[index].outside_schedule = outside;
                update_hidden(index, now, out);
            }
        }
    }

    void update_suppression_channel(ChannelId channel, TimePoint now,
                                    std::vector<AlarmEvent>& out) {
        const double value = channel_values[channel];
        for (const std::size_t r : suppressed_by_channel[channel]) {
            const auto& when = *rules[r].info.config.suppress_when;
            // An unknown machine state hides nothing.
            const bool holds =
                is_set(value) && (is_set(when.above) ? value > when.above : value < when.below);
            for (const std::size_t index : rules[r].instances) {
                instances[index].suppressed_by_condition = holds;
                update_hidden(index, now, out);
            }
        }
    }

    // --- inputs -----------------------------------------------------------------------------

    void sample(ChannelId channel, double value, Quality quality, TimePoint now,
                std::vector<AlarmEvent>& out) {
        ++counters.samples;
        refresh_schedules(now, out);
        const bool good = quality == Quality::good && std::isfinite(value);
        if (!good) ++counters.samples_bad_quality;
        if (!suppressed_by_channel[channel].empty()) {
            channel_values[channel] = good ? value : std::numeric_limits<double>::quiet_NaN();
            update_suppression_channel(channel, now, out);
        }
        for (const std::size_t r : rules_by_channel[channel]) {
            const RuleConfig& config = rules[r].info.config;
            for (const std::size_t index : rules[r].instances) {
                Instance& instance = instances[index];
                switch (config.kind) {
                    case RuleKind::threshold:
                        instance.value_known = good;
                        if (good) {
                            instance.value = value;
                            evaluate_threshold(instance, value);
                        }
                        break;
                    case RuleKind::rate:
                        instance.value_known = good;
                        if (good) {
                            instance.value = value;
                            add_rate_point(instance, value, now.mono_ms);
                            evaluate_rate(instance, now.mono_ms);
                        }
                        break;
                    case RuleKind::health:
                        if (good) {
                            instance.value = value;
                            instance.last_good = now.mono_ms;
                            if (!instance.has_good ||
                                std::abs(value - instance.frozen_value) > config.frozen_tolerance) {
                                instance.frozen_value = value;
                                instance.frozen_since = now.mono_ms;
                            }
                            instance.has_good = true;
                        }
                        evaluate_health(instance, now.mono_ms);
                        break;
                    default:
                        break;
                }
                debounce(index, now, out);
            }
        }
    }

    void tick(TimePoint now, std::vector<AlarmEvent>& out) {
        refresh_schedules(now, out);
        for (std::size_t index = 0; index < instances.size(); ++index) {
            Instance& instance = instances[index];
            const RuleConfig& config = config_of(instance);
            switch (config.kind) {
                case RuleKind::threshold:
                    debounce(index, now, out);
                    break;
                case RuleKind::rate:
                    evaluate_rate(instance, now.mono_ms);
                    debounce(index, now, out);
                    break;
                case RuleKind::health:
                    evaluate_health(instance, now.mono_ms);
                    debounce(index, now, out);
                    break;
                case RuleKind::recurrence:
                    evaluate_recurrence(index, now, out);
                    break;
                case RuleKind::compound:
                    evaluate_compound(index, now, out);
                    break;
            }
            if (instance.status.shelved && now.mono_ms >= instance.shelved_until_mono) {
                const AlarmState from = instance.status.state();
                instance.status =
                    apply_action(instance.status, AlarmAction::unshelve).value_or(instance.status);
                AlarmEvent event = make_event(instance, AlarmAction::unshelve, from, now);
                event.actor = "system";
                event.reason = "shelving expired";
                out.push_back(std::move(event));
                instance.shelved_by.clear();
                instance.reason.clear();
            }
            if (instance.chattering) {
                auto& recent = instance.recent_activations;
                while (!recent.empty() && recent.front() <= now.mono_ms - kChatterWindowMs) {
                    recent.pop_front();
                }
                if (recent.empty()) {
                    instance.chattering = false;
                    out.push_back(make_event(instance, AlarmAction::chattering_end,
                                             instance.status.state(), now));
                }
            }
        }
        for (auto& [area, flood] : floods) {
            while (!flood.activations.empty() &&
                   flood.activations.front() <= now.mono_ms - kFloodWindowMs) {
                flood.activations.pop_front();
            }
            if (flood.active && flood.activations.size() <= kFloodEndActivations) {
                flood.active = false;
                out.push_back(flood_event(area, false, now));
            }
        }
    }

    // Runs an operator action on one alarm; the event records who. An error says why it was
    // refused.
    Status operate(std::string_view rule, std::string_view equipment, AlarmAction action,
                   std::string_view actor, TimePoint now, Instance*& instance, AlarmEvent& event) {
        instance = find_instance(rule, equipment);
        if (instance == nullptr) {
            return Error{fmt::format("no alarm for rule '{}' on equipment '{}'", rule, equipment)};
        }
        const AlarmState from = instance->status.state();
        const auto next = apply_action(instance->status, action);
        if (!next) return Error{next.error()};
        instance->status = *next;
        event = make_event(*instance, action, from, now);
        event.actor = std::string(actor);
        return {};
    }

    void event(const PlantEvent& input, TimePoint now, std::vector<AlarmEvent>& out) {
        ++counters.events;
        refresh_schedules(now, out);
        for (const std::size_t r : event_compounds) {
            const RuleConfig& config = rules[r].info.config;
            for (const std::size_t index : rules[r].instances) {
                Instance& instance = instances[index];
                const bool applies = input.equipment == instance.equipment ||
                                     (input.equipment.empty() &&
                                      (input.area.empty() || input.area == instance.area));
                if (!applies) continue;
                bool matched = false;
                for (std::size_t i = 0; i < config.conditions.size(); ++i) {
                    if (config.conditions[i].event == input.name) {
                        instance.seen[i] = now.mono_ms;
                        matched = true;
                    }
                }
                if (matched) {
                    instance.value = std::numeric_limits<double>::quiet_NaN();
                    evaluate_compound(index, now, out);
                }
            }
        }
    }
};

// --- snapshot ---------------------------------------------------------------------------------

namespace {

constexpr std::string_view kSnapshotFormat = "floorwatch-rules-snapshot";
constexpr std::int64_t kSnapshotVersion = 1;

// Times are stored as ages relative to the snapshot's monotonic time (negative = in the future).
boost::json::value age_of(std::int64_t time, std::int64_t now_mono) {
    if (time == kNever) return nullptr;
    return now_mono - time;
}

boost::json::value number_or_null(double value) {
    if (!std::isfinite(value)) return nullptr;
    return value;
}

boost::json::array ages(const std::deque<std::int64_t>& times, std::int64_t now_mono) {
    boost::json::array array;
    for (const auto time : times) array.push_back(now_mono - time);
    return array;
}

class SnapshotReader {
  public:
    SnapshotReader(std::int64_t now_mono, std::int64_t downtime)
        : now_mono_(now_mono), downtime_(downtime) {}

    std::int64_t time(const boost::json::value& age) const {
        if (age.is_null()) return kNever;
        return now_mono_ - age.to_number<std::int64_t>() - downtime_;
    }
    std::deque<std::int64_t> times(const boost::json::value& array) const {
        std::deque<std::int64_t> result;
        for (const auto& age : array.as_array()) result.push_back(time(age));
        return result;
    }

  private:
    std::int64_t now_mono_;
    std::int64_t downtime_;
};

double double_or_nan(const boost::json::value& value) {
    return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.to_number<double>();
}

}  // namespace

std::string Engine::snapshot(TimePoint now) const {
    const Impl& impl = *impl_;
    boost::json::object root;
    root["format"] = kSnapshotFormat;
    root["version"] = kSnapshotVersion;
    root["mono_ms"] = now.mono_ms;
    root["wall_ms"] = now.wall_ms;
    boost::json::array floods;
    for (const auto& [area, flood] : impl.floods) {
        floods.push_back(
            boost::json::object{{"area", area},
                                {"active", flood.active},
                                {"activations", ages(flood.activations, now.mono_ms)}});
    }
    root["floods"] = std::move(floods);
    boost::json::array alarms;
    for (const auto& instance : impl.instances) {
        const auto& compiled = impl.rules[instance.rule];
        boost::json::object alarm;
        alarm["rule"] = compiled.info.config.id;
        alarm["version"] = compiled.info.version;
        alarm["equipment"] = instance.equipment;
        alarm["base"] = alarm_state_name(instance.status.base);
        alarm["condition"] = instance.status.condition;
        alarm["shelved"] = instance.status.shelved;
        alarm["suppressed"] = instance.status.suppressed;
        alarm["out_of_service"] = instance.status.out_of_service;
        alarm["severity"] = severity_name(instance.severity);
        alarm["shelved_until"] = age_of(instance.shelved_until_mono, now.mono_ms);
        alarm["shelved_until_wall"] = instance.shelved_until_wall;
        alarm["shelved_by"] = instance.shelved_by;
        alarm["reason"] = instance.reason;
        alarm["recent_activations"] = ages(instance.recent_activations, now.mono_ms);
        alarm["chattering"] = instance.chattering;
        boost::json::object state;
        state["raw"] = instance.raw;
        state["debounced"] = instance.debounced;
        state["pending"] = instance.pending;
        state["pending_active"] = instance.pending_active;
        state["pending_since"] = age_of(instance.pending_since, now.mono_ms);
        state["value_known"] = instance.value_known;
        state["value"] = number_or_null(instance.value);
        state["detail"] = instance.detail;
        state["limit_mask"] = instance.limit_mask;
        boost::json::array window;
        for (const auto& [time, value] : instance.window) {
            window.push_back(boost::json::array{now.mono_ms - time, value});
        }
        state["window"] = std::move(window);
        state["last_good"] = age_of(instance.last_good, now.mono_ms);
        state["frozen_value"] = number_or_null(instance.frozen_value);
        state["frozen_since"] = age_of(instance.frozen_since, now.mono_ms);
        state["has_good"] = instance.has_good;
        state["activations"] = ages(instance.activations, now.mono_ms);
        boost::json::array seen;
        for (const auto time : instance.seen) seen.push_back(age_of(time, now.mono_ms));
        state["seen"] = std::move(seen);
        state["outside_schedule"] = instance.outside_schedule;
        state["suppressed_by_condition"] = instance.suppressed_by_condition;
        alarm["rule_state"] = std::move(state);
        alarms.push_back(std::move(alarm));
    }
    root["alarms"] = std::move(alarms);
    return boost::json::serialize(root);
}

void Engine::restore(std::string_view snapshot, TimePoint now) {
    Impl& impl = *impl_;
    try {
        const boost::json::value document = boost::json::parse(snapshot);
        const auto& root = document.as_object();
        if (root.at("format").as_string() != kSnapshotFormat ||
            root.at("version").to_number<std::int64_t>() != kSnapshotVersion) {
            throw RulesError("the rules state snapshot has an unknown format or version");
        }
        // While the daemon was down the monotonic clock may have restarted; wall time is the
        // only measure of the gap. A wall clock that went back counts as no gap.
        const std::int64_t downtime =
            std::max<std::int64_t>(0, now.wall_ms - root.at("wall_ms").to_number<std::int64_t>());
        const SnapshotReader reader(now.mono_ms, downtime);
        for (const auto& item : root.at("floods").as_array()) {
            const auto& flood = item.as_object();
            auto& target = impl.floods[std::string(flood.at("area").as_string())];
            target.active = flood.at("active").as_bool();
            target.activations = reader.times(flood.at("activations"));
        }
        for (const auto& item : root.at("alarms").as_array()) {
            const auto& alarm = item.as_object();
            Impl::Instance* instance =
                impl.find_instance(alarm.at("rule").as_string(), alarm.at("equipment").as_string());
            if (instance == nullptr) continue;  // the rule is gone from the config
            const auto base = alarm_state_from_name(alarm.at("base").as_string());
            const auto severity = severity_from_name(alarm.at("severity").as_string());
            if (!base || !severity) throw RulesError("unknown alarm state or severity");
            instance->status.base = *base;
            instance->status.condition = alarm.at("condition").as_bool();
            instance->status.shelved = alarm.at("shelved").as_bool();
            instance->status.suppressed = alarm.at("suppressed").as_bool();
            instance->status.out_of_service = alarm.at("out_of_service").as_bool();
            instance->severity = *severity;
            instance->shelved_until_mono = reader.time(alarm.at("shelved_until"));
            instance->shelved_until_wall = alarm.at("shelved_until_wall").to_number<std::int64_t>();
            instance->shelved_by = alarm.at("shelved_by").as_string();
            instance->reason = alarm.at("reason").as_string();
            instance->recent_activations = reader.times(alarm.at("recent_activations"));
            instance->chattering = alarm.at("chattering").as_bool();
            const auto& state = alarm.at("rule_state").as_object();
            instance->outside_schedule = state.at("outside_schedule").as_bool();
            instance->suppressed_by_condition = state.at("suppressed_by_condition").as_bool();
            if (alarm.at("version").as_string() != impl.rules[instance->rule].info.version) {
                // A changed rule starts its evaluation afresh from the alarm as it stands, so
                // its next good input can clear or keep it.
                instance->debounced =
                    instance->status.condition ? static_cast<int>(instance->severity) : kNoLevel;
                instance->raw = instance->debounced;
                continue;
            }
            instance->raw = static_cast<int>(state.at("raw").to_number<std::int64_t>());
            instance->debounced = static_cast<int>(state.at("debounced").to_number<std::int64_t>());
            instance->pending = static_cast<int>(state.at("pending").to_number<std::int64_t>());
            instance->pending_active = state.at("pending_active").as_bool();
            instance->pending_since = reader.time(state.at("pending_since"));
            instance->value_known = state.at("value_known").as_bool();
            instance->value = double_or_nan(state.at("value"));
            instance->detail = state.at("detail").as_string();
            instance->limit_mask =
                static_cast<std::uint32_t>(state.at("limit_mask").to_number<std::int64_t>());
            instance->window.clear();
            for (const auto& point : state.at("window").as_array()) {
                const auto& pair = point.as_array();
                instance->window.emplace_back(reader.time(pair.at(0)),
                                              pair.at(1).to_number<double>());
            }
            instance->last_good = reader.time(state.at("last_good"));
            instance->frozen_value = double_or_nan(state.at("frozen_value"));
            instance->frozen_since = reader.time(state.at("frozen_since"));
            instance->has_good = state.at("has_good").as_bool();
            instance->activations = reader.times(state.at("activations"));
            const auto& seen = state.at("seen").as_array();
            for (std::size_t i = 0; i < instance->seen.size() && i < seen.size(); ++i) {
                instance->seen[i] = reader.time(seen[i]);
            }
        }
    } catch (const RulesError&) {
        throw;
    } catch (const std::exception& error) {
        throw RulesError(
            fmt::format("the rules state snapshot cannot be read ({}); alarms start "
                        "from normal if it is removed",
                        error.what()));
    }
    impl.schedule_minute = kNever;
}

// --- public surface -----------------------------------------------------------------------------

Engine::Engine(EngineSetup setup, TimePoint start) : impl_(std::make_unique<Impl>()) {
    impl_->setup = std::move(setup);
    impl_->compile(start);
}

Engine::~Engine() = default;

std::optional<Engine::ChannelId> Engine::channel_id(std::string_view channel) const {
    const auto found = impl_->channel_ids.find(std::string(channel));
    if (found == impl_->channel_ids.end()) return std::nullopt;
    return found->second;
}

void Engine::on_sample(const Sample& sample, TimePoint now, std::vector<AlarmEvent>& out) {
    const auto found = impl_->channel_ids.find(sample.channel);
    if (found == impl_->channel_ids.end()) {
        ++impl_->counters.samples_unknown_channel;
        return;
    }
    impl_->sample(found->second, sample.value, sample.quality, now, out);
}

void Engine::on_sample(ChannelId channel, double value, Quality quality, TimePoint now,
                       std::vector<AlarmEvent>& out) {
    impl_->sample(channel, value, quality, now, out);
}

void Engine::on_event(const PlantEvent& event, TimePoint now, std::vector<AlarmEvent>& out) {
    impl_->event(event, now, out);
}

void Engine::on_tick(TimePoint now, std::vector<AlarmEvent>& out) {
    impl_->tick(now, out);
}

Status Engine::acknowledge(std::string_view rule, std::string_view equipment,
                           std::string_view actor, TimePoint now, std::vector<AlarmEvent>& out) {
    Impl::Instance* instance = nullptr;
    AlarmEvent event;
    if (auto operated =
            impl_->operate(rule, equipment, AlarmAction::acknowledge, actor, now, instance, event);
        !operated) {
        return operated;
    }
    out.push_back(std::move(event));
    return {};
}

Status Engine::shelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                      std::int64_t duration_ms, std::string_view reason, TimePoint now,
                      std::vector<AlarmEvent>& out) {
    if (duration_ms <= 0 || duration_ms > kMaxShelveMs) {
        return Error{fmt::format("a shelving lasts from 1 ms to {}; got {} ms",
                                 format_duration(Millis(kMaxShelveMs)), duration_ms)};
    }
    if (reason.empty()) return Error{"shelving needs a reason"};
    Impl::Instance* instance = nullptr;
    AlarmEvent event;
    if (auto operated =
            impl_->operate(rule, equipment, AlarmAction::shelve, actor, now, instance, event);
        !operated) {
        return operated;
    }
    instance->shelved_until_mono = now.mono_ms + duration_ms;
    instance->shelved_until_wall = now.wall_ms + duration_ms;
    instance->shelved_by = std::string(actor);
    instance->reason = std::string(reason);
    event.reason = std::string(reason);
    event.shelved_until_wall_ms = instance->shelved_until_wall;
    out.push_back(std::move(event));
    return {};
}

Status Engine::unshelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                        TimePoint now, std::vector<AlarmEvent>& out) {
    Impl::Instance* instance = nullptr;
    AlarmEvent event;
    if (auto operated =
            impl_->operate(rule, equipment, AlarmAction::unshelve, actor, now, instance, event);
        !operated) {
        return operated;
    }
    instance->shelved_by.clear();
    instance->reason.clear();
    out.push_back(std::move(event));
    return {};
}

Status Engine::remove_from_service(std::string_view rule, std::string_view equipment,
                                   std::string_view actor, std::string_view reason, TimePoint now,
                                   std::vector<AlarmEvent>& out) {
    if (reason.empty()) return Error{"taking an alarm out of service needs a reason"};
    Impl::Instance* instance = nullptr;
    AlarmEvent event;
    if (auto operated = impl_->operate(rule, equipment, AlarmAction::remove_from_service, actor,
                                       now, instance, event);
        !operated) {
        return operated;
    }
    instance->reason = std::string(reason);
    instance->shelved_by.clear();
    event.reason = std::string(reason);
    out.push_back(std::move(event));
    return {};
}

Status Engine::return_to_service(std::string_view rule, std::string_view equipment,
                                 std::string_view actor, TimePoint now,
                                 std::vector<AlarmEvent>& out) {
    Impl::Instance* instance = nullptr;
    AlarmEvent event;
    if (auto operated = impl_->operate(rule, equipment, AlarmAction::return_to_service, actor, now,
                                       instance, event);
        !operated) {
        return operated;
    }
    instance->reason.clear();
    out.push_back(std::move(event));
    return {};
}

std::vector<AlarmView> Engine::alarms() const {
    std::vector<AlarmView> views;
    for (const auto& instance : impl_->instances) {
        const auto& compiled = impl_->rules[instance.rule];
        AlarmView view;
        view.rule_id = compiled.info.config.id;
        view.rule_version = compiled.info.version;
        view.equipment = instance.equipment;
        view.area = instance.area;
        view.state = instance.status.state();
        view.status = instance.status;
        view.severity = instance.severity;
        view.value = instance.value;
        view.detail = instance.detail;
        view.chattering = instance.chattering;
        view.shelved_until_wall_ms = instance.status.shelved ? instance.shelved_until_wall : 0;
        view.shelved_by = instance.shelved_by;
        view.reason = instance.reason;
        views.push_back(std::move(view));
    }
    return views;
}

std::vector<RuleInfo> Engine::rules() const {
    std::vector<RuleInfo> infos;
    for (const auto& compiled : impl_->rules) infos.push_back(compiled.info);
    return infos;
}

const RuleInfo* Engine::find_rule(std::string_view id) const {
    for (const auto& compiled : impl_->rules) {
        if (compiled.info.config.id == id) return &compiled.info;
    }
    return nullptr;
}

const EngineCounters& Engine::counters() const {
    return impl_->counters;
}

}  // namespace fw::rules
