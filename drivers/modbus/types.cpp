#include "drivers/modbus/types.hpp"

#include "daemon/core/enum_names.hpp"

namespace fw::modbus {
namespace {

constexpr auto kTableNames = enum_names<Table>({{Table::coil, "coil"},
                                                {Table::discrete_input, "discrete_input"},
                                                {Table::input_register, "input_register"},
                                                {Table::holding_register, "holding_register"}});
constexpr auto kTypeNames = enum_names<ValueType>({{ValueType::boolean, "bool"},
                                                   {ValueType::int16, "int16"},
                                                   {ValueType::uint16, "uint16"},
                                                   {ValueType::int32, "int32"},
                                                   {ValueType::uint32, "uint32"},
                                                   {ValueType::float32, "float32"},
                                                   {ValueType::int64, "int64"},
                                                   {ValueType::uint64, "uint64"},
                                                   {ValueType::float64, "float64"}});
constexpr auto kOrderNames = enum_names<ByteOrder>({{ByteOrder::abcd, "ABCD"},
                                                    {ByteOrder::cdab, "CDAB"},
                                                    {ByteOrder::badc, "BADC"},
                                                    {ByteOrder::dcba, "DCBA"}});

}  // namespace

std::string_view table_name(Table table) {
    return kTableNames.name_of(table);
}
std::string_view type_name(ValueType type) {
    return kTypeNames.name_of(type);
}
std::string_view order_name(ByteOrder order) {
    return kOrderNames.name_of(order);
}

std::optional<Table> table_from_name(std::string_view name) {
    return kTableNames.from_name(name);
}
std::optional<ValueType> type_from_name(std::string_view name) {
    return kTypeNames.from_name(name);
}
std::optional<ByteOrder> order_from_name(std::string_view name) {
    return kOrderNames.from_name(name);
}

std::span<const std::string_view> table_names() {
    return kTableNames.names();
}
std::span<const std::string_view> type_names() {
    return kTypeNames.names();
}
std::span<const std::string_view> order_names() {
    return kOrderNames.names();
}

}  // namespace fw::modbus
