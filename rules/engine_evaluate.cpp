// Evaluation: the rule kinds, debounce, the alarm side (chattering, floods, what a rule feeds),
// suppression and schedules, and the inputs (samples, plant events, ticks, operator actions).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "daemon/core/units.hpp"
#include "rules/engine_impl.hpp"

namespace fw::rules {
namespace {

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

// --- alarm side ----------------------------------------------------------------------------------

void Engine::Impl::activated(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
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
        out.push_back(make_event(instance, AlarmAction::chattering, instance.status.state(), now));
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

void Engine::Impl::cleared(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
    apply(instances[index], AlarmAction::clear, now, out);
    for (const std::size_t fed : rules[instances[index].rule].feeds) {
        if (rules[fed].info.config.kind != RuleKind::compound) continue;
        Instance* target = find_instance(rules[fed].info.config.id, instances[index].equipment);
        if (target != nullptr) {
            evaluate_compound(static_cast<std::size_t>(target - instances.data()), now, out);
        }
    }
}

AlarmEvent Engine::Impl::flood_event(const std::string& area, bool starts, TimePoint now) const {
    AlarmEvent event;
    event.area = area;
    event.action = starts ? AlarmAction::flood : AlarmAction::flood_end;
    event.time = now;
    event.flood = starts;
    event.detail = fmt::format("{} activations in 10m", floods.at(area).activations.size());
    return event;
}

void Engine::Impl::set_level(std::size_t index, int level, TimePoint now,
                             std::vector<AlarmEvent>& out) {
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

void Engine::Impl::debounce(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
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

// --- rule kinds ----------------------------------------------------------------------------------

void Engine::Impl::evaluate_threshold(Instance& instance, double value) {
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

void Engine::Impl::evaluate_rate(Instance& instance, std::int64_t now_mono) {
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

void Engine::Impl::add_rate_point(Instance& instance, double value, std::int64_t now_mono) {
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

void Engine::Impl::evaluate_health(Instance& instance, std::int64_t now_mono) {
    const RuleConfig& config = config_of(instance);
    std::string detail;
    if (config.stale_after.count() > 0 &&
        now_mono - instance.last_good >= config.stale_after.count()) {
        detail = fmt::format("stale: no good sample for {}", format_duration(config.stale_after));
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

void Engine::Impl::evaluate_recurrence(std::size_t index, TimePoint now,
                                       std::vector<AlarmEvent>& out) {
    Instance& instance = instances[index];
    const RuleConfig& config = config_of(instance);
    auto& activations = instance.activations;
    while (!activations.empty() && activations.front() <= now.mono_ms - config.window.count()) {
        activations.pop_front();
    }
    instance.raw = static_cast<std::int64_t>(activations.size()) >= config.count
                       ? static_cast<int>(config.severity)
                       : kNoLevel;
    instance.detail = fmt::format("{} in {}", activations.size(), format_duration(config.window));
    debounce(index, now, out);
}

void Engine::Impl::note_rule_condition(std::size_t index, std::size_t source_rule, TimePoint now,
                                       std::vector<AlarmEvent>& out) {
    Instance& instance = instances[index];
    const auto& conditions = rules[instance.rule].condition_rule;
    for (std::size_t i = 0; i < conditions.size(); ++i) {
        if (conditions[i] == static_cast<int>(source_rule)) instance.seen[i] = now.mono_ms;
    }
    evaluate_compound(index, now, out);
}

void Engine::Impl::evaluate_compound(std::size_t index, TimePoint now,
                                     std::vector<AlarmEvent>& out) {
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
            for (std::size_t i = 0; i < count; ++i) holds = holds && (active_now(i) || recent(i));
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

// --- suppression and schedules -------------------------------------------------------------------

void Engine::Impl::update_hidden(std::size_t index, TimePoint now, std::vector<AlarmEvent>& out) {
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

void Engine::Impl::refresh_schedules(TimePoint now, std::vector<AlarmEvent>& out) {
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

void Engine::Impl::update_suppression_channel(ChannelId channel, TimePoint now,
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

// --- inputs --------------------------------------------------------------------------------------

void Engine::Impl::sample(ChannelId channel, double value, Quality quality, TimePoint now,
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

void Engine::Impl::tick(TimePoint now, std::vector<AlarmEvent>& out) {
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

Status Engine::Impl::operate(std::string_view rule, std::string_view equipment, AlarmAction action,
                             std::string_view actor, TimePoint now, std::vector<AlarmEvent>& out,
                             const ActionDetails& then) {
    Instance* instance = find_instance(rule, equipment);
    if (instance == nullptr) {
        return Error{fmt::format("no alarm for rule '{}' on equipment '{}'", rule, equipment)};
    }
    const AlarmState from = instance->status.state();
    const auto next = apply_action(instance->status, action);
    if (!next) return Error{next.error()};
    instance->status = *next;
    AlarmEvent event = make_event(*instance, action, from, now);
    event.actor = std::string(actor);
    then(*instance, event);
    out.push_back(std::move(event));
    return {};
}

void Engine::Impl::event(const PlantEvent& input, TimePoint now, std::vector<AlarmEvent>& out) {
    ++counters.events;
    refresh_schedules(now, out);
    for (const std::size_t r : event_compounds) {
        const RuleConfig& config = rules[r].info.config;
        for (const std::size_t index : rules[r].instances) {
            Instance& instance = instances[index];
            const bool applies =
                input.equipment == instance.equipment ||
                (input.equipment.empty() && (input.area.empty() || input.area == instance.area));
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

}  // namespace fw::rules
