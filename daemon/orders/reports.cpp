#include "daemon/orders/reports.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "daemon/core/time.hpp"
#include "daemon/workflow/order.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::orders {
namespace {

using workflow::Distribution;
using workflow::KpiFilter;
using workflow::OrderState;
using workflow::OrderStatus;

constexpr double kMsPerHour = 3600.0 * 1000.0;
constexpr std::int64_t kWeekMs = 7LL * 24 * 3600 * 1000;

boost::json::object distribution_json(const Distribution& d) {
    return {{"count", d.count},
            {"mean_ms", d.mean_ms},
            {"median_ms", d.median_ms},
            {"p90_ms", d.p90_ms},
            {"mean_h", d.mean_ms / kMsPerHour},
            {"median_h", d.median_ms / kMsPerHour},
            {"p90_h", d.p90_ms / kMsPerHour}};
}

// Hours for people; under an hour in minutes, so a quick fix does not read as "0.0 h".
std::string hours_text(double ms) {
    if (ms < kMsPerHour) return fmt::format("{:.0f} min", ms / 60000.0);
    return fmt::format("{:.1f} h", ms / kMsPerHour);
}

double number(const boost::json::value& value) {
    if (value.is_double()) return value.as_double();
    if (value.is_int64()) return static_cast<double>(value.as_int64());
    if (value.is_uint64()) return static_cast<double>(value.as_uint64());
    return 0;
}

// One week's headline figures, for the comparison table.
struct WeekFigures {
    std::size_t reported = 0;
    std::size_t closed = 0;
    std::size_t dismissed = 0;
    Distribution to_close;
    IncidentTotals incidents;
};

WeekFigures week_figures(const std::vector<OrderState>& orders,
                         const std::vector<IncidentRecord>& incidents, const KpiFilter& filter) {
    WeekFigures figures;
    for (const auto& order : orders) {
        if (!filter.includes(order)) continue;
        ++figures.reported;
        if (order.status == OrderStatus::closed) ++figures.closed;
        if (order.status == OrderStatus::dismissed) ++figures.dismissed;
    }
    figures.to_close = workflow::time_to_close(orders, filter);
    figures.incidents = incident_totals(incidents, filter);
    return figures;
}

bool overdue_at(const OrderState& order, std::int64_t now_ms) {
    const auto* step = order.current_step();
    return order.overdue() || (step != nullptr && step->deadline_ms < now_ms);
}

// Open orders, overdue first, then by the current step's deadline: the week's to-do list.
std::vector<const OrderState*> open_orders_by_urgency(const std::vector<OrderState>& orders,
                                                      std::int64_t now_ms) {
    std::vector<const OrderState*> open;
    for (const auto& order : orders) {
        if (order.open()) open.push_back(&order);
    }
    std::ranges::sort(open, [&](const OrderState* a, const OrderState* b) {
        const auto due = [](const OrderState* o) {
            const auto* step = o->current_step();
            return step == nullptr ? INT64_MAX : step->deadline_ms;
        };
        return std::make_tuple(!overdue_at(*a, now_ms), due(a), a->id) <
               std::make_tuple(!overdue_at(*b, now_ms), due(b), b->id);
    });
    return open;
}

boost::json::object week_json(const WeekFigures& figures) {
    boost::json::object week{{"reported", figures.reported},
                             {"closed", figures.closed},
                             {"dismissed", figures.dismissed},
                             {"time_to_close",
                              {{"count", figures.to_close.count},
                               {"median_ms", figures.to_close.median_ms},
                               {"p90_ms", figures.to_close.p90_ms}}},
                             {"recordable_incidents", figures.incidents.incidents},
                             {"hours_worked", figures.incidents.hours}};
    const auto rate = workflow::incident_rate(figures.incidents.incidents, figures.incidents.hours);
    week["per_200k_hours"] = rate ? boost::json::value(rate->per_200k_hours) : nullptr;
    return week;
}

std::string rate_text(std::size_t part, std::size_t whole) {
    if (whole == 0) return "–";
    return fmt::format("{:.0f} %", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string change_text(double now, double before) {
    const double delta = now - before;
    if (std::abs(delta) < 1e-9) return "=";
    return fmt::format("{:+g}", std::round(delta * 10) / 10);
}

}  // namespace

IncidentTotals incident_totals(const std::vector<IncidentRecord>& records,
                               const KpiFilter& filter) {
    IncidentTotals totals;
    for (const auto& record : records) {
        if (record.at_ms < filter.since_ms || record.at_ms >= filter.until_ms) continue;
        if (!filter.area.empty() && record.area != filter.area) continue;
        if (record.kind == "incident") ++totals.incidents;
        if (record.kind == "hours") totals.hours += record.hours;
    }
    return totals;
}

boost::json::object kpi_report(const std::vector<OrderState>& orders,
                               const std::vector<IncidentRecord>& incidents,
                               const KpiFilter& filter, std::int64_t now_ms) {
    boost::json::object report;
    boost::json::array cohorts;
    for (const auto& cohort : workflow::closure_by_cohort(orders, filter)) {
        cohorts.push_back({{"cohort", cohort.cohort},
                           {"reported", cohort.reported},
                           {"closed", cohort.closed},
                           {"dismissed", cohort.dismissed},
                           {"closure_rate", cohort.closure_rate}});
    }
    report["closure_by_cohort"] = std::move(cohorts);
    report["time_to_close"] = distribution_json(workflow::time_to_close(orders, filter));
    boost::json::object steps;
    for (const auto& [kind, figures] : workflow::time_per_step(orders, filter)) {
        steps[workflow::step_kind_name(kind)] = distribution_json(figures);
    }
    report["time_per_step"] = std::move(steps);
    report["overdue"] = workflow::overdue_count(orders, filter, now_ms);
    boost::json::array per_area;
    for (const auto& [key, count] : workflow::reports_per_area_month(orders, filter)) {
        per_area.push_back({{"area", key.first}, {"month", key.second}, {"reported", count}});
    }
    report["reports_per_area_month"] = std::move(per_area);
    boost::json::array points;
    for (const auto& point :
         workflow::top_risk_points(orders, filter, now_ms, kRecentWindowMs, 10)) {
        points.push_back({{"equipment", point.equipment},
                          {"area", point.area},
                          {"score", point.score},
                          {"open_orders", point.open_orders},
                          {"recent_orders", point.recent_orders}});
    }
    report["top_risk_points"] = std::move(points);
    boost::json::array precision;
    for (const auto& rule : workflow::rule_precision(orders, filter)) {
        precision.push_back({{"rule_id", rule.rule_id},
                             {"confirmed", rule.confirmed},
                             {"dismissed", rule.dismissed},
                             {"precision", rule.precision}});
    }
    report["rule_precision"] = std::move(precision);
    const auto totals = incident_totals(incidents, filter);
    boost::json::object incident{{"recordable_incidents", totals.incidents},
                                 {"hours_worked", totals.hours}};
    if (const auto rate = workflow::incident_rate(totals.incidents, totals.hours)) {
        incident["per_200k_hours"] = rate->per_200k_hours;
        incident["per_1m_hours"] = rate->per_1m_hours;
    } else {
        incident["per_200k_hours"] = nullptr;
        incident["per_1m_hours"] = nullptr;
    }
    report["incident_rate"] = std::move(incident);
    return report;
}

std::string kpi_text(const boost::json::object& report) {
    std::string text = "Closure rate by month of report (closed / reported):\n";
    const auto& cohorts = report.at("closure_by_cohort").as_array();
    if (cohorts.empty()) text += "  no orders reported in the period\n";
    for (const auto& entry : cohorts) {
        const auto& cohort = entry.as_object();
        text += fmt::format("  {}  {:>3} reported  {:>3} closed  {:>3} dismissed  {:.0f} %\n",
                            cohort.at("cohort").as_string().c_str(), number(cohort.at("reported")),
                            number(cohort.at("closed")), number(cohort.at("dismissed")),
                            100 * number(cohort.at("closure_rate")));
    }
    const auto distribution_line = [](std::string_view label, const boost::json::object& d) {
        if (number(d.at("count")) == 0) return fmt::format("  {:<14} none completed\n", label);
        return fmt::format("  {:<14} mean {}  median {}  p90 {}  ({} orders)\n", label,
                           hours_text(number(d.at("mean_ms"))),
                           hours_text(number(d.at("median_ms"))),
                           hours_text(number(d.at("p90_ms"))), number(d.at("count")));
    };
    text += "Time to close and per step:\n";
    text += distribution_line("to close", report.at("time_to_close").as_object());
    for (const auto& [kind, figures] : report.at("time_per_step").as_object()) {
        text += distribution_line(std::string_view(kind), figures.as_object());
    }
    text += fmt::format("Overdue now: {}\n", number(report.at("overdue")));
    text += "Reports per area and month:\n";
    for (const auto& entry : report.at("reports_per_area_month").as_array()) {
        const auto& row = entry.as_object();
        text += fmt::format("  {:<12} {}  {}\n", row.at("area").as_string().c_str(),
                            row.at("month").as_string().c_str(), number(row.at("reported")));
    }
    text += "Top risk points (open orders by risk weight + half of recent closed ones):\n";
    for (const auto& entry : report.at("top_risk_points").as_array()) {
        const auto& row = entry.as_object();
        text += fmt::format("  {:<12} {:<12} score {:g}  ({} open, {} recent)\n",
                            row.at("equipment").as_string().c_str(),
                            row.at("area").as_string().c_str(), number(row.at("score")),
                            number(row.at("open_orders")), number(row.at("recent_orders")));
    }
    text += "Rule precision (confirmed / confirmed + dismissed):\n";
    for (const auto& entry : report.at("rule_precision").as_array()) {
        const auto& row = entry.as_object();
        text += fmt::format("  {:<24} {} confirmed  {} dismissed  {:.0f} %\n",
                            row.at("rule_id").as_string().c_str(), number(row.at("confirmed")),
                            number(row.at("dismissed")), 100 * number(row.at("precision")));
    }
    const auto& incident = report.at("incident_rate").as_object();
    if (incident.at("per_200k_hours").is_null()) {
        text += fmt::format(
            "Recordable incidents: {} (no hours worked recorded: rate undefined; "
            "floorwatch incidents hours ...)\n",
            number(incident.at("recordable_incidents")));
    } else {
        text += fmt::format(
            "Recordable incident rate: {:.2f} per 200,000 h, {:.2f} per 1,000,000 h ({} "
            "incidents, {:g} h worked)\n",
            number(incident.at("per_200k_hours")), number(incident.at("per_1m_hours")),
            number(incident.at("recordable_incidents")), number(incident.at("hours_worked")));
    }
    return text;
}

std::string weekly_report(const std::vector<OrderState>& orders,
                          const std::vector<IncidentRecord>& incidents, std::int64_t week_end_ms,
                          std::int64_t now_ms, const std::string& title) {
    const KpiFilter this_week{week_end_ms - kWeekMs, week_end_ms, ""};
    const KpiFilter previous_week{week_end_ms - 2 * kWeekMs, week_end_ms - kWeekMs, ""};
    std::string text = fmt::format("# Hazard work orders: weekly report, {}\n\n", title);
    text += fmt::format("Week {} to {} (UTC, end exclusive); generated {}.\n\n",
                        format_iso_date(this_week.since_ms), format_iso_date(week_end_ms),
                        format_iso_date(now_ms));

    text += "## Top 5 risk points\n\n";
    const auto points = workflow::top_risk_points(orders, KpiFilter{}, now_ms, kRecentWindowMs, 5);
    if (points.empty()) {
        text += "No open or recently closed orders.\n\n";
    } else {
        text += "| # | equipment | area | score | open | closed in the last 30 days |\n";
        text += "|---|---|---|---|---|---|\n";
        for (std::size_t i = 0; i < points.size(); ++i) {
            text += fmt::format("| {} | {} | {} | {:g} | {} | {} |\n", i + 1, points[i].equipment,
                                points[i].area, points[i].score, points[i].open_orders,
                                points[i].recent_orders);
        }
        text += "\n";
    }

    text += "## To do: open orders, overdue first\n\n";
    const auto open = open_orders_by_urgency(orders, now_ms);
    if (open.empty()) {
        text += "No open orders.\n\n";
    } else {
        text += "| number | risk | state | equipment | title | assignee | step due | overdue |\n";
        text += "|---|---|---|---|---|---|---|---|\n";
        for (const auto* order : open) {
            const auto* step = order->current_step();
            text += fmt::format(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n", order->number,
                workflow::risk_name(order->risk), workflow::order_status_name(order->status),
                order->equipment.empty() ? order->area : order->equipment, order->title,
                order->assignee.empty() ? "–" : order->assignee,
                step == nullptr ? std::string("–")
                                : fmt::format("{} {}", workflow::step_kind_name(step->kind),
                                              format_iso_date(step->deadline_ms)),
                overdue_at(*order, now_ms) ? "**yes**" : "no");
        }
        text += "\n";
    }

    const WeekFigures now = week_figures(orders, incidents, this_week);
    const WeekFigures before = week_figures(orders, incidents, previous_week);
    text += "## KPIs against the previous week (orders by week of report)\n\n";
    text += "| KPI | this week | previous week | change |\n|---|---|---|---|\n";
    const auto count_row = [&](std::string_view label, std::size_t a, std::size_t b) {
        text += fmt::format("| {} | {} | {} | {} |\n", label, a, b,
                            change_text(static_cast<double>(a), static_cast<double>(b)));
    };
    count_row("reported", now.reported, before.reported);
    count_row("closed", now.closed, before.closed);
    count_row("dismissed", now.dismissed, before.dismissed);
    text += fmt::format("| closure rate | {} | {} | |\n", rate_text(now.closed, now.reported),
                        rate_text(before.closed, before.reported));
    const auto duration_cell = [](const Distribution& d, double Distribution::*field) {
        return d.count == 0 ? std::string("–") : hours_text(d.*field);
    };
    text += fmt::format("| time to close, median | {} | {} | |\n",
                        duration_cell(now.to_close, &Distribution::median_ms),
                        duration_cell(before.to_close, &Distribution::median_ms));
    text += fmt::format("| time to close, p90 | {} | {} | |\n",
                        duration_cell(now.to_close, &Distribution::p90_ms),
                        duration_cell(before.to_close, &Distribution::p90_ms));
    count_row("recordable incidents", now.incidents.incidents, before.incidents.incidents);
    const auto rate_cell = [](const IncidentTotals& totals) {
        const auto rate = workflow::incident_rate(totals.incidents, totals.hours);
        return rate ? fmt::format("{:.2f}", rate->per_200k_hours) : std::string("–");
    };
    text += fmt::format("| incident rate per 200,000 h | {} | {} | |\n", rate_cell(now.incidents),
                        rate_cell(before.incidents));
    text += fmt::format("\nOverdue now: {} open order(s).\n",
                        workflow::overdue_count(orders, KpiFilter{}, now_ms));
    return text;
}

boost::json::object weekly_report_json(const std::vector<OrderState>& orders,
                                       const std::vector<IncidentRecord>& incidents,
                                       std::int64_t week_end_ms, std::int64_t now_ms,
                                       const std::string& title) {
    const KpiFilter this_week{week_end_ms - kWeekMs, week_end_ms, ""};
    const KpiFilter previous_week{week_end_ms - 2 * kWeekMs, week_end_ms - kWeekMs, ""};
    boost::json::array points;
    for (const auto& point :
         workflow::top_risk_points(orders, KpiFilter{}, now_ms, kRecentWindowMs, 5)) {
        points.push_back({{"equipment", point.equipment},
                          {"area", point.area},
                          {"score", point.score},
                          {"open_orders", point.open_orders},
                          {"recent_orders", point.recent_orders}});
    }
    boost::json::array open;
    for (const auto* order : open_orders_by_urgency(orders, now_ms)) {
        auto view = workflow::order_view(*order);
        view["overdue"] = overdue_at(*order, now_ms);
        open.push_back(std::move(view));
    }
    return {{"week", {{"since_ms", this_week.since_ms}, {"until_ms", this_week.until_ms}}},
            {"generated_ms", now_ms},
            {"top_risk_points", std::move(points)},
            {"open_orders", std::move(open)},
            {"this_week", week_json(week_figures(orders, incidents, this_week))},
            {"previous_week", week_json(week_figures(orders, incidents, previous_week))},
            {"overdue", workflow::overdue_count(orders, KpiFilter{}, now_ms)},
            {"markdown", weekly_report(orders, incidents, week_end_ms, now_ms, title)}};
}

}  // namespace fw::orders
