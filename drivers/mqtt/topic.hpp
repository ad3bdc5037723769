#pragma once
// MQTT topic filters and the templates that build channel, equipment and event names from a
// message's topic levels and JSON payload. Pure code: no I/O, shared by the config validator and
// the driver.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/core/result.hpp"

namespace fw::mqtt {

std::vector<std::string_view> split_topic(std::string_view topic);

// Whether a topic filter is valid (MQTT 3.1.1 §4.7), and why not when it is not.
Status check_topic_filter(std::string_view filter);

// Whether `topic` (no wildcards) matches `filter`. Topics starting with '$' match only filters
// that start with the same literal level, as brokers do.
bool topic_matches(std::string_view filter, std::string_view topic);

// "{2}.vibration" = topic level 2, then ".vibration"; "{data.line}" = a JSON payload field.
class NameTemplate {
  public:
    struct TopicLevel {
        std::size_t index;
    };
    struct PayloadField {
        std::string path;
    };
    using Part = std::variant<std::string, TopicLevel, PayloadField>;

    // Throws std::invalid_argument with a message for the config file on unbalanced braces or an
    // empty placeholder.
    static NameTemplate parse(std::string_view text);

    const std::vector<Part>& parts() const { return parts_; }
    bool empty() const { return parts_.empty(); }
    bool is_literal() const;
    bool uses_payload() const;
    // Highest topic level used, if any.
    std::optional<std::size_t> max_topic_level() const;

  private:
    std::vector<Part> parts_;
};

// Topic levels a filter guarantees: every level before a '#', or all levels without one.
// A template may use level N only if N < fixed_level_count, or the filter ends in '#'.
std::size_t fixed_level_count(std::string_view filter);
bool ends_with_multilevel_wildcard(std::string_view filter);

}  // namespace fw::mqtt
