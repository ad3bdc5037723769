#include "daemon/central/sql.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace fw::central {

std::uint64_t SqlRow::count(int column) const {
    const std::int64_t value = integer(column);
    if (value < 0) {
        throw std::runtime_error(fmt::format(
            "column {} holds {}, where a count or sequence was expected", column, value));
    }
    return static_cast<std::uint64_t>(value);
}

std::optional<std::int64_t> SqlRow::optional_integer(int column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
}

std::optional<std::string> SqlRow::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

}  // namespace fw::central
