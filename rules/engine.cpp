// Compiling the rules into the engine's state, and the public surface. Evaluation is in
// engine_evaluate.cpp, snapshot and restore in engine_snapshot.cpp; engine_impl.hpp holds the
// state they share.
#include "rules/engine.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/core/units.hpp"
#include "rules/engine_impl.hpp"
#include "rules/rule_fields.hpp"
#include "rules/templates.hpp"

namespace fw::rules {

Engine::ChannelId Engine::Impl::intern(const std::string& channel) {
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

std::size_t Engine::Impl::add_instance(std::size_t rule, const std::string& equipment,
                                       TimePoint start) {
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

void Engine::Impl::compile(TimePoint start) {
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
                    const auto found =
                        condition.rule.empty() ? rule_index.end() : rule_index.find(condition.rule);
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

Engine::Impl::Instance* Engine::Impl::find_instance(std::string_view rule,
                                                    std::string_view equipment) {
    const auto found = instance_by_key.find(key_of(rule, equipment));
    return found == instance_by_key.end() ? nullptr : &instances[found->second];
}

AlarmEvent Engine::Impl::make_event(const Instance& instance, AlarmAction action, AlarmState from,
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

void Engine::Impl::apply(Instance& instance, AlarmAction action, TimePoint now,
                         std::vector<AlarmEvent>& out) {
    const AlarmState from = instance.status.state();
    const bool condition_before = instance.status.condition;
    instance.status = apply_action(instance.status, action).value_or(instance.status);
    if (from != instance.status.state() || condition_before != instance.status.condition) {
        out.push_back(make_event(instance, action, from, now));
    }
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
    return impl_->operate(rule, equipment, AlarmAction::acknowledge, actor, now, out,
                          [](Impl::Instance&, AlarmEvent&) {});
}

Status Engine::shelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                      std::int64_t duration_ms, std::string_view reason, TimePoint now,
                      std::vector<AlarmEvent>& out) {
    if (duration_ms <= 0 || duration_ms > kMaxShelveMs) {
        return Error{fmt::format("a shelving lasts from 1 ms to {}; got {} ms",
                                 format_duration(Millis(kMaxShelveMs)), duration_ms)};
    }
    if (reason.empty()) return Error{"shelving needs a reason"};
    return impl_->operate(rule, equipment, AlarmAction::shelve, actor, now, out,
                          [&](Impl::Instance& instance, AlarmEvent& event) {
                              instance.shelved_until_mono = now.mono_ms + duration_ms;
                              instance.shelved_until_wall = now.wall_ms + duration_ms;
                              instance.shelved_by = std::string(actor);
                              instance.reason = std::string(reason);
                              event.reason = std::string(reason);
                              event.shelved_until_wall_ms = instance.shelved_until_wall;
                          });
}

Status Engine::unshelve(std::string_view rule, std::string_view equipment, std::string_view actor,
                        TimePoint now, std::vector<AlarmEvent>& out) {
    return impl_->operate(rule, equipment, AlarmAction::unshelve, actor, now, out,
                          [](Impl::Instance& instance, AlarmEvent&) {
                              instance.shelved_by.clear();
                              instance.reason.clear();
                          });
}

Status Engine::remove_from_service(std::string_view rule, std::string_view equipment,
                                   std::string_view actor, std::string_view reason, TimePoint now,
                                   std::vector<AlarmEvent>& out) {
    if (reason.empty()) return Error{"taking an alarm out of service needs a reason"};
    return impl_->operate(rule, equipment, AlarmAction::remove_from_service, actor, now, out,
                          [&](Impl::Instance& instance, AlarmEvent& event) {
                              instance.reason = std::string(reason);
                              instance.shelved_by.clear();
                              event.reason = std::string(reason);
                          });
}

Status Engine::return_to_service(std::string_view rule, std::string_view equipment,
                                 std::string_view actor, TimePoint now,
                                 std::vector<AlarmEvent>& out) {
    return impl_->operate(rule, equipment, AlarmAction::return_to_service, actor, now, out,
                          [](Impl::Instance& instance, AlarmEvent&) { instance.reason.clear(); });
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
    infos.reserve(impl_->rules.size());
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
