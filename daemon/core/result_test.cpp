#include "daemon/core/result.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace {

fw::Result<int> half(int number) {
    if (number % 2 != 0) return fw::Error{std::to_string(number) + " is odd"};
    return number / 2;
}

fw::Status check_positive(int number) {
    if (number <= 0) return fw::Error{"not positive"};
    return {};
}

}  // namespace

TEST_CASE("a Result holds a value or the error for the person who asked") {
    const auto four = half(8);
    REQUIRE(four.ok());
    CHECK(*four == 4);
    CHECK(four.value_or(0) == 4);

    const auto odd = half(7);
    CHECK_FALSE(odd);
    CHECK(odd.error() == "7 is odd");
    CHECK(odd.value_or(-1) == -1);
    CHECK(four.error().empty());

    // Move-only values move out.
    fw::Result<std::unique_ptr<int>> owned = std::make_unique<int>(3);
    const std::unique_ptr<int> taken = *std::move(owned);
    CHECK(*taken == 3);
}

TEST_CASE("a Status is a success by default, else an error") {
    CHECK(check_positive(1).ok());
    const auto refused = check_positive(0);
    CHECK_FALSE(refused);
    CHECK(refused.error() == "not positive");
    CHECK(fw::Status().ok());
    CHECK(fw::Status().error().empty());
}
