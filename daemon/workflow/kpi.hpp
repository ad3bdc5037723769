#pragma once
// Key figures over order states, as pure functions (README.md "KPIs" defines each one). Times
// are milliseconds on the orders' event clock (HLC physical time).

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/workflow/order.hpp"

namespace fw::workflow {

// Which orders count: reported in [since_ms, until_ms), in `area` when it is set.
struct KpiFilter {
    std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();
    std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
    std::string area;
    bool includes(const OrderState& order) const;
};

struct Distribution {
    std::size_t count = 0;
    double mean_ms = 0;
    double median_ms = 0;  // the middle value; the mean of the two middle ones for an even count
    double p90_ms = 0;     // nearest rank: the value at rank ceil(0.9 * count)
};
Distribution distribution(std::vector<std::int64_t> values_ms);

// "2026-11": the UTC month of a time, the cohort an order belongs to by its report.
std::string month_of(std::int64_t ms);

struct CohortClosure {
    std::string cohort;  // month of report
    std::size_t reported = 0;
    std::size_t closed = 0;
    std::size_t dismissed = 0;
    double closure_rate = 0;  // closed / reported
};
std::vector<CohortClosure> closure_by_cohort(const std::vector<OrderState>& orders,
                                             const KpiFilter& filter);

// Report to closure of orders that are closed now.
Distribution time_to_close(const std::vector<OrderState>& orders, const KpiFilter& filter);

// Duration of every completed step, by kind.
std::map<StepKind, Distribution> time_per_step(const std::vector<OrderState>& orders,
                                               const KpiFilter& filter);

// Open orders whose current step is overdue at `now_ms` (recorded or past its deadline).
std::size_t overdue_count(const std::vector<OrderState>& orders, const KpiFilter& filter,
                          std::int64_t now_ms);

// (area, month) -> orders reported.
std::map<std::pair<std::string, std::string>, std::size_t> reports_per_area_month(
    const std::vector<OrderState>& orders, const KpiFilter& filter);

struct RiskPoint {
    std::string equipment;
    std::string area;
    double score = 0;
    std::size_t open_orders = 0;
    std::size_t recent_orders = 0;  // closed ones reported within the recent window
};
// Risk weights: low 1, medium 2, high 4, red 8. Score = sum of weights of open orders plus half
// the weights of closed orders reported within `recent_ms` before `now_ms`; dismissed orders
// and orders without equipment do not count. Highest score first, then equipment id.
double risk_weight(Risk risk);
std::vector<RiskPoint> top_risk_points(const std::vector<OrderState>& orders,
                                       const KpiFilter& filter, std::int64_t now_ms,
                                       std::int64_t recent_ms, std::size_t limit);

struct RulePrecision {
    std::string rule_id;
    std::size_t confirmed = 0;  // passed review: rectification was assigned
    std::size_t dismissed = 0;  // false alarm or duplicate
    double precision = 0;       // confirmed / (confirmed + dismissed); 0 when both are 0
};
std::vector<RulePrecision> rule_precision(const std::vector<OrderState>& orders,
                                          const KpiFilter& filter);

struct IncidentRate {
    std::size_t recordable_incidents = 0;
    double hours_worked = 0;
    double per_200k_hours = 0;  // OSHA's TRIR basis: 100 full-time workers for a year
    double per_1m_hours = 0;    // the basis used in much of Europe (LTIFR-style)
};
// nullopt when no hours were worked (the rate is undefined, not zero).
std::optional<IncidentRate> incident_rate(std::size_t recordable_incidents, double hours_worked);

}  // namespace fw::workflow
