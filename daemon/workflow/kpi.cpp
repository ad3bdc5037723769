#include "daemon/workflow/kpi.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>

namespace fw::workflow {

bool KpiFilter::includes(const OrderState& order) const {
    return order.exists() && order.reported_ms >= since_ms && order.reported_ms < until_ms &&
           (area.empty() || order.area == area);
}

Distribution distribution(std::vector<std::int64_t> values_ms) {
    Distribution result;
    result.count = values_ms.size();
    if (values_ms.empty()) return result;
    std::ranges::sort(values_ms);
    const double total = std::accumulate(
        values_ms.begin(), values_ms.end(), 0.0,
        [](double sum, std::int64_t value) { return sum + static_cast<double>(value); });
    const std::size_t count = values_ms.size();
    result.mean_ms = total / static_cast<double>(count);
    result.median_ms = count % 2 == 1 ? static_cast<double>(values_ms[count / 2])
                                      : (static_cast<double>(values_ms[count / 2 - 1]) +
                                         static_cast<double>(values_ms[count / 2])) /
                                            2.0;
    const std::size_t rank = (count * 9 + 9) / 10;  // ceil(0.9 * count), in integers
    result.p90_ms = static_cast<double>(values_ms[rank - 1]);
    return result;
}

std::string month_of(std::int64_t ms) {
    const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
    const std::chrono::year_month_day date{day};
    return fmt::format("{:04}-{:02}", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()));
}

std::vector<CohortClosure> closure_by_cohort(const std::vector<OrderState>& orders,
                                             const KpiFilter& filter) {
    std::map<std::string, CohortClosure> cohorts;
    for (const auto& order : orders) {
        if (!filter.includes(order)) continue;
        const std::string cohort = month_of(order.reported_ms);
        auto& entry = cohorts[cohort];
        entry.cohort = cohort;
        entry.reported += 1;
        if (order.status == OrderStatus::closed) entry.closed += 1;
        if (order.status == OrderStatus::dismissed) entry.dismissed += 1;
    }
    std::vector<CohortClosure> result;
    for (auto& [cohort, entry] : cohorts) {
        entry.closure_rate =
            static_cast<double>(entry.closed) / static_cast<double>(entry.reported);
        result.push_back(entry);
    }
    return result;
}

Distribution time_to_close(const std::vector<OrderState>& orders, const KpiFilter& filter) {
    std::vector<std::int64_t> durations;
    for (const auto& order : orders) {
        if (!filter.includes(order) || order.status != OrderStatus::closed || !order.closed_ms) {
            continue;
        }
        durations.push_back(*order.closed_ms - order.reported_ms);
    }
    return distribution(std::move(durations));
}

std::map<StepKind, Distribution> time_per_step(const std::vector<OrderState>& orders,
                                               const KpiFilter& filter) {
    std::map<StepKind, std::vector<std::int64_t>> durations;
    for (const auto& order : orders) {
        if (!filter.includes(order)) continue;
        for (const auto& step : order.steps) {
            if (step.ended_ms) durations[step.kind].push_back(*step.ended_ms - step.started_ms);
        }
    }
    std::map<StepKind, Distribution> result;
    for (auto& [kind, values] : durations) result[kind] = distribution(std::move(values));
    return result;
}

std::size_t overdue_count(const std::vector<OrderState>& orders, const KpiFilter& filter,
                          std::int64_t now_ms) {
    return static_cast<std::size_t>(std::ranges::count_if(orders, [&](const OrderState& order) {
        if (!filter.includes(order)) return false;
        const auto* step = order.current_step();
        return step != nullptr && (step->overdue || step->deadline_ms < now_ms);
    }));
}

std::map<std::pair<std::string, std::string>, std::size_t> reports_per_area_month(
    const std::vector<OrderState>& orders, const KpiFilter& filter) {
    std::map<std::pair<std::string, std::string>, std::size_t> counts;
    for (const auto& order : orders) {
        if (filter.includes(order)) counts[{order.area, month_of(order.reported_ms)}] += 1;
    }
    return counts;
}

double risk_weight(Risk risk) {
    switch (risk) {
        case Risk::low:
            return 1;
        case Risk::medium:
            return 2;
        case Risk::high:
            return 4;
        case Risk::red:
            break;
    }
    return 8;
}

std::vector<RiskPoint> top_risk_points(const std::vector<OrderState>& orders,
                                       const KpiFilter& filter, std::int64_t now_ms,
                                       std::int64_t recent_ms, std::size_t limit) {
    std::map<std::string, RiskPoint> points;
    for (const auto& order : orders) {
        if (!filter.includes(order) || order.equipment.empty() ||
            order.status == OrderStatus::dismissed) {
            continue;
        }
        const bool recent_closed =
            order.status == OrderStatus::closed && order.reported_ms >= now_ms - recent_ms;
        if (!order.open() && !recent_closed) continue;
        auto& point = points[order.equipment];
        point.equipment = order.equipment;
        point.area = order.area;
        if (order.open()) {
            point.open_orders += 1;
            point.score += risk_weight(order.risk);
        } else {
            point.recent_orders += 1;
            point.score += risk_weight(order.risk) / 2.0;
        }
    }
    std::vector<RiskPoint> ranked;
    ranked.reserve(points.size());
    for (auto& [equipment, point] : points) ranked.push_back(point);
    std::ranges::stable_sort(
        ranked, [](const RiskPoint& a, const RiskPoint& b) { return a.score > b.score; });
    if (ranked.size() > limit) ranked.resize(limit);
    return ranked;
}

std::vector<RulePrecision> rule_precision(const std::vector<OrderState>& orders,
                                          const KpiFilter& filter) {
    std::map<std::string, RulePrecision> rules;
    for (const auto& order : orders) {
        if (!filter.includes(order) || order.rule_id.empty()) continue;
        const bool confirmed = std::ranges::any_of(
            order.steps, [](const Step& step) { return step.kind == StepKind::rectification; });
        const bool dismissed = order.status == OrderStatus::dismissed;
        if (!confirmed && !dismissed) continue;
        auto& entry = rules[order.rule_id];
        entry.rule_id = order.rule_id;
        entry.confirmed += confirmed ? 1 : 0;
        entry.dismissed += dismissed ? 1 : 0;
    }
    std::vector<RulePrecision> result;
    for (auto& [rule_id, entry] : rules) {
        entry.precision = static_cast<double>(entry.confirmed) /
                          static_cast<double>(entry.confirmed + entry.dismissed);
        result.push_back(entry);
    }
    return result;
}

std::optional<IncidentRate> incident_rate(std::size_t recordable_incidents, double hours_worked) {
    if (!(hours_worked > 0)) return std::nullopt;
    IncidentRate rate;
    rate.recordable_incidents = recordable_incidents;
    rate.hours_worked = hours_worked;
    rate.per_200k_hours = static_cast<double>(recordable_incidents) * 200000.0 / hours_worked;
    rate.per_1m_hours = static_cast<double>(recordable_incidents) * 1000000.0 / hours_worked;
    return rate;
}

}  // namespace fw::workflow
