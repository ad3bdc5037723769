// floorwatch-sim: a Modbus device simulator for tests and the demo (see README.md).
//
//   floorwatch-sim --config sim.yaml [--ready-file PATH] [--control PATH] [--log-level LEVEL]
//   floorwatch-sim ctl --control PATH <command...>
//
// Exit codes: 0 stopped by SIGTERM/SIGINT or command ok; 1 runtime error or command refused;
// 2 bad command line or config.

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "daemon/core/log.hpp"
#include "tests/sim/simulator.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage =
    "usage: floorwatch-sim --config FILE [--ready-file PATH] [--control PATH] "
    "[--log-level debug|info|warning|error]\n"
    "       floorwatch-sim ctl --control PATH <command...>\n"
    "commands: status | disconnect | fault <device> none|no_reply|delay <duration>|exception "
    "<code> | value <device> <table> <address> <number>|profile\n";

int usage_error(const std::string& message) {
    std::cerr << "floorwatch-sim: " << message << "\n" << kUsage;
    return kExitUsage;
}

int run_ctl(std::span<const std::string> args) {
    std::string control_path;
    std::string command;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--control" && i + 1 < args.size()) {
            control_path = args[++i];
        } else {
            if (!command.empty()) command += ' ';
            command += args[i];
        }
    }
    if (control_path.empty()) return usage_error("ctl needs --control PATH");
    if (command.empty()) return usage_error("ctl needs a command");
    return fw::sim::send_control_command(control_path, command, std::cout) ? kExitOk
                                                                           : kExitRuntimeError;
}

int run_server(std::span<const std::string> args) {
    std::string config_path;
    fw::sim::SimulatorOptions options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& flag = args[i];
        if (flag == "--help" || flag == "-h") {
            std::cout << kUsage;
            return kExitOk;
        }
        if (i + 1 >= args.size()) return usage_error("missing value after " + flag);
        const auto& value = args[++i];
        if (flag == "--config") {
            config_path = value;
        } else if (flag == "--ready-file") {
            options.ready_file = value;
        } else if (flag == "--control") {
            options.control_path = value;
        } else if (flag == "--log-level") {
            const auto level = fw::log_level_from_name(value);
            if (!level) return usage_error("unknown log level '" + value + "'");
            fw::set_log_level(*level);
        } else {
            return usage_error("unknown option '" + flag + "'");
        }
    }
    if (config_path.empty()) return usage_error("--config FILE is required");

    fw::sim::SimConfig config;
    try {
        config = fw::sim::load_sim_config(config_path);
    } catch (const fw::sim::SimConfigError& error) {
        std::cerr << error.what();
        return kExitUsage;
    }

    // Blocked before anything else so the simulator's signalfd sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        fw::sim::Simulator simulator(std::move(config), options);
        return simulator.run();
    } catch (const std::exception& error) {
        fw::log_error("sim", "{}", error.what());
        return kExitRuntimeError;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "ctl") return run_ctl(std::span(args).subspan(1));
    return run_server(args);
}
