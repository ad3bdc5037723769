#pragma once
// The open server-sent event streams (GET /api/v1/stream) and the notices they get: "orders",
// "alarms" and "readings" say that something of that kind changed, so a page showing it fetches
// it again. The notice carries no data: what someone may see is decided by the API's own checks
// when the page asks. Each stream holds a connection, so http.max_connections bounds them. Core
// thread.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "daemon/http/server.hpp"

namespace fw::http {

class EventHub {
  public:
    void add(std::shared_ptr<EventStream> stream);
    // "event: <topic>\ndata: {}\n\n" to every open stream; closed ones are dropped.
    void publish(std::string_view topic);
    std::size_t size() const { return streams_.size(); }

  private:
    std::vector<std::shared_ptr<EventStream>> streams_;
};

}  // namespace fw::http
