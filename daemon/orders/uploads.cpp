#include "daemon/orders/uploads.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/orders/attachments.hpp"
#include "daemon/workflow/event.hpp"

namespace fw::orders {

Result<Uploads::Progress> Uploads::add(const control::Caller& caller,
                                       const boost::json::object& args,
                                       const workflow::AttachmentLimits& limits,
                                       Clock::time_point now) {
    std::erase_if(open_, [&](const auto& entry) { return now - entry.second.touched > kExpiry; });
    const auto chunk = base64_decode(control::text_arg(args, "data"));
    if (!chunk) return Error{"attachment data is not base64"};
    if (chunk->size() > kMaxChunk) {
        return Error{fmt::format("send attachments in chunks of at most {} bytes", kMaxChunk)};
    }
    std::string id = control::text_arg(args, "upload");
    if (id.empty()) {
        if (open_.size() >= kMaxOpen) {
            return Error{"too many uploads in progress; try again in a minute"};
        }
        id = fmt::format("u{}", ++counter_);
        const std::string name = control::text_arg(args, "name");
        open_[id] = Upload{caller.uid, caller.authenticated_user,
                           name.empty() ? std::string("attachment") : name, "", now};
    }
    const auto it = open_.find(id);
    if (it == open_.end() || it->second.uid != caller.uid ||
        it->second.authenticated_user != caller.authenticated_user) {
        return Error{fmt::format("no upload '{}' in progress (expired after 10 minutes?)", id)};
    }
    Upload& upload = it->second;
    upload.touched = now;
    upload.data += *chunk;
    if (upload.data.size() > limits.max_size) {
        const std::string too_large =
            fmt::format("{} is larger than {} bytes (workflow.attachments.max_size)", upload.name,
                        limits.max_size);
        open_.erase(it);
        return Error{too_large};
    }
    if (!control::flag_arg(args, "last")) return Progress{id, std::nullopt};

    AttachmentUpload finished;
    finished.data = std::move(upload.data);
    finished.attachment.name = upload.name;
    open_.erase(it);
    if (finished.data.empty()) return Error{"the attachment is empty"};
    auto& attachment = finished.attachment;
    attachment.media_type = sniff_media_type(finished.data);
    if (std::ranges::find(limits.allowed_types, attachment.media_type) ==
        limits.allowed_types.end()) {
        return Error{fmt::format("{} is {}; accepted types are {} (workflow.attachments.types)",
                                 attachment.name,
                                 attachment.media_type.empty() ? std::string("of an unknown type")
                                                               : attachment.media_type,
                                 limits.types)};
    }
    attachment.size = finished.data.size();
    attachment.sha256 = workflow::sha256_hex(finished.data);
    return Progress{id, std::move(finished)};
}

}  // namespace fw::orders
