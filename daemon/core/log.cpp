#include "daemon/core/log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/time.hpp"

namespace fw {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};

constexpr auto kLevelNames = enum_names<LogLevel>({{LogLevel::debug, "debug"},
                                                   {LogLevel::info, "info"},
                                                   {LogLevel::warning, "warning"},
                                                   {LogLevel::error, "error"}});
// syslog priorities for journald: debug 7, info 6, warning 4, error 3.
constexpr std::array<int, 4> kJournalPriorities{7, 6, 4, 3};

bool under_journald() {
    static const bool kUnderJournald = std::getenv("JOURNAL_STREAM") != nullptr;
    return kUnderJournald;
}

}  // namespace

std::optional<LogLevel> log_level_from_name(std::string_view name) {
    return kLevelNames.from_name(name);
}

std::span<const std::string_view> log_level_names() {
    return kLevelNames.names();
}

void set_log_level(LogLevel level) {
    g_level.store(level, std::memory_order_relaxed);
}
LogLevel log_level() {
    return g_level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view instance, std::string_view message) {
    const auto index = static_cast<std::size_t>(level);
    std::string line;
    if (under_journald()) {
        // journald adds its own timestamp.
        line = fmt::format("<{}>", kJournalPriorities[index]);
    } else {
        line = fmt::format("{} {:<7} ", format_iso_time(wall_now_ms(), IsoFraction::milliseconds),
                           kLevelNames.name_of(level));
    }
    if (!instance.empty()) line += fmt::format("[{}] ", instance);
    line += message;
    line += '\n';
    // One write(2) per line keeps lines from different threads whole.
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (written <= 0) break;
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
}

std::optional<std::uint64_t> LogRateLimiter::admit(const std::string& key,
                                                   std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto [slot, inserted] = slots_.try_emplace(key);
    if (!inserted && now - slot->second.last < interval_) {
        ++slot->second.suppressed;
        return std::nullopt;
    }
    const std::uint64_t suppressed = slot->second.suppressed;
    slot->second.last = now;
    slot->second.suppressed = 0;
    return suppressed;
}

}  // namespace fw
