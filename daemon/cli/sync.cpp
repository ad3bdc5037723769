#include "daemon/cli/sync.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "daemon/cli/central_sync.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"
#include "daemon/sync/gateway_store.hpp"

namespace fw::cli {
namespace {

// This gateway's origin: the writer cursor the store holds (a gateway's store has its own only),
// or for a store that wrote nothing yet (a re-imaged gateway waiting for its reseed) the config's
// site and node.
std::string store_origin(sqlite3* db, const CommonOptions& options) {
    store::Statement writer(db, "SELECT origin FROM order_writer ORDER BY origin LIMIT 1");
    if (writer.next_row("reading this gateway's origin")) {
        std::string origin = writer.column_text(0);
        writer.reset();
        return origin;
    }
    if (auto origin = config_origin(options)) return *origin;
    throw std::runtime_error(
        "this store has written no order events yet and no config names its gateway; give "
        "--config FILE");
}

std::string time_or_never(const std::optional<std::int64_t>& time_ms) {
    return time_ms ? format_time(*time_ms) : std::string("never");
}

boost::json::value json_time(const std::optional<std::int64_t>& time_ms) {
    if (!time_ms) return nullptr;
    return boost::json::value(format_time(*time_ms));
}

// The link as the running daemon sees it now (the sync.status command): the store holds the
// cursors, only the daemon knows whether the centre is reachable. `why_not` says why there is no
// answer: the daemon is not running, or runs without a sync: section.
struct LiveLink {
    std::optional<boost::json::object> status;
    std::string why_not;
};

LiveLink live_link(const CommonOptions& options) {
    LiveLink live;
    try {
        control::Client client(control_socket_path(options), std::chrono::seconds(5));
        const auto answer = client.call("sync.status", {});
        if (answer.is_object()) live.status = answer.as_object();
    } catch (const control::ControlError& error) {
        live.why_not = error.what();
    }
    return live;
}

std::string link_text(const LiveLink& live) {
    if (!live.status) return "unknown (" + live.why_not + ")";
    const auto& status = *live.status;
    const auto flag = [&status](const char* key) {
        const auto* value = status.if_contains(key);
        return value != nullptr && value->is_bool() && value->as_bool();
    };
    const auto text = [&status](const char* key) {
        const auto* value = status.if_contains(key);
        return value != nullptr && value->is_string() ? std::string(value->as_string())
                                                      : std::string();
    };
    if (flag("stopped_for_reseed")) return "stopped: the centre asked for a reseed";
    if (flag("connected") && flag("welcomed")) return "connected to " + text("broker");
    if (flag("connected")) return "connected to " + text("broker") + ", waiting for the welcome";
    const std::string why = text("last_error");
    return "not connected to " + text("broker") + (why.empty() ? "" : ": " + why);
}

int show_sync(const CommonOptions& options) {
    // On a centre: every gateway's row from the central store (daemon/central).
    if (is_central_store(options)) return show_central_sync(options);
    auto connection =
        store::open_store_file(store_path(options), store::OpenMode::read_only, false);
    const std::string origin = store_origin(connection.get(), options);
    const auto state = sync::read_sync_state(connection.get(), origin);
    const std::int64_t now = wall_now_ms();
    // Milliseconds the oldest unsynced event has waited; -1 when nothing waits.
    const std::int64_t oldest_age =
        state.oldest_unsynced_ms.has_value() ? now - state.oldest_unsynced_ms.value_or(now) : -1;
    if (options.json) {
        boost::json::array quarantined;
        for (const auto& row : state.quarantined) {
            quarantined.push_back(boost::json::object{{"received", format_time(row.received_ms)},
                                                      {"down", row.down},
                                                      {"event_id", row.event_id},
                                                      {"reason", row.reason}});
        }
        boost::json::array wanted;
        for (const auto& item : state.wanted) {
            wanted.push_back(boost::json::object{{"sha256", item.sha256},
                                                 {"received", item.received},
                                                 {"size", item.size},
                                                 {"asked", json_time(item.asked_ms)}});
        }
        const auto live = live_link(options);
        boost::json::object centre{
            {"peer", "centre"},
            {"link", live.status ? boost::json::value(*live.status) : boost::json::value(nullptr)},
            {"link_text", link_text(live)},
            {"origin", origin},
            {"incarnation", state.incarnation},
            {"central_incarnation", state.peer.central_incarnation},
            {"known_incarnation", state.peer.known_incarnation},
            {"verdict", state.peer.verdict},
            {"message", state.peer.message},
            {"next_sequence", state.next_sequence},
            {"acked", state.peer.acked},
            {"down_applied", state.peer.down_applied},
            {"backlog", state.backlog},
            {"oldest_unsynced_age_ms",
             oldest_age >= 0 ? boost::json::value(oldest_age) : boost::json::value(nullptr)},
            {"last_hello", json_time(state.peer.last_hello_ms)},
            {"last_welcome", json_time(state.peer.last_welcome_ms)},
            {"last_ack", json_time(state.peer.last_ack_ms)},
            {"last_down", json_time(state.peer.last_down_ms)},
            {"quarantined", std::move(quarantined)},
            {"wanted_attachments", std::move(wanted)}};
        std::cout << boost::json::serialize(boost::json::array{std::move(centre)}) << '\n';
        return 0;
    }
    std::cout << fmt::format("{} (store incarnation {})\n", origin, state.incarnation);
    std::cout << fmt::format("link:          {}\n", link_text(live_link(options)));
    if (state.peer.verdict.empty()) {
        std::cout << "centre:        never welcomed (no sync: section, or the centre has not "
                     "answered yet)\n";
    } else {
        std::cout << fmt::format("centre:        incarnation {}, verdict {}{}\n",
                                 state.peer.central_incarnation, state.peer.verdict,
                                 state.peer.message.empty() ? "" : ": " + state.peer.message);
    }
    if (state.peer.verdict == "reseed") {
        std::cout << "               sending is stopped: the centre holds more of this origin "
                     "than this store wrote (a re-imaged or restored gateway); see "
                     "daemon/sync/README.md \"Verdict reseed\"\n";
    }
    std::cout << fmt::format(
        "up:            next {}, acknowledged up to {}, {} unsynced{}\n", state.next_sequence,
        state.peer.acked, state.backlog,
        oldest_age >= 0 ? fmt::format(" (oldest {} ago)", format_duration(Millis(oldest_age)))
                        : std::string());
    std::cout << fmt::format("down:          applied up to {}\n", state.peer.down_applied);
    std::cout << fmt::format(
        "last hello:    {}\nlast welcome:  {}\nlast ack:      {}\n"
        "last down:     {}\n",
        time_or_never(state.peer.last_hello_ms), time_or_never(state.peer.last_welcome_ms),
        time_or_never(state.peer.last_ack_ms), time_or_never(state.peer.last_down_ms));
    std::cout << fmt::format("quarantined:   {}\n", state.quarantined.size());
    for (const auto& row : state.quarantined) {
        std::cout << fmt::format("  down {} {} ({}): {}\n", row.down,
                                 row.event_id.empty() ? "-" : row.event_id,
                                 format_time(row.received_ms), row.reason);
    }
    std::cout << fmt::format("attachments:   {} wanted from the centre\n", state.wanted.size());
    for (const auto& item : state.wanted) {
        std::cout << fmt::format("  {} {} of {} bytes, asked {}\n", item.sha256, item.received,
                                 item.size, time_or_never(item.asked_ms));
    }
    return 0;
}

// The daemon answers once the last seed part is stored, or with why not; a reseed that stops
// hearing from the centre gives up on its own after a few sync.ack_timeouts.
constexpr auto kReseedWait = std::chrono::minutes(30);

int reseed(const CommonOptions& options) {
    control::Client client(control_socket_path(options), kReseedWait);
    const auto result = client.call("sync.reseed", {});
    if (options.json) {
        std::cout << boost::json::serialize(result) << '\n';
        return 0;
    }
    const auto& done = result.as_object();
    const auto count = [&done](const char* key) { return done.at(key).to_number<std::uint64_t>(); };
    std::cout << fmt::format(
        "re-seeded from the centre: {} event(s) written, {} held already, {} quarantined, in {} "
        "part(s); the centre held this gateway's events up to sequence {}, new ones start at "
        "{}. Sync carries on (floorwatch sync).\n",
        count("events"), count("duplicates"), count("quarantined"), count("parts"),
        count("origin_sequence"), count("next_sequence"));
    return 0;
}

}  // namespace

void add_sync_commands(CLI::App& root, CommandTable& commands) {
    auto sync = add_command<CommonOptions>(
        commands, root, "sync",
        "where the exchange with the centre stands: cursors, backlog, quarantined events",
        &show_sync);
    sync.app.group("Work orders");
    auto again = add_command<CommonOptions>(
        commands, sync.app, "reseed",
        "after the centre's verdict reseed (a re-imaged gateway): bring this gateway's orders back "
        "from the centre and write new events after the centre's; root or admin (asks the "
        "daemon, answers when done)",
        &reseed);
    again.app.footer(
        "Only when floorwatch sync shows the verdict reseed. Refused when this store wrote events\n"
        "of its own the centre never acknowledged under ids the centre holds: move the store "
        "aside\n"
        "first (daemon/sync/README.md \"Reseed\"). Waits up to 30 min for the daemon's answer.");
}

}  // namespace fw::cli
