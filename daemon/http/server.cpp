#include "daemon/http/server.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <set>
#include <type_traits>

#include "daemon/core/log.hpp"

namespace fw::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kInstance = "http";
// The page's policy (web/README.md "Security rules"): nothing but its own files, no plugins, no
// framing, no <base>. Responses that need another (attachments: sandbox) set their own.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'";
// An event stream whose client stops reading is closed once this much is waiting for it.
constexpr std::size_t kMaxStreamBacklog = std::size_t{64} * 1024;
constexpr auto kMaxHeartbeatInterval = std::chrono::seconds(15);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);

constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 67\r\n"
    "Retry-After: 5\r\n"
    "Connection: close\r\n"
    "\r\n"
    "{\"error\":\"the server has too many connections; try again shortly\"}";

void add_security_headers(bhttp::fields& fields) {
    if (fields.find("Content-Security-Policy") == fields.end()) {
        fields.set("Content-Security-Policy", kContentSecurityPolicy);
    }
    fields.set("X-Content-Type-Options", "nosniff");
    fields.set("Referrer-Policy", "same-origin");
    fields.set("X-Frame-Options", "DENY");
    // API answers change with every action; only the embedded files say otherwise (no-cache).
    if (fields.find(bhttp::field::cache_control) == fields.end()) {
        fields.set(bhttp::field::cache_control, "no-store");
    }
}

std::string peer_address(const Tcp::socket& socket) {
    boost::system::error_code error;
    const auto endpoint = socket.remote_endpoint(error);
    if (error) return "unknown";
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address.to_string();
}

// A connection as the server's registry sees it.
class ConnectionBase {
  public:
    virtual ~ConnectionBase() = default;
    virtual void start() = 0;
    virtual void close_now() = 0;
    virtual bool streaming() const = 0;
};

}  // namespace

Response error_response(unsigned status, std::string_view message) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, "application/json");
    response.body() = boost::json::serialize(boost::json::object{{"error", message}});
    return response;
}

namespace detail {

struct ResponderState {
    ResponderState(asio::any_io_executor on, std::weak_ptr<Exchange> to)
        : executor(std::move(on)), exchange(std::move(to)) {}
    ResponderState(const ResponderState&) = delete;
    ResponderState& operator=(const ResponderState&) = delete;
    ~ResponderState() {
        if (answered.load()) return;
        try {
            asio::post(executor, [exchange = exchange] {
                if (auto target = exchange.lock()) {
                    target->respond(
                        error_response(500, "the server dropped this request without an answer"));
                }
            });
        } catch (...) {
            // Posting allocates; without memory the connection's own timeout ends the request.
            // A destructor must not throw.
        }
    }

    asio::any_io_executor executor;
    std::weak_ptr<Exchange> exchange;
    std::atomic<bool> answered{false};
};

}  // namespace detail

Responder::Responder(asio::any_io_executor executor, std::weak_ptr<detail::Exchange> exchange)
    : state_(std::make_shared<detail::ResponderState>(std::move(executor), std::move(exchange))) {}

void Responder::send(Response response) const {
    if (state_->answered.exchange(true)) return;
    asio::post(state_->executor,
               [exchange = state_->exchange, response = std::move(response)]() mutable {
                   if (auto target = exchange.lock()) target->respond(std::move(response));
               });
}

std::shared_ptr<EventStream> Responder::open_event_stream(Response head) const {
    if (state_->answered.exchange(true)) return nullptr;
    auto target = state_->exchange.lock();
    if (!target) return nullptr;
    return target->open_event_stream(std::move(head));
}

namespace detail {

struct ServerState : std::enable_shared_from_this<ServerState> {
    ServerState(asio::io_context& context, ServerOptions given, Handler& given_handler)
        : core(context), options(std::move(given)), handler(&given_handler) {}

    void load_tls() {
        if (!options.tls) return;
        tls.emplace(ssl::context::tls_server);
        tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
        boost::system::error_code error;
        tls->use_certificate_chain_file(options.tls->certificate, error);
        if (error) {
            throw std::runtime_error(fmt::format(
                "http.tls.cert {}: cannot be used as the server's certificate chain ({}); it must "
                "be PEM, readable by the floorwatch user",
                options.tls->certificate, error.message()));
        }
        tls->use_private_key_file(options.tls->private_key, ssl::context::pem, error);
        if (error) {
            throw std::runtime_error(fmt::format(
                "http.tls.key {}: cannot be used as the private key ({}); it must be PEM, "
                "unencrypted, readable by the floorwatch user and match http.tls.cert",
                options.tls->private_key, error.message()));
        }
    }

    void bind_all() {
        for (const auto& address : options.listen) {
            auto acceptor = std::make_unique<Tcp::acceptor>(core);
            const Tcp::endpoint endpoint(address.address, address.port);
            boost::system::error_code error;
            acceptor->open(endpoint.protocol(), error);
            if (!error) acceptor->set_option(asio::socket_base::reuse_address(true), error);
            if (!error && endpoint.address().is_v6()) {
                // [::]:8080 and 0.0.0.0:8080 may both be listed: each binds its own family.
                acceptor->set_option(asio::ip::v6_only(true), error);
            }
            if (!error) acceptor->bind(endpoint, error);
            if (!error) acceptor->listen(asio::socket_base::max_listen_connections, error);
            if (error) {
                throw std::runtime_error(
                    fmt::format("http.listen {}: cannot listen: {} (is the port taken, or the "
                                "address not one of this machine's?)",
                                address.to_string(), error.message()));
            }
            acceptors.push_back(std::move(acceptor));
        }
        for (auto& acceptor : acceptors) accept_next(*acceptor);
    }

    void accept_next(Tcp::acceptor& acceptor) {
        acceptor.async_accept(
            core, [weak = weak_from_this(), &acceptor](const boost::system::error_code& error,
                                                       Tcp::socket socket) {
                auto self = weak.lock();
                if (!self || self->closed) return;
                if (error) {
                    if (error == asio::error::operation_aborted) return;
                    // Out of file descriptors and the like: keep serving what is open.
                    log_warning(kInstance, "accept failed: {}", error.message());
                } else {
                    self->on_accept(std::move(socket));
                }
                self->accept_next(acceptor);
            });
    }

    void on_accept(Tcp::socket socket);

    void refuse_busy(Tcp::socket socket) {
        ++stats.connections_refused;
        ++stats.responses_by_status[503];
        if (tls) {
            // A TLS client would need a handshake before it could read a 503; closing costs less
            // and tells it the same.
            boost::system::error_code ignored;
            socket.close(ignored);
            return;
        }
        auto owned = std::make_shared<Tcp::socket>(std::move(socket));
        asio::async_write(*owned, asio::buffer(kBusyResponse),
                          [owned](const boost::system::error_code&, std::size_t) {
                              boost::system::error_code ignored;
                              owned->shutdown(Tcp::socket::shutdown_both, ignored);
                              owned->close(ignored);
                          });
    }

    void count_response(unsigned status) { ++stats.responses_by_status[status]; }

    void close() {
        if (closed) return;
        closed = true;
        handler = nullptr;
        boost::system::error_code ignored;
        for (auto& acceptor : acceptors) acceptor->close(ignored);
        // close_now() may release the last reference to a connection, which unregisters itself.
        const auto open = connections;
        for (const auto& weak : open) {
            if (auto connection = weak.lock()) connection->close_now();
        }
    }

    asio::io_context& core;
    ServerOptions options;
    Handler* handler;  // nullptr once closed
    std::optional<ssl::context> tls;
    std::vector<std::unique_ptr<Tcp::acceptor>> acceptors;
    std::set<std::weak_ptr<ConnectionBase>, std::owner_less<std::weak_ptr<ConnectionBase>>>
        connections;
    ServerStats stats;
    bool closed = false;
};

}  // namespace detail

namespace {

template <bool kSecure>
class Connection final : public ConnectionBase,
                         public detail::Exchange,
                         public EventStream,
                         public std::enable_shared_from_this<Connection<kSecure>> {
  public:
    using Stream =
        std::conditional_t<kSecure, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

    Connection(std::shared_ptr<detail::ServerState> server, Tcp::socket socket)
        : server_(std::move(server)),
          remote_(peer_address(socket)),
          stream_(make_stream(std::move(socket), server_->tls)),
          heartbeat_(server_->core) {
        ++server_->stats.connections_open;
        ++server_->stats.connections_accepted;
    }

    ~Connection() override {
        --server_->stats.connections_open;
        if (state_ == State::streaming) --server_->stats.event_streams;
    }

    void start() override {
        if constexpr (kSecure) {
            lowest().expires_after(timeout());
            stream_.async_handshake(
                ssl::stream_base::server,
                [self = this->shared_from_this()](const boost::system::error_code& error) {
                    if (error) {
                        ++self->server_->stats.tls_handshake_failures;
                        log_debug(kInstance, "TLS handshake with {} failed: {}", self->remote_,
                                  error.message());
                        self->close_now();
                        return;
                    }
                    self->read_request();
                });
        } else {
            read_request();
        }
    }

    void close_now() override {
        if (state_ == State::closed) return;
        if (state_ == State::streaming) --server_->stats.event_streams;
        state_ = State::closed;
        // May hold the last reference: released when this function is done with the members.
        const auto keep_until_closed = std::move(awaiting_answer_);
        heartbeat_.cancel();
        boost::system::error_code ignored;
        lowest().socket().shutdown(Tcp::socket::shutdown_both, ignored);
        lowest().close();
    }

    bool streaming() const override { return state_ == State::streaming; }

    // --- detail::Exchange ---

    void respond(Response response) override {
        if (state_ != State::handling) return;
        const auto keep_until_written = std::move(awaiting_answer_);
        write_response(std::move(response), keep_alive_);
    }

    std::shared_ptr<EventStream> open_event_stream(Response head) override {
        if (state_ != State::handling) return nullptr;
        awaiting_answer_.reset();
        state_ = State::streaming;
        ++server_->stats.event_streams;
        server_->count_response(head.result_int());
        auto header = std::make_shared<bhttp::response<bhttp::empty_body>>(std::move(head.base()));
        header->version(11);
        header->chunked(true);
        header->keep_alive(true);
        add_security_headers(*header);
        auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
        lowest().expires_after(timeout());
        bhttp::async_write_header(stream_, *serializer,
                                  [self = this->shared_from_this(), header, serializer](
                                      const boost::system::error_code& error, std::size_t) {
                                      if (error) return self->close_now();
                                      self->head_written_ = true;
                                      // Beast keeps a pending read on the timeout it started with:
                                      // the close watch gets none, and each chunk's write its own
                                      // (a client that stops reading).
                                      self->lowest().expires_never();
                                      self->watch_for_close();
                                      self->schedule_heartbeat();
                                      self->pump();
                                  });
        return this->shared_from_this();
    }

    // --- EventStream ---

    bool send(std::string event) override {
        if (state_ != State::streaming) return false;
        if (backlog_bytes_ + event.size() > kMaxStreamBacklog) {
            log_info(kInstance, "event stream to {} closed: the client stopped reading", remote_);
            close_now();
            return false;
        }
        backlog_bytes_ += event.size();
        backlog_.push_back(std::move(event));
        pump();
        return true;
    }

    bool open() const override { return state_ == State::streaming; }

  private:
    enum class State { reading, handling, writing, streaming, closed };

    static Stream make_stream(Tcp::socket socket, std::optional<ssl::context>& tls) {
        if constexpr (kSecure) {
            return Stream(std::move(socket), *tls);
        } else {
            return Stream(std::move(socket));
        }
    }

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
    std::chrono::milliseconds timeout() const { return server_->options.request_timeout; }

    void read_request() {
        if (state_ == State::closed) return;
        state_ = State::reading;
        parser_.emplace();
        parser_->header_limit(kMaxHeaderBytes);
        lowest().expires_after(timeout());
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](const boost::system::error_code& error, std::size_t) {
                self->on_header(error);
            });
    }

    void on_header(const boost::system::error_code& error) {
        if (state_ == State::closed) return;
        if (error) {
            if (error == beast::error::timeout) {
                // Nothing at all is an idle keep-alive ending; half a request is a slow client.
                if (parser_->got_some() || buffer_.size() > 0) {
                    ++server_->stats.timeouts;
                    log_debug(kInstance, "{}: request header not complete within {} ms", remote_,
                              timeout().count());
                }
                return close_now();
            }
            if (error == bhttp::error::header_limit) {
                return refuse(431, fmt::format("the request header is larger than {} bytes",
                                               kMaxHeaderBytes));
            }
            if (error == bhttp::error::end_of_stream || error == asio::error::eof ||
                error == asio::error::connection_reset || error == asio::error::operation_aborted) {
                return close_now();
            }
            return refuse(400, "malformed HTTP request");
        }
        if (server_->handler == nullptr) return close_now();
        const auto& header = parser_->get().base();
        const std::uint64_t limit = server_->handler->body_limit(header);
        const auto length = parser_->content_length();
        if (length && *length > limit) {
            return refuse(413, fmt::format("the request body is {} bytes; at most {} are accepted "
                                           "here",
                                           *length, limit));
        }
        parser_->body_limit(limit);
        const auto expect = header[bhttp::field::expect];
        if (beast::iequals(expect, "100-continue")) {
            auto go_on =
                std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
            bhttp::async_write(stream_, *go_on,
                               [self = this->shared_from_this(), go_on](
                                   const boost::system::error_code& write_error, std::size_t) {
                                   if (write_error) return self->close_now();
                                   self->read_body();
                               });
            return;
        }
        read_body();
    }

    void read_body() {
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](const boost::system::error_code& error,
                                                            std::size_t) { self->on_body(error); });
    }

    void on_body(const boost::system::error_code& error) {
        if (state_ == State::closed) return;
        if (error) {
            if (error == bhttp::error::body_limit) {
                return refuse(413, "the request body is larger than accepted here");
            }
            if (error == beast::error::timeout) {
                ++server_->stats.timeouts;
                log_debug(kInstance, "{}: request body not complete within {} ms", remote_,
                          timeout().count());
            }
            return close_now();
        }
        if (server_->handler == nullptr) return close_now();
        state_ = State::handling;
        // Nothing is pending on the socket while the handler works: this keeps the connection
        // alive until the answer (a dropped responder answers 500, so it always comes).
        awaiting_answer_ = this->shared_from_this();
        // The client waits for the answer now; its timer starts again when it is written.
        lowest().expires_never();
        Incoming incoming{parser_->release(), remote_, kSecure};
        parser_.reset();
        keep_alive_ = incoming.message.keep_alive();
        head_request_ = incoming.message.method() == bhttp::verb::head;
        std::weak_ptr<detail::Exchange> exchange = this->shared_from_this();
        server_->handler->handle(std::move(incoming),
                                 Responder(stream_.get_executor(), std::move(exchange)));
    }

    // Answers and closes: the rest of the request (if any) is never read.
    void refuse(unsigned status, std::string_view message) {
        write_response(error_response(status, message), false);
    }

    void write_response(Response response, bool keep_alive) {
        state_ = State::writing;
        response.version(11);
        response.keep_alive(keep_alive && server_->handler != nullptr);
        add_security_headers(response);
        response.prepare_payload();
        if (head_request_) {
            const auto size = response.body().size();
            response.body().clear();
            response.content_length(size);
        }
        server_->count_response(response.result_int());
        auto owned = std::make_shared<Response>(std::move(response));
        lowest().expires_after(timeout());
        bhttp::async_write(stream_, *owned,
                           [self = this->shared_from_this(), owned](
                               const boost::system::error_code& error, std::size_t) {
                               if (error) {
                                   if (error == beast::error::timeout) {
                                       ++self->server_->stats.timeouts;
                                   }
                                   return self->close_now();
                               }
                               if (owned->keep_alive()) return self->read_request();
                               self->shut_down();
                           });
    }

    void shut_down() {
        if (state_ == State::closed) return;
        if constexpr (kSecure) {
            state_ = State::writing;
            lowest().expires_after(kTlsShutdownTimeout);
            stream_.async_shutdown([self = this->shared_from_this()](
                                       const boost::system::error_code&) { self->close_now(); });
        } else {
            close_now();
        }
    }

    // --- event stream ---

    // The client sends nothing on an event stream: anything that completes this read (its
    // close, a reset, the timeout when heartbeats cannot be written) ends the stream.
    void watch_for_close() {
        stream_.async_read_some(
            watch_buffer_.prepare(512),
            [self = this->shared_from_this()](const boost::system::error_code&, std::size_t) {
                self->close_now();
            });
    }

    void schedule_heartbeat() {
        const auto interval = std::clamp<std::chrono::milliseconds>(
            timeout() / 3, std::chrono::milliseconds(100), kMaxHeartbeatInterval);
        heartbeat_.expires_after(interval);
        heartbeat_.async_wait(
            [weak = this->weak_from_this()](const boost::system::error_code& error) {
                auto self = weak.lock();
                if (error || !self || self->state_ != State::streaming) return;
                self->send(": heartbeat\n\n");
                self->schedule_heartbeat();
            });
    }

    void pump() {
        if (writing_chunk_ || !head_written_ || backlog_.empty() || state_ != State::streaming) {
            return;
        }
        writing_chunk_ = true;
        chunk_ = std::move(backlog_.front());
        backlog_.pop_front();
        lowest().expires_after(timeout());
        asio::async_write(
            stream_, bhttp::make_chunk(asio::buffer(chunk_)),
            [self = this->shared_from_this()](const boost::system::error_code& error, std::size_t) {
                self->writing_chunk_ = false;
                self->backlog_bytes_ -= self->chunk_.size();
                self->chunk_.clear();
                if (error) return self->close_now();
                self->pump();
            });
    }

    std::shared_ptr<detail::ServerState> server_;
    std::string remote_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    State state_ = State::reading;
    bool keep_alive_ = false;
    bool head_request_ = false;
    std::shared_ptr<Connection> awaiting_answer_;

    asio::steady_timer heartbeat_;
    beast::flat_buffer watch_buffer_;
    std::deque<std::string> backlog_;
    std::size_t backlog_bytes_ = 0;
    std::string chunk_;
    bool writing_chunk_ = false;
    bool head_written_ = false;
};

}  // namespace

void detail::ServerState::on_accept(Tcp::socket socket) {
    if (stats.connections_open >= options.max_connections) {
        log_debug(kInstance, "refused a connection from {}: {} open (http.max_connections)",
                  peer_address(socket), stats.connections_open);
        refuse_busy(std::move(socket));
        return;
    }
    boost::system::error_code ignored;
    socket.set_option(Tcp::no_delay(true), ignored);
    std::shared_ptr<ConnectionBase> connection;
    if (tls) {
        connection = std::make_shared<Connection<true>>(shared_from_this(), std::move(socket));
    } else {
        connection = std::make_shared<Connection<false>>(shared_from_this(), std::move(socket));
    }
    std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
    connections.insert(connection);
    connection->start();
}

Server::Server(asio::io_context& core, ServerOptions options, Handler& handler)
    : impl_(std::make_shared<detail::ServerState>(core, std::move(options), handler)) {
    impl_->load_tls();
    impl_->bind_all();
}

Server::~Server() {
    close();
}

void Server::close() {
    impl_->close();
}

std::vector<Tcp::endpoint> Server::local_endpoints() const {
    std::vector<Tcp::endpoint> endpoints;
    for (const auto& acceptor : impl_->acceptors) {
        boost::system::error_code error;
        const auto endpoint = acceptor->local_endpoint(error);
        if (!error) endpoints.push_back(endpoint);
    }
    return endpoints;
}

bool Server::secure() const {
    return impl_->tls.has_value();
}

ServerStats Server::stats() const {
    return impl_->stats;
}

}  // namespace fw::http
