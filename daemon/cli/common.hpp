#pragma once
// What every `floorwatch` command shares: option parsing, where the store and the control socket
// are, and how times and values are read and written. Commands that change something ask the
// daemon over its control socket (it owns every write); commands that only read open the store
// read-only, so they work whether or not floorwatchd is running.

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fw::cli {

// Wrong use of the command line: main prints the message and the usage, exit status 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string command;                                     // argv[1]
    std::vector<std::string> words;                          // positional arguments after it
    std::map<std::string, std::string, std::less<>> values;  // --key value
    std::set<std::string, std::less<>> flags;                // --all (no value)
    bool json = false;

    std::optional<std::string> get(std::string_view key) const;
    bool has(std::string_view flag) const { return flags.contains(flag); }
    // The n-th positional argument, or a UsageError naming `what` is missing.
    const std::string& word(std::size_t index, std::string_view what) const;
};

struct OptionSpec {
    std::vector<std::string_view> valued;  // --key VALUE; --db, --config, --socket always allowed
    std::vector<std::string_view> flags;   // --key alone; --json always allowed
    std::size_t max_words = 0;             // positional arguments accepted
};

Options parse_options(int argc, char** argv, const OptionSpec& spec);
// Commands with --key VALUE options only.
Options parse_options(int argc, char** argv, const std::vector<std::string_view>& allowed);

// --db FILE, or --config FILE's store.path; default /etc/floorwatch/floorwatch.yaml if it exists,
// else /var/lib/floorwatch/floorwatch.db.
std::string store_path(const Options& options);
// --socket PATH, or the config's control.socket (same config lookup as store_path).
std::string control_socket_path(const Options& options);
// Sends one command to the running daemon and returns its result; throws std::runtime_error with
// the daemon's refusal or with what to do when the daemon cannot be reached.
boost::json::value call_daemon(const Options& options, const std::string& command,
                               const boost::json::object& args);

// "2026-11-29T08:00:00.000Z"
std::string format_time(std::int64_t time_ms);
// A duration ago ("10m") or an absolute UTC time ("2026-11-29T08:00:00Z", seconds optional).
std::int64_t parse_time(const std::string& text, std::int64_t now_ms);
// --limit N (default 10000).
std::size_t parse_limit(const Options& options);
std::string format_value(const std::optional<double>& value);  // "-" when absent
boost::json::value json_value(const std::optional<double>& value);

}  // namespace fw::cli
