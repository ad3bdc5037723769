#pragma once
// A work order's immutable events, their canonical encoding and SHA-256 hash chain (README.md
// "Events" and "Hash chain").

#include <boost/json.hpp>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::workflow {

// The format written into every event's canonical encoding; bumped if the encoding changes.
inline constexpr std::int64_t kEventFormat = 1;

enum class EventType {
    reported,    // the order exists: who or which rule, what, where, how bad
    approved,    // one review level approved
    dismissed,   // false alarm or duplicate; terminal
    assigned,    // rectification given to a person with a deadline
    reassigned,  // the assignee (and maybe the deadline) changed during rectification
    submitted,   // rectification done: note and evidence
    accepted,    // evidence accepted; terminal
    rejected,    // evidence rejected: back to rectification
    overdue,     // a step passed its deadline
    escalated,   // risk raised to red; review starts again at the red chain
    occurred,    // the same alarm activated again while the order was open
    // A node's clock turned synchronised: the times of its earlier unsynchronised events on this
    // order are off by offset_ms (README.md "Clock corrections").
    clock_corrected,
};
inline constexpr std::size_t kEventTypeCount = 12;

std::string_view event_type_name(EventType type);
std::optional<EventType> event_type_from_name(std::string_view name);

// "<site>.<node>": the node that wrote an event, unique across every gateway and the centre.
std::string origin_of(std::string_view site, std::string_view node);

struct EventId {
    std::string origin;
    std::uint64_t sequence = 0;  // per origin, from 1, no gaps
    auto operator<=>(const EventId&) const = default;
    std::string to_string() const;  // "demo-plant.gw-stamping-1:42"
};

struct Event {
    EventId id;
    std::string order_id;
    EventType type = EventType::reported;
    std::string actor;  // user name, "system", or "anonymous"
    Role role = Role::system;
    std::int64_t wall_ms = 0;
    Hlc hlc;
    bool clock_synced = false;
    // Strings, integers, booleans, null, arrays and objects only: floating-point numbers have no
    // single canonical text, so encoding refuses them.
    boost::json::object payload;
    std::string prev_hash;  // hex SHA-256 of the order's previous event; empty for the first
    std::string hash;       // hex SHA-256 of canonical_encoding(*this)
};

// The base order events are applied in, the same on every node: by HLC, then event id. The fold
// then reorders concurrent transitions (order.hpp "siblings").
bool applies_before(const Event& a, const Event& b);

// Compact JSON of every field except `hash`, object keys sorted by byte value at every level,
// strings escaped minimally (README.md "Canonical encoding"). Throws std::invalid_argument on a
// floating-point number in the payload.
std::string canonical_encoding(const Event& event);
std::string compute_hash(const Event& event);
// Sets prev_hash and hash.
void seal(Event& event, std::string prev_hash);

// The event as stored and sent: every field including hash (keys in canonical order).
boost::json::object event_to_json(const Event& event);
// Refuses, saying why, anything event_to_json cannot have written.
Result<Event> event_from_json(const boost::json::value& json);

// Canonical text of any JSON value (the rules of canonical_encoding).
std::string canonical_json(const boost::json::value& value);

// One stored event's columns as they are in the store (orders/order_store.hpp): the payload is
// the canonical text it was stored as. The views live as long as the row they were read from.
struct StoredEventText {
    std::string_view origin;
    std::uint64_t sequence = 0;
    std::string_view order_id;
    std::string_view type;
    std::string_view actor;
    std::string_view role;
    std::int64_t wall_ms = 0;
    bool clock_synced = false;
    std::int64_t hlc_ms = 0;
    std::int64_t hlc_logical = 0;
    std::int64_t format = 0;
    std::string_view payload;
    std::string_view prev_hash;
    std::string_view hash;
};
// canonical_json(event_to_json(event)) of the stored event, written from its columns without
// building the event: what sync sends from a long backlog, where decoding every event only to
// encode it again was most of the drain's cost. Checks what decoding would (type, role, format,
// the payload is a JSON object, the hashes are hex) and says what is wrong.
Result<std::string> event_text_from_stored(const StoredEventText& stored);

std::string sha256_hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`, hex; anonymous reporters are stored only as this.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

enum class ChainFault {
    modified,    // the event's content does not match its hash
    missing,     // the event's predecessor is not there (removed, or rewritten with a new hash)
    reordered,   // the predecessor is there but not earlier (HLC), or a chain starts mid-order
    duplicated,  // the same event id twice
    foreign,     // an event of another order inside this order's chain
};
std::string_view chain_fault_name(ChainFault fault);

struct ChainBreak {
    std::string order_id;
    std::string event_id;  // the event where the chain breaks
    ChainFault fault = ChainFault::modified;
    std::string detail;  // what was found, for the person reading `floorwatch verify`
};

// Checks one order's events, in any order: each hash recomputed; only the `reported` event has
// an empty prev_hash; every other prev_hash names an event of the same order with an earlier HLC.
// Two events naming the same predecessor (a fork: two nodes acted on the same version) are
// fine. Returns the first break: content faults (foreign, duplicated, modified) before link
// faults, each in fold order.
std::optional<ChainBreak> verify_chain(std::span<const Event> events);

// Sequences of one origin that must all be in the store: 1 .. next_sequence - 1, except those
// `accounted_for` elsewhere (quarantined by a receiver, say). A node checks its own writer range;
// the centre checks each gateway's acked range.
struct SequenceRange {
    std::string origin;
    std::uint64_t next_sequence = 1;
    std::vector<std::uint64_t> accounted_for;
};
// The writer range of this node (its cursor): its events must all still be there.
struct LocalSequence {
    std::string origin;
    std::uint64_t next_sequence = 1;
};

// Checks every order's chain (one break per order) and then each range (one break per missing
// sequence); the last event of an order can be found missing only the second way.
std::vector<ChainBreak> verify_events(std::span<const Event> events,
                                      std::span<const SequenceRange> complete);
std::vector<ChainBreak> verify_events(std::span<const Event> events,
                                      const std::optional<LocalSequence>& local);

}  // namespace fw::workflow
