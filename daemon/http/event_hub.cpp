#include "daemon/http/event_hub.hpp"

#include <fmt/format.h>

namespace fw::http {

void EventHub::add(std::shared_ptr<EventStream> stream) {
    std::erase_if(streams_, [](const auto& open) { return !open->open(); });
    streams_.push_back(std::move(stream));
}

void EventHub::publish(std::string_view topic) {
    const std::string event = fmt::format("event: {}\ndata: {{}}\n\n", topic);
    std::erase_if(streams_, [&](const auto& stream) { return !stream->send(event); });
}

}  // namespace fw::http
