#include "daemon/http/request_parts.hpp"

#include <boost/beast/http/field.hpp>

namespace fw::http {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int high = hex_digit(text[i + 1]);
            const int low = hex_digit(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            decoded.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            decoded.push_back(' ');
        } else {
            decoded.push_back(c);
        }
    }
    return decoded;
}

Target split_target(std::string_view target) {
    Target parts;
    const auto question = target.find('?');
    parts.path = std::string(target.substr(0, question));
    if (question == std::string_view::npos) return parts;
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto equals = pair.find('=');
        auto key = percent_decode(pair.substr(0, equals), true);
        auto value = percent_decode(
            equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
        if (!key || !value) continue;  // a malformed pair is ignored, like a browser does
        parts.query[*key] = std::move(*value);
    }
    return parts;
}

std::optional<std::vector<std::string>> path_segments(std::string_view path) {
    if (!path.starts_with('/')) return std::nullopt;
    std::vector<std::string> segments;
    path.remove_prefix(1);
    if (path.empty()) return segments;
    while (true) {
        const auto slash = path.find('/');
        const std::string_view raw = path.substr(0, slash);
        auto decoded = percent_decode(raw, false);
        if (!decoded || decoded->empty() || *decoded == "." || *decoded == "..") {
            return std::nullopt;
        }
        for (const char c : *decoded) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '/' || c == '\\' || byte < 0x20 || byte == 0x7f) return std::nullopt;
        }
        segments.push_back(std::move(*decoded));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
        if (path.empty()) break;  // a trailing slash: "/api/v1/orders/" is the list
    }
    return segments;
}

std::string cookie_value(const RequestHeader& header, std::string_view name) {
    for (auto it = header.find(boost::beast::http::field::cookie); it != header.end(); ++it) {
        if (it->name() != boost::beast::http::field::cookie) break;
        std::string_view rest = it->value();
        while (!rest.empty()) {
            const auto semicolon = rest.find(';');
            const std::string_view pair = trim(rest.substr(0, semicolon));
            rest = semicolon == std::string_view::npos ? std::string_view()
                                                       : rest.substr(semicolon + 1);
            const auto equals = pair.find('=');
            if (equals == std::string_view::npos) continue;
            if (trim(pair.substr(0, equals)) == name) {
                return std::string(trim(pair.substr(equals + 1)));
            }
        }
    }
    return {};
}

std::string own_origin(const RequestHeader& header, bool secure) {
    const std::string_view host = header[boost::beast::http::field::host];
    return std::string(secure ? "https://" : "http://") + std::string(host);
}

std::string request_origin(const RequestHeader& header) {
    const std::string_view origin = header[boost::beast::http::field::origin];
    if (!origin.empty()) return std::string(origin);
    const std::string_view referer = header[boost::beast::http::field::referer];
    const auto scheme_end = referer.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const auto path_start = referer.find('/', scheme_end + 3);
    return std::string(referer.substr(0, path_start));
}

}  // namespace fw::http
