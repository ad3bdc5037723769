#pragma once
// Turns one MQTT message of one input into a sample or a plant event, or says why not. Pure code:
// no I/O, no clock of its own (the receive time is passed in), so every bad-input rule is unit
// tested without a broker.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/core/plant_event.hpp"
#include "daemon/core/sample.hpp"
#include "drivers/mqtt/mqtt_config.hpp"
#include "drivers/mqtt/topic.hpp"

namespace fw::mqtt {

// Why a message was dropped; counted per input and reason, and stored for `floorwatch mqtt`.
enum class RejectReason {
    too_large,         // payload over the broker's max_payload
    invalid_utf8,      // payload is not UTF-8 text
    invalid_json,      // the input reads JSON fields and the payload is not a JSON object
    missing_field,     // a configured field path is absent
    wrong_type,        // the field is there but of the wrong JSON type (a string for a number)
    not_numeric,       // a raw payload (or a field) that is no finite number
    bad_timestamp,     // the time field is neither epoch ms nor ISO 8601 with a zone
    time_in_future,    // further ahead of the gateway clock than max_clock_skew
    time_before_2000,  // before 2000-01-01: an unset device clock
    bad_name,          // the channel/equipment/event name built from the message is not allowed
};
inline constexpr std::size_t kRejectReasonCount = 10;

std::string_view reject_reason_name(RejectReason reason);

struct Rejection {
    RejectReason reason;
    std::string detail;  // for the log line: what was found, where
};

struct DecodedValue {
    Sample sample;
    ChannelInfo channel;
};

using Decoded = std::variant<DecodedValue, PlantEvent, Rejection>;

// Area of a declared equipment id, or nullopt when it is not declared.
using AreaLookup = std::function<std::optional<std::string>(const std::string& equipment)>;

struct DecoderLimits {
    std::uint64_t max_payload = 64ULL * 1024;
    std::int64_t max_clock_skew_ms = 300000;
};

// Wall time 2000-01-01T00:00:00Z: anything earlier comes from a device that never set its clock.
inline constexpr std::int64_t kYear2000Ms = 946684800000;

class InputDecoder {
  public:
    // `source` is the instance name stored with channels and events ("mqtt:plant/pucks").
    InputDecoder(const InputConfig& input, DecoderLimits limits, std::string source,
                 AreaLookup areas);

    Decoded decode(std::string_view topic, std::string_view payload,
                   std::int64_t receive_time_ms) const;

    const InputConfig& config() const { return input_; }

  private:
    InputConfig input_;
    DecoderLimits limits_;
    std::string source_;
    AreaLookup areas_;
    NameTemplate channel_;
    NameTemplate event_;
    NameTemplate equipment_;
    NameTemplate area_;
    bool needs_json_ = false;
};

// Exposed for tests.
bool is_valid_utf8(std::string_view text);

}  // namespace fw::mqtt
