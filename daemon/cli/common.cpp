#include "daemon/cli/common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/units.hpp"

namespace fw::cli {
namespace {

constexpr std::string_view kDefaultDb = "/var/lib/floorwatch/floorwatch.db";
constexpr std::string_view kDefaultConfig = "/etc/floorwatch/floorwatch.yaml";

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The config the command names (--config) or the installed one; nullopt when there is none.
std::optional<Config> config_of(const Options& options) {
    auto config_path = options.get("config");
    if (!config_path && std::filesystem::exists(kDefaultConfig)) {
        config_path = std::string(kDefaultConfig);
    }
    if (!config_path) return std::nullopt;
    try {
        return load_config(*config_path);
    } catch (const ConfigError& error) {
        std::string message = fmt::format("cannot read {}:", *config_path);
        for (const auto& issue : error.issues()) message += "\n  " + issue.to_string();
        throw std::runtime_error(message);
    }
}

}  // namespace

std::optional<std::string> Options::get(std::string_view key) const {
    const auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

const std::string& Options::word(std::size_t index, std::string_view what) const {
    if (index >= words.size()) {
        throw UsageError(fmt::format("'{}' needs {}", command, what));
    }
    return words[index];
}

Options parse_options(int argc, char** argv, const OptionSpec& spec) {
    Options options;
    if (argc < 2) throw UsageError("no command given");
    options.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--json") {
            options.json = true;
            continue;
        }
        if (!arg.starts_with("--")) {
            if (options.words.size() >= spec.max_words) {
                throw UsageError(fmt::format("unexpected argument '{}'", arg));
            }
            options.words.emplace_back(arg);
            continue;
        }
        const std::string key(arg.substr(2));
        if (contains(spec.flags, key)) {
            options.flags.insert(key);
            continue;
        }
        if (!contains(spec.valued, key) && key != "db" && key != "config" && key != "socket") {
            throw UsageError(fmt::format("unknown option '--{}' for '{}'", key, options.command));
        }
        if (i + 1 >= argc) throw UsageError(fmt::format("option '--{}' needs a value", key));
        options.values[key] = argv[++i];
    }
    return options;
}

Options parse_options(int argc, char** argv, const std::vector<std::string_view>& allowed) {
    OptionSpec spec;
    spec.valued = allowed;
    return parse_options(argc, argv, spec);
}

std::string store_path(const Options& options) {
    if (auto db = options.get("db")) return *db;
    if (auto config = config_of(options)) return config->store.path;
    return std::string(kDefaultDb);
}

std::string control_socket_path(const Options& options) {
    if (auto socket = options.get("socket")) return *socket;
    if (auto config = config_of(options)) return config->control.socket;
    return ControlConfig{}.socket;
}

boost::json::value call_daemon(const Options& options, const std::string& command,
                               const boost::json::object& args) {
    control::Client client(control_socket_path(options));
    return client.call(command, args);
}

std::string format_time(std::int64_t time_ms) {
    const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    return fmt::format("{}.{:03}Z", stamp, time_ms % 1000);
}

std::int64_t parse_time(const std::string& text, std::int64_t now_ms) {
    if (const auto ago = parse_duration(text)) return now_ms - ago->count();
    std::tm utc{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
    if (end == nullptr) end = strptime(text.c_str(), "%Y-%m-%dT%H:%M", &utc);
    if (end == nullptr || !(*end == '\0' || (*end == 'Z' && end[1] == '\0'))) {
        throw UsageError(fmt::format(
            "'{}' is neither a duration (10m, 2h, 7d) nor a UTC time (2026-11-29T08:00:00Z)",
            text));
    }
    return static_cast<std::int64_t>(timegm(&utc)) * 1000;
}

std::size_t parse_limit(const Options& options) {
    std::size_t limit = 10000;
    if (auto text = options.get("limit")) {
        try {
            limit = std::stoul(*text);
        } catch (const std::exception&) {
            throw UsageError(fmt::format("--limit needs a positive number, got '{}'", *text));
        }
    }
    return limit;
}

std::string format_value(const std::optional<double>& value) {
    if (!value) return "-";
    return fmt::format("{:.6g}", *value);
}

boost::json::value json_value(const std::optional<double>& value) {
    if (!value) return nullptr;
    return *value;
}

}  // namespace fw::cli
