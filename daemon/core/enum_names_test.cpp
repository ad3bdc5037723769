#include "daemon/core/enum_names.hpp"

#include <doctest/doctest.h>

#include <string_view>
#include <vector>

namespace {

enum class Colour { red, green, blue };

constexpr auto kColourNames =
    fw::enum_names<Colour>({{Colour::red, "red"}, {Colour::green, "green"}});

static_assert(kColourNames.name_of(Colour::green) == "green");
static_assert(kColourNames.from_name("red") == Colour::red);

}  // namespace

TEST_CASE("enum names: both ways, in table order, and what the table lacks") {
    CHECK(kColourNames.name_of(Colour::red) == "red");
    CHECK(kColourNames.name_of(Colour::blue) == "unknown");
    CHECK(kColourNames.from_name("green") == Colour::green);
    CHECK_FALSE(kColourNames.from_name("Green"));
    CHECK_FALSE(kColourNames.from_name("unknown"));
    const auto names = kColourNames.names();
    CHECK(std::vector<std::string_view>(names.begin(), names.end()) ==
          std::vector<std::string_view>{"red", "green"});
}
