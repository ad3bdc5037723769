#include "daemon/http/static_files.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>

namespace fw::http {
namespace {

namespace bhttp = boost::beast::http;

// If-None-Match: "a", W/"b" or *.
bool names_etag(std::string_view if_none_match, std::string_view etag) {
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        std::string_view candidate = if_none_match.substr(0, comma);
        if_none_match =
            comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
        while (!candidate.empty() && candidate.front() == ' ') candidate.remove_prefix(1);
        while (!candidate.empty() && candidate.back() == ' ') candidate.remove_suffix(1);
        if (candidate.starts_with("W/")) candidate.remove_prefix(2);
        if (candidate == "*" || candidate == etag) return true;
    }
    return false;
}

}  // namespace

const EmbeddedFile* find_embedded_file(std::string_view path) {
    if (path == "/") path = "/index.html";
    const auto files = embedded_files();
    const auto it = std::lower_bound(
        files.begin(), files.end(), path,
        [](const EmbeddedFile& file, std::string_view wanted) { return file.path < wanted; });
    if (it == files.end() || it->path != path) return nullptr;
    return &*it;
}

Response static_file_response(const EmbeddedFile& file, const RequestHeader& request) {
    const bool unchanged = names_etag(request[bhttp::field::if_none_match], file.etag);
    Response response{unchanged ? bhttp::status::not_modified : bhttp::status::ok, 11};
    response.set(bhttp::field::etag, file.etag);
    response.set(bhttp::field::cache_control, "no-cache");
    if (!unchanged) {
        response.set(bhttp::field::content_type, file.media_type);
        response.body().assign(file.bytes.data(), file.bytes.size());
    }
    return response;
}

}  // namespace fw::http
