#pragma once
// End-to-end harness shared by the integration tests: the simulator, a socat pty pair, the daemon
// and CLI runs. Include it from a test target that defines FW_SIM_BINARY and FW_DAEMON_BINARY
// (target_compile_definitions), as tests/integration/CMakeLists.txt does.

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace fw::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline fw::test::SpawnOptions logs_to(const fs::path& out, const fs::path& err) {
    fw::test::SpawnOptions options;
    options.stdout_path = out;
    options.stderr_path = err;
    return options;
}

// A serial line without hardware: socat links two ptys, the simulator opens one end and the
// daemon the other.
inline ChildProcess start_pty_pair(const TempDir& dir, const fs::path& one_end,
                                   const fs::path& other_end) {
    auto socat = ChildProcess::spawn(
        "/usr/bin/socat",
        {"pty,raw,echo=0,link=" + one_end.string(), "pty,raw,echo=0,link=" + other_end.string()},
        logs_to(dir / "socat.log", dir / "socat.log"));
    REQUIRE(fw::test::wait_for_path(one_end, 5s, &socat));
    REQUIRE(fw::test::wait_for_path(other_end, 5s, &socat));
    return socat;
}

struct Sim {
    ChildProcess process;
    std::uint16_t port = 0;
    fs::path control;
};

inline Sim start_sim(const TempDir& dir, const std::string& name, const std::string& yaml) {
    const fs::path config = dir / (name + ".yaml");
    const fs::path ready = dir / (name + ".ready");
    fs::remove(ready);
    write_text_file(config, yaml);
    Sim sim;
    sim.control = dir / (name + ".sock");
    sim.process = ChildProcess::spawn(FW_SIM_BINARY,
                                      {"--config", config.string(), "--ready-file", ready.string(),
                                       "--control", sim.control.string()},
                                      logs_to(dir / (name + ".log"), dir / (name + ".log")));
    REQUIRE_MESSAGE(fw::test::wait_for_file(ready, 10s, &sim.process),
                    "simulator did not start: " << read_text_file(dir / (name + ".log")));
    const std::string ready_text = read_text_file(ready);
    if (std::isdigit(static_cast<unsigned char>(ready_text[0]))) {
        sim.port = static_cast<std::uint16_t>(std::stoi(ready_text));
    }
    return sim;
}

// Runs `floorwatch-sim ctl` and returns its exit code.
inline int sim_control(const Sim& sim, const std::vector<std::string>& command) {
    std::vector<std::string> args{"ctl", "--control", sim.control.string()};
    args.insert(args.end(), command.begin(), command.end());
    auto ctl = ChildProcess::spawn(FW_SIM_BINARY, args);
    return ctl.wait_exit(10s).value_or(-1);
}

struct RunResult {
    int exit_code;
    std::string out;
    std::string err;
};

// Runs a command to completion, capturing its output.
inline RunResult run(const TempDir& dir, const fs::path& program,
                     const std::vector<std::string>& args) {
    static int counter = 0;  // one per test binary: file names stay unique within a TempDir
    const std::string tag = std::to_string(++counter);
    const fs::path out = dir / ("run" + tag + ".out");
    const fs::path err = dir / ("run" + tag + ".err");
    auto child = ChildProcess::spawn(program, args, logs_to(out, err));
    const int code = child.wait_exit(30s).value_or(-1);
    return {code, read_text_file(out), read_text_file(err)};
}

// Runs a command as another user (uid, gid, no supplementary groups) through setpriv, the way a
// person on the gateway runs the CLI; uid 0 runs it as the test itself.
inline RunResult run_as(const TempDir& dir, int uid, int gid, const fs::path& program,
                        const std::vector<std::string>& args) {
    if (uid == 0) return run(dir, program, args);
    std::vector<std::string> wrapped{"--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(gid), "--clear-groups",
                                     program.string()};
    wrapped.insert(wrapped.end(), args.begin(), args.end());
    return run(dir, "/usr/bin/setpriv", wrapped);
}

struct Daemon {
    ChildProcess process;
    fs::path log;
};

inline Daemon start_daemon(const TempDir& dir, const fs::path& config,
                           const std::string& log_name = "floorwatchd.log") {
    Daemon daemon;
    daemon.log = dir / log_name;
    daemon.process = ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()},
                                         logs_to(daemon.log, daemon.log));
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return read_text_file(daemon.log).find("ready") != std::string::npos ||
                                   !daemon.process.running();
                        },
                        15s),
                    "daemon did not start");
    REQUIRE_MESSAGE(daemon.process.running(), "daemon exited: " << read_text_file(daemon.log));
    return daemon;
}

// A central floorwatchd (role: central, node central-1) for the sync tests: its SQLite store and
// control socket in `dir`, `users` as the YAML lines of workflow.users ("  users:\n    - {...}"),
// `broker_keys` what goes inside sync.broker's braces before the reconnect delays ("uri: '...'",
// plus TLS keys), a 1 s ack timeout.
inline std::string central_test_config(const fs::path& dir, const std::string& broker_keys,
                                       const std::string& users,
                                       const std::string& log_level = "debug",
                                       const std::string& site = "test-plant") {
    return "role: central\n"
           "gateway: {site: " +
           site + ", node: central-1, log_level: " + log_level +
           "}\n"
           "store: {path: " +
           (dir / "central.db").string() +
           ", commit_interval: 50ms}\n"
           "control: {socket: " +
           (dir / "central.sock").string() +
           ", mode: '0666'}\n"
           "workflow:\n" +
           users +
           "sync:\n"
           "  broker: {" +
           broker_keys +
           ", reconnect_min: 100ms, reconnect_max: 500ms}\n"
           "  ack_timeout: 1s\n";
}

inline std::string daemon_config(const fs::path& db, const std::string& buses,
                                 const std::string& extra_equipment = "") {
    return "gateway: {site: test-plant, node: gw-1, log_level: debug}\n"
           "store:\n  path: " +
           db.string() +
           "\n  commit_interval: 100ms\n"
           "equipment:\n"
           "  - {id: press-1, area: stamping}\n"
           "  - {id: press-2, area: stamping}\n"
           "  - {id: press-3, area: stamping}\n" +
           extra_equipment + "modbus:\n  buses:\n" + buses;
}

inline std::string tcp_bus(const std::string& name, std::uint16_t port, const std::string& devices,
                           const std::string& options = "") {
    return "    - name: " + name + "\n      tcp: {host: 127.0.0.1, port: " + std::to_string(port) +
           "}\n" + options + "      devices:\n" + devices;
}

}  // namespace fw::test
