#include "drivers/modbus/codec.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fw::modbus {
namespace {

std::string source_dir() {
    const char* dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    return dir;
}

struct GoldenRow {
    int line = 0;
    ValueType type{};
    ByteOrder order{};
    std::vector<std::uint16_t> registers;
    std::optional<double> expected;
    bool check_encode = false;
};

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, separator)) {
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

std::vector<GoldenRow> read_golden(const std::string& path) {
    std::ifstream file(path);
    REQUIRE_MESSAGE(file.good(), "cannot open " << path);
    std::vector<GoldenRow> rows;
    std::string text;
    int line = 0;
    bool header_seen = false;
    while (std::getline(file, text)) {
        ++line;
        if (text.empty() || text.front() == '#') continue;
        if (!header_seen) {
            header_seen = true;
            continue;
        }
        const auto fields = split(text, ',');
        INFO(path << ":" << line << ": " << text);
        REQUIRE(fields.size() == 5);
        GoldenRow row;
        row.line = line;
        const auto type = type_from_name(fields[0]);
        const auto order = order_from_name(fields[1]);
        REQUIRE(type.has_value());
        REQUIRE(order.has_value());
        row.type = *type;
        row.order = *order;
        for (const auto& word : split(fields[2], ' ')) {
            row.registers.push_back(static_cast<std::uint16_t>(std::stoul(word, nullptr, 16)));
        }
        if (fields[3] != "none") row.expected = std::strtod(fields[3].c_str(), nullptr);
        REQUIRE((fields[4] == "both" || fields[4] == "decode"));
        row.check_encode = fields[4] == "both";
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string hex_words(std::span<const std::uint16_t> words) {
    std::string text;
    for (const auto word : words) text += fmt::format("{}{:04X}", text.empty() ? "" : " ", word);
    return text;
}

std::vector<std::uint16_t> encoded(double raw, ValueType type, ByteOrder order = ByteOrder::abcd) {
    const auto registers = encode_registers(raw, type, order);
    return {registers.view().begin(), registers.view().end()};
}

TEST_CASE("codec: golden decodings and encodings for every type in every byte order") {
    const auto rows = read_golden(source_dir() + "/drivers/modbus/testcases/decoding/golden.csv");
    std::set<std::pair<ValueType, ByteOrder>> covered;
    for (const auto& row : rows) {
        INFO("golden.csv line " << row.line << ": " << type_name(row.type) << " "
                                << order_name(row.order) << " " << hex_words(row.registers));
        const auto decoded = decode_registers(row.registers, row.type, row.order);
        if (row.expected) {
            REQUIRE(decoded.has_value());
            CHECK(*decoded == *row.expected);
            covered.emplace(row.type, row.order);
        } else {
            CHECK_FALSE(decoded.has_value());
        }
        if (row.check_encode) {
            REQUIRE(row.expected.has_value());
            const auto registers = encode_registers(*row.expected, row.type, row.order);
            CHECK(hex_words(registers.view()) == hex_words(row.registers));
        }
    }
    // Every type in every order has at least one good value pinned down.
    CHECK(covered.size() == type_names().size() * order_names().size());
}

TEST_CASE("codec: a register count that does not match the type decodes to nothing") {
    const std::vector<std::uint16_t> three{1, 2, 3};
    CHECK_FALSE(decode_registers(three, ValueType::float32, ByteOrder::abcd));
    CHECK_FALSE(decode_registers(three, ValueType::int64, ByteOrder::abcd));
    CHECK_FALSE(
        decode_registers(std::span<const std::uint16_t>{}, ValueType::uint16, ByteOrder::abcd));
    CHECK(encode_registers(1.0, ValueType::uint64, ByteOrder::abcd).count == 4);
    CHECK(encode_registers(1.0, ValueType::boolean, ByteOrder::abcd).count == 1);
}

TEST_CASE("codec: integers are rounded to nearest and saturated on encode") {
    CHECK(encoded(40000, ValueType::int16) == std::vector<std::uint16_t>{0x7FFF});
    CHECK(encoded(-40000, ValueType::int16) == std::vector<std::uint16_t>{0x8000});
    CHECK(encoded(-5, ValueType::uint16) == std::vector<std::uint16_t>{0x0000});
    CHECK(encoded(70000, ValueType::uint16) == std::vector<std::uint16_t>{0xFFFF});
    CHECK(encoded(3e9, ValueType::int32) == std::vector<std::uint16_t>{0x7FFF, 0xFFFF});
    CHECK(encoded(-3e9, ValueType::int32) == std::vector<std::uint16_t>{0x8000, 0x0000});
    CHECK(encoded(-1, ValueType::uint32) == std::vector<std::uint16_t>{0x0000, 0x0000});
    CHECK(encoded(5e9, ValueType::uint32) == std::vector<std::uint16_t>{0xFFFF, 0xFFFF});
    CHECK(encoded(1e19, ValueType::int64) ==
          std::vector<std::uint16_t>{0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF});
    CHECK(encoded(-1e19, ValueType::int64) ==
          std::vector<std::uint16_t>{0x8000, 0x0000, 0x0000, 0x0000});
    CHECK(encoded(1e20, ValueType::uint64) ==
          std::vector<std::uint16_t>{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF});
    CHECK(encoded(-1, ValueType::uint64) ==
          std::vector<std::uint16_t>{0x0000, 0x0000, 0x0000, 0x0000});
    CHECK(encoded(2.6, ValueType::int16) == std::vector<std::uint16_t>{0x0003});
    CHECK(encoded(-2.6, ValueType::int16) == std::vector<std::uint16_t>{0xFFFD});
    CHECK(encoded(std::numeric_limits<double>::quiet_NaN(), ValueType::int32) ==
          std::vector<std::uint16_t>{0x0000, 0x0000});
    CHECK(encoded(std::numeric_limits<double>::infinity(), ValueType::uint16) ==
          std::vector<std::uint16_t>{0xFFFF});
    // Saturation is per type, in every byte order.
    CHECK(encoded(40000, ValueType::int16, ByteOrder::badc) == std::vector<std::uint16_t>{0xFF7F});
    CHECK(encoded(3e9, ValueType::int32, ByteOrder::dcba) ==
          std::vector<std::uint16_t>{0xFFFF, 0xFF7F});
}

TEST_CASE("codec: negative values decode with their sign in every order") {
    for (const auto order : {ByteOrder::abcd, ByteOrder::cdab, ByteOrder::badc, ByteOrder::dcba}) {
        INFO(order_name(order));
        for (const auto type : {ValueType::int16, ValueType::int32, ValueType::int64,
                                ValueType::float32, ValueType::float64}) {
            INFO(type_name(type));
            const auto registers = encode_registers(-1.0, type, order);
            CHECK(decode_registers(registers.view(), type, order) == -1.0);
        }
    }
}

TEST_CASE("codec: NaN and infinite floats never become values") {
    for (const auto order : {ByteOrder::abcd, ByteOrder::cdab, ByteOrder::badc, ByteOrder::dcba}) {
        INFO(order_name(order));
        for (const auto type : {ValueType::float32, ValueType::float64}) {
            INFO(type_name(type));
            for (const double special :
                 {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity()}) {
                const auto registers = encode_registers(special, type, order);
                CHECK_FALSE(decode_registers(registers.view(), type, order).has_value());
            }
        }
    }
}

TEST_CASE("codec: bool is true for any non-zero register and encodes as 0 or 1") {
    const std::vector<std::uint16_t> zero{0x0000};
    const std::vector<std::uint16_t> high_bit{0x8000};
    CHECK(decode_registers(zero, ValueType::boolean, ByteOrder::abcd) == 0.0);
    CHECK(decode_registers(high_bit, ValueType::boolean, ByteOrder::abcd) == 1.0);
    CHECK(decode_registers(high_bit, ValueType::boolean, ByteOrder::dcba) == 1.0);
    CHECK(encoded(0.0, ValueType::boolean) == std::vector<std::uint16_t>{0x0000});
    CHECK(encoded(-3.5, ValueType::boolean) == std::vector<std::uint16_t>{0x0001});
    CHECK(encoded(1.0, ValueType::boolean, ByteOrder::badc) == std::vector<std::uint16_t>{0x0100});
}

TEST_CASE("codec: every register pattern of an integer type survives decode then encode") {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> word(0, 0xFFFF);
    for (int round = 0; round < 2000; ++round) {
        const std::vector<std::uint16_t> registers{static_cast<std::uint16_t>(word(random)),
                                                   static_cast<std::uint16_t>(word(random))};
        for (const auto type : {ValueType::int32, ValueType::uint32, ValueType::float32}) {
            for (const auto order :
                 {ByteOrder::abcd, ByteOrder::cdab, ByteOrder::badc, ByteOrder::dcba}) {
                const auto decoded = decode_registers(registers, type, order);
                if (!decoded) continue;  // NaN or infinite float32 patterns
                INFO(type_name(type) << " " << order_name(order) << " " << hex_words(registers));
                CHECK(hex_words(encode_registers(*decoded, type, order).view()) ==
                      hex_words(registers));
            }
        }
    }
}

TEST_CASE("codec: engineering scale and offset, and their inverse") {
    CHECK(to_engineering(250.0, 0.1, -20.0) == doctest::Approx(5.0));
    CHECK(to_raw(5.0, 0.1, -20.0) == doctest::Approx(250.0));
    CHECK(to_engineering(7.0, 1.0, 0.0) == 7.0);
}

}  // namespace
}  // namespace fw::modbus
