#pragma once
// Order ids, unique without coordination, and the short human numbers read out over a radio.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/workflow/event.hpp"

namespace fw::workflow {

// An order's id is the id of the event that reported it, written "<origin>.<sequence>"
// ("demo-plant.gw-stamping-1.17"): origins are unique and a node never reuses a sequence, so no
// two gateways can make the same id. It holds only [a-z0-9.-], so it fits MQTT topics and URLs.
std::string order_id_for(const EventId& report_event);

// "PRS-20261129-0042": the area's prefix, the plant-local date of the report and the per-day
// counter (from 1; the store keeps it per prefix and day). Widens past 9999 rather than wrap.
std::string format_human_number(std::string_view prefix, std::chrono::year_month_day date,
                                std::uint32_t day_counter);

struct HumanNumber {
    std::string prefix;
    std::chrono::year_month_day date;
    std::uint32_t day_counter = 0;
};
// Recognises what format_human_number writes (case-insensitive prefix), for `orders show N`.
std::optional<HumanNumber> parse_human_number(std::string_view text);

}  // namespace fw::workflow
