// The README's example config must be sample-config.yaml itself, so the two never drift.

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/core/units.hpp"
#include "drivers/modbus/types.hpp"

namespace {

std::string read_whole_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    REQUIRE_MESSAGE(file.good(), "cannot open " << path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// Contents of every ```yaml fenced block, each exactly as written between the fences.
std::vector<std::string> yaml_blocks(const std::string& markdown) {
    const std::string opening = "```yaml\n";
    const std::string closing = "\n```";
    std::vector<std::string> blocks;
    std::size_t at = 0;
    while ((at = markdown.find(opening, at)) != std::string::npos) {
        if (at != 0 && markdown[at - 1] != '\n') {
            at += opening.size();
            continue;
        }
        const std::size_t begin = at + opening.size();
        const std::size_t end = markdown.find(closing, begin - 1);
        REQUIRE_MESSAGE(end != std::string::npos, "unterminated ```yaml block in README.md");
        blocks.push_back(markdown.substr(begin, end + 1 - begin));
        at = end + closing.size();
    }
    return blocks;
}

TEST_CASE("readme: the yaml example is sample-config.yaml, byte for byte") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source_dir != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    const std::string folder = std::string(source_dir) + "/drivers/modbus/";
    const auto blocks = yaml_blocks(read_whole_file(folder + "README.md"));
    REQUIRE(blocks.size() == 1);
    CHECK_MESSAGE(blocks.front() == read_whole_file(folder + "sample-config.yaml"),
                  "README.md's ```yaml block differs from sample-config.yaml; paste the file "
                  "into the README again");
}

TEST_CASE("readme: the block finder sees one block and its exact text") {
    const auto blocks = yaml_blocks("intro\n```yaml\na: 1\nb: 2\n```\n```sh\nls\n```\n");
    REQUIRE(blocks.size() == 1);
    CHECK(blocks.front() == "a: 1\nb: 2\n");
}

// The daemon's loader is the authority on the config; this only keeps the sample honest about the
// driver's own vocabulary and the agreed shape, so a typo in it cannot reach the README.
void require_keys(const YAML::Node& node, const std::vector<std::string>& keys,
                  const std::string& where) {
    REQUIRE_MESSAGE(node.IsMap(), where << " is not a map");
    for (const auto& key : keys) CHECK_MESSAGE(node[key].IsDefined(), where << " lacks " << key);
    for (const auto& entry : node) {
        const auto key = entry.first.as<std::string>();
        CHECK_MESSAGE(std::find(keys.begin(), keys.end(), key) != keys.end(),
                      where << " has unexpected key " << key);
    }
}

void require_duration(const YAML::Node& node, const std::string& where) {
    CHECK_MESSAGE(fw::parse_duration(node.as<std::string>()).has_value(),
                  where << ": '" << node.as<std::string>() << "' is not a duration");
}

TEST_CASE("readme: sample-config.yaml has the agreed shape and only names the driver knows") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE(source_dir != nullptr);
    const YAML::Node root =
        YAML::LoadFile(std::string(source_dir) + "/drivers/modbus/sample-config.yaml");
    require_keys(root, {"gateway", "store", "equipment", "modbus"}, "the file");
    require_keys(root["gateway"], {"site", "node", "log_level"}, "gateway");
    require_keys(root["store"], {"path", "commit_interval", "queue_capacity", "samples"}, "store");
    require_keys(root["store"]["samples"], {"max_age", "max_size", "prune_interval"},
                 "store.samples");
    CHECK(fw::parse_size(root["store"]["samples"]["max_size"].as<std::string>()).has_value());
    std::vector<std::string> equipment;
    for (const auto& item : root["equipment"]) {
        require_keys(item, {"id", "area", "description"}, "equipment[]");
        equipment.push_back(item["id"].as<std::string>());
    }
    require_keys(root["modbus"], {"buses"}, "modbus");
    bool has_tcp = false;
    bool has_rtu = false;
    for (const auto& bus : root["modbus"]["buses"]) {
        const std::string transport = bus["tcp"] ? "tcp" : "rtu";
        has_tcp = has_tcp || transport == "tcp";
        has_rtu = has_rtu || transport == "rtu";
        const std::string where = "bus " + bus["name"].as<std::string>();
        require_keys(bus,
                     {"name", transport, "max_gap", "reconnect_min", "reconnect_max",
                      "failing_poll_max", "devices"},
                     where);
        if (transport == "tcp") {
            require_keys(bus["tcp"], {"host", "port"}, where + ".tcp");
        } else {
            require_keys(bus["rtu"],
                         {"device", "baud", "parity", "data_bits", "stop_bits", "rs485"},
                         where + ".rtu");
            const auto parity = bus["rtu"]["parity"].as<std::string>();
            CHECK((parity == "none" || parity == "even" || parity == "odd"));
        }
        for (const char* key : {"reconnect_min", "reconnect_max", "failing_poll_max"}) {
            require_duration(bus[key], where + "." + key);
        }
        for (const auto& device : bus["devices"]) {
            const std::string device_where = where + "/" + device["name"].as<std::string>();
            require_keys(device, {"name", "unit_id", "poll_interval", "timeout", "points"},
                         device_where);
            require_duration(device["poll_interval"], device_where + ".poll_interval");
            require_duration(device["timeout"], device_where + ".timeout");
            for (const auto& point : device["points"]) {
                const std::string point_where =
                    device_where + " point " + point["channel"].as<std::string>();
                require_keys(point,
                             {"channel", "equipment", "table", "address", "type", "order", "scale",
                              "offset", "unit"},
                             point_where);
                INFO(point_where);
                CHECK(fw::modbus::table_from_name(point["table"].as<std::string>()));
                CHECK(fw::modbus::type_from_name(point["type"].as<std::string>()));
                CHECK(fw::modbus::order_from_name(point["order"].as<std::string>()));
                CHECK(std::find(equipment.begin(), equipment.end(),
                                point["equipment"].as<std::string>()) != equipment.end());
            }
        }
    }
    CHECK(has_tcp);
    CHECK(has_rtu);
}

}  // namespace
