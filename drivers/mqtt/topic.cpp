#include "drivers/mqtt/topic.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace fw::mqtt {

std::vector<std::string_view> split_topic(std::string_view topic) {
    std::vector<std::string_view> levels;
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = topic.find('/', start);
        if (slash == std::string_view::npos) {
            levels.push_back(topic.substr(start));
            return levels;
        }
        levels.push_back(topic.substr(start, slash - start));
        start = slash + 1;
    }
}

Status check_topic_filter(std::string_view filter) {
    if (filter.empty()) return Error{"a topic filter cannot be empty"};
    if (filter.size() > 65535) return Error{"a topic filter is at most 65535 bytes"};
    if (filter.find('\0') != std::string_view::npos)
        return Error{"a topic filter cannot contain NUL"};
    const auto levels = split_topic(filter);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const auto level = levels[i];
        if (level.find('#') != std::string_view::npos) {
            if (level != "#") return Error{"'#' must be a whole level, e.g. plant/#"};
            if (i + 1 != levels.size()) return Error{"'#' must be the last level, e.g. plant/#"};
        }
        if (level.find('+') != std::string_view::npos && level != "+") {
            return Error{"'+' must be a whole level, e.g. plant/+/vibration"};
        }
    }
    return {};
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    const auto filter_levels = split_topic(filter);
    const auto topic_levels = split_topic(topic);
    if (!topic.empty() && topic.front() == '$' &&
        (filter_levels.front() == "+" || filter_levels.front() == "#")) {
        return false;
    }
    for (std::size_t i = 0; i < filter_levels.size(); ++i) {
        if (filter_levels[i] == "#") return true;  // also matches the parent level itself
        if (i >= topic_levels.size()) return false;
        if (filter_levels[i] != "+" && filter_levels[i] != topic_levels[i]) return false;
    }
    return filter_levels.size() == topic_levels.size();
}

std::size_t fixed_level_count(std::string_view filter) {
    const auto levels = split_topic(filter);
    return ends_with_multilevel_wildcard(filter) ? levels.size() - 1 : levels.size();
}

bool ends_with_multilevel_wildcard(std::string_view filter) {
    return filter == "#" || filter.ends_with("/#");
}

NameTemplate NameTemplate::parse(std::string_view text) {
    NameTemplate result;
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '}') throw std::invalid_argument("'}' without a matching '{'");
        if (c != '{') {
            literal += c;
            continue;
        }
        const std::size_t close = text.find('}', i + 1);
        if (close == std::string_view::npos) throw std::invalid_argument("'{' is never closed");
        const std::string_view inside = text.substr(i + 1, close - i - 1);
        if (inside.empty()) {
            throw std::invalid_argument(
                "empty placeholder '{}': use a topic level number like {2} or a JSON field like "
                "{data.line}");
        }
        if (inside.find('{') != std::string_view::npos) {
            throw std::invalid_argument("placeholders cannot be nested");
        }
        if (!literal.empty()) result.parts_.emplace_back(std::exchange(literal, {}));
        const bool numeric =
            std::all_of(inside.begin(), inside.end(), [](char d) { return d >= '0' && d <= '9'; });
        if (numeric) {
            std::size_t index = 0;
            const auto [end, error] =
                std::from_chars(inside.data(), inside.data() + inside.size(), index);
            if (error != std::errc() || end != inside.data() + inside.size() || index > 1000) {
                throw std::invalid_argument("topic level number out of range");
            }
            result.parts_.emplace_back(TopicLevel{index});
        } else {
            const std::string path(inside);
            if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos) {
                throw std::invalid_argument(
                    "a JSON field path is keys joined by '.', like data.line");
            }
            result.parts_.emplace_back(PayloadField{path});
        }
        i = close;
    }
    if (!literal.empty()) result.parts_.emplace_back(std::move(literal));
    return result;
}

bool NameTemplate::is_literal() const {
    return std::all_of(parts_.begin(), parts_.end(),
                       [](const Part& part) { return std::holds_alternative<std::string>(part); });
}

bool NameTemplate::uses_payload() const {
    return std::any_of(parts_.begin(), parts_.end(),
                       [](const Part& part) { return std::holds_alternative<PayloadField>(part); });
}

std::optional<std::size_t> NameTemplate::max_topic_level() const {
    std::optional<std::size_t> highest;
    for (const auto& part : parts_) {
        if (const auto* level = std::get_if<TopicLevel>(&part)) {
            highest = std::max(highest.value_or(0), level->index);
        }
    }
    return highest;
}

}  // namespace fw::mqtt
