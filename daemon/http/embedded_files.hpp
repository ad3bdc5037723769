#pragma once
// The page's files (web/ and Debian's Chart.js) as the build embedded them
// (cmake/FwEmbed.cmake fw_embed_files); static_files.hpp serves them.

#include <span>
#include <string_view>

namespace fw::http {

struct EmbeddedFile {
    std::string_view path;        // "/js/app.js"
    std::string_view media_type;  // "text/javascript; charset=utf-8"
    std::string_view bytes;
    std::string_view etag;  // "\"<32 hex digits of its SHA-256>\""
};

// Defined in the generated fw_http_embedded_files.cpp; sorted by path.
std::span<const EmbeddedFile> embedded_files();

}  // namespace fw::http
