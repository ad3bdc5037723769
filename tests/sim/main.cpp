// floorwatch-sim: a Modbus device simulator for tests and the demo (see README.md).
//
//   floorwatch-sim --config sim.yaml [--ready-file PATH] [--control PATH] [--log-level LEVEL]
//   floorwatch-sim ctl --control PATH <command...>
//
// Exit codes: 0 stopped by SIGTERM/SIGINT or command ok; 1 runtime error or command refused;
// 2 bad command line or config.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli/command_line.hpp"
#include "daemon/core/log.hpp"
#include "tests/sim/simulator.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;

constexpr std::string_view kCommands =
    "COMMAND: status | disconnect\n"
    "  | fault <device> none|no_reply|delay <duration>|exception <code>\n"
    "  | value <device> <table> <address> <number>|profile";

CLI::Validator log_level_name() {
    return CLI::Validator(
        [](const std::string& name) {
            return fw::log_level_from_name(name)
                       ? std::string()
                       : "expected debug, info, warning or error, got '" + name + "'";
        },
        "");
}

int run_ctl(const std::string& control_path, const std::vector<std::string>& words) {
    std::string command;
    for (const auto& word : words) command += (command.empty() ? "" : " ") + word;
    return fw::sim::send_control_command(control_path, command, std::cout) ? kExitOk
                                                                           : kExitRuntimeError;
}

int run_server(const std::string& config_path, const fw::sim::SimulatorOptions& options) {
    fw::sim::SimConfig config;
    try {
        config = fw::sim::load_sim_config(config_path);
    } catch (const fw::sim::SimConfigError& error) {
        std::cerr << error.what();
        return fw::cli::kExitUsage;
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

// The whole program; main() turns an exception nobody expected into exit status 1.
int run(int argc, char** argv) {
    CLI::App command_line("floorwatch-sim: a Modbus device simulator for tests and the demo",
                          "floorwatch-sim");
    command_line.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    command_line.require_subcommand(0, 1);
    command_line.get_formatter()->column_width(24);
    std::string config_path;
    fw::sim::SimulatorOptions options;
    std::string log_level;
    command_line.add_option("--config", config_path, "the simulator config (required)")
        ->type_name("FILE");
    command_line
        .add_option("--ready-file", options.ready_file,
                    "once serving, write the TCP port (or the RTU device) here")
        ->type_name("PATH");
    command_line
        .add_option("--control", options.control_path,
                    "serve run-time commands (floorwatch-sim ctl) on this Unix socket")
        ->type_name("PATH");
    command_line.add_option("--log-level", log_level, "debug, info (default), warning or error")
        ->type_name("LEVEL")
        ->check(log_level_name());
    command_line.footer(
        "Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime error, 2 bad command line or config.");

    CLI::App& ctl = *command_line.add_subcommand("ctl", "send one command to a running simulator");
    std::string control_path;
    std::vector<std::string> words;
    ctl.add_option("--control", control_path, "the simulator's control socket")
        ->type_name("PATH")
        ->required();
    ctl.add_option("COMMAND", words, "the command, in words (below)")->type_name("")->required();
    ctl.footer(
        std::string(kCommands) +
        "\nExit codes: 0 command ok, 1 command refused or no simulator, 2 bad command line.");

    if (const auto answered = fw::cli::parse_command_line(command_line, argc, argv)) {
        return *answered;
    }
    if (ctl.parsed()) return run_ctl(control_path, words);
    if (config_path.empty())
        return fw::cli::report_usage_error(command_line, "--config FILE is required");
    if (!log_level.empty()) fw::set_log_level(*fw::log_level_from_name(log_level));
    return run_server(config_path, options);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "floorwatch-sim: " << error.what() << '\n';
        return 1;
    }
}
