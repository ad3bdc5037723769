// The configuration reference (docs/configuration.md) shows the demo's config as its complete
// annotated example; this keeps the two from drifting apart (after Telegraf's
// README-equals-sample-config check).

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_source_file(const std::string& relative) {
    const char* root = std::getenv("FW_SOURCE_DIR");
    REQUIRE(root != nullptr);
    std::ifstream file(std::filesystem::path(root) / relative);
    REQUIRE_MESSAGE(file.good(), relative);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("the configuration reference's annotated example is the demo config, byte for byte") {
    const std::string readme = read_source_file("docs/configuration.md");
    const std::string marker = "`examples/demo/floorwatch.yaml`:\n\n```yaml\n";
    const auto start = readme.find(marker);
    REQUIRE_MESSAGE(start != std::string::npos, "docs/configuration.md lost its annotated example");
    const auto begin = start + marker.size();
    const auto end = readme.find("```\n", begin);
    REQUIRE(end != std::string::npos);
    CHECK_MESSAGE(
        readme.substr(begin, end - begin) == read_source_file("examples/demo/floorwatch.yaml"),
        "copy examples/demo/floorwatch.yaml into docs/configuration.md");
}

TEST_CASE("the README opens with the two commands, and CI runs the second") {
    const std::string readme = read_source_file("README.md");
    const auto demo = readme.find("bash scripts/demo.sh");
    const auto test = readme.find("bash scripts/test.sh");
    REQUIRE(demo != std::string::npos);
    REQUIRE(test != std::string::npos);
    CHECK(demo < test);
    CHECK(read_source_file(".ci/run").find("bash scripts/test.sh") != std::string::npos);
}
