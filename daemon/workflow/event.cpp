#include "daemon/workflow/event.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>

#include "daemon/core/enum_names.hpp"
#include "daemon/workflow/payload.hpp"

namespace fw::workflow {
namespace {

constexpr auto kEventTypeNames = enum_names<EventType>({
    {EventType::reported, "reported"},
    {EventType::approved, "approved"},
    {EventType::dismissed, "dismissed"},
    {EventType::assigned, "assigned"},
    {EventType::reassigned, "reassigned"},
    {EventType::submitted, "submitted"},
    {EventType::accepted, "accepted"},
    {EventType::rejected, "rejected"},
    {EventType::overdue, "overdue"},
    {EventType::escalated, "escalated"},
    {EventType::occurred, "occurred"},
    {EventType::clock_corrected, "clock_corrected"},
});
static_assert(kEventTypeNames.names().size() == kEventTypeCount);

constexpr auto kChainFaultNames = enum_names<ChainFault>({{ChainFault::modified, "modified"},
                                                          {ChainFault::missing, "missing"},
                                                          {ChainFault::reordered, "reordered"},
                                                          {ChainFault::duplicated, "duplicated"},
                                                          {ChainFault::foreign, "foreign"}});

std::string to_hex(const unsigned char* bytes, std::size_t count) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string text;
    text.reserve(count * 2);
    for (std::size_t i = 0; i < count; ++i) {
        text += kDigits[bytes[i] >> 4];
        text += kDigits[bytes[i] & 0x0f];
    }
    return text;
}

void append_canonical_string(std::string& out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void append_canonical(std::string& out, const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            out += "null";
            return;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            return;
        case boost::json::kind::int64:
            out += std::to_string(value.get_int64());
            return;
        case boost::json::kind::uint64:
            out += std::to_string(value.get_uint64());
            return;
        case boost::json::kind::double_:
            throw std::invalid_argument(
                "event payloads hold no floating-point numbers (they have no canonical text); "
                "store the value as a string or in integer units");
        case boost::json::kind::string:
            append_canonical_string(out, value.get_string());
            return;
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value.get_array()) {
                if (!first) out += ',';
                first = false;
                append_canonical(out, item);
            }
            out += ']';
            return;
        }
        case boost::json::kind::object: {
            // std::string_view compares as unsigned bytes (char_traits<char>::compare is memcmp),
            // which is the documented key order; no copy per comparison (every hash sorts).
            std::vector<std::pair<std::string_view, const boost::json::value*>> members;
            members.reserve(value.get_object().size());
            for (const auto& member : value.get_object()) {
                members.emplace_back(member.key(), &member.value());
            }
            std::ranges::sort(members,
                              [](const auto& a, const auto& b) { return a.first < b.first; });
            out += '{';
            bool first = true;
            for (const auto& [key, member_value] : members) {
                if (!first) out += ',';
                first = false;
                append_canonical_string(out, key);
                out += ':';
                append_canonical(out, *member_value);
            }
            out += '}';
            return;
        }
    }
}

boost::json::object fields_without_hash(const Event& event) {
    boost::json::object fields;
    fields["format"] = kEventFormat;
    fields["origin"] = event.id.origin;
    fields["sequence"] = event.id.sequence;
    fields["order_id"] = event.order_id;
    fields["type"] = event_type_name(event.type);
    fields["actor"] = event.actor;
    fields["role"] = role_name(event.role);
    fields["wall_ms"] = event.wall_ms;
    fields["hlc_ms"] = event.hlc.physical_ms;
    fields["hlc_logical"] = event.hlc.logical;
    fields["clock_synced"] = event.clock_synced;
    fields["payload"] = event.payload;
    fields["prev_hash"] = event.prev_hash;
    return fields;
}

bool is_hex_hash(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string_view event_type_name(EventType type) {
    return kEventTypeNames.name_of(type);
}

std::optional<EventType> event_type_from_name(std::string_view name) {
    return kEventTypeNames.from_name(name);
}

std::string origin_of(std::string_view site, std::string_view node) {
    return fmt::format("{}.{}", site, node);
}

std::string EventId::to_string() const {
    return fmt::format("{}:{}", origin, sequence);
}

bool applies_before(const Event& a, const Event& b) {
    if (a.hlc != b.hlc) return a.hlc < b.hlc;
    return a.id < b.id;
}

std::string canonical_json(const boost::json::value& value) {
    std::string out;
    append_canonical(out, value);
    return out;
}

Result<std::string> event_text_from_stored(const StoredEventText& stored) {
    if (stored.format != kEventFormat) {
        return Error{fmt::format("event format {} is not {}", stored.format, kEventFormat)};
    }
    if (!event_type_from_name(stored.type)) {
        return Error{fmt::format("unknown event type '{}'", stored.type)};
    }
    if (!role_from_name(stored.role)) return Error{fmt::format("unknown role '{}'", stored.role)};
    if (!is_hex_hash(stored.hash) ||
        (!stored.prev_hash.empty() && !is_hex_hash(stored.prev_hash))) {
        return Error{"hash and prev_hash are 64 lowercase hex digits (prev_hash may be empty)"};
    }
    if (stored.hlc_logical < 0 || stored.hlc_logical > UINT32_MAX) {
        return Error{fmt::format("hlc_logical {} is out of range", stored.hlc_logical)};
    }
    // Only a check that the stored text is one JSON object: the parse goes to a buffer on the
    // stack (most payloads fit) and is thrown away.
    std::array<unsigned char, 4096> scratch{};
    boost::json::monotonic_resource resource(scratch.data(), scratch.size());
    boost::system::error_code error;
    const auto payload = boost::json::parse(stored.payload, error, &resource);
    if (error || !payload.is_object()) return Error{"payload is not a JSON object"};

    // The keys of event_to_json in byte order, as canonical_json writes them.
    std::string text;
    text.reserve(stored.payload.size() + stored.order_id.size() + stored.actor.size() + 360);
    text += "{\"actor\":";
    append_canonical_string(text, stored.actor);
    text += stored.clock_synced ? ",\"clock_synced\":true" : ",\"clock_synced\":false";
    fmt::format_to(std::back_inserter(text),
                   ",\"format\":{},\"hash\":\"{}\",\"hlc_logical\":{},\"hlc_ms\":{}", stored.format,
                   stored.hash, stored.hlc_logical, stored.hlc_ms);
    text += ",\"order_id\":";
    append_canonical_string(text, stored.order_id);
    text += ",\"origin\":";
    append_canonical_string(text, stored.origin);
    text += ",\"payload\":";
    text += stored.payload;
    fmt::format_to(
        std::back_inserter(text),
        ",\"prev_hash\":\"{}\",\"role\":\"{}\",\"sequence\":{},\"type\":\"{}\",\"wall_ms\":{}}}",
        stored.prev_hash, stored.role, stored.sequence, stored.type, stored.wall_ms);
    return text;
}

std::string canonical_encoding(const Event& event) {
    return canonical_json(fields_without_hash(event));
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not compute a SHA-256 digest");
    }
    return to_hex(digest.data(), length);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    const auto* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                              digest.data(), &length);
    if (result == nullptr) throw std::runtime_error("OpenSSL could not compute an HMAC-SHA256");
    return to_hex(digest.data(), length);
}

std::string compute_hash(const Event& event) {
    return sha256_hex(canonical_encoding(event));
}

void seal(Event& event, std::string prev_hash) {
    event.prev_hash = std::move(prev_hash);
    event.hash = compute_hash(event);
}

boost::json::object event_to_json(const Event& event) {
    auto fields = fields_without_hash(event);
    fields["hash"] = event.hash;
    return fields;
}

Result<Event> event_from_json(const boost::json::value& json) {
    const auto* fields = json.if_object();
    if (fields == nullptr) return Error{"an event is a JSON object"};
    const auto string_field = [fields](std::string_view key) -> const boost::json::string* {
        const auto* value = fields->if_contains(key);
        return value != nullptr ? value->if_string() : nullptr;
    };
    const auto integer_field = [fields](std::string_view key) {
        return payload::integer(*fields, key);
    };
    static constexpr std::array<std::string_view, 14> kKeys{
        "format",  "origin", "sequence",    "order_id",     "type",    "actor",     "role",
        "wall_ms", "hlc_ms", "hlc_logical", "clock_synced", "payload", "prev_hash", "hash"};
    for (const auto& member : *fields) {
        if (std::ranges::find(kKeys, std::string_view(member.key())) == kKeys.end()) {
            return Error{fmt::format("unknown event field '{}'", std::string_view(member.key()))};
        }
    }
    if (integer_field("format") != kEventFormat) {
        return Error{fmt::format("unsupported event format (this floorwatch reads format {})",
                                 kEventFormat)};
    }
    Event event;
    const auto* origin = string_field("origin");
    const auto sequence = integer_field("sequence");
    const auto* order_id = string_field("order_id");
    const auto* type = string_field("type");
    const auto* actor = string_field("actor");
    const auto* role = string_field("role");
    const auto wall_ms = integer_field("wall_ms");
    const auto hlc_ms = integer_field("hlc_ms");
    const auto hlc_logical = integer_field("hlc_logical");
    const auto* synced = fields->if_contains("clock_synced");
    const auto* payload = fields->if_contains("payload");
    const auto* prev_hash = string_field("prev_hash");
    const auto* hash = string_field("hash");
    if (origin == nullptr || !sequence || *sequence < 1 || order_id == nullptr || type == nullptr ||
        actor == nullptr || role == nullptr || !wall_ms || !hlc_ms || !hlc_logical ||
        *hlc_logical < 0 || *hlc_logical > UINT32_MAX || synced == nullptr || !synced->is_bool() ||
        payload == nullptr || !payload->is_object() || prev_hash == nullptr || hash == nullptr) {
        return Error{
            "an event needs origin, sequence (>= 1), order_id, type, actor, role, wall_ms, "
            "hlc_ms, hlc_logical, clock_synced, payload (an object), prev_hash and hash"};
    }
    const auto event_type = event_type_from_name(*type);
    if (!event_type) return Error{fmt::format("unknown event type '{}'", std::string_view(*type))};
    const auto event_role = role_from_name(*role);
    if (!event_role) return Error{fmt::format("unknown role '{}'", std::string_view(*role))};
    if (!is_hex_hash(*hash) || (!prev_hash->empty() && !is_hex_hash(*prev_hash))) {
        return Error{"hash and prev_hash are 64 lowercase hex digits (prev_hash may be empty)"};
    }
    event.id = {std::string(*origin), static_cast<std::uint64_t>(*sequence)};
    event.order_id = std::string(*order_id);
    event.type = *event_type;
    event.actor = std::string(*actor);
    event.role = *event_role;
    event.wall_ms = *wall_ms;
    event.hlc = {*hlc_ms, static_cast<std::uint32_t>(*hlc_logical)};
    event.clock_synced = synced->get_bool();
    event.payload = payload->get_object();
    event.prev_hash = std::string(*prev_hash);
    event.hash = std::string(*hash);
    return event;
}

std::string_view chain_fault_name(ChainFault fault) {
    return kChainFaultNames.name_of(fault);
}

std::optional<ChainBreak> verify_chain(std::span<const Event> events) {
    if (events.empty()) return std::nullopt;
    const std::string& order_id = events.front().order_id;
    std::vector<const Event*> ordered;
    ordered.reserve(events.size());
    for (const auto& event : events) ordered.push_back(&event);
    std::ranges::stable_sort(ordered,
                             [](const Event* a, const Event* b) { return applies_before(*a, *b); });
    const auto broken = [&order_id](const Event& event, ChainFault fault, std::string detail) {
        return ChainBreak{order_id, event.id.to_string(), fault, std::move(detail)};
    };

    // Content first: an event whose own fields are not to be trusted says nothing about links.
    std::set<EventId> seen;
    std::map<std::string, const Event*, std::less<>> by_hash;
    for (const Event* event : ordered) {
        if (event->order_id != order_id) {
            return broken(*event, ChainFault::foreign,
                          fmt::format("belongs to order {}", event->order_id));
        }
        if (!seen.insert(event->id).second) {
            return broken(*event, ChainFault::duplicated, "the same event is stored twice");
        }
        std::string recomputed;
        try {
            recomputed = compute_hash(*event);
        } catch (const std::invalid_argument& error) {
            return broken(*event, ChainFault::modified, error.what());
        }
        if (recomputed != event->hash) {
            return broken(*event, ChainFault::modified,
                          fmt::format("{} event: its content hashes to {}, but {} was recorded; "
                                      "it was changed after it was written",
                                      event_type_name(event->type), recomputed.substr(0, 12),
                                      event->hash.substr(0, 12)));
        }
        by_hash.emplace(event->hash, event);
    }

    for (const Event* event : ordered) {
        const std::string_view type = event_type_name(event->type);
        if (event->type == EventType::reported) {
            if (event->prev_hash.empty()) continue;
            return broken(*event, ChainFault::reordered,
                          fmt::format("the report names a predecessor ({}...); a report starts "
                                      "its order",
                                      event->prev_hash.substr(0, 12)));
        }
        if (event->prev_hash.empty()) {
            return broken(*event, ChainFault::reordered,
                          fmt::format("{} event: it names no predecessor, but only the report "
                                      "starts an order",
                                      type));
        }
        const auto predecessor = by_hash.find(event->prev_hash);
        if (predecessor == by_hash.end()) {
            return broken(*event, ChainFault::missing,
                          fmt::format("{} event: the event before it ({}...) is not in the store; "
                                      "it was removed, or rewritten with a new hash",
                                      type, event->prev_hash.substr(0, 12)));
        }
        if (!applies_before(*predecessor->second, *event)) {
            return broken(*event, ChainFault::reordered,
                          fmt::format("{} event: it follows {}, whose time is not earlier than "
                                      "its own",
                                      type, predecessor->second->id.to_string()));
        }
    }
    return std::nullopt;
}

std::vector<ChainBreak> verify_events(std::span<const Event> events,
                                      std::span<const SequenceRange> complete) {
    std::vector<std::string> order_ids;
    std::map<std::string, std::vector<Event>, std::less<>> events_by_order;
    for (const auto& event : events) {
        auto [entry, inserted] = events_by_order.try_emplace(event.order_id);
        if (inserted) order_ids.push_back(event.order_id);
        entry->second.push_back(event);
    }
    std::vector<ChainBreak> breaks;
    for (const auto& order_id : order_ids) {
        if (auto found = verify_chain(events_by_order[order_id])) {
            breaks.push_back(std::move(*found));
        }
    }
    for (const auto& range : complete) {
        std::set<std::uint64_t> present(range.accounted_for.begin(), range.accounted_for.end());
        for (const auto& event : events) {
            if (event.id.origin == range.origin) present.insert(event.id.sequence);
        }
        for (std::uint64_t sequence = 1; sequence < range.next_sequence; ++sequence) {
            if (present.contains(sequence)) continue;
            const EventId id{range.origin, sequence};
            breaks.push_back({"", id.to_string(), ChainFault::missing,
                              fmt::format("{} wrote events up to {}, but {} is not in the "
                                          "store; it was removed",
                                          range.origin, range.next_sequence - 1, id.to_string())});
        }
    }
    return breaks;
}

std::vector<ChainBreak> verify_events(std::span<const Event> events,
                                      const std::optional<LocalSequence>& local) {
    std::vector<SequenceRange> ranges;
    if (local) ranges.push_back({local->origin, local->next_sequence, {}});
    return verify_events(events, ranges);
}

}  // namespace fw::workflow
