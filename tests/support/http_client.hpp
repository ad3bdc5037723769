#pragma once
// An HTTP client for the tests of daemon/http: well-formed requests through Beast (plain or TLS,
// keeping a connection alive between requests, with the session cookie and CSRF token the server
// handed out), and raw sockets for the requests a browser would never send (slow, oversized,
// malformed).

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fw::test {

struct HttpResponse {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // names in lower case; repeated: the last
    std::vector<std::string> set_cookies;
    std::string body;

    std::string header(const std::string& lower_case_name) const;
    // The body as JSON; a doctest failure when it is not.
    boost::json::value json() const;
};

struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class HttpClient {
  public:
    // `tls_ca`: the PEM file to trust for a TLS server (hostname checked: "localhost").
    HttpClient(std::uint16_t port, std::optional<std::string> tls_ca = std::nullopt);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends and reads one answer on the kept connection (a new one when the server closed it).
    // Adds Host, the session cookie and, for everything but GET/HEAD, X-CSRF-Token and an
    // Origin equal to the server's own, unless the request sets them itself. Throws
    // std::runtime_error on a network failure.
    HttpResponse send(const HttpRequest& request);
    HttpResponse get(const std::string& target);
    HttpResponse post_json(const std::string& target, const boost::json::value& body);
    HttpResponse put_json(const std::string& target, const boost::json::value& body);
    // One file in the multipart field `field`.
    HttpResponse post_file(const std::string& target, const std::string& file_name,
                           const std::string& bytes, const std::string& field = "file");

    // POST /api/v1/login; on 200 keeps the cookie and CSRF token for the next requests.
    HttpResponse login(const std::string& user, const std::string& password);
    void forget_session();

    std::string origin() const;  // "http://127.0.0.1:<port>" (https with TLS)
    const std::string& session_cookie() const { return cookie_; }
    const std::string& csrf() const { return csrf_; }
    void set_session(std::string cookie, std::string csrf);

  private:
    struct Connection;
    std::uint16_t port_;
    std::optional<std::string> tls_ca_;
    std::unique_ptr<Connection> connection_;
    std::string cookie_;
    std::string csrf_;
};

// A socket the test writes bytes into as it likes.
class RawConnection {
  public:
    explicit RawConnection(std::uint16_t port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // False when the peer closed or reset the connection.
    bool send(const std::string& bytes);
    // Everything until the server closes the connection or `timeout` passes.
    std::string read_until_close(std::chrono::milliseconds timeout);
    // Whatever arrives within `timeout` (at least one read), or empty.
    std::string read_some(std::chrono::milliseconds timeout);
    // Whether the server closed the connection (a read returns end of file) within `timeout`.
    bool closed_within(std::chrono::milliseconds timeout);

  private:
    int fd_ = -1;
};

// Parses the status line and headers of a raw answer ("HTTP/1.1 413 ...").
HttpResponse parse_raw_response(const std::string& text);

}  // namespace fw::test
