#include "daemon/sync/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <stdexcept>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/overloaded.hpp"

namespace fw::sync {
namespace {

constexpr std::string_view kTopicRoot = "floorwatch/v1/";

constexpr auto kDirectionNames =
    enum_names<Direction>({{Direction::up, "up"}, {Direction::down, "down"}});
constexpr auto kVerdictNames =
    enum_names<Verdict>({{Verdict::ok, "ok"}, {Verdict::reseed, "reseed"}});

bool is_name(std::string_view text) {
    return !text.empty() &&
           text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

bool is_hex(std::string_view text, std::size_t length) {
    return text.size() == length && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// ---- decoding: one object's fields, with the message type in every error ----

class Fields {
  public:
    Fields(const boost::json::object& object, std::string_view context)
        : object_(object), context_(context) {}

    // Refuses keys other than `allowed` (and "v", "type", which every message has).
    Status only(std::initializer_list<std::string_view> allowed) const {
        for (const auto& member : object_) {
            const std::string_view key = member.key();
            if (key == "v" || key == "type") continue;
            if (std::ranges::find(allowed, key) == allowed.end()) {
                return Error{fmt::format("{}: unknown field '{}'", context_, key)};
            }
        }
        return {};
    }

    Result<std::uint64_t> count(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (const auto* number = value->if_uint64()) return *number;
        if (const auto* number = value->if_int64(); number != nullptr && *number >= 0) {
            return static_cast<std::uint64_t>(*number);
        }
        return Error{fmt::format("{}: '{}' must be an integer >= 0", context_, key)};
    }

    Result<std::int64_t> integer(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (const auto* number = value->if_int64()) return *number;
        if (const auto* number = value->if_uint64();
            number != nullptr && *number <= static_cast<std::uint64_t>(INT64_MAX)) {
            return static_cast<std::int64_t>(*number);
        }
        return Error{fmt::format("{}: '{}' must be an integer", context_, key)};
    }

    Result<bool> flag(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (!value->is_bool())
            return Error{fmt::format("{}: '{}' must be true or false", context_, key)};
        return value->get_bool();
    }

    Result<std::string> text(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (!value->is_string())
            return Error{fmt::format("{}: '{}' must be a string", context_, key)};
        return std::string(value->get_string());
    }

    Result<std::string> hex(std::string_view key, std::size_t length) const {
        auto value = text(key);
        if (value && !is_hex(*value, length)) {
            return Error{
                fmt::format("{}: '{}' must be {} lowercase hex digits", context_, key, length)};
        }
        return value;
    }

    Result<const boost::json::array*> array(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (!value->is_array())
            return Error{fmt::format("{}: '{}' must be an array", context_, key)};
        return &value->get_array();
    }

    Result<const boost::json::object*> object(std::string_view key) const {
        const auto* value = object_.if_contains(key);
        if (value == nullptr) return missing(key);
        if (!value->is_object()) {
            return Error{fmt::format("{}: '{}' must be an object", context_, key)};
        }
        return &value->get_object();
    }

    const std::string& context() const { return context_; }

  private:
    Error missing(std::string_view key) const {
        return Error{fmt::format("{}: '{}' is missing", context_, key)};
    }

    const boost::json::object& object_;
    std::string context_;
};

// Unwraps a field; on failure returns its error from the enclosing function.
#define FW_FIELD(variable, expression)                               \
    auto variable##_result = (expression);                           \
    if (!variable##_result) return Error{variable##_result.error()}; \
    auto variable = std::move(*variable##_result)  // NOLINT(bugprone-macro-parentheses): a name

Result<boost::json::object> parse_message(std::string_view text) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(text, error);
    if (error) return Error{fmt::format("not JSON ({})", error.message())};
    auto* object = value.if_object();
    if (object == nullptr) return Error{"a sync message is a JSON object"};
    const auto* version = object->if_contains("v");
    if (version == nullptr) return Error{"no protocol version ('v')"};
    const auto* number = version->if_int64();
    if (number == nullptr || *number != kProtocolVersion) {
        return Error{
            fmt::format("protocol version {} is not spoken here (this floorwatch speaks {})",
                        boost::json::serialize(*version), kProtocolVersion)};
    }
    const auto* type = object->if_contains("type");
    if (type == nullptr || !type->is_string()) return Error{"no message type ('type')"};
    return std::move(*object);
}

// An event entry, read and its hash checked: the receiver stores nothing whose content does not
// match its hash (and a payload with a floating-point number has no hash at all).
Result<workflow::Event> read_event(const boost::json::value& entry) {
    auto event = workflow::event_from_json(entry);
    if (!event) return event;
    std::string recomputed;
    try {
        recomputed = workflow::compute_hash(*event);
    } catch (const std::invalid_argument& error) {
        return Error{error.what()};
    }
    if (recomputed != event->hash) {
        return Error{fmt::format("event {}: its content hashes to {}, not to the hash it carries",
                                 event->id.to_string(), recomputed)};
    }
    return event;
}

Result<Hello> decode_hello(const Fields& fields) {
    if (auto checked =
            fields.only({"incarnation", "origin", "next_sequence", "acked", "down_applied",
                         "centre_max", "wall_ms", "clock_synced", "hlc_ms", "hlc_logical"});
        !checked) {
        return Error{checked.error()};
    }
    Hello hello;
    FW_FIELD(incarnation, fields.hex("incarnation", 32));
    FW_FIELD(origin, fields.text("origin"));
    FW_FIELD(next_sequence, fields.count("next_sequence"));
    FW_FIELD(acked, fields.count("acked"));
    FW_FIELD(down_applied, fields.count("down_applied"));
    FW_FIELD(centre_max, fields.object("centre_max"));
    FW_FIELD(wall_ms, fields.integer("wall_ms"));
    FW_FIELD(clock_synced, fields.flag("clock_synced"));
    FW_FIELD(hlc_ms, fields.integer("hlc_ms"));
    FW_FIELD(hlc_logical, fields.count("hlc_logical"));
    if (next_sequence < 1) return Error{"hello: 'next_sequence' starts at 1"};
    if (hlc_logical > UINT32_MAX) return Error{"hello: 'hlc_logical' is out of range"};
    hello.incarnation = std::move(incarnation);
    hello.origin = std::move(origin);
    hello.next_sequence = next_sequence;
    hello.acked = acked;
    hello.down_applied = down_applied;
    const Fields centre(*centre_max, "hello.centre_max");
    for (const auto& member : *centre_max) {
        FW_FIELD(highest, centre.count(member.key()));
        hello.centre_max.emplace(std::string(member.key()), highest);
    }
    hello.wall_ms = wall_ms;
    hello.clock_synced = clock_synced;
    hello.hlc = {hlc_ms, static_cast<std::uint32_t>(hlc_logical)};
    return hello;
}

Status check_range(const Fields& fields, std::uint64_t first, std::uint64_t last,
                   std::size_t entries) {
    if (first < 1 || last < first) {
        return Error{fmt::format("{}: 'first' ({}) and 'last' ({}) must satisfy 1 <= first <= last",
                                 fields.context(), first, last)};
    }
    if (last - first + 1 != entries) {
        return Error{fmt::format("{}: {} events for sequences {}..{}", fields.context(), entries,
                                 first, last)};
    }
    return {};
}

Result<UpEvents> decode_up_events(const Fields& fields) {
    if (auto checked = fields.only({"first", "last", "events"}); !checked) {
        return Error{checked.error()};
    }
    FW_FIELD(first, fields.count("first"));
    FW_FIELD(last, fields.count("last"));
    FW_FIELD(entries, fields.array("events"));
    if (auto checked = check_range(fields, first, last, entries->size()); !checked) {
        return Error{checked.error()};
    }
    UpEvents message;
    message.first = first;
    message.last = last;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto& entry = (*entries)[i];
        const std::uint64_t sequence = first + i;
        auto event = read_event(entry);
        if (event && event->id.sequence != sequence) {
            event = Error{fmt::format("the event says sequence {} at the place of sequence {}",
                                      event->id.sequence, sequence)};
        }
        if (!event) {
            message.refused.push_back({sequence, boost::json::serialize(entry), event.error()});
            continue;
        }
        message.events.push_back(std::move(*event));
    }
    return message;
}

Result<DownEvents> decode_down_events(const Fields& fields) {
    if (auto checked = fields.only({"first", "last", "events"}); !checked) {
        return Error{checked.error()};
    }
    FW_FIELD(first, fields.count("first"));
    FW_FIELD(last, fields.count("last"));
    FW_FIELD(entries, fields.array("events"));
    if (auto checked = check_range(fields, first, last, entries->size()); !checked) {
        return Error{checked.error()};
    }
    DownEvents message;
    message.first = first;
    message.last = last;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const std::uint64_t down = first + i;
        const auto* entry = (*entries)[i].if_object();
        if (entry == nullptr) {
            return Error{fmt::format("events: entry {} must be an object {{down, event}}", i)};
        }
        const Fields entry_fields(*entry, fmt::format("events[{}]", i));
        if (auto checked = entry_fields.only({"down", "event"}); !checked) {
            return Error{checked.error()};
        }
        FW_FIELD(stated_down, entry_fields.count("down"));
        if (stated_down != down) {
            return Error{fmt::format("events[{}]: down sequence {} at the place of {}", i,
                                     stated_down, down)};
        }
        const auto* event_json = entry->if_contains("event");
        if (event_json == nullptr) return Error{fmt::format("events[{}]: 'event' is missing", i)};
        auto event = read_event(*event_json);
        if (!event) {
            message.refused.push_back({down, boost::json::serialize(*event_json), event.error()});
            continue;
        }
        message.events.push_back({down, std::move(*event)});
    }
    return message;
}

Result<DownAck> decode_down_ack(const Fields& fields) {
    if (auto checked = fields.only({"down_applied"}); !checked) return Error{checked.error()};
    FW_FIELD(down_applied, fields.count("down_applied"));
    return DownAck{down_applied};
}

Result<AttachmentChunk> decode_attachment(const Fields& fields) {
    if (auto checked =
            fields.only({"sha256", "media_type", "size", "name", "offset", "data", "last"});
        !checked) {
        return Error{checked.error()};
    }
    FW_FIELD(sha256, fields.hex("sha256", 64));
    FW_FIELD(media_type, fields.text("media_type"));
    FW_FIELD(size, fields.count("size"));
    FW_FIELD(name, fields.text("name"));
    FW_FIELD(offset, fields.count("offset"));
    FW_FIELD(data_text, fields.text("data"));
    FW_FIELD(last, fields.flag("last"));
    FW_FIELD(data, base64_decode(data_text));
    if (offset > size || data.size() > size - offset) {
        return Error{fmt::format("attachment: {} bytes at offset {} run past its size {}",
                                 data.size(), offset, size)};
    }
    if (last != (offset + data.size() == size)) {
        return Error{fmt::format("attachment: 'last' is {} but the piece ends at {} of {}", last,
                                 offset + data.size(), size)};
    }
    return AttachmentChunk{std::move(sha256),
                           std::move(media_type),
                           size,
                           std::move(name),
                           offset,
                           std::move(data),
                           last};
}

Result<Need> decode_need(const Fields& fields) {
    if (auto checked = fields.only({"attachments"}); !checked) return Error{checked.error()};
    FW_FIELD(entries, fields.array("attachments"));
    Need need;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto* entry = (*entries)[i].if_object();
        if (entry == nullptr) {
            return Error{
                fmt::format("need: attachments[{}] must be an object {{sha256, offset}}", i)};
        }
        const Fields entry_fields(*entry, fmt::format("need.attachments[{}]", i));
        if (auto checked = entry_fields.only({"sha256", "offset"}); !checked) {
            return Error{checked.error()};
        }
        FW_FIELD(sha256, entry_fields.hex("sha256", 64));
        FW_FIELD(offset, entry_fields.count("offset"));
        need.attachments.push_back({std::move(sha256), offset});
    }
    return need;
}

Result<Reannounce> decode_reannounce(const Fields& fields) {
    if (auto checked = fields.only({}); !checked) return Error{checked.error()};
    return Reannounce{};
}

Result<ReseedRequest> decode_reseed_request(const Fields& fields) {
    if (auto checked = fields.only({"request_id"}); !checked) return Error{checked.error()};
    FW_FIELD(request_id, fields.text("request_id"));
    if (request_id.empty()) return Error{"reseed_request: 'request_id' is empty"};
    return ReseedRequest{std::move(request_id)};
}

Result<Welcome> decode_welcome(const Fields& fields) {
    if (auto checked = fields.only(
            {"incarnation", "known_incarnation", "received", "down_next", "verdict", "message"});
        !checked) {
        return Error{checked.error()};
    }
    Welcome welcome;
    FW_FIELD(incarnation, fields.hex("incarnation", 32));
    FW_FIELD(received, fields.count("received"));
    FW_FIELD(down_next, fields.count("down_next"));
    FW_FIELD(verdict_text, fields.text("verdict"));
    FW_FIELD(message, fields.text("message"));
    welcome.incarnation = std::move(incarnation);
    welcome.received = received;
    if (down_next < 1) return Error{"welcome: 'down_next' starts at 1"};
    welcome.down_next = down_next;
    const auto verdict = verdict_from_name(verdict_text);
    if (!verdict) {
        return Error{
            fmt::format("welcome: unknown verdict '{}' (expected ok or reseed)", verdict_text)};
    }
    welcome.verdict = *verdict;
    welcome.message = std::move(message);
    return welcome;
}

Result<Ack> decode_ack(const Fields& fields) {
    if (auto checked = fields.only({"received"}); !checked) return Error{checked.error()};
    FW_FIELD(received, fields.count("received"));
    return Ack{received};
}

Result<Seed> decode_seed(const Fields& fields) {
    if (auto checked =
            fields.only({"request_id", "part", "last", "origin_sequence", "down_last", "events"});
        !checked) {
        return Error{checked.error()};
    }
    FW_FIELD(request_id, fields.text("request_id"));
    FW_FIELD(part, fields.count("part"));
    FW_FIELD(last, fields.flag("last"));
    FW_FIELD(origin_sequence, fields.count("origin_sequence"));
    FW_FIELD(down_last, fields.count("down_last"));
    FW_FIELD(entries, fields.array("events"));
    Seed seed;
    seed.request_id = std::move(request_id);
    seed.part = part;
    seed.last = last;
    seed.origin_sequence = origin_sequence;
    seed.down_last = down_last;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        auto event = read_event((*entries)[i]);
        if (!event) {
            seed.refused.push_back({i, boost::json::serialize((*entries)[i]), event.error()});
            continue;
        }
        seed.events.push_back(std::move(*event));
    }
    return seed;
}

#undef FW_FIELD

// ---- encoding ----

boost::json::object envelope(std::string_view type) {
    return boost::json::object{{"v", kProtocolVersion}, {"type", type}};
}

boost::json::object to_json(const Hello& hello) {
    auto json = envelope("hello");
    json["incarnation"] = hello.incarnation;
    json["origin"] = hello.origin;
    json["next_sequence"] = hello.next_sequence;
    json["acked"] = hello.acked;
    json["down_applied"] = hello.down_applied;
    boost::json::object centre;
    for (const auto& [origin, highest] : hello.centre_max) centre[origin] = highest;
    json["centre_max"] = std::move(centre);
    json["wall_ms"] = hello.wall_ms;
    json["clock_synced"] = hello.clock_synced;
    json["hlc_ms"] = hello.hlc.physical_ms;
    json["hlc_logical"] = hello.hlc.logical;
    return json;
}

boost::json::object to_json(const DownAck& ack) {
    auto json = envelope("down_ack");
    json["down_applied"] = ack.down_applied;
    return json;
}

boost::json::object to_json(const AttachmentChunk& chunk) {
    auto json = envelope("attachment");
    json["sha256"] = chunk.sha256;
    json["media_type"] = chunk.media_type;
    json["size"] = chunk.size;
    json["name"] = chunk.name;
    json["offset"] = chunk.offset;
    json["data"] = base64_encode(chunk.data);
    json["last"] = chunk.last;
    return json;
}

boost::json::object to_json(const Need& need) {
    auto json = envelope("need");
    boost::json::array list;
    for (const auto& wanted : need.attachments) {
        list.push_back(boost::json::object{{"sha256", wanted.sha256}, {"offset", wanted.offset}});
    }
    json["attachments"] = std::move(list);
    return json;
}

boost::json::object to_json(const Reannounce&) {
    return envelope("reannounce");
}

boost::json::object to_json(const ReseedRequest& request) {
    auto json = envelope("reseed_request");
    json["request_id"] = request.request_id;
    return json;
}

boost::json::object to_json(const Welcome& welcome) {
    auto json = envelope("welcome");
    json["incarnation"] = welcome.incarnation;
    if (welcome.known_incarnation) {
        json["known_incarnation"] = *welcome.known_incarnation;
    } else {
        json["known_incarnation"] = nullptr;
    }
    json["received"] = welcome.received;
    json["down_next"] = welcome.down_next;
    json["verdict"] = verdict_name(welcome.verdict);
    json["message"] = welcome.message;
    return json;
}

boost::json::object to_json(const Ack& ack) {
    auto json = envelope("ack");
    json["received"] = ack.received;
    return json;
}

std::size_t decimal_digits(std::uint64_t value) {
    std::size_t digits = 1;
    while (value >= 10) {
        value /= 10;
        ++digits;
    }
    return digits;
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

// ---- topics ----

std::string_view direction_name(Direction direction) {
    return kDirectionNames.name_of(direction);
}

std::string up_topic(std::string_view site, std::string_view node) {
    return fmt::format("{}{}/{}/up", kTopicRoot, site, node);
}

std::string down_topic(std::string_view site, std::string_view node) {
    return fmt::format("{}{}/{}/down", kTopicRoot, site, node);
}

std::string TopicAddress::origin() const {
    return workflow::origin_of(site, node);
}

Result<TopicAddress> parse_topic(std::string_view topic) {
    const auto refuse = [topic] {
        return Error{fmt::format(
            "'{}' is not a sync topic (floorwatch/v1/<site>/<node>/up or .../down)", topic)};
    };
    if (!topic.starts_with(kTopicRoot)) return refuse();
    std::string_view rest = topic.substr(kTopicRoot.size());
    std::array<std::string_view, 3> levels;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const auto slash = rest.find('/');
        if ((slash == std::string_view::npos) != (i + 1 == levels.size())) return refuse();
        levels[i] = rest.substr(0, slash);
        if (slash != std::string_view::npos) rest.remove_prefix(slash + 1);
    }
    if (!is_name(levels[0]) || !is_name(levels[1])) return refuse();
    const auto direction = kDirectionNames.from_name(levels[2]);
    if (!direction) return refuse();
    return TopicAddress{std::string(levels[0]), std::string(levels[1]), *direction};
}

std::string central_subscription(std::string_view share_group) {
    std::string filter = fmt::format("{}+/+/up", kTopicRoot);
    if (share_group.empty()) return filter;
    return fmt::format("$share/{}/{}", share_group, filter);
}

// ---- messages ----

std::string_view verdict_name(Verdict verdict) {
    return kVerdictNames.name_of(verdict);
}

std::optional<Verdict> verdict_from_name(std::string_view name) {
    return kVerdictNames.from_name(name);
}

std::string_view message_type(const UpMessage& message) {
    static constexpr std::array<std::string_view, std::variant_size_v<UpMessage>> kTypes{
        "hello", "events", "down_ack", "attachment", "need", "reannounce", "reseed_request"};
    return kTypes[message.index()];
}

std::string_view message_type(const DownMessage& message) {
    static constexpr std::array<std::string_view, std::variant_size_v<DownMessage>> kTypes{
        "welcome", "ack", "events", "attachment", "need", "reannounce", "seed"};
    return kTypes[message.index()];
}

std::string encode_up(const UpMessage& message) {
    return std::visit(Overloaded{
                          [](const UpEvents& events) {
                              auto batch = EventBatch::up({SIZE_MAX, SIZE_MAX});
                              for (const auto& event : events.events) {
                                  (void)batch.add(event);
                              }
                              return batch.encode();
                          },
                          [](const auto& other) { return boost::json::serialize(to_json(other)); },
                      },
                      message);
}

std::string encode_down(const DownMessage& message) {
    return std::visit(Overloaded{
                          [](const DownEvents& events) {
                              auto batch = EventBatch::down({SIZE_MAX, SIZE_MAX});
                              for (const auto& entry : events.events) {
                                  (void)batch.add(entry.down, entry.event);
                              }
                              return batch.encode();
                          },
                          [](const Seed& seed) {
                              auto batch =
                                  EventBatch::seed({SIZE_MAX, SIZE_MAX}, seed.request_id, seed.part,
                                                   seed.origin_sequence, seed.down_last);
                              for (const auto& event : seed.events) (void)batch.add(event);
                              return batch.encode(seed.last);
                          },
                          [](const auto& other) { return boost::json::serialize(to_json(other)); },
                      },
                      message);
}

Result<UpMessage> decode_up(std::string_view text) {
    auto parsed = parse_message(text);
    if (!parsed) return Error{parsed.error()};
    const std::string type(parsed->at("type").get_string());
    const Fields fields(*parsed, type);
    const auto wrap = [](auto decoded) -> Result<UpMessage> {
        if (!decoded) return Error{decoded.error()};
        return UpMessage(std::move(*decoded));
    };
    if (type == "hello") return wrap(decode_hello(fields));
    if (type == "events") return wrap(decode_up_events(fields));
    if (type == "down_ack") return wrap(decode_down_ack(fields));
    if (type == "attachment") return wrap(decode_attachment(fields));
    if (type == "need") return wrap(decode_need(fields));
    if (type == "reannounce") return wrap(decode_reannounce(fields));
    if (type == "reseed_request") return wrap(decode_reseed_request(fields));
    return Error{fmt::format(
        "'{}' is not a message a gateway sends (hello, events, down_ack, attachment, need, "
        "reannounce, reseed_request)",
        type)};
}

Result<DownMessage> decode_down(std::string_view text) {
    auto parsed = parse_message(text);
    if (!parsed) return Error{parsed.error()};
    const std::string type(parsed->at("type").get_string());
    const Fields fields(*parsed, type);
    const auto wrap = [](auto decoded) -> Result<DownMessage> {
        if (!decoded) return Error{decoded.error()};
        return DownMessage(std::move(*decoded));
    };
    if (type == "welcome") {
        auto welcome = decode_welcome(fields);
        if (!welcome) return Error{welcome.error()};
        const auto* known = parsed->if_contains("known_incarnation");
        if (known == nullptr) return Error{"welcome: 'known_incarnation' is missing"};
        if (!known->is_null()) {
            if (!known->is_string() || !is_hex(known->get_string(), 32)) {
                return Error{
                    "welcome: 'known_incarnation' must be null or 32 lowercase hex digits"};
            }
            welcome->known_incarnation = std::string(known->get_string());
        }
        return DownMessage(std::move(*welcome));
    }
    if (type == "ack") return wrap(decode_ack(fields));
    if (type == "events") return wrap(decode_down_events(fields));
    if (type == "attachment") return wrap(decode_attachment(fields));
    if (type == "need") return wrap(decode_need(fields));
    if (type == "reannounce") return wrap(decode_reannounce(fields));
    if (type == "seed") return wrap(decode_seed(fields));
    return Error{fmt::format(
        "'{}' is not a message the centre sends (welcome, ack, events, attachment, need, "
        "reannounce, seed)",
        type)};
}

// ---- batching ----

EventBatch::EventBatch(Kind kind, BatchLimits limits) : kind_(kind), limits_(limits) {}

EventBatch EventBatch::up(BatchLimits limits) {
    return EventBatch(Kind::up, limits);
}

EventBatch EventBatch::down(BatchLimits limits) {
    return EventBatch(Kind::down, limits);
}

EventBatch EventBatch::seed(BatchLimits limits, std::string request_id, std::uint64_t part,
                            std::uint64_t origin_sequence, std::uint64_t down_last) {
    EventBatch batch(Kind::seed, limits);
    batch.request_id_ = std::move(request_id);
    batch.part_ = part;
    batch.origin_sequence_ = origin_sequence;
    batch.down_last_ = down_last;
    return batch;
}

BatchAdd EventBatch::add(const workflow::Event& event) {
    std::string item = boost::json::serialize(workflow::event_to_json(event));
    return add_item(event.id.sequence, std::move(item), kind_ == Kind::up);
}

BatchAdd EventBatch::add_text(std::uint64_t sequence, std::string event_text) {
    return add_item(sequence, std::move(event_text), kind_ == Kind::up);
}

BatchAdd EventBatch::add(std::uint64_t down, const workflow::Event& event) {
    std::string item = fmt::format("{{\"down\":{},\"event\":{}}}", down,
                                   boost::json::serialize(workflow::event_to_json(event)));
    return add_item(down, std::move(item), true);
}

BatchAdd EventBatch::add_item(std::uint64_t position, std::string item, bool positional) {
    if (positional && !items_.empty() && position != last_ + 1) return BatchAdd::not_next;
    if (!items_.empty()) {
        if (items_.size() >= limits_.max_events) return BatchAdd::full;
        // The new text: the item, its comma, and the last number possibly one digit wider.
        const std::size_t grown =
            bytes() + item.size() + 1 +
            (positional ? decimal_digits(position) - decimal_digits(last_) : 0);
        if (grown > limits_.max_bytes) return BatchAdd::full;
    }
    if (items_.empty()) first_ = position;
    last_ = position;
    item_bytes_ += item.size();
    items_.push_back(std::move(item));
    return BatchAdd::added;
}

std::string EventBatch::header(bool last_part) const {
    switch (kind_) {
        case Kind::up:
        case Kind::down:
            return fmt::format(R"({{"v":{},"type":"events","first":{},"last":{},"events":[)",
                               kProtocolVersion, first_, last_);
        case Kind::seed:
            return fmt::format(
                R"({{"v":{},"type":"seed","request_id":{},"part":{},"last":{},"origin_sequence":{},"down_last":{},"events":[)",
                kProtocolVersion, boost::json::serialize(boost::json::value(request_id_)), part_,
                last_part, origin_sequence_, down_last_);
    }
    return {};
}

std::size_t EventBatch::bytes() const {
    const std::size_t commas = items_.empty() ? 0 : items_.size() - 1;
    // Asked for every event added: an events header's size is counted, not formatted.
    static const std::size_t kEventsHeaderWithoutNumbers =
        fmt::format(R"({{"v":{},"type":"events","first":,"last":,"events":[)", kProtocolVersion)
            .size();
    const std::size_t header_size =
        kind_ == Kind::seed
            ? header(false).size()
            : kEventsHeaderWithoutNumbers + decimal_digits(first_) + decimal_digits(last_);
    return header_size + item_bytes_ + commas + 2;  // "]}"
}

std::string EventBatch::encode(bool last_part) const {
    std::string text = header(last_part);
    text.reserve(text.size() + item_bytes_ + items_.size() + 2);
    for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) text += ',';
        text += items_[i];
    }
    text += "]}";
    return text;
}

std::vector<std::string> batch_up_events(std::span<const workflow::Event> events,
                                         BatchLimits limits) {
    std::vector<std::string> messages;
    auto batch = EventBatch::up(limits);
    for (const auto& event : events) {
        if (batch.add(event) == BatchAdd::added) continue;
        messages.push_back(batch.encode());
        batch = EventBatch::up(limits);
        (void)batch.add(event);  // the first event of a batch always fits
    }
    if (!batch.empty()) messages.push_back(batch.encode());
    return messages;
}

// ---- attachments ----

AttachmentChunk attachment_chunk(const workflow::Attachment& attachment, std::string_view content,
                                 std::uint64_t offset, std::size_t chunk_size) {
    AttachmentChunk chunk;
    chunk.sha256 = attachment.sha256;
    chunk.media_type = attachment.media_type;
    chunk.size = content.size();
    chunk.name = attachment.name;
    chunk.offset = std::min<std::uint64_t>(offset, content.size());
    chunk.data = std::string(content.substr(static_cast<std::size_t>(chunk.offset), chunk_size));
    chunk.last = chunk.offset + chunk.data.size() == content.size();
    return chunk;
}

std::size_t attachment_message_bytes(std::size_t chunk_size, std::size_t name_bytes) {
    AttachmentChunk probe;
    probe.sha256 = std::string(64, '0');
    probe.media_type = std::string(64, 'x');  // longer than any accepted media type
    probe.size = UINT64_MAX;
    probe.offset = UINT64_MAX;
    probe.name = std::string(name_bytes, 'x');
    const std::size_t envelope_bytes = encode_up(probe).size();
    // A name may need escaping (\u00xx: six bytes for one); base64 is 4 bytes per 3.
    return envelope_bytes + 5 * name_bytes + (chunk_size + 2) / 3 * 4;
}

std::string base64_encode(std::string_view bytes) {
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto triple =
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        text += kBase64Alphabet[(triple >> 18) & 0x3f];
        text += kBase64Alphabet[(triple >> 12) & 0x3f];
        text += kBase64Alphabet[(triple >> 6) & 0x3f];
        text += kBase64Alphabet[triple & 0x3f];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t triple = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]))
                               << 16;
        if (rest == 2) {
            triple |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        text += kBase64Alphabet[(triple >> 18) & 0x3f];
        text += kBase64Alphabet[(triple >> 12) & 0x3f];
        text += rest == 2 ? kBase64Alphabet[(triple >> 6) & 0x3f] : '=';
        text += '=';
    }
    return text;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return Error{"base64 text is a multiple of 4 characters long"};
    std::string bytes;
    bytes.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t quad = 0;
        std::size_t padding = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            std::uint32_t digit = 0;
            if (c == '=') {
                // Padding only in the last group's last one or two places.
                if (i + 4 != text.size() || j < 2) return Error{"base64 padding in the middle"};
                ++padding;
            } else {
                if (padding > 0) return Error{"base64 digits after padding"};
                const auto found = kBase64Alphabet.find(c);
                if (found == std::string_view::npos) {
                    return Error{"base64 text holds a character outside its alphabet"};
                }
                digit = static_cast<std::uint32_t>(found);
            }
            quad = (quad << 6) | digit;
        }
        bytes += static_cast<char>((quad >> 16) & 0xff);
        if (padding < 2) bytes += static_cast<char>((quad >> 8) & 0xff);
        if (padding < 1) bytes += static_cast<char>(quad & 0xff);
        // Canonical form: the bits padding leaves over are zero.
        if ((padding == 2 && (quad & 0xffff) != 0) || (padding == 1 && (quad & 0xff) != 0)) {
            return Error{"base64 text is not canonical (non-zero bits before the padding)"};
        }
    }
    return bytes;
}

}  // namespace fw::sync
