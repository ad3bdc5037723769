#include "daemon/workflow/kpi.hpp"

#include <doctest/doctest.h>

namespace fw::workflow {
namespace {

constexpr std::int64_t kHour = 3600LL * 1000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kOct1 = 1790812800000;  // 2026-10-01T00:00:00Z
constexpr std::int64_t kNov1 = kOct1 + 31 * kDay;
constexpr std::int64_t kNow = kNov1 + 19 * kDay;  // 2026-11-20T00:00:00Z

// An order reported at `reported_ms` whose steps took the given hours, one after the other; the
// last step is still open when `open_step` is set.
OrderState order(std::string id, std::string area, std::string equipment, std::string rule,
                 Risk risk, std::int64_t reported_ms, OrderStatus status,
                 std::vector<std::pair<StepKind, std::int64_t>> step_hours,
                 bool open_step = false) {
    OrderState state;
    state.id = std::move(id);
    state.area = std::move(area);
    state.equipment = std::move(equipment);
    state.rule_id = std::move(rule);
    state.risk = risk;
    state.reported_ms = reported_ms;
    state.status = status;
    std::int64_t at = reported_ms;
    for (std::size_t i = 0; i < step_hours.size(); ++i) {
        Step step;
        step.kind = step_hours[i].first;
        step.index = static_cast<std::uint32_t>(i + 1);
        step.started_ms = at;
        step.deadline_ms = at + step_hours[i].second * kHour;
        at += step_hours[i].second * kHour;
        if (!(open_step && i + 1 == step_hours.size())) step.ended_ms = at;
        state.steps.push_back(step);
    }
    if (is_terminal(status)) state.closed_ms = at;
    return state;
}

// The fixture of README.md "KPIs", with every figure below worked out by hand there.
std::vector<OrderState> fixture() {
    using enum StepKind;
    std::vector<OrderState> orders{
        order("A", "stamping", "press-1", "r-vib", Risk::medium, kOct1 + 9 * kDay,
              OrderStatus::closed, {{review, 2}, {rectification, 6}, {acceptance, 2}}),
        order("B", "stamping", "press-2", "r-vib", Risk::low, kOct1 + 19 * kDay,
              OrderStatus::dismissed, {{review, 1}}),
        order("C", "stamping", "press-2", "r-temp", Risk::high, kNov1 + 1 * kDay,
              OrderStatus::closed, {{review, 4}, {rectification, 20}, {acceptance, 6}}),
        // Open in rectification; its deadline (after 48 h) passed before now, not yet recorded.
        order("D", "cooling", "pump-1", "", Risk::red, kNov1 + 4 * kDay, OrderStatus::rectifying,
              {{review, 3}, {rectification, 48}}, true),
        // Open in review, recorded overdue.
        order("E", "stamping", "press-2", "r-vib", Risk::high, kNov1 + 9 * kDay,
              OrderStatus::in_review, {{review, 500}}, true),
        order("F", "stamping", "press-1", "r-vib", Risk::low, kNov1 + 11 * kDay,
              OrderStatus::closed, {{review, 5}, {rectification, 10}, {acceptance, 5}}),
    };
    orders[4].steps.back().overdue = true;
    return orders;
}

TEST_CASE("kpi: distribution uses the mean, the middle value and the nearest-rank p90") {
    const auto odd = distribution({30, 10, 20});
    CHECK(odd.count == 3);
    CHECK(odd.mean_ms == doctest::Approx(20));
    CHECK(odd.median_ms == doctest::Approx(20));
    CHECK(odd.p90_ms == doctest::Approx(30));
    const auto even = distribution({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(even.median_ms == doctest::Approx(5.5));
    CHECK(even.p90_ms == doctest::Approx(9));  // rank ceil(0.9 * 10) = 9
    CHECK(distribution({}).count == 0);
}

TEST_CASE("kpi: closure rate by cohort") {
    const auto cohorts = closure_by_cohort(fixture(), {});
    REQUIRE(cohorts.size() == 2);
    CHECK(cohorts[0].cohort == "2026-10");
    CHECK(cohorts[0].reported == 2);
    CHECK(cohorts[0].closed == 1);
    CHECK(cohorts[0].dismissed == 1);
    CHECK(cohorts[0].closure_rate == doctest::Approx(0.5));
    CHECK(cohorts[1].cohort == "2026-11");
    CHECK(cohorts[1].reported == 4);
    CHECK(cohorts[1].closed == 2);
    CHECK(cohorts[1].closure_rate == doctest::Approx(0.5));

    KpiFilter cooling;
    cooling.area = "cooling";
    const auto only_cooling = closure_by_cohort(fixture(), cooling);
    REQUIRE(only_cooling.size() == 1);
    CHECK(only_cooling[0].reported == 1);
    CHECK(only_cooling[0].closure_rate == doctest::Approx(0.0));
}

TEST_CASE("kpi: time to close and time per step") {
    const auto close = time_to_close(fixture(), {});
    CHECK(close.count == 3);  // A 10 h, C 30 h, F 20 h
    CHECK(close.mean_ms == doctest::Approx(20 * kHour));
    CHECK(close.median_ms == doctest::Approx(20 * kHour));
    CHECK(close.p90_ms == doctest::Approx(30 * kHour));

    KpiFilter november;
    november.since_ms = kNov1;
    const auto recent = time_to_close(fixture(), november);  // C 30 h, F 20 h
    CHECK(recent.count == 2);
    CHECK(recent.mean_ms == doctest::Approx(25 * kHour));
    CHECK(recent.median_ms == doctest::Approx(25 * kHour));
    CHECK(recent.p90_ms == doctest::Approx(30 * kHour));

    const auto steps = time_per_step(fixture(), {});
    const auto& review = steps.at(StepKind::review);  // 2, 1, 4, 3, 5 h (E is open)
    CHECK(review.count == 5);
    CHECK(review.mean_ms == doctest::Approx(3 * kHour));
    CHECK(review.median_ms == doctest::Approx(3 * kHour));
    CHECK(review.p90_ms == doctest::Approx(5 * kHour));
    const auto& rectification = steps.at(StepKind::rectification);  // 6, 20, 10 h (D is open)
    CHECK(rectification.count == 3);
    CHECK(rectification.mean_ms == doctest::Approx(12 * kHour));
    CHECK(rectification.median_ms == doctest::Approx(10 * kHour));
    CHECK(rectification.p90_ms == doctest::Approx(20 * kHour));
    const auto& acceptance = steps.at(StepKind::acceptance);  // 2, 6, 5 h
    CHECK(acceptance.mean_ms == doctest::Approx(13.0 / 3.0 * kHour));
    CHECK(acceptance.median_ms == doctest::Approx(5 * kHour));
    CHECK(acceptance.p90_ms == doctest::Approx(6 * kHour));
}

TEST_CASE("kpi: overdue count, reports per area and month") {
    CHECK(overdue_count(fixture(), {}, kNow) == 2);  // D past its deadline, E recorded
    // Before D's rectification deadline only E counts.
    CHECK(overdue_count(fixture(), {}, kNov1 + 4 * kDay + 10 * kHour) == 1);

    const auto counts = reports_per_area_month(fixture(), {});
    CHECK(counts.size() == 3);
    CHECK(counts.at({"stamping", "2026-10"}) == 2);
    CHECK(counts.at({"stamping", "2026-11"}) == 3);
    CHECK(counts.at({"cooling", "2026-11"}) == 1);
}

TEST_CASE("kpi: top risk points weigh open and recent orders by risk") {
    const auto points = top_risk_points(fixture(), {}, kNow, 30 * kDay, 5);
    REQUIRE(points.size() == 3);
    CHECK(points[0].equipment == "pump-1");  // D open red: 8
    CHECK(points[0].score == doctest::Approx(8));
    CHECK(points[1].equipment == "press-2");  // E open high 4 + C closed high 4/2; B dismissed
    CHECK(points[1].score == doctest::Approx(6));
    CHECK(points[1].open_orders == 1);
    CHECK(points[1].recent_orders == 1);
    CHECK(points[2].equipment == "press-1");  // F closed low 1/2; A too old
    CHECK(points[2].score == doctest::Approx(0.5));
    CHECK(top_risk_points(fixture(), {}, kNow, 30 * kDay, 1).size() == 1);
}

TEST_CASE("kpi: rule precision and incident rates") {
    const auto precision = rule_precision(fixture(), {});
    REQUIRE(precision.size() == 2);
    CHECK(precision[0].rule_id == "r-temp");
    CHECK(precision[0].confirmed == 1);
    CHECK(precision[0].precision == doctest::Approx(1.0));
    CHECK(precision[1].rule_id == "r-vib");  // A, F confirmed; B dismissed; E still in review
    CHECK(precision[1].confirmed == 2);
    CHECK(precision[1].dismissed == 1);
    CHECK(precision[1].precision == doctest::Approx(2.0 / 3.0));

    const auto rate = incident_rate(3, 450000);
    REQUIRE(rate.has_value());
    CHECK(rate->per_200k_hours == doctest::Approx(1.3333).epsilon(1e-4));
    CHECK(rate->per_1m_hours == doctest::Approx(6.6667).epsilon(1e-4));
    CHECK_FALSE(incident_rate(3, 0).has_value());
}

}  // namespace
}  // namespace fw::workflow
