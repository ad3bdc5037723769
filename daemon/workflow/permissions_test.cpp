#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/workflow/test_harness.hpp"

namespace fw::workflow {
namespace {

using testing::Plant;
using testing::user_for;
using namespace std::chrono_literals;

constexpr std::array<Role, 7> kColumns{Role::reporter, Role::technician, Role::team_lead,
                                       Role::safety,   Role::manager,    Role::admin,
                                       Role::system};

// Walks a fresh medium-risk order to `state`; returns its id ("" for "new").
std::string order_in_state(Plant& plant, const std::string& state) {
    if (state == "new") return {};
    auto id = plant.report(Risk::medium);
    const auto expect = [&](const fw::Result<Outcome>& outcome) {
        REQUIRE_MESSAGE(outcome.ok(), outcome.error());
    };
    if (state == "dismissed") {
        expect(plant.act("sam", DismissCommand{DismissKind::false_alarm, "no hazard found"}, id));
        return id;
    }
    const std::vector<std::string> path{"reported",   "in_review",           "review_done",
                                        "rectifying", "awaiting_acceptance", "closed"};
    for (const auto& step : path) {
        if (step == state) return id;
        if (step == "reported") expect(plant.act("lea", ApproveCommand{}, id));
        if (step == "in_review") expect(plant.act("sam", ApproveCommand{}, id));
        if (step == "review_done") expect(plant.act("lea", AssignCommand{"tom", {}}, id));
        if (step == "rectifying") expect(plant.act("tom", SubmitCommand{"replaced", {}}, id));
        if (step == "awaiting_acceptance") expect(plant.act("sam", AcceptCommand{"ok"}, id));
    }
    return id;
}

Command command_for(const std::string& action, const OrderState& order) {
    if (action == "report") {
        ReportCommand report;
        report.area = "stamping";
        report.equipment = "press-1";
        report.hazard_type = "guard_missing";
        report.description = "light curtain bypassed";
        report.local_date = {std::chrono::year(2026), std::chrono::December, std::chrono::day(1)};
        return report;
    }
    if (action == "approve") return ApproveCommand{};
    if (action == "dismiss") return DismissCommand{DismissKind::false_alarm, "no hazard found"};
    if (action == "assign") return AssignCommand{"tina", {}};
    if (action == "reassign") return ReassignCommand{"tina", {}, "shift change"};
    if (action == "submit") return SubmitCommand{"done", {}};
    if (action == "accept") return AcceptCommand{"ok"};
    if (action == "reject") return RejectCommand{"redo the guard", {}};
    if (action == "escalate") return EscalateCommand{"cracks spreading", ""};
    if (action == "overdue") {
        return MarkOverdueCommand{order.steps.empty() ? 1 : order.steps.back().index};
    }
    if (action == "occurrence")
        return RecordOccurrenceCommand{{"press2-vibration", "3f2a9c01d4e5b677"}};
    FAIL("unknown action in the table: " << action);
    return ApproveCommand{};
}

TEST_CASE("permissions: every state x action x role, as in testcases/permissions.table") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source_dir != nullptr, "run through ctest, which sets FW_SOURCE_DIR");
    std::ifstream file(std::string(source_dir) + "/daemon/workflow/testcases/permissions.table");
    REQUIRE(file.good());

    const std::set<std::string> states{"reported",   "in_review",           "review_done",
                                       "rectifying", "awaiting_acceptance", "closed",
                                       "dismissed"};
    const std::set<std::string> actions{"approve", "dismiss", "assign",   "reassign", "submit",
                                        "accept",  "reject",  "escalate", "overdue",  "occurrence"};
    std::set<std::pair<std::string, std::string>> rows_seen;
    std::size_t cells = 0;
    std::string line;
    while (std::getline(file, line)) {
        if (line.empty() || line.front() == '#') continue;
        std::istringstream fields(line);
        std::string state;
        std::string action;
        fields >> state >> action;
        std::vector<std::string> expected;
        for (std::string cell; fields >> cell;) expected.push_back(cell);
        REQUIRE_MESSAGE(expected.size() == kColumns.size(), line);
        CHECK_MESSAGE(rows_seen.insert({state, action}).second, "row listed twice: " << line);

        for (std::size_t column = 0; column < kColumns.size(); ++column) {
            Plant plant;
            const auto id = order_in_state(plant, state);
            plant.clock.advance(30 * 24h);  // every deadline has passed
            const Role role = kColumns[column];
            const auto written = plant.log.size();
            const auto outcome =
                plant.act(user_for(role), command_for(action, plant.state(id)), id);
            const bool allowed = expected[column] == "yes";
            INFO(state, " ", action, " by ", role_name(role), ": ", outcome.error());
            CHECK(outcome.ok() == allowed);
            if (!outcome.ok()) {
                CHECK_FALSE(outcome.error().empty());
                CHECK(plant.log.size() == written);
            }
            ++cells;
        }
    }
    // Complete: the new-order row plus every order state with every action.
    CHECK(rows_seen.size() == 1 + states.size() * actions.size());
    for (const auto& state : states) {
        for (const auto& action : actions) CHECK(rows_seen.contains({state, action}));
    }
    CHECK(rows_seen.contains({"new", "report"}));
    CHECK(cells == rows_seen.size() * kColumns.size());
}

}  // namespace
}  // namespace fw::workflow
