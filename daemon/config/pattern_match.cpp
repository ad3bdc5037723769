// std::regex lives in its own translation unit: GCC 12 reports a false -Wmaybe-uninitialized
// inside libstdc++'s regex automaton when building with sanitizers (GCC bug 105562), and only
// this file needs the warning off. Clang (clang-tidy parses with it) has no such warning.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <regex>

#include "daemon/config/option_table.hpp"

namespace fw::config_table {

bool matches_pattern(std::string_view text, std::string_view pattern) {
    // ECMAScript grammar, as JSON Schema's "pattern" keyword uses.
    const std::regex regex{std::string(pattern), std::regex::ECMAScript};
    return std::regex_match(text.begin(), text.end(), regex);
}

}  // namespace fw::config_table
