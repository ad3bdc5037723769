#pragma once
// The daemon's local control interface: a Unix stream socket speaking JSON, one request per line
// and one response per line. The daemon owns every write to the store; the CLI (over the socket)
// and the web page's HTTP handlers (in-process, dispatch()) ask it through this one command
// table, so an action is checked and recorded the same way whoever asks.
//
//   request:  {"command": "alarm.ack", "args": {...}}\n
//   response: {"ok": true, "result": ...}\n   or   {"ok": false, "error": "why, in words"}\n
//
// Who asks is known from the socket itself (SO_PEERCRED): the caller's uid, mapped to a user name
// by the system's user database. The socket's file mode and group decide who may connect at all.
// Handlers run on the core io_context and may answer later (after the store has made an action
// durable), through the Reply they are given.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fw::control {

struct Caller {
    uid_t uid = 0;
    pid_t pid = 0;
    std::string user;  // from getpwuid; "uid:<n>" when the uid has no entry
    // The workflow user the web page signed in (daemon/http), who acts through dispatch();
    // empty on the socket. When set, services act as this user (workflow.users[].name)
    // whatever the uid; otherwise they map the uid to a user.
    std::string authenticated_user;

    // A signed-in web user: no uid of its own (nobody), the name everywhere.
    static Caller web_user(std::string name);
};

// Answers one request exactly once: copies share the answer, and every call after the first,
// through any copy, is ignored. Safe to keep and call after the handler returned (the
// connection may be gone by then: the answer is then dropped).
class Reply {
  public:
    explicit Reply(std::function<void(boost::json::value)> send);
    void ok(boost::json::value result = nullptr);
    void error(const std::string& message);

  private:
    struct State {
        std::function<void(boost::json::value)> send;
        bool answered = false;
    };
    void answer(boost::json::value response);
    std::shared_ptr<State> state_;
};

using Handler =
    std::function<void(const Caller& caller, const boost::json::object& args, Reply reply)>;

// A request's arguments as handlers read them: a missing key, or one holding another JSON type,
// reads as absent ("", nullopt, false, no strings).
std::string text_arg(const boost::json::object& args, std::string_view key);
std::optional<std::int64_t> integer_arg(const boost::json::object& args, std::string_view key);
bool flag_arg(const boost::json::object& args, std::string_view key);
std::vector<std::string> strings_arg(const boost::json::object& args, std::string_view key);

class Server {
  public:
    // Binds `socket_path` (a stale socket file from a crashed run is replaced; any other file there
    // is an error), sets its mode (e.g. 0660) and, when `group` is not empty, its group. Throws
    // std::runtime_error naming the path on failure.
    Server(boost::asio::io_context& core, std::string socket_path, unsigned mode,
           const std::string& group);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Adds a command; a handler registered twice replaces the first.
    void handle(std::string command, Handler handler);
    // Runs a command in-process, exactly as if it had come over the socket: the web page's
    // actions take this path, so there is one command table for every way in. `reply` gets
    // the same {"ok": ..., "result"|"error": ...} object a socket client would read; an
    // unknown command or a handler that throws is answered, never lost. Core thread.
    void dispatch(const std::string& command, const Caller& caller, const boost::json::object& args,
                  Reply reply);
    // Stops accepting, closes every connection and removes the socket file.
    void close();
    const std::string& path() const { return path_; }

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::string path_;
};

class ControlError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Blocking client for the CLI. call() returns the "result" of an ok response and throws
// ControlError with the daemon's message otherwise, or a message that says how to fix the
// connection (daemon not running, permission denied) when the socket cannot be reached.
class Client {
  public:
    explicit Client(std::string socket_path,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
    boost::json::value call(const std::string& command, const boost::json::object& args);

  private:
    std::string path_;
    std::chrono::milliseconds timeout_;
};

}  // namespace fw::control
