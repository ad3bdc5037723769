#pragma once
// What the web page's integration tests share on top of daemon_harness.hpp: the port the daemon's
// HTTP server took (it listens on port 0) and passwords set the way plant IT sets them. Include it
// from a test target that defines FW_CLI_BINARY, as tests/integration/CMakeLists.txt does.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <string>

#include "tests/support/process.hpp"

namespace fw::test {

// The port from the daemon's "web page at http://127.0.0.1:PORT/" line (https with TLS): the last
// one, since a restarted daemon appends to its log and listens on a new port.
inline std::uint16_t web_port(const std::filesystem::path& log,
                              const std::string& scheme = "http") {
    using namespace std::chrono_literals;
    std::uint16_t port = 0;
    const std::regex line("web page at " + scheme + R"(://127\.0\.0\.1:(\d+)/)");
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const std::string text = read_text_file(log);
                            std::sregex_iterator last;
                            for (std::sregex_iterator it(text.begin(), text.end(), line);
                                 it != std::sregex_iterator(); ++it) {
                                last = it;
                            }
                            if (last == std::sregex_iterator()) return false;
                            port = static_cast<std::uint16_t>(std::stoi((*last)[1].str()));
                            return true;
                        },
                        10s),
                    read_text_file(log));
    return port;
}

// `floorwatch user passwd NAME --stdin --config CONFIG` with the password on its stdin.
inline void set_password(const TempDir& dir, const std::filesystem::path& config,
                         const std::string& user, const std::string& password) {
    using namespace std::chrono_literals;
    const std::filesystem::path input = dir / ("password-" + user);
    write_text_file(input, password + "\n");
    const std::filesystem::path out = dir / ("passwd-" + user + ".out");
    const std::string command = std::string(FW_CLI_BINARY) + " user passwd " + user +
                                " --stdin --config " + config.string() + " < " + input.string() +
                                " > " + out.string() + " 2>&1";
    auto shell = ChildProcess::spawn("/bin/sh", {"-c", command});
    REQUIRE_MESSAGE(shell.wait_exit(30s).value_or(-1) == 0, read_text_file(out));
}

}  // namespace fw::test
