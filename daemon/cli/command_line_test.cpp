// The command-line parsing every floorwatch program shares: strict numbers (std::stoul took "-1",
// "0" and "10abc" for --limit), one-line usage errors, --help answered by the subcommand asked.

#include "daemon/cli/command_line.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using fw::cli::parse_positive_count;
using fw::cli::parse_positive_number;

struct Outcome {
    std::optional<int> exit_code;
    std::string out;
    std::string err;
};

// Parses `args` (after the program name) with std::cout and std::cerr captured.
Outcome parse(CLI::App& app, const std::vector<std::string>& args) {
    std::vector<const char*> argv{app.get_name().c_str()};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    std::ostringstream out;
    std::ostringstream err;
    auto* const old_out = std::cout.rdbuf(out.rdbuf());
    auto* const old_err = std::cerr.rdbuf(err.rdbuf());
    Outcome outcome;
    outcome.exit_code =
        fw::cli::parse_command_line(app, static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
}

// A small git-style tool: `tool list [--limit N]`, `tool group run NAME [--hours H]`.
struct Tool {
    CLI::App app{"a tool", "tool"};
    CLI::App* list = nullptr;
    CLI::App* run = nullptr;
    std::size_t limit = 10;
    double hours = 0;
    std::string name;

    Tool() {
        app.require_subcommand(1);
        list = app.add_subcommand("list", "list things");
        list->add_option("--limit", limit, "at most N")->check(fw::cli::positive_count());
        CLI::App* group = app.add_subcommand("group", "grouped things");
        group->require_subcommand(1);
        run = group->add_subcommand("run", "run one");
        run->add_option("NAME", name, "which")->required();
        run->add_option("--hours", hours, "how long")->check(fw::cli::positive_number());
    }
};

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("a positive count is a whole decimal number above zero and nothing else") {
    CHECK(parse_positive_count("1") == 1u);
    CHECK(parse_positive_count("10000") == 10000u);
    CHECK(parse_positive_count("18446744073709551615") == 18446744073709551615u);
    for (const char* bad : {"-1", "0", "10abc", "", " 10", "10 ", "+10", "1e3", "0x10", "1.5",
                            "18446744073709551616"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_positive_count(bad).has_value());
    }
}

TEST_CASE("a positive number is a finite decimal number above zero and nothing else") {
    CHECK(parse_positive_number("2900") == 2900.0);
    CHECK(parse_positive_number("0.5") == 0.5);
    CHECK(parse_positive_number("1e3") == 1000.0);
    for (const char* bad : {"0", "-1", "10abc", "", "nan", "inf", "10h", " 1", "0x10"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_positive_number(bad).has_value());
    }
}

TEST_CASE("a bad number is a one-line usage error naming the option and the value") {
    for (const char* bad : {"-1", "0", "10abc"}) {
        CAPTURE(bad);
        Tool tool;
        const auto outcome = parse(tool.app, {"list", "--limit", bad});
        CHECK(outcome.exit_code == 2);
        CHECK(line_count(outcome.err) == 1);
        CHECK(outcome.err.find("--limit") != std::string::npos);
        CHECK(outcome.err.find(std::string("'") + bad + "'") != std::string::npos);
        CHECK(outcome.err.find("run 'tool list --help'") != std::string::npos);
    }
    Tool tool;
    const auto outcome = parse(tool.app, {"group", "run", "x", "--hours", "0"});
    CHECK(outcome.exit_code == 2);
    CHECK(outcome.err ==
          "tool: --hours: expected a number above 0, got '0'; run 'tool group run --help'\n");
}

TEST_CASE("a good command line is left to the program") {
    Tool tool;
    const auto outcome = parse(tool.app, {"group", "run", "list", "--hours", "2.5"});
    CHECK_FALSE(outcome.exit_code.has_value());
    CHECK(&fw::cli::selected_command(tool.app) == tool.run);
    CHECK(fw::cli::command_path(*tool.run) == "tool group run");
    CHECK(tool.name == "list");  // a word that names a command elsewhere is still a value here
    CHECK(tool.hours == 2.5);
}

TEST_CASE("unknown options, extra words, missing values: one line each, exit 2") {
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"list", "--bogus"}, "tool: unknown option '--bogus'; run 'tool list --help'\n"},
        {{"list", "extra"}, "tool: unexpected argument 'extra'; run 'tool list --help'\n"},
        {{"list", "--limit"}, "tool: option '--limit' needs a value; run 'tool list --help'\n"},
        {{"frobnicate"}, "tool: unknown command 'frobnicate'; run 'tool --help'\n"},
        {{"group", "walk"}, "tool: unknown 'group walk' (run); run 'tool group --help'\n"},
        {{"group"}, "tool: 'group' needs one of: run; run 'tool group --help'\n"},
        {{"group", "run"}, "tool: NAME is required; run 'tool group run --help'\n"},
    };
    for (const auto& [args, message] : cases) {
        CAPTURE(args.front());
        Tool tool;
        const auto outcome = parse(tool.app, args);
        CHECK(outcome.exit_code == 2);
        CHECK(outcome.err == message);
        CHECK(outcome.out.empty());
    }
}

TEST_CASE("--help is answered by the subcommand it follows, exit 0") {
    Tool tool;
    const auto outcome = parse(tool.app, {"group", "run", "--help"});
    CHECK(outcome.exit_code == 0);
    CHECK(outcome.err.empty());
    CHECK(outcome.out.find("tool group run") != std::string::npos);
    CHECK(outcome.out.find("--hours") != std::string::npos);
    CHECK(outcome.out.find("--limit") == std::string::npos);
}
