#include "daemon/http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace fw::http {
namespace {

std::string lower(std::string_view text) {
    std::string result(text);
    std::ranges::transform(result, result.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// The value of `name=` in a header's parameters ("form-data; name=\"file\"; filename=\"a.jpg\"").
std::optional<std::string> parameter(std::string_view header_value, std::string_view name) {
    std::string_view rest = header_value;
    while (!rest.empty()) {
        const auto semicolon = rest.find(';');
        std::string_view part = trim(rest.substr(0, semicolon));
        rest =
            semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
        const auto equals = part.find('=');
        if (equals == std::string_view::npos) continue;
        if (lower(trim(part.substr(0, equals))) != name) continue;
        std::string_view value = trim(part.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
            std::string unescaped;
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) ++i;
                unescaped.push_back(value[i]);
            }
            return unescaped;
        }
        return std::string(value);
    }
    return std::nullopt;
}

// Browsers send only the name, but some tools send a path: keep the last component.
std::string base_name(std::string name) {
    const auto slash = name.find_last_of("/\\");
    if (slash != std::string::npos) name.erase(0, slash + 1);
    std::erase_if(name, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    return name;
}

}  // namespace

MultipartResult find_file_part(std::string_view content_type, std::string_view body,
                               std::string_view field) {
    MultipartResult result;
    const auto semicolon = content_type.find(';');
    if (lower(trim(content_type.substr(0, semicolon))) != "multipart/form-data") {
        result.problem = "send the file as multipart/form-data";
        return result;
    }
    const auto boundary = parameter(content_type, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > 200) {
        result.problem = "the multipart/form-data body has no boundary";
        return result;
    }
    const std::string delimiter = "--" + *boundary;
    // Parts are separated by CRLF--boundary; the first may start the body without a CRLF.
    std::size_t position = body.find(delimiter);
    if (position == std::string_view::npos) {
        result.problem = "the multipart/form-data body does not match its boundary";
        return result;
    }
    const std::string separator = "\r\n" + delimiter;
    while (true) {
        position += delimiter.size();
        if (body.substr(position, 2) == "--") break;  // the closing delimiter
        if (body.substr(position, 2) != "\r\n") break;
        position += 2;
        const auto headers_end = body.find("\r\n\r\n", position);
        if (headers_end == std::string_view::npos) break;
        const std::string_view headers = body.substr(position, headers_end - position);
        const auto content_start = headers_end + 4;
        const auto next = body.find(separator, content_start);
        if (next == std::string_view::npos) break;
        std::optional<std::string> name;
        std::optional<std::string> file_name;
        std::string_view rest = headers;
        while (!rest.empty()) {
            const auto line_end = rest.find("\r\n");
            const std::string_view line = rest.substr(0, line_end);
            rest =
                line_end == std::string_view::npos ? std::string_view() : rest.substr(line_end + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            if (lower(trim(line.substr(0, colon))) != "content-disposition") continue;
            const std::string_view value = line.substr(colon + 1);
            name = parameter(value, "name");
            file_name = parameter(value, "filename");
        }
        if (name && *name == field) {
            result.file = FilePart{base_name(file_name.value_or("")),
                                   body.substr(content_start, next - content_start)};
            return result;
        }
        position = next + 2;  // at the delimiter after the CRLF
    }
    result.problem = "the request has no file in the form field '" + std::string(field) + "'";
    return result;
}

}  // namespace fw::http
