#include <doctest/doctest.h>

#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/test_harness.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::workflow {
namespace {

using testing::kStartMs;
using testing::Plant;
using namespace std::chrono_literals;

constexpr std::int64_t kDay = 24LL * 3600 * 1000;

Attachment photo(std::string name, std::uint64_t size = 200'000,
                 std::string media_type = "image/jpeg") {
    return {sha256_hex(name), std::move(media_type), size, std::move(name)};
}

TEST_CASE("workflow: report, two approvals, assignment, rejection, resubmission, acceptance") {
    Plant plant;
    const auto id = plant.report(Risk::medium);
    REQUIRE_FALSE(id.empty());
    CHECK(id == "demo-plant.gw-1.1");
    CHECK(plant.state(id).status == OrderStatus::reported);
    CHECK(plant.state(id).review_chain == std::vector<Role>{Role::team_lead, Role::safety});
    CHECK(plant.state(id).reporter == "rita");

    CHECK(plant.act("lea", ApproveCommand{}, id).ok());
    CHECK(plant.state(id).status == OrderStatus::in_review);
    CHECK(plant.act("sam", ApproveCommand{}, id).ok());
    CHECK(plant.state(id).review_complete());

    const auto assigned = plant.act("lea", AssignCommand{"tom", {}}, id);
    REQUIRE(assigned.ok());
    CHECK(plant.state(id).status == OrderStatus::rectifying);
    CHECK(plant.state(id).assignee == "tom");
    CHECK(plant.state(id).steps.back().deadline_ms == kStartMs + 14 * kDay);
    REQUIRE(assigned->notices.size() == 1);
    CHECK(assigned->notices[0].user == "tom");

    plant.clock.advance(2h);
    CHECK(plant.act("tom", SubmitCommand{"bearing replaced", {photo("after.jpg")}}, id).ok());
    CHECK(plant.state(id).status == OrderStatus::awaiting_acceptance);
    CHECK(plant.state(id).evidence.size() == 1);

    CHECK(plant.act("sam", RejectCommand{"guard not refitted", {}}, id).ok());
    CHECK(plant.state(id).status == OrderStatus::rectifying);
    CHECK(plant.state(id).rejections == 1);
    CHECK(plant.state(id).last_rejection_reason == "guard not refitted");

    plant.clock.advance(1h);
    CHECK(plant.act("tom", SubmitCommand{"guard refitted", {photo("guard.jpg")}}, id).ok());
    const auto accepted = plant.act("sam", AcceptCommand{"checked on site"}, id);
    REQUIRE(accepted.ok());
    const auto& order = plant.state(id);
    CHECK(order.status == OrderStatus::closed);
    CHECK(order.closed_ms == kStartMs + 3LL * 3600 * 1000);
    // review, rectification, acceptance, rectification, acceptance
    REQUIRE(order.steps.size() == 5);
    CHECK(order.steps[3].kind == StepKind::rectification);
    CHECK(order.steps.back().ended_ms == order.closed_ms);
    CHECK(fold(plant.events[id]).status == OrderStatus::closed);
    CHECK_FALSE(verify_chain(plant.events[id]).has_value());
}

TEST_CASE("workflow: one person approves at most one level of an order") {
    Plant plant;
    const auto id = plant.report(Risk::medium);
    CHECK(plant.act("bob", ApproveCommand{}, id).ok());         // team_lead level
    const auto again = plant.act("bob", ApproveCommand{}, id);  // bob also holds safety
    CHECK_FALSE(again.ok());
    CHECK(again.error() ==
          "bob already approved level 1 of this order; another person must approve level 2");
    CHECK(plant.act("kim", ApproveCommand{}, id).ok());
    CHECK(plant.state(id).review_complete());
}

TEST_CASE("workflow: a refusal names the reason and changes nothing") {
    Plant plant;
    const auto id = plant.report(Risk::high);
    const auto sequence = plant.writer.next_sequence();
    const auto hlc = plant.writer.last_hlc();

    auto outcome = plant.act("sam", ApproveCommand{}, id);
    CHECK(outcome.error() ==
          "level 1 of 3 of this high-risk order needs a team_lead approval (sam holds safety)");
    outcome = plant.act("sam", DismissCommand{DismissKind::false_alarm, ""}, id);
    CHECK(outcome.error().starts_with("say why the order is dismissed"));
    outcome = plant.act("tom", DismissCommand{DismissKind::false_alarm, "sensor loose"}, id);
    CHECK(outcome.error() ==
          "tom may not dismiss an order: that needs safety or manager (tom holds technician)");
    outcome = plant.act("lea", AssignCommand{"tom", {}}, id);
    CHECK(outcome.error() == "review level 1 of 3 (team_lead) is not approved yet");
    outcome = plant.act("eve", ApproveCommand{}, id);
    CHECK(outcome.error() ==
          "level 1 of 3 of this high-risk order needs a team_lead approval "
          "('eve' is not a user in workflow.users and holds no role)");
    outcome = plant.act("lea", ApproveCommand{}, "no-such-order");
    CHECK(outcome.error() == "no such order");
    CHECK(plant.log.size() == 1);
    CHECK(plant.writer.next_sequence() == sequence);
    CHECK(plant.writer.last_hlc() == hlc);

    CHECK(plant.act("sam", DismissCommand{DismissKind::duplicate, "same as PRS-20261129-0001"}, id)
              .ok());
    CHECK(plant.state(id).status == OrderStatus::dismissed);
    CHECK(plant.state(id).dismissal_kind == "duplicate");
}

TEST_CASE("workflow: assignment, submission and acceptance rules") {
    Plant plant;
    const auto id = plant.report(Risk::low);
    plant.approve_all(id);
    CHECK(plant.act("lea", AssignCommand{"rita", {}}, id).error() ==
          "'rita' cannot take rectification: assignees are users in workflow.users with the "
          "technician or team_lead role");
    CHECK(plant.act("lea", AssignCommand{"tom", kStartMs - 1}, id)
              .error()
              .starts_with("the deadline 2026-11-29 07:59 UTC is not in the future"));
    CHECK(plant.act("lea", AssignCommand{"lea", kStartMs + kDay}, id).ok());
    CHECK(plant.act("tom", SubmitCommand{"done", {}}, id).error() ==
          "PRS-20261129-0001 is assigned to lea; only the assignee submits (a team lead can "
          "reassign it)");
    CHECK(plant.act("ada", ReassignCommand{"tom", {}, "lea is on leave"}, id).ok());
    CHECK(plant.state(id).assignee == "tom");
    CHECK(plant.state(id).steps.back().deadline_ms == kStartMs + kDay);
    CHECK(plant.act("tom", SubmitCommand{"", {}}, id).error() ==
          "a submission needs a note: what was done");
    CHECK(plant.act("tom", SubmitCommand{"done", {photo("big.jpg", 17ULL * 1024 * 1024)}}, id)
              .error() ==
          "attachment 'big.jpg' is 17825792 bytes; files of 1 to 16777216 bytes "
          "are accepted (workflow.attachments.max_size)");
    CHECK(plant.act("tom", SubmitCommand{"done", {photo("clip.mp4", 1000, "video/mp4")}}, id)
              .error() ==
          "attachment 'clip.mp4' is video/mp4; accepted types are image/jpeg, "
          "image/png (workflow.attachments.types)");
    CHECK(
        plant.act("tom", SubmitCommand{"done", {{"abc", "image/png", 10, "x.png"}}}, id).error() ==
        "attachment 'x.png' has no valid SHA-256 (64 lowercase hex digits)");
    CHECK(plant.act("tom", SubmitCommand{"done", {photo("after.png", 10, "image/png")}}, id).ok());
    CHECK(plant.act("sam", RejectCommand{"", {}}, id).error() ==
          "say why the rectification is rejected, so the assignee knows what to fix");
    CHECK(plant.act("lea", AcceptCommand{}, id).ok());
}

TEST_CASE("workflow: the submitter cannot accept their own rectification") {
    Plant plant;
    const auto id = plant.report(Risk::low);
    plant.approve_all(id);
    REQUIRE(plant.act("lea", AssignCommand{"lea", {}}, id).ok());
    REQUIRE(plant.act("lea", SubmitCommand{"fixed", {}}, id).ok());
    CHECK(plant.act("lea", AcceptCommand{}, id).error() ==
          "lea submitted the rectification; someone else must check it");
    CHECK(plant.act("sam", AcceptCommand{}, id).ok());
}

TEST_CASE("overdue: raised once per step, visible until the step completes") {
    Plant plant;
    const auto id = plant.report(Risk::medium);  // review within 3 days
    const auto all = [&plant] {
        std::vector<OrderState> orders;
        orders.reserve(plant.states.size());
        for (const auto& [order_id, state] : plant.states) orders.push_back(state);
        return orders;
    };
    plant.clock.advance(72h);
    CHECK(overdue_steps(all(), plant.clock.now()).empty());
    CHECK(plant.act("system", MarkOverdueCommand{1}, id)
              .error()
              .starts_with("step 1 of PRS-20261129-0001 is not due until"));
    plant.clock.advance(1ms);
    auto due = overdue_steps(all(), plant.clock.now());
    REQUIRE(due.size() == 1);
    CHECK(due[0].step_index == 1);
    CHECK(plant.act("lea", MarkOverdueCommand{1}, id).error().starts_with("lea may not mark"));
    const auto outcome = plant.act("system", MarkOverdueCommand{1}, id);
    REQUIRE(outcome.ok());
    REQUIRE(outcome->notices.size() == 1);
    CHECK(outcome->notices[0].roles == std::vector<Role>{Role::safety, Role::manager});
    CHECK(outcome->notices[0].message ==
          "PRS-20261129-0001: review overdue since 2026-12-02 08:00 UTC");
    CHECK(plant.state(id).overdue());
    CHECK(overdue_steps(all(), plant.clock.now()).empty());
    CHECK(plant.act("system", MarkOverdueCommand{1}, id).error() == "step 1 is already overdue");

    REQUIRE(plant.act("lea", ApproveCommand{}, id).ok());
    CHECK(plant.state(id).overdue());  // review is not complete until assignment
    REQUIRE(plant.act("sam", ApproveCommand{}, id).ok());
    REQUIRE(plant.act("lea", AssignCommand{"tom", {}}, id).ok());
    CHECK_FALSE(plant.state(id).overdue());
    CHECK(plant.state(id).steps[0].overdue);

    // A late overdue for the finished review step does not touch the rectification step.
    CHECK(plant.act("system", MarkOverdueCommand{1}, id).error() == "step 1 is already complete");
    plant.clock.advance(14 * 24h + 1ms);
    due = overdue_steps(all(), plant.clock.now());
    REQUIRE(due.size() == 1);
    CHECK(due[0].step_index == 2);
    const auto rectification = plant.act("system", MarkOverdueCommand{2}, id);
    REQUIRE(rectification.ok());
    CHECK(rectification->notices[0].user == "tom");
    CHECK(plant.state(id).overdue());
}

TEST_CASE("escalation: recurrence raises the risk to red and review restarts at the red chain") {
    Plant plant;
    const auto id = plant.report(Risk::medium);
    plant.approve_all(id);
    REQUIRE(plant.act("lea", AssignCommand{"tom", {}}, id).ok());
    REQUIRE(plant.state(id).status == OrderStatus::rectifying);

    std::vector<OrderState> orders{plant.state(id)};
    const auto target = order_to_escalate(orders, "press-2", "vibration");
    REQUIRE(target == id);
    plant.clock.advance(1h);
    const auto outcome =
        plant.act("system", EscalateCommand{"", "press2-vibration-recurrence"}, id);
    REQUIRE(outcome.ok());
    CHECK(outcome->notices[0].message ==
          "PRS-20261129-0001 escalated to red: recurrence rule press2-vibration-recurrence");
    const auto& order = plant.state(id);
    CHECK(order.risk == Risk::red);
    CHECK(order.reported_risk == Risk::medium);
    CHECK(order.status == OrderStatus::in_review);
    CHECK(order.review_round == 2);
    CHECK(order.review_chain == std::vector<Role>{Role::team_lead, Role::safety, Role::manager});
    CHECK(order.approvals.empty());
    CHECK(order.assignee.empty());
    CHECK(order.steps.back().kind == StepKind::review);
    CHECK(order.steps.back().deadline_ms == kStartMs + 3600LL * 1000 + 4LL * 3600 * 1000);

    // The red chain: team lead, safety, manager; round 1's approvers may approve again.
    CHECK(plant.act("lea", AssignCommand{"tom", {}}, id).error() ==
          "review level 1 of 3 (team_lead) is not approved yet");
    CHECK(plant.act("lea", ApproveCommand{}, id).ok());
    CHECK(plant.act("sam", ApproveCommand{}, id).ok());
    CHECK_FALSE(plant.state(id).review_complete());
    CHECK(plant.act("max", ApproveCommand{}, id).ok());
    CHECK(plant.state(id).review_complete());

    // Already red and open: recorded, review does not restart.
    CHECK(plant.act("sam", EscalateCommand{"second crack found", ""}, id).ok());
    CHECK(plant.state(id).review_round == 2);
    CHECK(plant.state(id).escalations == 2);
    CHECK(plant.act("tom", EscalateCommand{"worse", ""}, id).error() ==
          "tom may not escalate an order to red: that needs safety, manager or system (tom holds "
          "technician)");
    CHECK(plant.act("sam", EscalateCommand{"", ""}, id).error() ==
          "say why the order is escalated to red");
}

TEST_CASE("escalation: a closed order the hazard came back to is reopened at red") {
    Plant plant;
    const auto id = plant.report(Risk::low);
    plant.approve_all(id);
    REQUIRE(plant.act("lea", AssignCommand{"tom", {}}, id).ok());
    REQUIRE(plant.act("tom", SubmitCommand{"tightened", {}}, id).ok());
    REQUIRE(plant.act("sam", AcceptCommand{}, id).ok());
    REQUIRE(plant.state(id).status == OrderStatus::closed);
    const auto newer_closed = plant.report(Risk::low);
    REQUIRE(plant.act("sam", DismissCommand{DismissKind::false_alarm, "sensor cable"}, newer_closed)
                .ok());

    std::vector<OrderState> orders{plant.state(id), plant.state(newer_closed)};
    CHECK(order_to_escalate(orders, "press-2", "vibration") == newer_closed);
    CHECK(order_to_escalate(orders, "press-1", "vibration") == std::nullopt);

    CHECK(plant.act("system", EscalateCommand{"", "recurrence"}, id).ok());
    CHECK(plant.state(id).status == OrderStatus::in_review);
    CHECK(plant.state(id).risk == Risk::red);
    CHECK_FALSE(plant.state(id).closed_ms.has_value());
    orders = {plant.state(id), plant.state(newer_closed)};
    CHECK(order_to_escalate(orders, "press-2", "vibration") == id);  // the open one first
}

TEST_CASE("occurrences: re-activations attach to the open order instead of a duplicate") {
    Plant plant;
    ReportCommand alarm;
    alarm.equipment = "press-2";
    alarm.area = "stamping";
    alarm.hazard_type = "vibration";
    alarm.risk = Risk::high;
    alarm.rule = RuleSource{"press2-vibration", "3f2a9c01d4e5b677"};
    alarm.local_date = {std::chrono::year(2026), std::chrono::November, std::chrono::day(29)};
    CHECK(plant.act("rita", alarm).error() ==
          "orders from rules are opened by the daemon; a person reports as themselves");
    std::vector<OrderState> orders;
    REQUIRE_FALSE(open_order_for_activation(orders, "press2-vibration", "press-2").has_value());
    const auto opened = plant.act("system", alarm);
    REQUIRE(opened.ok());
    const auto id = opened->events[0].order_id;
    CHECK(opened->events[0].actor == "system");
    CHECK(plant.state(id).title == "vibration at press-2");
    CHECK(plant.state(id).rule_version == "3f2a9c01d4e5b677");

    orders = {plant.state(id)};
    CHECK(open_order_for_activation(orders, "press2-vibration", "press-2") == id);
    CHECK_FALSE(open_order_for_activation(orders, "press2-vibration", "press-1").has_value());
    CHECK_FALSE(open_order_for_activation(orders, "press2-temperature", "press-2").has_value());
    CHECK(plant.act("lea", RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}, id)
              .error()
              .starts_with("lea may not record"));
    plant.clock.advance(10min);
    CHECK(plant.act("system", RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}, id)
              .ok());
    plant.clock.advance(10min);
    CHECK(plant.act("system", RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}, id)
              .ok());
    CHECK(plant.state(id).occurrences == 3);
    CHECK(plant.state(id).last_occurrence_ms == kStartMs + 20LL * 60 * 1000);

    CHECK(plant.act("sam", DismissCommand{DismissKind::false_alarm, "loose sensor"}, id).ok());
    orders = {plant.state(id)};
    CHECK_FALSE(open_order_for_activation(orders, "press2-vibration", "press-2").has_value());
    CHECK(plant.act("system", RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}}, id)
              .error() == "the order is dismissed; a new activation opens a new order");
}

TEST_CASE("anonymous reports: the reporter is only a keyed hash and is never shown") {
    Plant plant;
    ReportCommand report;
    report.area = "stamping";
    report.hazard_type = "blocked_exit";
    report.risk = Risk::high;
    report.description = "pallets in front of the emergency exit by press-3";
    report.anonymous = true;
    report.local_date = {std::chrono::year(2026), std::chrono::November, std::chrono::day(29)};
    const auto outcome = plant.act("rita", report);
    REQUIRE(outcome.ok());
    const Event& event = outcome->events[0];
    const std::string keyed = hmac_sha256_hex(Plant::kKey, "rita");
    CHECK(event.actor == "anonymous");
    CHECK(event.role == Role::reporter);
    CHECK(event.payload.at("reporter_hash").as_string() == keyed);
    CHECK(canonical_encoding(event).find("rita") == std::string::npos);

    const auto& order = plant.state(event.order_id);
    CHECK(order.anonymous);
    CHECK(order.reporter.empty());
    CHECK(order.reporter_hash == keyed);
    CHECK(order.title == "blocked_exit at stamping");

    plant.approve_all(event.order_id);
    const auto shown = boost::json::serialize(order_view(plant.state(event.order_id))) +
                       boost::json::serialize(timeline_view(plant.events[event.order_id]));
    CHECK(shown.find("rita") == std::string::npos);
    CHECK(shown.find(keyed) == std::string::npos);
    CHECK(shown.find(R"("reporter":"anonymous")") != std::string::npos);
    CHECK(shown.find(R"("actor":"anonymous")") != std::string::npos);

    Plant keyless;
    keyless.workflow = testing::test_workflow();
    HandlerContext context{keyless.workflow, keyless.clock, keyless.writer, ""};
    CHECK(handle(report, keyless.actor("rita"), OrderState{}, "", context).error() ==
          "anonymous reports are not available: the store has no key");
}

}  // namespace
}  // namespace fw::workflow
