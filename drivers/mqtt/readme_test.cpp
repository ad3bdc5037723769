// The README's example config must be sample-config.yaml itself, and the loader must accept it.

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/config/config.hpp"

namespace {

std::string read_whole_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    REQUIRE_MESSAGE(file.good(), "cannot open " << path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::string folder() {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source_dir != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    return std::string(source_dir) + "/drivers/mqtt/";
}

}  // namespace

TEST_CASE("mqtt readme: the yaml example is sample-config.yaml, byte for byte") {
    const std::string readme = read_whole_file(folder() + "README.md");
    const std::string opening = "\n```yaml\n";
    const auto start = readme.find(opening);
    REQUIRE_MESSAGE(start != std::string::npos, "README.md lost its ```yaml example");
    const auto begin = start + opening.size();
    const auto end = readme.find("\n```\n", begin - 1);
    REQUIRE(end != std::string::npos);
    CHECK_MESSAGE(
        readme.substr(begin, end + 1 - begin) == read_whole_file(folder() + "sample-config.yaml"),
        "README.md's ```yaml block differs from sample-config.yaml; paste the file "
        "into the README again");
}

TEST_CASE("mqtt readme: the loader accepts sample-config.yaml and reads its mqtt section") {
    const fw::Config config = fw::load_config(folder() + "sample-config.yaml");
    REQUIRE(config.mqtt.brokers.size() >= 1);
    bool has_value = false;
    bool has_event = false;
    for (const auto& broker : config.mqtt.brokers) {
        CHECK_FALSE(broker.client_id.empty());
        for (const auto& input : broker.inputs) {
            has_value = has_value || input.kind == fw::mqtt::InputKind::value;
            has_event = has_event || input.kind == fw::mqtt::InputKind::event;
        }
    }
    CHECK(has_value);
    CHECK(has_event);
}
