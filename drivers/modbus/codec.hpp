#pragma once
// Turning registers into values and back. The project's own code, not libmodbus's
// modbus_get_float_*: those cover only float32, and we need every type in every order, golden-
// tested (codec_test.cpp). Works on values, never on memory casts, so it is endian- and
// alignment-independent (armhf, aarch64, x86_64 alike).

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "drivers/modbus/types.hpp"

namespace fw::modbus {

// Raw (unscaled) value of `type` from `registers` (exactly width_of(type) of them, first register
// at the lowest address). Integers up to 2^53 are exact; larger 64-bit integers are rounded to the
// nearest double. A float that is NaN or infinite gives nullopt (quality decode_error): a sensor
// that reports NaN has not measured anything. A boolean in a register table is "register != 0".
std::optional<double> decode_registers(std::span<const std::uint16_t> registers, ValueType type,
                                       ByteOrder order);

struct EncodedRegisters {
    std::array<std::uint16_t, 4> words{};
    std::uint16_t count = 0;
    std::span<const std::uint16_t> view() const { return {words.data(), count}; }
};

// Inverse of decode_registers, for the simulator and tests. Integers are rounded to nearest and
// saturated to the type's range.
EncodedRegisters encode_registers(double raw_value, ValueType type, ByteOrder order);

// Engineering value = raw * scale + offset, and its inverse (simulator).
inline double to_engineering(double raw, double scale, double offset) {
    return raw * scale + offset;
}
inline double to_raw(double engineering, double scale, double offset) {
    return (engineering - offset) / scale;
}

}  // namespace fw::modbus
