// floorwatch — the command-line tool for people on the floor and plant IT. Reads the store
// read-only (the daemon owns all writes), so it works whether or not floorwatchd is running.
// This file only builds the command tree and runs what the command line selects; each command
// lives with its kind (readings, health, alarms, orders).

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "daemon/cli/alarms.hpp"
#include "daemon/cli/command_line.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/cli/health.hpp"
#include "daemon/cli/orders.hpp"
#include "daemon/cli/readings.hpp"
#include "daemon/cli/sync.hpp"
#include "daemon/cli/users.hpp"
#include "daemon/version.hpp"

namespace {

constexpr std::string_view kFooter = R"(Run 'floorwatch COMMAND --help' for a command's options.
Where the store is: --db FILE, or --config FILE (its store.path); default
/etc/floorwatch/floorwatch.yaml if it exists, else /var/lib/floorwatch/floorwatch.db.
Commands that change something ask the running daemon over its control socket (--socket PATH, or
the config's control.socket); who may do what comes from workflow.users (your uid).
TIME is a duration ago (30s, 10m, 2h, 7d) or UTC as 2026-11-29T08:00:00Z.)";

// The whole program; main() turns an exception nobody expected into exit status 1.
int run(int argc, char** argv) {
    CLI::App root(
        "floorwatch: readings, device health, alarms and hazard work orders of a "
        "floorwatch gateway",
        "floorwatch");
    root.set_version_flag("--version", std::string(fw::kVersion));
    root.require_subcommand(1);  // inherited as "at most one" by every command below
    root.get_formatter()->column_width(26);
    root.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

    fw::cli::CommandTable commands;
    fw::cli::add_readings_commands(root, commands);
    fw::cli::add_health_commands(root, commands);
    fw::cli::add_alarms_commands(root, commands);
    fw::cli::add_orders_commands(root, commands);
    fw::cli::add_sync_commands(root, commands);
    fw::cli::add_user_commands(root, commands);
    commands.set(*root.add_subcommand("version", "print the version")->group("Other"), [] {
        std::cout << "floorwatch " << fw::kVersion << '\n';
        return 0;
    });
    commands.set(*root.add_subcommand("help", "print this list of commands")->group("Other"),
                 [&root] {
                     // root.help() would describe the selected subcommand: this one.
                     std::cout << root.get_formatter()->make_help(&root, root.get_name(),
                                                                  CLI::AppFormatMode::Normal);
                     return 0;
                 });
    root.footer(std::string(kFooter));

    if (argc < 2) {
        std::cerr << root.help();
        return fw::cli::kExitUsage;
    }
    if (const auto answered = fw::cli::parse_command_line(root, argc, argv)) return *answered;
    CLI::App& command = fw::cli::selected_command(root);
    try {
        return (*commands.find(command))();
    } catch (const fw::cli::UsageError& error) {
        return fw::cli::report_usage_error(command, error.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "floorwatch: " << error.what() << '\n';
        return 1;
    }
}
