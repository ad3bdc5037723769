// The command lines of floorwatch, floorwatchd and floorwatch-sim, run as people run them: every
// command and subcommand answers --help (exit 0) with its options; unknown options, bad numbers
// and missing values exit 2 with one line naming the problem and the --help to read. No daemon is
// started: a usage error is found before anything is opened.

#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using fw::test::run;
using fw::test::RunResult;
using fw::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string joined(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
    return text;
}

// The names listed under "Subcommands:" or a command group of a --help text: two blanks, a name,
// blanks, a description (options start with '-', positionals are upper case).
std::vector<std::string> subcommands_in(const std::string& help) {
    std::vector<std::string> names;
    std::istringstream lines(help);
    std::string line;
    bool in_commands = false;
    const std::regex entry("  ([a-z][a-z-]*) +\\S.*");
    while (std::getline(lines, line)) {
        if (line.empty()) {
            in_commands = false;
            continue;
        }
        if (!line.starts_with(' ')) {
            in_commands = line.ends_with(':') && line != "Options:" && line != "Positionals:" &&
                          !line.starts_with("Where ");
            continue;
        }
        std::smatch match;
        if (in_commands && std::regex_match(line, match, entry)) names.push_back(match[1]);
    }
    return names;
}

// A usage error: exit 2, nothing on stdout, one line on stderr that names `problem` and says
// which --help to read.
void check_usage_error(const RunResult& result, const std::string& problem,
                       const std::string& command) {
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK_MESSAGE(line_count(result.err) == 1, result.err);
    CHECK_MESSAGE(contains(result.err, problem), result.err);
    CHECK_MESSAGE(contains(result.err, "run '" + command + " --help'"), result.err);
}

struct HelpCase {
    std::vector<std::string> command;  // after the program name
    std::vector<std::string> lists;    // what its --help must show
};

const std::vector<std::string> kWhere = {"--db FILE", "--config FILE", "--socket PATH", "--json"};

const HelpCase kCliHelp[] = {
    {{},
     {"samples", "channels", "events", "devices", "mqtt", "alarms", "alarm", "orders", "report",
      "verify", "kpi", "incidents", "sync", "user", "version", "help"}},
    {{"samples"}, {"--channel NAME", "--since TIME", "--until TIME", "--limit N"}},
    {{"channels"}, {}},
    {{"events"}, {"--since TIME", "--until TIME", "--name NAME", "--limit N"}},
    {{"devices"}, {}},
    {{"mqtt"}, {}},
    {{"alarms"}, {"--all", "history"}},
    {{"alarms", "history"},
     {"--since TIME", "--until TIME", "--rule ID", "--equipment ID", "--limit N"}},
    {{"alarm"}, {"ack", "shelve", "unshelve", "disable", "enable"}},
    {{"alarm", "ack"}, {"RULE", "EQUIPMENT", "--reason TEXT"}},
    {{"alarm", "shelve"}, {"RULE", "EQUIPMENT", "--for DURATION", "--reason TEXT"}},
    {{"alarm", "unshelve"}, {"RULE", "EQUIPMENT", "--reason TEXT"}},
    {{"alarm", "disable"}, {"RULE", "EQUIPMENT", "--reason TEXT"}},
    {{"alarm", "enable"}, {"RULE", "EQUIPMENT", "--reason TEXT"}},
    {{"orders"},
     {"--state STATE", "--equipment ID", "--assignee USER", "--overdue", "--all", "list", "show",
      "act", "attachment"}},
    {{"orders", "list"},
     {"--state STATE", "--equipment ID", "--assignee USER", "--overdue", "--all"}},
    {{"orders", "show"}, {"N"}},
    {{"orders", "act"},
     {"N", "ACTION", "--reason TEXT", "--kind KIND", "--assignee USER", "--deadline TIME",
      "--note TEXT", "--photo FILE[,FILE]"}},
    {{"orders", "attachment"}, {"SHA256", "--out FILE"}},
    {{"report"},
     {"--type TYPE", "--equipment ID", "--area AREA", "--description TEXT", "--risk RISK",
      "--title TEXT", "--measures TEXT", "--photo FILE[,FILE]", "--anonymous", "weekly"}},
    {{"report", "weekly"}, {"--until TIME"}},
    {{"verify"}, {}},
    {{"sync"}, {"reseed"}},
    {{"sync", "reseed"}, {}},
    {{"kpi"}, {"--since TIME", "--until TIME", "--area AREA"}},
    {{"incidents"}, {"list", "record", "hours"}},
    {{"incidents", "list"}, {}},
    {{"incidents", "record"}, {"--description TEXT", "--at TIME", "--area AREA"}},
    {{"incidents", "hours"}, {"--since TIME", "--until TIME", "--hours N", "--area AREA"}},
    {{"user"}, {"passwd", "sessions", "revoke"}},
    {{"user", "passwd"}, {"NAME", "--stdin"}},
    {{"user", "sessions"}, {}},
    {{"user", "revoke"}, {"NAME"}},
};

}  // namespace

TEST_CASE("every floorwatch command and subcommand answers --help with its options, exit 0") {
    TempDir dir("fw-cli-help");
    for (const auto& [command, lists] : kCliHelp) {
        CAPTURE(joined(command));
        auto args = command;
        args.push_back("--help");
        const RunResult help = run(dir, FW_CLI_BINARY, args);
        CHECK(help.exit_code == 0);
        CHECK(help.err.empty());
        CHECK(contains(help.out, "Usage: " + joined({"floorwatch", joined(command)})));
        for (const auto& item : lists) CHECK_MESSAGE(contains(help.out, item), item);
        // Commands that run (not those that only group others) say where the store is.
        if (!command.empty() && command != std::vector<std::string>{"alarm"} &&
            command != std::vector<std::string>{"user"}) {
            for (const auto& item : kWhere) CHECK_MESSAGE(contains(help.out, item), item);
        }
        args.back() = "-h";
        CHECK(run(dir, FW_CLI_BINARY, args).out == help.out);
    }
}

TEST_CASE("the help texts list no subcommand that the test above does not check") {
    TempDir dir("fw-cli-tree");
    std::set<std::vector<std::string>> checked;
    for (const auto& help_case : kCliHelp) checked.insert(help_case.command);
    std::vector<std::vector<std::string>> pending{{}};
    std::size_t visited = 0;
    while (!pending.empty()) {
        const auto command = pending.back();
        pending.pop_back();
        auto args = command;
        args.push_back("--help");
        const RunResult help = run(dir, FW_CLI_BINARY, args);
        REQUIRE(help.exit_code == 0);
        ++visited;
        for (const auto& name : subcommands_in(help.out)) {
            auto sub = command;
            sub.push_back(name);
            if (sub == std::vector<std::string>{"help"} ||
                sub == std::vector<std::string>{"version"}) {
                continue;  // they take no options
            }
            CHECK_MESSAGE(checked.contains(sub), joined(sub));
            pending.push_back(sub);
        }
    }
    CHECK(visited == std::size(kCliHelp));
}

TEST_CASE("floorwatch without arguments prints the command list; help and version answer") {
    TempDir dir("fw-cli-bare");
    const RunResult bare = run(dir, FW_CLI_BINARY, {});
    CHECK(bare.exit_code == 2);
    for (const char* command : {"samples", "alarms", "orders", "kpi", "incidents"}) {
        CHECK(contains(bare.err, command));
    }
    const RunResult help = run(dir, FW_CLI_BINARY, {"help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out == run(dir, FW_CLI_BINARY, {"--help"}).out);
    CHECK(help.out == bare.err);
    const RunResult version = run(dir, FW_CLI_BINARY, {"version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.starts_with("floorwatch "));
    CHECK(run(dir, FW_CLI_BINARY, {"--version"}).out == version.out);
}

TEST_CASE("floorwatch: unknown options, unknown subcommands and missing values are one line") {
    TempDir dir("fw-cli-usage");
    const std::pair<std::vector<std::string>, std::vector<std::string>> cases[] = {
        {{"samples", "--channel", "p1", "--bogus"},
         {"unknown option '--bogus'", "floorwatch samples"}},
        {{"orders", "list", "--bogus"}, {"unknown option '--bogus'", "floorwatch orders list"}},
        {{"alarm", "shelve", "r", "e", "--bogus"},
         {"unknown option '--bogus'", "floorwatch alarm shelve"}},
        {{"kpi", "--bogus", "1"}, {"unknown option '--bogus'", "floorwatch kpi"}},
        {{"incidents", "hours", "--bogus"},
         {"unknown option '--bogus'", "floorwatch incidents hours"}},
        {{"report", "weekly", "--type", "x"},
         {"unknown option '--type'", "floorwatch report weekly"}},
        {{"frobnicate"}, {"unknown command 'frobnicate'", "floorwatch"}},
        {{"orders", "frobnicate"}, {"unknown 'orders frobnicate'", "floorwatch orders"}},
        {{"alarm", "frobnicate", "r", "e"}, {"unknown 'alarm frobnicate'", "floorwatch alarm"}},
        {{"alarm"}, {"'alarm' needs one of: ack, shelve", "floorwatch alarm"}},
        {{"alarm", "ack", "r"}, {"EQUIPMENT is required", "floorwatch alarm ack"}},
        {{"orders", "show"}, {"N is required", "floorwatch orders show"}},
        {{"verify", "extra"}, {"unexpected argument 'extra'", "floorwatch verify"}},
        {{"samples", "--channel"}, {"option '--channel' needs a value", "floorwatch samples"}},
        {{"samples"}, {"samples needs --channel NAME", "floorwatch samples"}},
        {{"alarm", "shelve", "r", "e", "--reason", "x"},
         {"alarm shelve needs --for DURATION", "floorwatch alarm shelve"}},
        {{"events", "--since", "yesterday"}, {"'yesterday' is neither", "floorwatch events"}},
    };
    for (const auto& [args, expected] : cases) {
        CAPTURE(joined(args));
        check_usage_error(run(dir, FW_CLI_BINARY, args), expected[0], expected[1]);
    }
}

// std::stoul took "-1" (wrapped to 18446744073709551615), "0" and "10abc" for a positive number.
TEST_CASE("floorwatch: a positive number is refused unless it is one, before the store is read") {
    TempDir dir("fw-cli-numbers");
    const std::string db = (dir / "none.db").string();
    const std::pair<std::vector<std::string>, std::string> commands[] = {
        {{"samples", "--channel", "p1.temp", "--limit"}, "floorwatch samples"},
        {{"events", "--limit"}, "floorwatch events"},
        {{"alarms", "history", "--limit"}, "floorwatch alarms history"},
        {{"incidents", "hours", "--since", "7d", "--until", "0s", "--hours"},
         "floorwatch incidents hours"},
    };
    for (const auto& [command, path] : commands) {
        for (const std::string bad : {"-1", "0", "10abc", "1e99x"}) {
            auto args = command;
            args.insert(args.end(), {bad, "--db", db});
            CAPTURE(joined(args));
            const RunResult result = run(dir, FW_CLI_BINARY, args);
            check_usage_error(result, command.back() + ": expected a", path);
            CHECK(contains(result.err, "'" + bad + "'"));
        }
    }
    // A good number gets past the command line: the missing store is what stops these (exit 1).
    const RunResult good =
        run(dir, FW_CLI_BINARY, {"samples", "--channel", "p1.temp", "--limit", "5", "--db", db});
    CHECK(good.exit_code == 1);
    CHECK(contains(good.err, "none.db"));
    CHECK_FALSE(fs::exists(db));
}

TEST_CASE("floorwatch: positional words may be command names; options may come last") {
    TempDir dir("fw-cli-words");
    const std::string db = (dir / "none.db").string();
    // "kpi" is an order number here, not the kpi command: the missing store stops it, exit 1.
    const RunResult show = run(dir, FW_CLI_BINARY, {"orders", "show", "kpi", "--db", db});
    CHECK(show.exit_code == 1);
    CHECK(contains(show.err, "none.db"));
    // The same option twice: the last one counts (scripts append --db or --config).
    const RunResult twice =
        run(dir, FW_CLI_BINARY, {"verify", "--db", "/elsewhere.db", "--json", "--db", db});
    CHECK(twice.exit_code == 1);
    CHECK(contains(twice.err, "none.db"));
}

TEST_CASE("floorwatchd: --help, --version, and exit 2 for a bad command line") {
    TempDir dir("fw-daemon-cli");
    const fs::path config = dir / "floorwatch.yaml";
    fw::test::write_text_file(config,
                              "gateway: {site: test-plant, node: gw-1}\n"
                              "store: {path: " +
                                  (dir / "fw.db").string() + "}\n");

    const RunResult help = run(dir, FW_DAEMON_BINARY, {"--help"});
    CHECK(help.exit_code == 0);
    for (const char* option :
         {"--config FILE", "--check-config FILE", "--print-schema", "--version", "SIGHUP"}) {
        CHECK_MESSAGE(contains(help.out, option), option);
    }
    const RunResult version = run(dir, FW_DAEMON_BINARY, {"--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.starts_with("floorwatchd "));

    const RunResult valid = run(dir, FW_DAEMON_BINARY, {"--check-config", config.string()});
    CHECK_MESSAGE(valid.exit_code == 0, valid.err);

    // The bug: the unknown flag was ignored and the config's check answered 0.
    check_usage_error(run(dir, FW_DAEMON_BINARY, {"--check-config", config.string(), "--bogus"}),
                      "unknown option '--bogus'", "floorwatchd");
    check_usage_error(run(dir, FW_DAEMON_BINARY, {"--bogus", "--check-config", config.string()}),
                      "unknown option '--bogus'", "floorwatchd");
    check_usage_error(run(dir, FW_DAEMON_BINARY, {"--check-config"}),
                      "option '--check-config' needs a value", "floorwatchd");
    check_usage_error(run(dir, FW_DAEMON_BINARY, {"--check-config", config.string(), "extra"}),
                      "unexpected argument 'extra'", "floorwatchd");
    check_usage_error(
        run(dir, FW_DAEMON_BINARY, {"--config", config.string(), "--check-config", "x.yaml"}),
        "give only one of --config, --check-config and --print-schema", "floorwatchd");

    const RunResult bare = run(dir, FW_DAEMON_BINARY, {});
    CHECK(bare.exit_code == 2);
    CHECK(contains(bare.err, "--check-config"));
}

TEST_CASE("floorwatch-sim and its ctl subcommand: --help and one-line usage errors") {
    TempDir dir("fw-sim-cli");
    const RunResult help = run(dir, FW_SIM_BINARY, {"--help"});
    CHECK(help.exit_code == 0);
    for (const char* option :
         {"--config FILE", "--ready-file PATH", "--control PATH", "--log-level LEVEL", "ctl"}) {
        CHECK_MESSAGE(contains(help.out, option), option);
    }
    const RunResult ctl_help = run(dir, FW_SIM_BINARY, {"ctl", "--help"});
    CHECK(ctl_help.exit_code == 0);
    for (const char* item : {"--control PATH", "COMMAND", "fault <device>", "value <device>"}) {
        CHECK_MESSAGE(contains(ctl_help.out, item), item);
    }

    check_usage_error(run(dir, FW_SIM_BINARY, {}), "--config FILE is required", "floorwatch-sim");
    check_usage_error(run(dir, FW_SIM_BINARY, {"--config", "sim.yaml", "--bogus"}),
                      "unknown option '--bogus'", "floorwatch-sim");
    check_usage_error(run(dir, FW_SIM_BINARY, {"--config", "sim.yaml", "--log-level", "loud"}),
                      "--log-level: expected debug, info, warning or error, got 'loud'",
                      "floorwatch-sim");
    check_usage_error(run(dir, FW_SIM_BINARY, {"ctl", "status"}), "--control is required",
                      "floorwatch-sim ctl");
    check_usage_error(run(dir, FW_SIM_BINARY, {"ctl", "--control", (dir / "s.sock").string()}),
                      "COMMAND is required", "floorwatch-sim ctl");
    check_usage_error(run(dir, FW_SIM_BINARY, {"ctl", "--bogus", "--control", "x", "status"}),
                      "unknown option '--bogus'", "floorwatch-sim ctl");
    // A negative number is a word of the command, not an option; no simulator answers: exit 1.
    const RunResult negative = run(dir, FW_SIM_BINARY,
                                   {"ctl", "--control", (dir / "s.sock").string(), "value",
                                    "press-1", "holding_register", "0", "-1.5"});
    CHECK(negative.exit_code == 1);
}
