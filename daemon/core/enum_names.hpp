#pragma once
// The names enum values have in config files, the store, logs and JSON: one constexpr table of
// {value, name} pairs per enum, and the lookups both ways.
//
//   constexpr auto kRiskNames = enum_names<Risk>({{Risk::low, "low"}, {Risk::red, "red"}});
//   kRiskNames.name_of(Risk::red) == "red"
//   kRiskNames.from_name("high") == std::nullopt
//   kRiskNames.names()  // {"low", "red"}, in table order: for "expected one of ..." messages
//
// enum_names() refuses at compile time a table that names a value twice or gives two values the
// same name.

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace fw {

template <typename Enum>
struct EnumName {
    Enum value;
    std::string_view name;
};

template <typename Enum, std::size_t N>
class EnumNames {
  public:
    constexpr explicit EnumNames(const EnumName<Enum> (&entries)[N]) {
        for (std::size_t i = 0; i < N; ++i) {
            values_[i] = entries[i].value;
            names_[i] = entries[i].name;
        }
    }

    // "unknown" for a value the table lacks (a number read from a damaged or newer store).
    constexpr std::string_view name_of(Enum value) const {
        for (std::size_t i = 0; i < N; ++i) {
            if (values_[i] == value) return names_[i];
        }
        return "unknown";
    }
    constexpr std::optional<Enum> from_name(std::string_view name) const {
        for (std::size_t i = 0; i < N; ++i) {
            if (names_[i] == name) return values_[i];
        }
        return std::nullopt;
    }
    constexpr std::span<const std::string_view> names() const { return names_; }
    constexpr std::span<const Enum> values() const { return values_; }

  private:
    std::array<Enum, N> values_{};
    std::array<std::string_view, N> names_{};
};

template <typename Enum, std::size_t N>
consteval EnumNames<Enum, N> enum_names(const EnumName<Enum> (&entries)[N]) {
    for (std::size_t i = 0; i < N; ++i) {
        for (std::size_t j = i + 1; j < N; ++j) {
            if (entries[i].value == entries[j].value) throw "enum_names: a value is named twice";
            if (entries[i].name == entries[j].name) throw "enum_names: a name is used twice";
        }
    }
    return EnumNames<Enum, N>(entries);
}

}  // namespace fw
