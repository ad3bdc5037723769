#include "drivers/mqtt/decoder.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/time.hpp"

namespace fw::mqtt {
namespace {

constexpr auto kReasonNames = enum_names<RejectReason>({
    {RejectReason::too_large, "too_large"},
    {RejectReason::invalid_utf8, "invalid_utf8"},
    {RejectReason::invalid_json, "invalid_json"},
    {RejectReason::missing_field, "missing_field"},
    {RejectReason::wrong_type, "wrong_type"},
    {RejectReason::not_numeric, "not_numeric"},
    {RejectReason::bad_timestamp, "bad_timestamp"},
    {RejectReason::time_in_future, "time_in_future"},
    {RejectReason::time_before_2000, "time_before_2000"},
    {RejectReason::bad_name, "bad_name"},
});
static_assert(kReasonNames.names().size() == kRejectReasonCount);

constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kExcerptLength = 60;

// A short printable excerpt of a payload for a log line: control bytes and non-ASCII escaped.
std::string excerpt(std::string_view payload) {
    std::string text;
    for (std::size_t i = 0; i < payload.size() && i < kExcerptLength; ++i) {
        const auto byte = static_cast<unsigned char>(payload[i]);
        if (byte >= 0x20 && byte < 0x7f) {
            text += static_cast<char>(byte);
        } else {
            text += fmt::format("\\x{:02x}", byte);
        }
    }
    if (payload.size() > kExcerptLength) text += "...";
    return text;
}

bool allowed_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLength) return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Rejection reject(RejectReason reason, std::string detail) {
    return Rejection{reason, std::move(detail)};
}

// Follows a dot-separated path of object keys.
const boost::json::value* find_field(const boost::json::value& root, std::string_view path) {
    const boost::json::value* at = &root;
    while (!path.empty()) {
        const std::size_t dot = path.find('.');
        const std::string_view key = path.substr(0, dot);
        const auto* object = at->if_object();
        if (object == nullptr) return nullptr;
        const auto it = object->find(key);
        if (it == object->end()) return nullptr;
        at = &it->value();
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    return at;
}

std::optional<double> parse_number(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                             text.front() == '\n')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
        text.remove_suffix(1);
    }
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

// A field's value as text for names: strings as they are, integers printed, others refused.
std::optional<std::string> field_text(const boost::json::value& value) {
    if (const auto* text = value.if_string()) return std::string(text->data(), text->size());
    if (const auto* integer = value.if_int64()) return std::to_string(*integer);
    if (const auto* unsigned_integer = value.if_uint64()) return std::to_string(*unsigned_integer);
    return std::nullopt;
}

std::string_view json_kind(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return "a number";
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
    }
    return "a value";
}

}  // namespace

std::string_view reject_reason_name(RejectReason reason) {
    return kReasonNames.name_of(reason);
}

bool is_valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2;
            code = lead & 0x1Fu;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3;
            code = lead & 0x0Fu;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4;
            code = lead & 0x07u;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3Fu);
        }
        // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
        constexpr std::array<std::uint32_t, 5> kSmallest{0, 0, 0x80, 0x800, 0x10000};
        if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

InputDecoder::InputDecoder(const InputConfig& input, DecoderLimits limits, std::string source,
                           AreaLookup areas)
    : input_(input),
      limits_(limits),
      source_(std::move(source)),
      areas_(std::move(areas)),
      channel_(NameTemplate::parse(input.channel)),
      event_(NameTemplate::parse(input.event)),
      equipment_(NameTemplate::parse(input.equipment)),
      area_(NameTemplate::parse(input.area)) {
    needs_json_ = !input.value_field.empty() || !input.time_field.empty() ||
                  !input.attributes.empty() || channel_.uses_payload() || event_.uses_payload() ||
                  equipment_.uses_payload() || area_.uses_payload();
}

Decoded InputDecoder::decode(std::string_view topic, std::string_view payload,
                             std::int64_t receive_time_ms) const {
    if (payload.size() > limits_.max_payload) {
        return reject(RejectReason::too_large,
                      fmt::format("{} bytes on {}, more than max_payload {}", payload.size(), topic,
                                  limits_.max_payload));
    }
    if (!is_valid_utf8(payload)) {
        return reject(RejectReason::invalid_utf8,
                      fmt::format("on {}: '{}'", topic, excerpt(payload)));
    }

    boost::json::value document;
    if (needs_json_) {
        boost::system::error_code error;
        document = boost::json::parse(payload, error);
        if (error) {
            return reject(
                RejectReason::invalid_json,
                fmt::format("on {}: {} in '{}'", topic, error.message(), excerpt(payload)));
        }
        if (!document.is_object()) {
            return reject(RejectReason::invalid_json,
                          fmt::format("on {}: expected a JSON object, got {} '{}'", topic,
                                      json_kind(document), excerpt(payload)));
        }
    }

    const auto levels = split_topic(topic);
    std::optional<Rejection> failure;
    auto expand = [&](const NameTemplate& name_template, std::string_view what) -> std::string {
        std::string text;
        for (const auto& part : name_template.parts()) {
            if (const auto* literal = std::get_if<std::string>(&part)) {
                text += *literal;
            } else if (const auto* level = std::get_if<NameTemplate::TopicLevel>(&part)) {
                if (level->index >= levels.size()) {
                    failure = reject(RejectReason::bad_name,
                                     fmt::format("{} needs topic level {{{}}}, {} has {} levels",
                                                 what, level->index, topic, levels.size()));
                    return {};
                }
                text += levels[level->index];
            } else {
                const auto& field = std::get<NameTemplate::PayloadField>(part);
                const auto* value = find_field(document, field.path);
                if (value == nullptr) {
                    failure = reject(RejectReason::missing_field,
                                     fmt::format("{} needs field '{}', missing on {} in '{}'", what,
                                                 field.path, topic, excerpt(payload)));
                    return {};
                }
                const auto piece = field_text(*value);
                if (!piece) {
                    failure = reject(RejectReason::wrong_type,
                                     fmt::format("{} field '{}' on {} is {}, expected a string",
                                                 what, field.path, topic, json_kind(*value)));
                    return {};
                }
                text += *piece;
            }
        }
        if (!allowed_name(text)) {
            failure = reject(RejectReason::bad_name,
                             fmt::format("{} '{}' built from {} is not a name (letters, digits, "
                                         "'_', '.', ':', '-'; at most {})",
                                         what, excerpt(text), topic, kMaxNameLength));
            return {};
        }
        return text;
    };

    std::int64_t time_ms = receive_time_ms;
    if (!input_.time_field.empty()) {
        const auto* value = find_field(document, input_.time_field);
        if (value == nullptr) {
            return reject(RejectReason::missing_field,
                          fmt::format("time field '{}' missing on {} in '{}'", input_.time_field,
                                      topic, excerpt(payload)));
        }
        if (const auto* text = value->if_string()) {
            const auto parsed = parse_iso_time(std::string_view(text->data(), text->size()));
            if (!parsed) {
                return reject(RejectReason::bad_timestamp,
                              fmt::format("time field '{}' on {} is '{}', expected ISO 8601 with "
                                          "a zone (2026-11-29T08:00:00Z) or epoch milliseconds",
                                          input_.time_field, topic,
                                          excerpt(std::string_view(text->data(), text->size()))));
            }
            time_ms = *parsed;
        } else if (value->is_int64() || value->is_uint64() || value->is_double()) {
            const double number = value->to_number<double>();
            if (!std::isfinite(number) || std::abs(number) > 9.0e15) {
                return reject(
                    RejectReason::bad_timestamp,
                    fmt::format("time field '{}' on {} is out of range", input_.time_field, topic));
            }
            time_ms = static_cast<std::int64_t>(number);
        } else {
            return reject(RejectReason::wrong_type,
                          fmt::format("time field '{}' on {} is {}, expected epoch ms or an ISO "
                                      "8601 string",
                                      input_.time_field, topic, json_kind(*value)));
        }
        if (time_ms < kYear2000Ms) {
            return reject(RejectReason::time_before_2000,
                          fmt::format("time {} ms on {} is before the year 2000 (device clock "
                                      "not set?)",
                                      time_ms, topic));
        }
        if (time_ms > receive_time_ms + limits_.max_clock_skew_ms) {
            return reject(RejectReason::time_in_future,
                          fmt::format("time on {} is {} s ahead of this gateway's clock (allowed: "
                                      "{} s)",
                                      topic, (time_ms - receive_time_ms) / 1000,
                                      limits_.max_clock_skew_ms / 1000));
        }
    }

    std::string equipment;
    if (!equipment_.empty()) {
        equipment = expand(equipment_, "equipment");
        if (failure) return *failure;
    }
    std::string area;
    if (!area_.empty()) {
        area = expand(area_, "area");
        if (failure) return *failure;
    } else if (!equipment.empty() && areas_) {
        area = areas_(equipment).value_or("");
    }

    if (input_.kind == InputKind::event) {
        PlantEvent event;
        event.name = expand(event_, "event");
        if (failure) return *failure;
        boost::json::object attributes;
        for (const auto& attribute : input_.attributes) {
            const auto* value = find_field(document, attribute.field);
            if (value == nullptr) {
                return reject(RejectReason::missing_field,
                              fmt::format("attribute field '{}' missing on {} in '{}'",
                                          attribute.field, topic, excerpt(payload)));
            }
            attributes[attribute.key()] = *value;
        }
        event.time_ms = time_ms;
        event.equipment = std::move(equipment);
        event.area = std::move(area);
        event.source = source_;
        event.attributes = boost::json::serialize(attributes);
        return event;
    }

    double raw = 0.0;
    if (input_.value_field.empty()) {
        const auto number = parse_number(payload);
        if (!number) {
            return reject(
                RejectReason::not_numeric,
                fmt::format("payload on {} is not a number: '{}'", topic, excerpt(payload)));
        }
        raw = *number;
    } else {
        const auto* value = find_field(document, input_.value_field);
        if (value == nullptr) {
            return reject(RejectReason::missing_field,
                          fmt::format("value field '{}' missing on {} in '{}'", input_.value_field,
                                      topic, excerpt(payload)));
        }
        if (value->is_bool()) {
            raw = value->get_bool() ? 1.0 : 0.0;
        } else if (value->is_number()) {
            raw = value->to_number<double>();
        } else {
            return reject(RejectReason::wrong_type,
                          fmt::format("value field '{}' on {} is {}, expected a number",
                                      input_.value_field, topic, json_kind(*value)));
        }
    }
    const double engineering = raw * input_.scale + input_.offset;
    if (!std::isfinite(engineering)) {
        return reject(RejectReason::not_numeric,
                      fmt::format("value on {} is not finite after scaling", topic));
    }

    DecodedValue decoded;
    decoded.sample.channel = expand(channel_, "channel");
    if (failure) return *failure;
    decoded.sample.time_ms = time_ms;
    decoded.sample.value = engineering;
    decoded.sample.quality = Quality::good;
    decoded.channel = ChannelInfo{.name = decoded.sample.channel,
                                  .equipment = std::move(equipment),
                                  .area = std::move(area),
                                  .unit = input_.unit,
                                  .source = source_};
    return decoded;
}

}  // namespace fw::mqtt
