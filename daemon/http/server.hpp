#pragma once
// The HTTP server: Boost.Beast on the core io_context, plain or TLS (Beast's ssl_stream over
// OpenSSL). It owns the connections and their limits; what a request means is the Handler's.
//
//   accept ─▶ over max_connections? 503 and close
//      │
//      ▼ (TLS handshake)
//   read header (16 KiB at most) ─▶ Handler::body_limit ─▶ larger Content-Length? 413 and close
//      │                                                   (before a byte of the body is read)
//      ▼ (100 Continue when asked)
//   read body ─▶ Handler::handle(request, responder) ─▶ ... responder.send(response), from any
//      │                                                     thread, exactly once
//      ▼
//   write (security headers added) ─▶ keep-alive: read the next request, else close
//
// Header and body must arrive within request_timeout, an idle keep-alive connection closes after
// it, and a response must be taken by the client within it: a slow or hostile client holds one
// connection slot, never the core thread. A server-sent event stream (open_event_stream) keeps
// its connection, writes a heartbeat comment often enough to stay inside the timeout, and closes
// when the client stops reading.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/listen_address.hpp"

namespace fw::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using RequestHeader = boost::beast::http::request_header<>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The header of a request may not be larger than this (request line and every field).
inline constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

struct TlsFiles {
    std::string certificate;  // PEM, the server's certificate followed by its chain
    std::string private_key;  // PEM
};

struct ServerOptions {
    std::vector<ListenAddress> listen;
    std::optional<TlsFiles> tls;
    std::size_t max_connections = 64;
    std::chrono::milliseconds request_timeout{30'000};
};

// A request as the handler gets it.
struct Incoming {
    Request message;
    std::string remote_address;  // the peer's IP address, e.g. "192.0.2.14"
    bool secure = false;         // arrived over TLS
};

// The open response of a server-sent event stream. Core thread only.
class EventStream {
  public:
    virtual ~EventStream() = default;
    // Queues one event, already in the text/event-stream format ("event: orders\ndata: 1\n\n").
    // False once the stream is closed: the client left, or stopped reading and fell more than
    // 64 KiB behind (then it is closed).
    virtual bool send(std::string event) = 0;
    virtual bool open() const = 0;
};

namespace detail {
// One request's way back to its connection (implemented by the connection).
class Exchange {
  public:
    virtual ~Exchange() = default;
    virtual void respond(Response response) = 0;
    virtual std::shared_ptr<EventStream> open_event_stream(Response head) = 0;
};
struct ResponderState;
struct ServerState;
}  // namespace detail

// Answers one request, exactly once; later calls do nothing. Copyable, and send() is safe from
// any thread (it posts to the connection's thread). If every copy is destroyed without an
// answer, the client gets 500 rather than a connection that hangs.
class Responder {
  public:
    Responder(boost::asio::any_io_executor executor, std::weak_ptr<detail::Exchange> exchange);
    void send(Response response) const;
    // Core thread only: answers with `head` (its body is ignored) and keeps the connection open
    // as an event stream; nullptr when the connection is gone.
    std::shared_ptr<EventStream> open_event_stream(Response head) const;

  private:
    std::shared_ptr<detail::ResponderState> state_;
};

class Handler {
  public:
    virtual ~Handler() = default;
    // The largest body a request with this header may carry; a larger Content-Length is refused
    // with 413 before any of the body is read. Core thread.
    virtual std::uint64_t body_limit(const RequestHeader& header) = 0;
    // Core thread. Must not block: answer through `responder`, now or later.
    virtual void handle(Incoming request, Responder responder) = 0;
};

struct ServerStats {
    std::size_t connections_open = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;  // over max_connections
    std::uint64_t timeouts = 0;             // a request, a write or an idle keep-alive
    std::uint64_t tls_handshake_failures = 0;
    std::size_t event_streams = 0;
    std::map<unsigned, std::uint64_t> responses_by_status;
};

// The answer every refusal gets: {"error": "<message>"} with `status`, for a person to read.
Response error_response(unsigned status, std::string_view message);

class Server {
  public:
    // Loads the TLS files (throws std::runtime_error naming the file and what is wrong) and binds
    // every listener (throws naming the address: in use, not an address of this machine).
    Server(boost::asio::io_context& core, ServerOptions options, Handler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Stops accepting and closes every connection, streams included. Idempotent.
    void close();
    // Where each listener is bound (its port when the config said 0, as the tests do).
    std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;
    bool secure() const;
    ServerStats stats() const;

  private:
    // Shared with the connections, which may outlive the Server by a completion or two.
    std::shared_ptr<detail::ServerState> impl_;
};

}  // namespace fw::http
