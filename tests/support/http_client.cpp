#include "tests/support/http_client.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace fw::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
}

boost::json::value HttpResponse::json() const {
    boost::system::error_code error;
    auto value = boost::json::parse(body, error);
    if (error) {
        FAIL("not JSON (status " << status << "): " << body.substr(0, 300));
    }
    return value;
}

struct HttpClient::Connection {
    asio::io_context context;
    std::optional<ssl::context> tls;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;

    void open(std::uint16_t port, const std::optional<std::string>& ca) {
        const Tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
        if (ca) {
            if (!tls) {
                tls.emplace(ssl::context::tls_client);
                tls->load_verify_file(*ca);
                tls->set_verify_mode(ssl::verify_peer);
            }
            secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(context, *tls);
            secure->set_verify_callback(ssl::host_name_verification("localhost"));
            beast::get_lowest_layer(*secure).expires_after(std::chrono::seconds(30));
            beast::get_lowest_layer(*secure).connect(endpoint);
            secure->handshake(ssl::stream_base::client);
        } else {
            plain = std::make_unique<beast::tcp_stream>(context);
            plain->expires_after(std::chrono::seconds(30));
            plain->connect(endpoint);
        }
        buffer.clear();
    }

    template <typename Stream>
    HttpResponse exchange(Stream& stream, bhttp::request<bhttp::string_body>& request) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
        bhttp::write(stream, request);
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(256ULL * 1024 * 1024);
        parser.skip(request.method() == bhttp::verb::head);
        bhttp::read(stream, buffer, parser);
        auto response = parser.release();
        HttpResponse result;
        result.status = response.result_int();
        for (const auto& field : response) {
            const std::string name = lower(std::string(field.name_string()));
            if (name == "set-cookie") result.set_cookies.emplace_back(field.value());
            result.headers[name] = std::string(field.value());
        }
        result.body = std::move(response.body());
        if (!response.keep_alive()) close();
        return result;
    }

    HttpResponse exchange(bhttp::request<bhttp::string_body>& request) {
        if (secure) return exchange(*secure, request);
        return exchange(*plain, request);
    }

    bool is_open() const { return plain || secure; }
    void close() {
        boost::system::error_code ignored;
        if (plain) plain->socket().close(ignored);
        if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
        plain.reset();
        secure.reset();
    }
};

HttpClient::HttpClient(std::uint16_t port, std::optional<std::string> tls_ca)
    : port_(port), tls_ca_(std::move(tls_ca)), connection_(std::make_unique<Connection>()) {}

HttpClient::~HttpClient() = default;

std::string HttpClient::origin() const {
    return std::string(tls_ca_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void HttpClient::set_session(std::string cookie, std::string csrf) {
    cookie_ = std::move(cookie);
    csrf_ = std::move(csrf);
}

void HttpClient::forget_session() {
    cookie_.clear();
    csrf_.clear();
}

HttpResponse HttpClient::send(const HttpRequest& request) {
    bhttp::request<bhttp::string_body> message;
    message.method_string(request.method);
    message.target(request.target);
    message.version(11);
    bool has_host = false;
    bool has_cookie = false;
    bool has_csrf = false;
    bool has_origin = false;
    for (const auto& [name, value] : request.headers) {
        const std::string key = lower(name);
        has_host |= key == "host";
        has_cookie |= key == "cookie";
        has_csrf |= key == "x-csrf-token";
        has_origin |= key == "origin";
        message.insert(name, value);
    }
    if (!has_host) message.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
    if (!has_cookie && !cookie_.empty()) message.set(bhttp::field::cookie, "fw_session=" + cookie_);
    const bool changes = request.method != "GET" && request.method != "HEAD";
    if (changes && !has_csrf && !csrf_.empty()) message.set("X-CSRF-Token", csrf_);
    if (changes && !has_origin) message.set(bhttp::field::origin, origin());
    message.body() = request.body;
    message.prepare_payload();
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            if (!connection_->is_open()) connection_->open(port_, tls_ca_);
            return connection_->exchange(message);
        } catch (const boost::system::system_error& error) {
            // The server may have closed a kept-alive connection meanwhile: one retry on a new one.
            connection_->close();
            if (attempt == 1) {
                throw std::runtime_error(request.method + " " + request.target + ": " +
                                         error.what());
            }
        }
    }
    throw std::runtime_error("unreachable");
}

HttpResponse HttpClient::get(const std::string& target) {
    return send({"GET", target, {}, ""});
}

HttpResponse HttpClient::post_json(const std::string& target, const boost::json::value& body) {
    return send(
        {"POST", target, {{"Content-Type", "application/json"}}, boost::json::serialize(body)});
}

HttpResponse HttpClient::put_json(const std::string& target, const boost::json::value& body) {
    return send(
        {"PUT", target, {{"Content-Type", "application/json"}}, boost::json::serialize(body)});
}

HttpResponse HttpClient::post_file(const std::string& target, const std::string& file_name,
                                   const std::string& bytes, const std::string& field) {
    const std::string boundary = "----fwtestboundary7MA4YWxkTrZu0gW";
    std::string body = "--" + boundary + "\r\n" + "Content-Disposition: form-data; name=\"" +
                       field + "\"; filename=\"" + file_name +
                       "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n--" +
                       boundary + "--\r\n";
    return send({"POST",
                 target,
                 {{"Content-Type", "multipart/form-data; boundary=" + boundary}},
                 std::move(body)});
}

HttpResponse HttpClient::login(const std::string& user, const std::string& password) {
    forget_session();
    auto response = post_json("/api/v1/login", {{"user", user}, {"password", password}});
    if (response.status != 200) return response;
    for (const auto& cookie : response.set_cookies) {
        if (cookie.starts_with("fw_session=")) {
            cookie_ = cookie.substr(11, cookie.find(';') - 11);
        }
    }
    const auto body = response.json();
    if (const auto* csrf = body.as_object().if_contains("csrf")) {
        csrf_ = std::string(csrf->as_string());
    }
    return response;
}

// --- raw ---

RawConnection::RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
    }
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::string RawConnection::read_until_close(std::chrono::milliseconds timeout) {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd entry{fd_, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (::poll(&entry, 1,
                   static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 1))) <=
            0)
            break;
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        text.append(chunk, static_cast<std::size_t>(n));
    }
    return text;
}

std::string RawConnection::read_some(std::chrono::milliseconds timeout) {
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    return std::string(chunk, static_cast<std::size_t>(n));
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd entry{fd_, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (::poll(&entry, 1,
                   static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 1))) <=
            0)
            continue;
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return true;  // end of file or reset
    }
    return false;
}

HttpResponse parse_raw_response(const std::string& text) {
    HttpResponse response;
    const auto header_end = text.find("\r\n\r\n");
    const std::string head = text.substr(0, header_end);
    if (header_end != std::string::npos) response.body = text.substr(header_end + 4);
    std::size_t line_start = 0;
    bool first = true;
    while (line_start < head.size()) {
        auto line_end = head.find("\r\n", line_start);
        if (line_end == std::string::npos) line_end = head.size();
        const std::string line = head.substr(line_start, line_end - line_start);
        line_start = line_end + 2;
        if (first) {
            first = false;
            const auto space = line.find(' ');
            if (space != std::string::npos)
                response.status = static_cast<unsigned>(std::stoul(line.substr(space + 1, 3)));
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        response.headers[lower(line.substr(0, colon))] = value;
    }
    return response;
}

}  // namespace fw::test
