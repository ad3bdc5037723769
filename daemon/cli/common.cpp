#include "daemon/cli/common.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "daemon/cli/command_line.hpp"
#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/workflow/event.hpp"

namespace fw::cli {
namespace {

constexpr std::string_view kDefaultDb = "/var/lib/floorwatch/floorwatch.db";
constexpr std::string_view kDefaultConfig = "/etc/floorwatch/floorwatch.yaml";

// The config the command names (--config) or the installed one; nullopt when there is none.
std::optional<Config> config_of(const CommonOptions& options) {
    auto config_path = options.config;
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

void add_common_options(CLI::App& command, CommonOptions& options) {
    constexpr std::string_view kWhere = "Where the store and the daemon are";
    command.add_option("--db", options.db, "the store (default: the config's store.path)")
        ->type_name("FILE")
        ->group(std::string(kWhere));
    command
        .add_option("--config", options.config,
                    "the config naming the store and the socket (default: "
                    "/etc/floorwatch/floorwatch.yaml)")
        ->type_name("FILE")
        ->group(std::string(kWhere));
    command
        .add_option("--socket", options.socket,
                    "the daemon's socket (default: the config's control.socket)")
        ->type_name("PATH")
        ->group(std::string(kWhere));
    command.add_flag("--json", options.json, "print JSON instead of text");
}

void add_time_range_options(CLI::App& command, TimeRangeOptions& options, std::string since,
                            std::string_view rows) {
    options.since = std::move(since);
    command.add_option("--since", options.since, "from")->type_name("TIME")->capture_default_str();
    command.add_option("--until", options.until, "up to (default: now)")->type_name("TIME");
    command.add_option("--limit", options.limit, fmt::format("at most N {}", rows))
        ->type_name("N")
        ->check(positive_count())
        ->capture_default_str();
    command.footer(std::string(kTimeFooter));
}

std::string store_path(const CommonOptions& options) {
    if (options.db) return *options.db;
    if (auto config = config_of(options)) return config->store.path;
    return std::string(kDefaultDb);
}

std::optional<std::string> central_postgresql(const CommonOptions& options) {
    if (options.db) return std::nullopt;
    const auto config = config_of(options);
    if (!config || config->role != ProcessRole::central || !config->sync) return std::nullopt;
    return config->sync->postgresql;
}

bool central_role(const CommonOptions& options) {
    if (options.db) return false;
    const auto config = config_of(options);
    return config && config->role == ProcessRole::central;
}

std::optional<std::string> config_origin(const CommonOptions& options) {
    if (options.db) return std::nullopt;
    const auto config = config_of(options);
    if (!config) return std::nullopt;
    return workflow::origin_of(config->gateway.site, config->gateway.node);
}

std::string control_socket_path(const CommonOptions& options) {
    if (options.socket) return *options.socket;
    if (auto config = config_of(options)) return config->control.socket;
    return ControlConfig{}.socket;
}

boost::json::value call_daemon(const CommonOptions& options, const std::string& command,
                               const boost::json::object& args) {
    control::Client client(control_socket_path(options));
    return client.call(command, args);
}

std::string format_time(std::int64_t time_ms) {
    return format_iso_time(time_ms, IsoFraction::milliseconds);
}

std::int64_t parse_time(const std::string& text, std::int64_t now_ms) {
    if (const auto ago = parse_duration(text)) return now_ms - ago->count();
    if (const auto time_ms = parse_iso_time(text, IsoZone::utc_if_absent)) return *time_ms;
    throw UsageError(fmt::format(
        "'{}' is neither a duration (10m, 2h, 7d) nor a UTC time (2026-11-29T08:00:00Z)", text));
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
