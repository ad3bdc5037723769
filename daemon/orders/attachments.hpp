#pragma once
// Evidence files on their way into the store: base64 on the control socket (JSON carries no
// bytes), the media type read from the file's own first bytes (a name or a client's word is not
// evidence of what a file is), and the content address.

#include <optional>
#include <string>
#include <string_view>

namespace fw::orders {

std::string base64_encode(std::string_view bytes);
// nullopt on anything that is not padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

// "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", or "" when the bytes
// are none of these.
std::string sniff_media_type(std::string_view bytes);

}  // namespace fw::orders
