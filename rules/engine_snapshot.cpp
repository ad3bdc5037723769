// Snapshot and restore: everything that must survive a restart, as JSON text.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "rules/engine_impl.hpp"

namespace fw::rules {
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

}  // namespace fw::rules
