#pragma once
// The sync protocol between gateways and the centre (README.md "Messages"): one JSON object per
// MQTT message, `"v": 1` and a `"type"`, on two topics per gateway:
//
//   floorwatch/v1/<site>/<node>/up     gateway → centre: hello, events, down_ack, attachment,
//                                      need, reannounce, reseed_request
//   floorwatch/v1/<site>/<node>/down   centre → gateway: welcome, ack, events, attachment, need,
//                                      reannounce, seed
//
// This file is the codec only: C++ types, encoding to JSON text, decoding with a reason for
// everything refused, topics and batching. It does no I/O and keeps no state, so the gateway agent
// and the central service share it. The JSON Schemas in schemas/sync/ describe the same messages;
// protocol_test.cpp checks that every message encoded here validates against them.
//
// Decoding never throws. A message that is not one of the above (not JSON, wrong type, a field
// missing or of the wrong type, an unknown field) is an error naming the field. An *event* inside
// an `events` or `seed` message that cannot be read, or whose content does not match its hash, is
// not: it comes back in `refused` with its raw text and reason, so the receiver can quarantine it
// and still count its sequence. Every event decoded is one whose hash has been recomputed.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/order.hpp"

namespace fw::sync {

inline constexpr std::int64_t kProtocolVersion = 1;

// ---- topics ----

enum class Direction { up, down };
std::string_view direction_name(Direction direction);

// "floorwatch/v1/<site>/<node>/up" and ".../down". Site and node are [a-z0-9-]+ (the config
// validates them), so they never contain '/', '+' or '#'.
std::string up_topic(std::string_view site, std::string_view node);
std::string down_topic(std::string_view site, std::string_view node);

struct TopicAddress {
    std::string site;
    std::string node;
    Direction direction = Direction::up;
    std::string origin() const;  // "<site>.<node>", as in event ids
    bool operator==(const TopicAddress&) const = default;
};
// Reads an up or down topic back; anything else is an error saying what it is not.
Result<TopicAddress> parse_topic(std::string_view topic);

// What central processes subscribe to: every gateway's up topic, through the shared subscription
// `$share/<group>/floorwatch/v1/+/+/up` so several processes split the load; a plain subscription
// when `share_group` is empty.
std::string central_subscription(std::string_view share_group);

// ---- messages ----

// An event of an `events` or `seed` message that could not be read. `position` is its sequence
// for up events (first + index), its down sequence for down events, and its index for seed parts.
struct RefusedEvent {
    std::uint64_t position = 0;
    std::string raw;  // the entry as received (compact JSON), for the quarantine table
    std::string reason;
    bool operator==(const RefusedEvent&) const = default;
};

// gateway → centre, on connect and when asked (`reannounce`).
struct Hello {
    std::string incarnation;          // the gateway store's (random, 32 hex digits)
    std::string origin;               // "<site>.<node>"
    std::uint64_t next_sequence = 1;  // the gateway's writer cursor
    std::uint64_t acked = 0;          // highest sequence the gateway has seen acked
    std::uint64_t down_applied = 0;   // highest contiguous down sequence applied durably
    std::map<std::string, std::uint64_t> centre_max;  // central origin → highest sequence held
    std::int64_t wall_ms = 0;
    bool clock_synced = false;
    workflow::Hlc hlc;
    bool operator==(const Hello&) const = default;
};

// gateway → centre: consecutive sequences first..last of the gateway's own origin.
struct UpEvents {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::vector<workflow::Event> events;  // in sequence order
    std::vector<RefusedEvent> refused;    // decoding only; encoding refuses none
};

struct DownAck {
    std::uint64_t down_applied = 0;
    bool operator==(const DownAck&) const = default;
};

// One piece of an attachment, in answer to a `need`, either way.
struct AttachmentChunk {
    std::string sha256;
    std::string media_type;
    std::uint64_t size = 0;  // of the whole file
    std::string name;
    std::uint64_t offset = 0;  // of this piece in the file
    std::string data;          // the bytes (base64 on the wire)
    bool last = false;         // the piece that ends at `size`
    bool operator==(const AttachmentChunk&) const = default;
};

struct NeededAttachment {
    std::string sha256;
    std::uint64_t offset = 0;  // bytes already held of a partial transfer
    bool operator==(const NeededAttachment&) const = default;
};

// Attachments named by events the sender received and lacks, either way.
struct Need {
    std::vector<NeededAttachment> attachments;
    bool operator==(const Need&) const = default;
};

// "Say hello again" (centre → gateway) or "send me a welcome" (gateway → centre).
struct Reannounce {
    bool operator==(const Reannounce&) const = default;
};

// gateway → centre (`floorwatch sync reseed`): every event of this origin's orders, please.
struct ReseedRequest {
    std::string request_id;  // echoed in every seed part, so parts of an older request are ignored
    bool operator==(const ReseedRequest&) const = default;
};

enum class Verdict {
    ok,      // carry on
    reseed,  // the centre holds more of this origin than this store wrote: stop sending
};
std::string_view verdict_name(Verdict verdict);
std::optional<Verdict> verdict_from_name(std::string_view name);

// centre → gateway: the answer to a hello.
struct Welcome {
    std::string incarnation;                       // the central store's
    std::optional<std::string> known_incarnation;  // the gateway incarnation on record, if any
    std::uint64_t received = 0;   // highest contiguous sequence of this origin stored centrally
    std::uint64_t down_next = 1;  // the next down sequence the centre will give this gateway
    Verdict verdict = Verdict::ok;
    std::string message;  // for the log and `floorwatch sync`; empty when ok
    bool operator==(const Welcome&) const = default;
};

// centre → gateway: every sequence up to `received` is stored (or quarantined) centrally.
struct Ack {
    std::uint64_t received = 0;
    bool operator==(const Ack&) const = default;
};

struct DownEvent {
    std::uint64_t down = 0;  // the centre's per-gateway sequence
    workflow::Event event;
};

// centre → gateway: central events on this gateway's orders, down sequences first..last.
struct DownEvents {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::vector<DownEvent> events;
    std::vector<RefusedEvent> refused;  // decoding only
};

// centre → gateway: one part of the answer to a reseed_request, parts numbered from 0.
struct Seed {
    std::string request_id;
    std::uint64_t part = 0;
    bool last = false;                    // the final part
    std::uint64_t origin_sequence = 0;    // highest sequence of the gateway's origin held centrally
    std::uint64_t down_last = 0;          // highest down sequence given to this gateway so far
    std::vector<workflow::Event> events;  // events of the gateway's orders (any origin)
    std::vector<RefusedEvent> refused;    // decoding only; position = index in the part
};

using UpMessage =
    std::variant<Hello, UpEvents, DownAck, AttachmentChunk, Need, Reannounce, ReseedRequest>;
using DownMessage = std::variant<Welcome, Ack, DownEvents, AttachmentChunk, Need, Reannounce, Seed>;

// The `type` of a message: "hello", "events", ...
std::string_view message_type(const UpMessage& message);
std::string_view message_type(const DownMessage& message);

// The JSON text of a message (compact, one object).
std::string encode_up(const UpMessage& message);
std::string encode_down(const DownMessage& message);

// The message a text holds, or why it is none (every failure is a value; nothing throws).
Result<UpMessage> decode_up(std::string_view text);
Result<DownMessage> decode_down(std::string_view text);

// ---- batching ----

// A message never holds more than `max_events` events, nor more than `max_bytes` of text — except
// that one event larger than `max_bytes` still travels, alone.
struct BatchLimits {
    std::size_t max_events = 500;
    std::size_t max_bytes = std::size_t{256} * 1024;
};

enum class BatchAdd {
    added,
    full,      // nothing added: send this batch, then start the next with the same event
    not_next,  // nothing added: the sequence (or down sequence) does not follow the last one
};

// Builds one `events` message (up or down) or one `seed` part, encoding each event once and
// tracking the exact size of the text it will produce.
class EventBatch {
  public:
    // Up: consecutive sequences of one origin.
    static EventBatch up(BatchLimits limits);
    // Down: consecutive down sequences.
    static EventBatch down(BatchLimits limits);
    // A seed part: any events, in the order added.
    static EventBatch seed(BatchLimits limits, std::string request_id, std::uint64_t part,
                           std::uint64_t origin_sequence, std::uint64_t down_last);

    [[nodiscard]] BatchAdd add(const workflow::Event& event);                      // up and seed
    [[nodiscard]] BatchAdd add(std::uint64_t down, const workflow::Event& event);  // down
    // Up: an event already in its text (orders::read_origin_event_texts), not decoded again.
    [[nodiscard]] BatchAdd add_text(std::uint64_t sequence, std::string event_text);

    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    std::uint64_t first() const { return first_; }
    std::uint64_t last() const { return last_; }
    // The size of the text encode() gives (for a seed part, with last = false).
    std::size_t bytes() const;

    // The message text. `last_part` is for seed parts only.
    std::string encode(bool last_part = false) const;

  private:
    enum class Kind { up, down, seed };
    EventBatch(Kind kind, BatchLimits limits);
    BatchAdd add_item(std::uint64_t position, std::string item, bool positional);
    std::string header(bool last_part) const;

    Kind kind_;
    BatchLimits limits_;
    std::string request_id_;
    std::uint64_t part_ = 0;
    std::uint64_t origin_sequence_ = 0;
    std::uint64_t down_last_ = 0;
    std::uint64_t first_ = 0;
    std::uint64_t last_ = 0;
    std::vector<std::string> items_;  // each entry's JSON text
    std::size_t item_bytes_ = 0;
};

// Splits events into up `events` messages within `limits` (consecutive sequences required; a gap
// starts a new message).
std::vector<std::string> batch_up_events(std::span<const workflow::Event> events,
                                         BatchLimits limits);

// ---- attachments ----

// The attachment message holding `content[offset, offset + chunk_size)` of a file.
AttachmentChunk attachment_chunk(const workflow::Attachment& attachment, std::string_view content,
                                 std::uint64_t offset, std::size_t chunk_size);

// The text size of an attachment message carrying `chunk_size` bytes, with a name of
// `name_bytes`: what `sync.chunk_size` must leave room for within `sync.batch_bytes`.
std::size_t attachment_message_bytes(std::size_t chunk_size, std::size_t name_bytes);

std::string base64_encode(std::string_view bytes);
// Strict: standard alphabet, padded, no whitespace.
Result<std::string> base64_decode(std::string_view text);

}  // namespace fw::sync
