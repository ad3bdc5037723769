#pragma once
// Attachments arrive over the control socket in base64 chunks (attachment.upload: the socket
// takes 1 MiB per request): this assembles them per caller and checks the finished file against
// workflow.attachments (size, media type read from the bytes). Unfinished uploads expire after
// 10 minutes; at most 8 are open at once. Storing the file is the order service's part.

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "daemon/control/control.hpp"
#include "daemon/core/result.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::orders {

class Uploads {
  public:
    using Clock = std::chrono::steady_clock;
    // 512 KiB of bytes is 683 KiB of base64 plus the JSON around it, within one request.
    static constexpr std::size_t kMaxChunk = std::size_t{512} * 1024;
    static constexpr std::size_t kMaxOpen = 8;
    static constexpr auto kExpiry = std::chrono::minutes(10);

    // After a chunk: the upload to continue (more chunks to come), or the finished file with its
    // name, media type, size and SHA-256 (uploaded_by and uploaded_ms are the caller's to fill).
    struct Progress {
        std::string upload_id;
        std::optional<AttachmentUpload> finished;
    };

    // One attachment.upload request: {upload (empty for the first chunk), name, data, last}.
    Result<Progress> add(const control::Caller& caller, const boost::json::object& args,
                         const workflow::AttachmentLimits& limits, Clock::time_point now);
    void clear() { open_.clear(); }

  private:
    // Only who started an upload may continue it: the same uid, and the same web user.
    struct Upload {
        uid_t uid = 0;
        std::string authenticated_user;
        std::string name;
        std::string data;
        Clock::time_point touched;
    };
    std::map<std::string, Upload> open_;
    std::uint64_t counter_ = 0;
};

}  // namespace fw::orders
