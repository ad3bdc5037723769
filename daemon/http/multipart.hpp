#pragma once
// multipart/form-data as a browser's FormData sends it (RFC 7578), enough to take one file out of
// a request: the page uploads one photo per request in the field "file". What the file is comes
// from its bytes later (orders/attachments.hpp sniff_media_type), never from the part's
// Content-Type or file name.

#include <optional>
#include <string>
#include <string_view>

namespace fw::http {

struct FilePart {
    std::string file_name;   // as the browser gave it, without any folder
    std::string_view bytes;  // a view into the request body
};

struct MultipartResult {
    std::optional<FilePart> file;
    std::string problem;  // why there is no file, for the person who sent it
};

// The part named `field` of a multipart/form-data body. `content_type` is the request's
// Content-Type header, which carries the boundary.
MultipartResult find_file_part(std::string_view content_type, std::string_view body,
                               std::string_view field);

}  // namespace fw::http
