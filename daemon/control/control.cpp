#include "daemon/control/control.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <set>

#include "daemon/core/log.hpp"

namespace fw::control {
namespace {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

constexpr std::string_view kInstance = "control";
// A request is a command and a few fields; anything larger is a confused or hostile client.
constexpr std::size_t kMaxRequestBytes = std::size_t{1024} * 1024;

Caller identify(Socket& socket) {
    Caller caller;
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0) {
        caller.uid = credentials.uid;
        caller.pid = credentials.pid;
    }
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (::getpwuid_r(caller.uid, &entry, buffer.data(), buffer.size(), &found) == 0 &&
        found != nullptr) {
        caller.user = found->pw_name;
    } else {
        caller.user = fmt::format("uid:{}", caller.uid);
    }
    return caller;
}

boost::json::value error_response(const std::string& message) {
    return boost::json::object{{"ok", false}, {"error", message}};
}

}  // namespace

std::string text_arg(const boost::json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    if (value == nullptr || !value->is_string()) return {};
    return std::string(value->get_string());
}

std::optional<std::int64_t> integer_arg(const boost::json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    if (value == nullptr) return std::nullopt;
    if (value->is_int64()) return value->get_int64();
    if (value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
    return std::nullopt;
}

bool flag_arg(const boost::json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    return value != nullptr && value->is_bool() && value->get_bool();
}

std::vector<std::string> strings_arg(const boost::json::object& args, std::string_view key) {
    std::vector<std::string> values;
    const auto* value = args.if_contains(key);
    if (value == nullptr || !value->is_array()) return values;
    for (const auto& item : value->get_array()) {
        if (item.is_string()) values.emplace_back(item.get_string());
    }
    return values;
}

Caller Caller::web_user(std::string name) {
    Caller caller;
    caller.uid = static_cast<uid_t>(-1);
    caller.user = name;
    caller.authenticated_user = std::move(name);
    return caller;
}

Reply::Reply(std::function<void(boost::json::value)> send)
    : state_(std::make_shared<State>(State{std::move(send), false})) {}

void Reply::answer(boost::json::value response) {
    if (state_->answered) return;
    state_->answered = true;
    state_->send(std::move(response));
}

void Reply::ok(boost::json::value result) {
    answer(boost::json::object{{"ok", true}, {"result", std::move(result)}});
}

void Reply::error(const std::string& message) {
    answer(error_response(message));
}

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    struct Connection : std::enable_shared_from_this<Connection> {
        Connection(std::shared_ptr<Impl> owner, Socket connected)
            : server(std::move(owner)), socket(std::move(connected)), caller(identify(socket)) {}

        void read_next() {
            asio::async_read_until(
                socket, buffer, '\n',
                [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                    self->on_line(error);
                });
        }

        void on_line(const boost::system::error_code& error) {
            if (error) {
                if (error == asio::error::not_found) {
                    send(error_response("request too long"));
                }
                return;  // closed or failed: the connection ends with the last shared_ptr
            }
            std::istream stream(&buffer);
            std::string line;
            std::getline(stream, line);
            dispatch(line);
        }

        void dispatch(const std::string& line) {
            boost::system::error_code parse_error;
            const boost::json::value request = boost::json::parse(line, parse_error);
            if (parse_error || !request.is_object()) {
                send(error_response("request is not a JSON object"));
                return;
            }
            const auto& object = request.as_object();
            const auto* command = object.if_contains("command");
            if (command == nullptr || !command->is_string()) {
                send(error_response("request has no \"command\" string"));
                return;
            }
            const std::string name(command->as_string());
            static const boost::json::object kNoArgs;
            const auto* args = object.if_contains("args");
            if (args != nullptr && !args->is_object()) {
                send(error_response("\"args\" must be a JSON object"));
                return;
            }
            // The reply may come later, from another handler; it holds the connection alive.
            std::weak_ptr<Connection> weak = shared_from_this();
            Reply reply([weak](const boost::json::value& response) {
                if (auto self = weak.lock()) self->send(response);
            });
            // Set before the handler runs: a handler that answers at once clears it in send().
            pending = shared_from_this();
            server->run(name, caller, args != nullptr ? args->as_object() : kNoArgs,
                        std::move(reply));
        }

        void send(const boost::json::value& response) {
            auto text = std::make_shared<std::string>(boost::json::serialize(response) + "\n");
            auto self = shared_from_this();
            pending.reset();
            asio::async_write(socket, asio::buffer(*text),
                              [self, text](const boost::system::error_code& error, std::size_t) {
                                  if (!error) self->read_next();
                              });
        }

        std::shared_ptr<Impl> server;
        Socket socket;
        Caller caller;
        asio::streambuf buffer{kMaxRequestBytes};
        // Keeps the connection alive while a handler has not answered yet.
        std::shared_ptr<Connection> pending;
    };

    Impl(asio::io_context& core, const std::string& path) : acceptor(core), socket_path(path) {}

    void run(const std::string& name, const Caller& caller, const boost::json::object& args,
             Reply reply) {
        const auto handler = handlers.find(name);
        if (handler == handlers.end()) {
            return reply.error(fmt::format("unknown command '{}'", name));
        }
        if (caller.authenticated_user.empty()) {
            log_debug(kInstance, "{} (uid {}) asks {}", caller.user, caller.uid, name);
        } else {
            log_debug(kInstance, "{} (web) asks {}", caller.authenticated_user, name);
        }
        try {
            handler->second(caller, args, reply);
        } catch (const std::exception& error) {
            // A handler that throws has not answered (if it has, this is ignored): say what went
            // wrong instead of leaving the caller waiting.
            reply.error(fmt::format("internal error in {}: {}", name, error.what()));
        }
    }

    void accept_next() {
        acceptor.async_accept(
            [self = shared_from_this()](const boost::system::error_code& error, Socket socket) {
                if (error) {
                    if (error != asio::error::operation_aborted) {
                        log_warning(kInstance, "accept failed: {}", error.message());
                        self->accept_next();
                    }
                    return;
                }
                auto connection = std::make_shared<Connection>(self, std::move(socket));
                std::erase_if(self->connections, [](const auto& weak) { return weak.expired(); });
                self->connections.insert(connection);
                connection->read_next();
                self->accept_next();
            });
    }

    asio::local::stream_protocol::acceptor acceptor;
    std::string socket_path;
    std::map<std::string, Handler> handlers;
    // Weak: a connection lives as long as its pending I/O; these let close() end them.
    std::set<std::weak_ptr<Connection>, std::owner_less<std::weak_ptr<Connection>>> connections;
};

Server::Server(asio::io_context& core, std::string socket_path, unsigned mode,
               const std::string& group)
    : impl_(std::make_shared<Impl>(core, socket_path)), path_(std::move(socket_path)) {
    namespace fs = std::filesystem;
    std::error_code ignored;
    if (fs::is_socket(path_, ignored)) {
        // A socket file left by a crash; nobody can be listening on it if bind below succeeds.
        fs::remove(path_, ignored);
    } else if (fs::exists(path_, ignored)) {
        throw std::runtime_error(fmt::format(
            "control socket {}: a file that is not a socket is in the way; move it", path_));
    }
    boost::system::error_code error;
    impl_->acceptor.open(asio::local::stream_protocol(), error);
    if (!error) impl_->acceptor.bind(asio::local::stream_protocol::endpoint(path_), error);
    if (!error) impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        throw std::runtime_error(
            fmt::format("control socket {}: {} (does its directory exist and is it writable?)",
                        path_, error.message()));
    }
    if (::chmod(path_.c_str(), static_cast<mode_t>(mode)) != 0) {
        throw std::runtime_error(
            fmt::format("control socket {}: chmod failed: {}", path_, std::strerror(errno)));
    }
    if (!group.empty()) {
        struct group entry {};
        struct group* found = nullptr;
        std::array<char, 4096> buffer{};
        if (::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
            found == nullptr) {
            throw std::runtime_error(
                fmt::format("control socket {}: group '{}' does not exist (create it or change "
                            "control.group)",
                            path_, group));
        }
        if (::chown(path_.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
            throw std::runtime_error(
                fmt::format("control socket {}: chown to group '{}' failed: {}", path_, group,
                            std::strerror(errno)));
        }
    }
    impl_->accept_next();
}

Server::~Server() {
    close();
}

void Server::handle(std::string command, Handler handler) {
    impl_->handlers[std::move(command)] = std::move(handler);
}

void Server::dispatch(const std::string& command, const Caller& caller,
                      const boost::json::object& args, Reply reply) {
    impl_->run(command, caller, args, std::move(reply));
}

void Server::close() {
    if (!impl_->acceptor.is_open()) return;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (const auto& weak : impl_->connections) {
        if (auto connection = weak.lock()) {
            connection->socket.close(ignored);
            connection->pending.reset();  // a reply that comes later finds the connection gone
        }
    }
    impl_->connections.clear();
    std::error_code removed;
    std::filesystem::remove(path_, removed);
}

}  // namespace fw::control

namespace fw::control {

Client::Client(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

boost::json::value Client::call(const std::string& command, const boost::json::object& args) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw ControlError(fmt::format("cannot create a socket: {}", std::strerror(errno)));
    const auto close_fd = [fd] { ::close(fd); };
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path) {
        close_fd();
        throw ControlError(fmt::format("control socket path too long: {}", path_));
    }
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        close_fd();
        if (error == ENOENT || error == ECONNREFUSED) {
            throw ControlError(fmt::format(
                "floorwatchd is not running, or not listening on {} ({}); start it with "
                "'systemctl start floorwatch' or check control.socket in the config",
                path_, std::strerror(error)));
        }
        if (error == EACCES) {
            throw ControlError(fmt::format(
                "permission denied on {}: ask plant IT to add your user to the socket's group",
                path_));
        }
        throw ControlError(fmt::format("cannot connect to {}: {}", path_, std::strerror(error)));
    }
    timeval limit{};
    limit.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    limit.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);

    const std::string request =
        boost::json::serialize(boost::json::object{{"command", command}, {"args", args}}) + "\n";
    std::string_view rest = request;
    while (!rest.empty()) {
        const ssize_t sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (sent <= 0) {
            close_fd();
            throw ControlError(
                fmt::format("sending to floorwatchd failed: {}", std::strerror(errno)));
        }
        rest.remove_prefix(static_cast<std::size_t>(sent));
    }
    std::string response;
    std::array<char, 4096> chunk{};
    while (response.find('\n') == std::string::npos) {
        const ssize_t received = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (received <= 0) {
            const int error = errno;
            close_fd();
            throw ControlError(
                received == 0
                    ? std::string("floorwatchd closed the connection without an answer")
                    : fmt::format("no answer from floorwatchd: {}", std::strerror(error)));
        }
        response.append(chunk.data(), static_cast<std::size_t>(received));
    }
    close_fd();
    boost::system::error_code parse_error;
    const auto parsed = boost::json::parse(response.substr(0, response.find('\n')), parse_error);
    if (parse_error || !parsed.is_object()) {
        throw ControlError("floorwatchd answered something that is not JSON");
    }
    const auto& object = parsed.as_object();
    const auto* ok = object.if_contains("ok");
    if (ok != nullptr && ok->is_bool() && ok->as_bool()) {
        const auto* result = object.if_contains("result");
        return result != nullptr ? *result : boost::json::value(nullptr);
    }
    const auto* message = object.if_contains("error");
    throw ControlError(message != nullptr && message->is_string()
                           ? std::string(message->as_string())
                           : std::string("floorwatchd refused the request"));
}

}  // namespace fw::control
