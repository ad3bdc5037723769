#include <doctest/doctest.h>

#include "daemon/config/config.hpp"

namespace fw::workflow {
namespace {

using namespace std::chrono_literals;

const std::string kBase = R"(gateway: {site: plant-a, node: gw-1}
equipment:
  - {id: press-1, area: stamping}
)";

std::string issues_of(const std::string& text) {
    try {
        parse_config(text, "floorwatch.yaml");
    } catch (const ConfigError& error) {
        return error.what();
    }
    return {};
}

TEST_CASE("workflow config: defaults by risk, and a partial risk keeps that risk's defaults") {
    const auto defaults = parse_config(kBase, "floorwatch.yaml").workflow;
    CHECK(defaults.low.review_levels == std::vector<Role>{Role::safety});
    CHECK(defaults.red.review_deadline == 4h);
    CHECK(defaults.prefix_for_area("stamping") == "HZ");

    const auto config = parse_config(kBase + R"(workflow:
  red: {review_deadline: 2h}
  medium:
    review: safety, manager
  prefixes:
    - {area: stamping, prefix: PRS}
  attachments: {max_size: 8MiB, types: 'image/jpeg, image/png, application/pdf'}
  overdue_notify: manager
  users:
    - {name: anna, uid: 1001, roles: 'safety, manager'}
    - {name: tom, roles: technician}
)",
                                     "floorwatch.yaml");
    const auto& workflow = config.workflow;
    CHECK(workflow.red.review_deadline == 2h);
    CHECK(workflow.red.rectification_deadline == 24h);  // red's default, not the generic one
    CHECK(workflow.red.review_levels.size() == 3);
    CHECK(workflow.medium.review_levels == std::vector<Role>{Role::safety, Role::manager});
    CHECK(workflow.medium.review_deadline == 72h);
    CHECK(workflow.prefix_for_area("stamping") == "PRS");
    CHECK(workflow.attachments.max_size == 8ULL * 1024 * 1024);
    CHECK(workflow.attachments.allowed_types.size() == 3);
    CHECK(workflow.overdue_notify_roles == std::vector<Role>{Role::manager});
    REQUIRE(workflow.find_user_by_uid(1001) != nullptr);
    CHECK(workflow.find_user_by_uid(1001)->name == "anna");
    CHECK(workflow.find_user("tom")->uid == -1);
    CHECK(workflow.find_user("tom")->role_list == std::vector<Role>{Role::technician});
}

TEST_CASE("workflow config: mistakes are reported at their place") {
    CHECK(issues_of(kBase + "workflow:\n  low: {review: 'safety, janitor'}\n") ==
          "floorwatch.yaml:5:17: workflow.low.review: unknown role 'janitor' (expected reporter, "
          "technician, team_lead, safety, manager, admin)");
    CHECK(issues_of(kBase + "workflow:\n  high: {review: 'safety, safety'}\n") ==
          "floorwatch.yaml:5:18: workflow.high.review: role 'safety' is listed twice");
    CHECK(issues_of(kBase + "workflow:\n  prefixes: [{area: paint, prefix: PNT}]\n") ==
          "floorwatch.yaml:5:21: workflow.prefixes[0].area: no equipment is in area 'paint' "
          "(areas: stamping)");
    CHECK(issues_of(kBase + "workflow:\n  users:\n    - {name: a, uid: 5, roles: safety}\n"
                            "    - {name: a, uid: 5, roles: system}\n") ==
          "floorwatch.yaml:7:14: workflow.users[1].name: duplicate user name 'a' (first at "
          "workflow.users[0].name, line 6)\n"
          "floorwatch.yaml:7:22: workflow.users[1].uid: duplicate uid '5' (first at "
          "workflow.users[0].uid, line 6)\n"
          "floorwatch.yaml:7:32: workflow.users[1].roles: unknown role 'system' (expected "
          "reporter, technician, team_lead, safety, manager, admin)");
    CHECK(issues_of(kBase + "workflow:\n  users: [{name: system, roles: admin}]\n") ==
          "floorwatch.yaml:5:18: workflow.users[0].name: 'system' is reserved for the workflow's "
          "own entries; choose another name");
    CHECK(issues_of(kBase + "workflow:\n  attachments: {types: 'image/jpeg, jpeg'}\n") ==
          "floorwatch.yaml:5:24: workflow.attachments.types: 'jpeg' is not a media type; "
          "expected e.g. 'image/jpeg, image/png'");
}

}  // namespace
}  // namespace fw::workflow
