// `role:` and `sync:` in the config: defaults, the derived client id, the limits, and what a
// central process refuses, each with its file:line:col.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/config/config.hpp"

namespace {

const std::string kGateway = "gateway: {site: demo-plant, node: gw-1}\n";

std::vector<std::string> issues_of(const std::string& text) {
    try {
        fw::parse_config(text, "floorwatch.yaml");
    } catch (const fw::ConfigError& error) {
        std::vector<std::string> issues;
        for (const auto& issue : error.issues()) issues.push_back(issue.to_string());
        return issues;
    }
    return {};
}

TEST_CASE("sync: absent means a standalone gateway; present, defaults fill the rest") {
    const auto standalone = fw::parse_config(kGateway, "floorwatch.yaml");
    CHECK(standalone.role == fw::ProcessRole::gateway);
    CHECK_FALSE(standalone.sync.has_value());

    const auto synced = fw::parse_config(
        kGateway + "sync:\n  broker: {uri: 'tcp://127.0.0.1:18830'}\n", "floorwatch.yaml");
    REQUIRE(synced.sync.has_value());
    CHECK(synced.sync->broker.uri == "tcp://127.0.0.1:18830");
    CHECK(synced.sync->broker.client_id == "fw-demo-plant-gw-1-sync");
    CHECK(synced.sync->batch_events == 500);
    CHECK(synced.sync->batch_bytes == 256 * 1024);
    CHECK(synced.sync->in_flight == 16);
    CHECK(synced.sync->ack_timeout == std::chrono::seconds(10));
    CHECK(synced.sync->chunk_size == 64 * 1024);
    CHECK(synced.sync->share_group == "floorwatch-central");
    CHECK_FALSE(synced.sync->postgresql.has_value());
}

TEST_CASE("sync: limits and the broker's keys are checked where they are written") {
    CHECK(issues_of(kGateway + "sync:\n  broker: {uri: 'tcp://h:1'}\n  batch_events: 0\n") ==
          std::vector<std::string>{
              "floorwatch.yaml:4:17: sync.batch_events: must be between 1 and 5000, got 0"});
    const auto chunk = issues_of(kGateway +
                                 "sync:\n  broker: {uri: 'tcp://h:1'}\n  batch_bytes: 64KiB\n"
                                 "  chunk_size: 64KiB\n");
    REQUIRE(chunk.size() == 1);
    CHECK(chunk[0].find("floorwatch.yaml:5:15: sync.chunk_size: a chunk of 64KiB") == 0);
    const auto unknown = issues_of(kGateway + "sync:\n  broker: {uri: 'tcp://h:1', inputs: []}\n");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].find("sync.broker.inputs") != std::string::npos);
    const auto missing = issues_of(kGateway + "sync:\n  in_flight: 2\n");
    REQUIRE(missing.size() == 1);
    CHECK(missing[0] == "floorwatch.yaml:3:3: sync: missing required key 'broker'");
    const auto postgres =
        issues_of(kGateway + "sync:\n  broker: {uri: 'tcp://h:1'}\n  postgresql: 'dbname=x'\n");
    REQUIRE(postgres.size() == 1);
    CHECK(postgres[0].find("postgresql is for role: central") != std::string::npos);
}

TEST_CASE("role: central polls nothing and needs sync") {
    const auto central = fw::parse_config(
        "role: central\n" + kGateway +
            "sync:\n  broker: {uri: 'tcp://h:1'}\n  postgresql: 'host=/run/postgresql'\n",
        "floorwatch.yaml");
    CHECK(central.role == fw::ProcessRole::central);
    REQUIRE(central.sync->postgresql.has_value());
    CHECK(*central.sync->postgresql == "host=/run/postgresql");

    const auto refused = issues_of("role: central\n" + kGateway +
                                   "sync:\n  broker: {uri: 'tcp://h:1'}\n"
                                   "modbus:\n  buses: []\n");
    REQUIRE(refused.size() == 1);
    CHECK(refused[0] ==
          "floorwatch.yaml:6:3: modbus: a central floorwatch polls no devices; remove modbus: or "
          "set role: gateway");
    const auto lonely = issues_of("role: central\n" + kGateway);
    REQUIRE(lonely.size() == 1);
    CHECK(lonely[0].find("role: central needs a sync: section") != std::string::npos);
    const auto unknown = issues_of("role: centre\n" + kGateway);
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].find("floorwatch.yaml:1:7: role:") == 0);
}

}  // namespace
