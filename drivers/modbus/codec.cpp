#include "drivers/modbus/codec.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace fw::modbus {
namespace {

bool swaps_words(ByteOrder order) {
    return order == ByteOrder::cdab || order == ByteOrder::dcba;
}
bool swaps_bytes(ByteOrder order) {
    return order == ByteOrder::badc || order == ByteOrder::dcba;
}

std::uint16_t swap_bytes(std::uint16_t word) {
    return static_cast<std::uint16_t>((word << 8) | (word >> 8));
}

// Assembles the big-endian bit pattern (A most significant) of a 1-, 2- or 4-register value.
std::uint64_t assemble(std::span<const std::uint16_t> registers, ByteOrder order) {
    std::uint64_t bits = 0;
    const std::size_t count = registers.size();
    for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t word = registers[swaps_words(order) ? count - 1 - i : i];
        if (swaps_bytes(order)) word = swap_bytes(word);
        bits = (bits << 16) | word;
    }
    return bits;
}

EncodedRegisters scatter(std::uint64_t bits, std::uint16_t count, ByteOrder order) {
    EncodedRegisters out;
    out.count = count;
    for (std::size_t i = 0; i < count; ++i) {
        // Word i of the big-endian pattern, most significant first.
        auto word = static_cast<std::uint16_t>(bits >> (16 * (count - 1 - i)));
        if (swaps_bytes(order)) word = swap_bytes(word);
        out.words[swaps_words(order) ? count - 1 - i : i] = word;
    }
    return out;
}

template <typename Int>
Int saturate(double value) {
    const double rounded = std::nearbyint(value);
    if (std::isnan(rounded)) return 0;
    if (rounded <= static_cast<double>(std::numeric_limits<Int>::min())) {
        return std::numeric_limits<Int>::min();
    }
    // max() of 64-bit types is not representable as double; compare against 2^bits instead.
    if (rounded >= std::ldexp(1.0, std::numeric_limits<Int>::digits)) {
        return std::numeric_limits<Int>::max();
    }
    return static_cast<Int>(rounded);
}

std::optional<double> finite_or_nothing(double value) {
    if (!std::isfinite(value)) return std::nullopt;
    return value;
}

}  // namespace

std::optional<double> decode_registers(std::span<const std::uint16_t> registers, ValueType type,
                                       ByteOrder order) {
    if (registers.size() != width_of(type, Table::holding_register)) return std::nullopt;
    const std::uint64_t bits = assemble(registers, order);
    switch (type) {
        case ValueType::boolean:
            return bits != 0 ? 1.0 : 0.0;
        case ValueType::int16:
            return static_cast<double>(static_cast<std::int16_t>(bits));
        case ValueType::uint16:
            return static_cast<double>(static_cast<std::uint16_t>(bits));
        case ValueType::int32:
            return static_cast<double>(static_cast<std::int32_t>(bits));
        case ValueType::uint32:
            return static_cast<double>(static_cast<std::uint32_t>(bits));
        case ValueType::float32:
            return finite_or_nothing(
                static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits))));
        case ValueType::int64:
            return static_cast<double>(static_cast<std::int64_t>(bits));
        case ValueType::uint64:
            return static_cast<double>(bits);
        case ValueType::float64:
            return finite_or_nothing(std::bit_cast<double>(bits));
    }
    return std::nullopt;
}

EncodedRegisters encode_registers(double raw_value, ValueType type, ByteOrder order) {
    const std::uint16_t count = width_of(type, Table::holding_register);
    std::uint64_t bits = 0;
    switch (type) {
        case ValueType::boolean:
            bits = raw_value != 0.0 ? 1 : 0;
            break;
        case ValueType::int16:
            bits = static_cast<std::uint16_t>(saturate<std::int16_t>(raw_value));
            break;
        case ValueType::uint16:
            bits = saturate<std::uint16_t>(raw_value);
            break;
        case ValueType::int32:
            bits = static_cast<std::uint32_t>(saturate<std::int32_t>(raw_value));
            break;
        case ValueType::uint32:
            bits = saturate<std::uint32_t>(raw_value);
            break;
        case ValueType::float32:
            bits = std::bit_cast<std::uint32_t>(static_cast<float>(raw_value));
            break;
        case ValueType::int64:
            bits = static_cast<std::uint64_t>(saturate<std::int64_t>(raw_value));
            break;
        case ValueType::uint64:
            bits = saturate<std::uint64_t>(raw_value);
            break;
        case ValueType::float64:
            bits = std::bit_cast<std::uint64_t>(raw_value);
            break;
    }
    return scatter(bits, count, order);
}

}  // namespace fw::modbus
