#pragma once
// What every `floorwatch` command shares: the options that say where the store and the daemon
// are, how commands are registered, and how times and values are read and written. Commands that
// change something ask the daemon over its control socket (it owns every write); commands that
// only read open the store read-only, so they work whether or not floorwatchd is running.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace fw::cli {

// A wrong command line found once parsed (a missing option, a bad time): main prints it on one
// line with the command's --help to read, exit status 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

constexpr std::size_t kDefaultLimit = 10000;
constexpr std::string_view kTimeFooter =
    "TIME is a duration ago (30s, 10m, 2h, 7d) or UTC as 2026-11-29T08:00:00Z.";

// --db, --config, --socket and --json: every command takes them.
struct CommonOptions {
    std::optional<std::string> db;
    std::optional<std::string> config;
    std::optional<std::string> socket;
    bool json = false;
};

// What runs when the command line ends in which (sub)command.
class CommandTable {
  public:
    using Run = std::function<int()>;

    void set(const CLI::App& command, Run run) { runs_[&command] = std::move(run); }
    // nullptr when `command` only groups subcommands.
    const Run* find(const CLI::App& command) const {
        const auto it = runs_.find(&command);
        return it == runs_.end() ? nullptr : &it->second;
    }

  private:
    std::map<const CLI::App*, Run> runs_;
};

// --since TIME, --until TIME and --limit N: which rows of a time series, oldest first.
struct TimeRangeOptions : CommonOptions {
    std::string since;
    std::optional<std::string> until;
    std::size_t limit = kDefaultLimit;
};

template <typename Options>
struct Command {
    CLI::App& app;
    Options& options;  // owned by the command's run function, so it lives as long as the table
};

void add_common_options(CLI::App& command, CommonOptions& options);
// `since` is where the range starts by default ("10m": the last ten minutes); `rows` what --limit
// counts ("readings").
void add_time_range_options(CLI::App& command, TimeRangeOptions& options, std::string since,
                            std::string_view rows);

// Adds command `name` under `parent` with the common options; `run(options)` is what it does once
// its own options (added by the caller to the returned app) are parsed into `options`.
template <typename Options>
Command<Options> add_command(CommandTable& table, CLI::App& parent, const std::string& name,
                             const std::string& description, int (*run)(const Options&)) {
    auto options = std::make_shared<Options>();
    CLI::App& app = *parent.add_subcommand(name, description);
    table.set(app, [options, run] { return run(*options); });
    add_common_options(app, *options);
    return {app, *options};
}

// --db FILE, or --config FILE's store.path; default /etc/floorwatch/floorwatch.yaml if it exists,
// else /var/lib/floorwatch/floorwatch.db.
std::string store_path(const CommonOptions& options);
// The PostgreSQL conninfo of a central store: without --db, the config's sync.postgresql when its
// role is central; nullopt otherwise (the store is the SQLite file of store_path).
std::optional<std::string> central_postgresql(const CommonOptions& options);
// Without --db: whether the config's role is central.
bool central_role(const CommonOptions& options);
// Without --db: "<site>.<node>" of the config (given or installed); nullopt without one.
std::optional<std::string> config_origin(const CommonOptions& options);
// --socket PATH, or the config's control.socket (same config lookup as store_path).
std::string control_socket_path(const CommonOptions& options);
// Sends one command to the running daemon and returns its result; throws std::runtime_error with
// the daemon's refusal or with what to do when the daemon cannot be reached.
boost::json::value call_daemon(const CommonOptions& options, const std::string& command,
                               const boost::json::object& args);

// "2026-11-29T08:00:00.000Z"
std::string format_time(std::int64_t time_ms);
// A duration ago ("10m") or an absolute time ("2026-11-29T08:00:00Z"; seconds optional, UTC
// unless an offset such as +01:00 is given).
std::int64_t parse_time(const std::string& text, std::int64_t now_ms);
std::string format_value(const std::optional<double>& value);  // "-" when absent
boost::json::value json_value(const std::optional<double>& value);

}  // namespace fw::cli
