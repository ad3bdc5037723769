#include "drivers/modbus/types.hpp"

#include <array>

namespace fw::modbus {
namespace {

constexpr std::array<std::string_view, 4> kTableNames{"coil", "discrete_input", "input_register",
                                                      "holding_register"};
constexpr std::array<std::string_view, 9> kTypeNames{
    "bool", "int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64"};
constexpr std::array<std::string_view, 4> kOrderNames{"ABCD", "CDAB", "BADC", "DCBA"};

template <typename Enum, std::size_t N>
std::optional<Enum> find_name(const std::array<std::string_view, N>& names, std::string_view name) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == name) return static_cast<Enum>(i);
    }
    return std::nullopt;
}

}  // namespace

std::string_view table_name(Table table) {
    return kTableNames[static_cast<std::size_t>(table)];
}
std::string_view type_name(ValueType type) {
    return kTypeNames[static_cast<std::size_t>(type)];
}
std::string_view order_name(ByteOrder order) {
    return kOrderNames[static_cast<std::size_t>(order)];
}

std::optional<Table> table_from_name(std::string_view name) {
    return find_name<Table>(kTableNames, name);
}
std::optional<ValueType> type_from_name(std::string_view name) {
    return find_name<ValueType>(kTypeNames, name);
}
std::optional<ByteOrder> order_from_name(std::string_view name) {
    return find_name<ByteOrder>(kOrderNames, name);
}

std::span<const std::string_view> table_names() {
    return kTableNames;
}
std::span<const std::string_view> type_names() {
    return kTypeNames;
}
std::span<const std::string_view> order_names() {
    return kOrderNames;
}

}  // namespace fw::modbus
