#pragma once
// The page's files: every file under web/ (its README excepted) and Debian's Chart.js at
// /vendor/chart.js, embedded in the binary at build time (cmake/FwEmbed.cmake fw_embed_files).
// The table is all there is: a request names one of these paths exactly or gets 404, so no
// request ever reaches the file system.

#include <string_view>

#include "daemon/http/embedded_files.hpp"
#include "daemon/http/server.hpp"

namespace fw::http {

// The file served at `path` ("/" is /index.html), or nullptr.
const EmbeddedFile* find_embedded_file(std::string_view path);

// 200 with the file, its media type and ETag, revalidated on every use (Cache-Control:
// no-cache: a new build's page is never mixed with an old one's modules); 304 when the request's
// If-None-Match names the ETag.
Response static_file_response(const EmbeddedFile& file, const RequestHeader& request);

}  // namespace fw::http
