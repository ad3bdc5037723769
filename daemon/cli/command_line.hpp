#pragma once
// Command-line parsing shared by floorwatch, floorwatchd and floorwatch-sim, on CLI11: every
// command and subcommand answers its own --help (exit 0), and a wrong command line gets one line
// naming the problem and the --help to read (exit 2), never the whole usage.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fw::cli {

constexpr int kExitUsage = 2;

// Parses the command line into `root`. nullopt: the program goes on with what was selected. A
// value: the exit status once --help or --version was answered (0) or a usage error printed (2).
std::optional<int> parse_command_line(CLI::App& root, int argc, const char* const* argv);

// The subcommand the parsed command line ended in (`root` itself when none was selected).
CLI::App& selected_command(CLI::App& root);
// "floorwatch orders list": the names from the program down to `command`.
std::string command_path(const CLI::App& command);
// Prints "PROGRAM: PROBLEM; run 'COMMAND --help'" on one line to stderr; returns kExitUsage.
int report_usage_error(const CLI::App& command, std::string_view problem);

// A whole decimal number above zero and nothing else: not "-1" (std::stoul wraps it to 1.8e19),
// "0", "10abc", " 10" or "+10".
std::optional<std::size_t> parse_positive_count(std::string_view text);
// A finite decimal number above zero and nothing else ("2900", "0.5", "1e3"; not "0", "nan",
// "10h").
std::optional<double> parse_positive_number(std::string_view text);
// CLI11 checks with those parsers, for option->check(...).
CLI::Validator positive_count();
CLI::Validator positive_number();

}  // namespace fw::cli
