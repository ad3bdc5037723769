#pragma once
// The KPIs and the weekly report as people read them (`floorwatch kpi`, `floorwatch report
// weekly`): pure functions over order states and recorded incidents, so the figures are tested
// against hand-computed fixtures. daemon/workflow/kpi.hpp defines every figure.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/orders/order_store.hpp"
#include "daemon/workflow/kpi.hpp"

namespace fw::orders {

// Closed orders reported within this window before `now` still count towards a risk point.
inline constexpr std::int64_t kRecentWindowMs = 30LL * 24 * 3600 * 1000;

// Recordable incidents and hours worked inside the filter (at_ms in [since, until); with an
// area, only records of that area).
struct IncidentTotals {
    std::size_t incidents = 0;
    double hours = 0;
};
IncidentTotals incident_totals(const std::vector<IncidentRecord>& records,
                               const workflow::KpiFilter& filter);

// Every KPI of README "KPIs" as one JSON object (durations in ms and in hours).
boost::json::object kpi_report(const std::vector<workflow::OrderState>& orders,
                               const std::vector<IncidentRecord>& incidents,
                               const workflow::KpiFilter& filter, std::int64_t now_ms);
// The same for a terminal.
std::string kpi_text(const boost::json::object& report);

// Markdown: the week [week_end - 7 d, week_end): top-5 risk points, open and overdue to-do list,
// KPIs against the previous week.
std::string weekly_report(const std::vector<workflow::OrderState>& orders,
                          const std::vector<IncidentRecord>& incidents, std::int64_t week_end_ms,
                          std::int64_t now_ms, const std::string& title);
// The same week as figures, for the web page: {week: {since_ms, until_ms}, generated_ms,
// top_risk_points (5), open_orders (order views with `overdue`, overdue first), this_week and
// previous_week ({reported, closed, dismissed, time_to_close: {count, median_ms, p90_ms},
// recordable_incidents, hours_worked, per_200k_hours}), overdue, markdown (weekly_report)}.
boost::json::object weekly_report_json(const std::vector<workflow::OrderState>& orders,
                                       const std::vector<IncidentRecord>& incidents,
                                       std::int64_t week_end_ms, std::int64_t now_ms,
                                       const std::string& title);

}  // namespace fw::orders
