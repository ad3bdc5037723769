#include "tests/support/mosquitto.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace fw::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kMosquittoPub = "/usr/bin/mosquitto_pub";

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

bool accepts_connections(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    const sockaddr_in address = loopback(port);
    const bool connected =
        ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
}

}  // namespace

std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

Mosquitto::Mosquitto(const std::filesystem::path& dir, const std::string& name,
                     const std::string& listener_options)
    : dir_(dir), name_(name), port_(free_loopback_port()) {
    std::string config = "# written by tests/support/mosquitto.cpp\n";
    // As root, Mosquitto would switch to user mosquitto, who cannot read the test's private
    // folder (certificates, this config).
    if (::geteuid() == 0) config += "user root\n";
    config +=
        "persistence false\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        "log_type subscribe\n"
        "connection_messages true\n"
        "max_queued_messages 0\n"
        "per_listener_settings false\n"
        "allow_anonymous true\n"
        "listener " +
        std::to_string(port_) + " 127.0.0.1\n" + listener_options;
    write_text_file(dir_ / (name_ + ".conf"), config);
    start();
}

Mosquitto::~Mosquitto() {
    if (process_.running()) process_.stop(2s);
}

std::string Mosquitto::uri(const std::string& scheme) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
}

void Mosquitto::start() {
    SpawnOptions options;
    options.stdout_path = dir_ / (name_ + ".log");
    options.stderr_path = dir_ / (name_ + ".log");
    process_ =
        ChildProcess::spawn(kMosquitto, {"-c", (dir_ / (name_ + ".conf")).string()}, options);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_.running()) break;
        if (accepts_connections(port_)) return;
        std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ":\n" +
                             log());
}

void Mosquitto::stop() {
    if (process_.running()) process_.stop(5s);
}

bool Mosquitto::running() {
    return process_.running();
}

std::string Mosquitto::log() const {
    return read_text_file(dir_ / (name_ + ".log"));
}

int Mosquitto::publish(const std::string& topic, const std::string& payload, int qos,
                       const std::vector<std::string>& extra_args) {
    std::vector<std::string> args{"-h", "127.0.0.1", "-p", std::to_string(port_),
                                  "-t", topic,       "-q", std::to_string(qos)};
    if (payload.empty()) {
        args.push_back("-n");
    } else {
        const auto file = dir_ / (name_ + ".payload" + std::to_string(++published_));
        write_text_file(file, payload);
        args.push_back("-f");
        args.push_back(file.string());
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    SpawnOptions options;
    options.stdout_path = dir_ / (name_ + ".pub.log");
    options.stderr_path = dir_ / (name_ + ".pub.log");
    auto publisher = ChildProcess::spawn(kMosquittoPub, args, options);
    return publisher.wait_exit(10s).value_or(-1);
}

}  // namespace fw::test
