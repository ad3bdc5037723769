// The control interface over a real Unix socket: requests, deferred replies, refusals, who asks.

#include "daemon/control/control.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <cstring>
#include <future>
#include <thread>

#include "tests/support/process.hpp"

using namespace std::chrono_literals;

namespace {

// An io_context running on its own thread, like the daemon's core loop.
struct Core {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    // Returns once every handler has run: the server's aborted accept and reads included, so
    // nothing is left that still refers to a socket of the io_context.
    ~Core() {
        work.reset();
        thread.join();
    }
};

std::string raw_exchange(const std::string& path, const std::string& request) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    std::string response;
    char chunk[512];
    while (response.find('\n') == std::string::npos) {
        const ssize_t received = ::recv(fd, chunk, sizeof chunk, 0);
        if (received <= 0) break;
        response.append(chunk, static_cast<std::size_t>(received));
    }
    ::close(fd);
    return response;
}

// The message of what `action` throws, or "" when it does not throw.
template <typename Action>
std::string error_of(Action&& action) {
    try {
        action();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("control commands are answered, now or later, and know who asked") {
    fw::test::TempDir dir("fw-control");
    const std::string path = (dir / "control.sock").string();
    auto core = std::make_unique<Core>();
    auto server = std::make_unique<fw::control::Server>(core->io, path, 0660, "");

    server->handle("whoami", [](const fw::control::Caller& caller, const boost::json::object&,
                                fw::control::Reply reply) {
        reply.ok(boost::json::object{{"uid", caller.uid}, {"user", caller.user}});
    });
    server->handle("add", [](const fw::control::Caller&, const boost::json::object& args,
                             fw::control::Reply reply) {
        if (!args.contains("a") || !args.contains("b")) {
            reply.error("add needs a and b");
            return;
        }
        reply.ok(args.at("a").as_int64() + args.at("b").as_int64());
    });
    // Answers after a timer, as a write acknowledged only once it is durable will.
    std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
    server->handle("later", [&](const fw::control::Caller&, const boost::json::object&,
                                fw::control::Reply reply) {
        auto& timer =
            timers.emplace_back(std::make_unique<boost::asio::steady_timer>(core->io, 200ms));
        timer->async_wait([reply](const boost::system::error_code&) mutable {
            reply.ok("done");
            reply.ok("twice");  // ignored: one answer per request
        });
    });
    server->handle("throws", [](const fw::control::Caller&, const boost::json::object&,
                                const fw::control::Reply&) { throw std::runtime_error("boom"); });

    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK(S_ISSOCK(info.st_mode));
    CHECK((info.st_mode & 0777) == 0660);

    fw::control::Client client(path, 5s);
    const auto me = client.call("whoami", {});
    CHECK(me.at("uid").as_int64() == static_cast<std::int64_t>(::getuid()));
    CHECK(!me.at("user").as_string().empty());
    CHECK(client.call("add", {{"a", 2}, {"b", 40}}).as_int64() == 42);
    CHECK(client.call("later", {}).as_string() == "done");

    CHECK_THROWS_WITH_AS(client.call("add", {{"a", 1}}), "add needs a and b",
                         fw::control::ControlError);
    CHECK_THROWS_WITH_AS(client.call("fly", {}), "unknown command 'fly'",
                         fw::control::ControlError);
    CHECK_THROWS_WITH_AS(client.call("throws", {}), "internal error in throws: boom",
                         fw::control::ControlError);

    // Garbage on the wire gets an error line, and the connection keeps serving.
    CHECK(raw_exchange(path, "not json\n").find("\"ok\":false") != std::string::npos);
    CHECK(raw_exchange(path, "{\"args\":{}}\n").find("no \\\"command\\\"") != std::string::npos);
    CHECK(raw_exchange(path, "{\"command\":\"add\",\"args\":{\"a\":1,\"b\":1}}\n")
              .find("\"result\":2") != std::string::npos);

    // close() removes the socket; the client then says the daemon is not running.
    std::promise<void> closed;
    boost::asio::post(core->io, [&] {
        server->close();
        closed.set_value();
    });
    closed.get_future().wait();
    timers.clear();
    server.reset();
    core.reset();  // after this the timers' io_context is gone: drop them first

    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(contains(error_of([&] { client.call("whoami", {}); }), "floorwatchd is not running"));
}

TEST_CASE("a stale socket from a crash is replaced; any other file in the way is refused") {
    fw::test::TempDir dir("fw-control");
    const std::string path = (dir / "control.sock").string();
    {
        boost::asio::io_context io;
        fw::control::Server first(io, path, 0600, "");
        // Simulate a crash: the file stays behind because close() never runs.
        ::link(path.c_str(), (dir / "kept.sock").c_str());
    }
    std::filesystem::rename(dir / "kept.sock", path);
    REQUIRE(std::filesystem::is_socket(path));
    boost::asio::io_context io;
    CHECK_NOTHROW(fw::control::Server(io, path, 0600, ""));

    const std::string in_the_way = (dir / "file.sock").string();
    fw::test::write_text_file(in_the_way, "important");
    CHECK(
        contains(error_of([&] { fw::control::Server(io, in_the_way, 0600, ""); }), "not a socket"));
    CHECK(fw::test::read_text_file(in_the_way) == "important");
    CHECK(contains(error_of([&] {
                       fw::control::Server(io, (dir / "x.sock").string(), 0600, "no-such-group");
                   }),
                   "group 'no-such-group' does not exist"));
}

TEST_CASE("dispatch runs the same command table in-process, with the web user as caller") {
    fw::test::TempDir dir("fw-control");
    boost::asio::io_context io;
    fw::control::Server server(io, (dir / "control.sock").string(), 0600, "");
    server.handle("whoami", [](const fw::control::Caller& caller, const boost::json::object& args,
                               fw::control::Reply reply) {
        reply.ok(boost::json::object{{"user", caller.user},
                                     {"authenticated", caller.authenticated_user},
                                     {"echo", args.contains("x") ? args.at("x") : nullptr}});
    });
    server.handle("throws", [](const fw::control::Caller&, const boost::json::object&,
                               fw::control::Reply reply) {
        reply.ok("first");
        throw std::runtime_error("after answering");
    });
    std::vector<boost::json::value> answers;
    const auto collect = [&answers] {
        return fw::control::Reply(
            [&answers](boost::json::value response) { answers.push_back(std::move(response)); });
    };
    const auto caller = fw::control::Caller::web_user("safety1");
    CHECK(caller.uid == static_cast<uid_t>(-1));
    server.dispatch("whoami", caller, {{"x", 7}}, collect());
    server.dispatch("fly", caller, {}, collect());
    server.dispatch("throws", caller, {}, collect());
    REQUIRE(answers.size() == 3);
    CHECK(answers[0] ==
          boost::json::parse(R"({"ok":true,"result":{"user":"safety1","authenticated":"safety1",)"
                             R"("echo":7}})"));
    CHECK(answers[1] == boost::json::parse(R"({"ok":false,"error":"unknown command 'fly'"})"));
    // A handler that throws after answering is not answered twice.
    CHECK(answers[2] == boost::json::parse(R"({"ok":true,"result":"first"})"));
}
