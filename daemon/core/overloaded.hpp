#pragma once
// One visitor out of several lambdas, for std::visit over a variant:
//   std::visit(Overloaded{[](const A&) {...}, [](const auto&) {...}}, value);

namespace fw {

template <typename... Visitors>
struct Overloaded : Visitors... {
    using Visitors::operator()...;
};
// C++20 deduces this for aggregates; clang 16 (clang-tidy in CI) still needs the guide.
template <typename... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;

}  // namespace fw
