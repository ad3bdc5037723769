#pragma once
// Modbus vocabulary shared by the driver, the config loader, the codec and the simulator.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace fw::modbus {

// Protocol read limits per request (Modbus application protocol v1.1b3, 6.1–6.4).
inline constexpr std::uint16_t kMaxRegistersPerRead = 125;
inline constexpr std::uint16_t kMaxBitsPerRead = 2000;

enum class Table { coil, discrete_input, input_register, holding_register };

enum class ValueType { boolean, int16, uint16, int32, uint32, float32, int64, uint64, float64 };

// Order of the value's bytes across the registers, named by where the most significant byte A
// lands. ABCD is big-endian (the Modbus default); CDAB swaps words; BADC swaps the bytes within
// each word; DCBA is fully little-endian. For 64-bit values the same rule spans four registers.
enum class ByteOrder { abcd, cdab, badc, dcba };

constexpr bool is_bit_table(Table table) {
    return table == Table::coil || table == Table::discrete_input;
}

// Registers (or bits, for bit tables) one value occupies.
constexpr std::uint16_t width_of(ValueType type, Table table) {
    if (is_bit_table(table)) return 1;
    switch (type) {
        case ValueType::boolean:
        case ValueType::int16:
        case ValueType::uint16:
            return 1;
        case ValueType::int32:
        case ValueType::uint32:
        case ValueType::float32:
            return 2;
        case ValueType::int64:
        case ValueType::uint64:
        case ValueType::float64:
            return 4;
    }
    return 1;
}

// Names as written in the config: "input_register", "float32", "CDAB".
std::string_view table_name(Table table);
std::string_view type_name(ValueType type);
std::string_view order_name(ByteOrder order);
std::optional<Table> table_from_name(std::string_view name);
std::optional<ValueType> type_from_name(std::string_view name);
std::optional<ByteOrder> order_from_name(std::string_view name);

// Every accepted name, in declaration order, for "expected ..." messages and the JSON Schema.
std::span<const std::string_view> table_names();
std::span<const std::string_view> type_names();
std::span<const std::string_view> order_names();

}  // namespace fw::modbus
