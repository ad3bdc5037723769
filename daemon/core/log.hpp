#pragma once
// Logging with levels and instance names: "[modbus:line1/press-1] timeout after 500 ms".
// Writes one line per call to stderr. Under systemd (JOURNAL_STREAM set) each line carries a
// "<N>" priority prefix so journald records the level; otherwise a level word and a timestamp.
// Thread-safe: one write(2) per line.

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fw {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

std::optional<LogLevel> log_level_from_name(std::string_view name);
// Every level's name, least severe first: "debug", "info", "warning", "error".
std::span<const std::string_view> log_level_names();

void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) {
    return level >= log_level();
}

void log_line(LogLevel level, std::string_view instance, std::string_view message);

template <typename... Args>
void log(LogLevel level, std::string_view instance, fmt::format_string<Args...> format,
         Args&&... args) {
    if (!log_enabled(level)) return;
    log_line(level, instance, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_debug(std::string_view instance, fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::debug, instance, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_info(std::string_view instance, fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::info, instance, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_warning(std::string_view instance, fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::warning, instance, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_error(std::string_view instance, fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::error, instance, format, std::forward<Args>(args)...);
}

// Lets through at most one line per key per interval and counts what it held back, so a flood of
// identical failures (a bad payload every 10 ms) is visible without drowning the journal.
class LogRateLimiter {
  public:
    explicit LogRateLimiter(std::chrono::steady_clock::duration interval) : interval_(interval) {}

    // Returns how many lines were suppressed since the last one let through (>= 0), or nullopt if
    // this line must be suppressed.
    std::optional<std::uint64_t> admit(const std::string& key,
                                       std::chrono::steady_clock::time_point now);

  private:
    struct Slot {
        std::chrono::steady_clock::time_point last;
        std::uint64_t suppressed = 0;
    };
    std::chrono::steady_clock::duration interval_;
    std::mutex mutex_;
    std::unordered_map<std::string, Slot> slots_;
};

}  // namespace fw
