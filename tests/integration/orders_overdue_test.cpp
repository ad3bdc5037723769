// Deadlines end to end: the real daemon's overdue timer (every 30 s) marks a rectification whose
// deadline has passed as overdue, once, and logs the notice for the roles in
// workflow.overdue_notify and the assignee; `floorwatch orders --overdue` and `--assignee` list
// what they say. The configured step deadlines cannot be under a minute, so the short deadline is
// the assignment's own (`--deadline 3s`).

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::RunResult;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

constexpr int kRita = 0;     // the test's own uid: reporter and team lead (assigns)
constexpr int kSara = 1002;  // safety: the one review level of low-risk orders
constexpr int kTom = 1004;   // technician; tim (1005) is one too, and never acts himself

std::string config_for(const TempDir& dir) {
    return "gateway: {site: test-plant, node: gw-1, log_level: debug}\n"
           "store: {path: " +
           (dir / "fw.db").string() + ", commit_interval: 100ms}\n" +
           "control: {socket: " + (dir / "control.sock").string() + ", mode: '0666'}\n" +
           R"(equipment:
  - {id: press-1, area: stamping}
  - {id: pump-1, area: cooling}
workflow:
  users:
    - {name: rita, uid: 0, roles: 'reporter, team_lead'}
    - {name: sara, uid: 1002, roles: safety}
    - {name: tom, uid: 1004, roles: technician}
    - {name: tim, uid: 1005, roles: technician}
)";
}

// The CLI as one person: the test's own uid directly, others through setpriv.
RunResult as(const TempDir& dir, int uid, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((dir / "fw.yaml").string());
    return fw::test::run_as(dir, uid, uid, FW_CLI_BINARY, args);
}

void act(const TempDir& dir, int uid, const std::vector<std::string>& args) {
    const auto done = as(dir, uid, args);
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
}

// A low-risk report by rita; returns its number.
std::string report(const TempDir& dir, const std::string& equipment,
                   const std::string& description) {
    const auto done = as(dir, kRita,
                         {"report", "--equipment", equipment, "--type", "guarding", "--risk", "low",
                          "--description", description, "--json"});
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
    return std::string(json::parse(done.out).at("order").at("number").as_string());
}

// The numbers `floorwatch orders` lists with these options, in its order.
std::vector<std::string> listed(const TempDir& dir, std::vector<std::string> options) {
    options.insert(options.begin(), "orders");
    options.push_back("--json");
    const auto run = as(dir, kRita, options);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    std::vector<std::string> numbers;
    const json::value parsed = json::parse(run.out);
    for (const auto& item : parsed.as_array()) {
        numbers.emplace_back(item.at("number").as_string());
    }
    return numbers;
}

std::vector<std::string> timeline_types(const TempDir& dir, const std::string& number) {
    const auto shown = as(dir, kRita, {"orders", "show", number, "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    std::vector<std::string> types;
    const json::value parsed = json::parse(shown.out);
    for (const auto& event : parsed.at("timeline").as_array()) {
        types.emplace_back(event.at("type").as_string());
    }
    return types;
}

}  // namespace

TEST_CASE("the overdue timer marks a passed deadline once; --overdue and --assignee list orders") {
    TempDir dir("fw-overdue");
    // Other uids must reach the socket and read the config inside the test folder.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    write_text_file(dir / "fw.yaml", config_for(dir));
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");

    // Tom's order is due in 3 s, tim's in 3 days; the third is still in review (due in 7 days).
    const std::string toms = report(dir, "press-1", "guard loose");
    const std::string tims = report(dir, "pump-1", "coolant leak at the flange");
    const std::string in_review = report(dir, "press-1", "oil on the walkway");
    act(dir, kSara, {"orders", "act", toms, "approve"});
    act(dir, kSara, {"orders", "act", tims, "approve"});
    act(dir, kRita, {"orders", "act", toms, "assign", "--assignee", "tom", "--deadline", "3s"});
    act(dir, kRita, {"orders", "act", tims, "assign", "--assignee", "tim", "--deadline", "3d"});

    CHECK(listed(dir, {"--assignee", "tom"}) == std::vector<std::string>{toms});
    CHECK(listed(dir, {"--assignee", "tim"}) == std::vector<std::string>{tims});
    CHECK(listed(dir, {"--assignee", "sara"}).empty());
    CHECK(listed(dir, {}).size() == 3);

    // Past its deadline the order is listed as overdue at once, before the timer has marked it.
    REQUIRE(eventually([&] { return listed(dir, {"--overdue"}).size() == 1; }, 10s));
    CHECK(listed(dir, {"--overdue"}) == std::vector<std::string>{toms});
    CHECK(listed(dir, {"--overdue", "--assignee", "tim"}).empty());
    const auto human = as(dir, kTom, {"orders", "--overdue"});
    CHECK(human.out.find(toms) != std::string::npos);
    CHECK(human.out.find("OVERDUE") != std::string::npos);
    CHECK(human.out.find(tims) == std::string::npos);

    // The timer runs 30 s after the start and every 30 s: one overdue event by the system, and
    // the notice for safety and managers (workflow.overdue_notify) and the assignee.
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto types = timeline_types(dir, toms);
                            return !types.empty() && types.back() == "overdue";
                        },
                        45s),
                    read_text_file(daemon.log));
    CHECK(timeline_types(dir, toms) ==
          std::vector<std::string>{"reported", "approved", "assigned", "overdue"});
    CHECK(timeline_types(dir, tims) ==
          std::vector<std::string>{"reported", "approved", "assigned"});
    CHECK(timeline_types(dir, in_review) == std::vector<std::string>{"reported"});
    const std::string log = read_text_file(daemon.log);
    CHECK(log.find("notice for safety, manager, tom: " + toms + ": rectification overdue since") !=
          std::string::npos);
    const auto kpi = as(dir, kRita, {"kpi", "--json"});
    REQUIRE_MESSAGE(kpi.exit_code == 0, kpi.err);
    CHECK(json::parse(kpi.out).at("overdue").as_int64() == 1);

    // Marked overdue, it stays listed as such, and submitting still works: late is not refused.
    CHECK(listed(dir, {"--overdue"}) == std::vector<std::string>{toms});
    act(dir, kTom, {"orders", "act", toms, "submit", "--note", "guard bolted back on"});
    CHECK(timeline_types(dir, toms).back() == "submitted");
    CHECK(daemon.process.stop(30s) == 0);
}
