#include "daemon/cli/central_sync.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>

#include "daemon/central/central_store.hpp"
#include "daemon/core/units.hpp"

namespace fw::cli {
namespace {

namespace json = boost::json;

central::StoreLocation location_of(const CommonOptions& options) {
    if (auto postgresql = central_postgresql(options)) return {"", std::move(postgresql)};
    return {store_path(options), std::nullopt};
}

std::string time_or_never(const std::optional<std::int64_t>& time_ms) {
    return time_ms ? format_time(*time_ms) : std::string("never");
}

json::value json_time(const std::optional<std::int64_t>& time_ms) {
    if (!time_ms) return nullptr;
    return json::value(format_time(*time_ms));
}

}  // namespace

bool is_central_store(const CommonOptions& options) {
    if (central_role(options)) return true;
    try {
        return !central::CentralStore::open(location_of(options), true)->gateways().empty();
    } catch (const std::exception&) {
        // A gateway's store from before the central tables, or no store at all: the gateway's
        // `floorwatch sync` says what is wrong with it.
        return false;
    }
}

int show_central_sync(const CommonOptions& options) {
    const auto store = central::CentralStore::open(location_of(options), true);
    const auto gateways = store->gateways();
    if (options.json) {
        json::array rows;
        for (const auto& gateway : gateways) {
            rows.push_back(json::object{
                {"gateway", gateway.gateway},
                {"incarnation", gateway.incarnation ? json::value(*gateway.incarnation) : nullptr},
                {"received", gateway.received},
                {"next", gateway.next_sequence},
                {"acked", gateway.acked},
                {"backlog", gateway.backlog()},
                {"down_next", gateway.down_next},
                {"down_acked", gateway.down_acked},
                {"last_hello", json_time(gateway.last_hello_ms)},
                {"last_message", json_time(gateway.last_message_ms)},
                {"verdict", sync::verdict_name(gateway.verdict)},
                {"message", gateway.message},
                {"quarantined", gateway.quarantined},
                {"integrity", gateway.integrity_alarms},
                {"wanted_attachments", gateway.wanted_attachments}});
        }
        std::cout << json::serialize(rows) << '\n';
        return 0;
    }
    std::cout << fmt::format("central store: {} (incarnation {})\n", store->description(),
                             store->incarnation());
    if (gateways.empty()) {
        std::cout << "no gateway has said hello yet\n";
        return 0;
    }
    std::cout << fmt::format(
        "{:<24} {:<10} {:>9} {:>9} {:>8} {:>9} {:>10} {:<23} {:<7} {:>5} {:>5}\n", "GATEWAY",
        "STORE", "RECEIVED", "NEXT", "BACKLOG", "DOWN_NEXT", "DOWN_ACKED", "LAST HELLO", "VERDICT",
        "QUAR", "INTEG");
    for (const auto& gateway : gateways) {
        std::cout << fmt::format(
            "{:<24} {:<10} {:>9} {:>9} {:>8} {:>9} {:>10} {:<23} {:<7} {:>5} {:>5}\n",
            gateway.gateway, gateway.incarnation ? gateway.incarnation->substr(0, 8) : "-",
            gateway.received, gateway.next_sequence, gateway.backlog(), gateway.down_next,
            gateway.down_acked, time_or_never(gateway.last_hello_ms),
            sync::verdict_name(gateway.verdict), gateway.quarantined, gateway.integrity_alarms);
    }
    for (const auto& gateway : gateways) {
        if (gateway.verdict != sync::Verdict::ok) {
            std::cout << fmt::format("{}: {}\n", gateway.gateway, gateway.message);
        }
    }
    for (const auto& row : store->integrity_alarms()) {
        std::cout << fmt::format("INTEGRITY {} {}:{}: stored {} received {} ({}x, last {})\n",
                                 row.gateway, row.origin, row.sequence, row.stored_hash,
                                 row.received_hash, row.detections,
                                 format_time(row.last_detected_ms));
    }
    for (const auto& row : store->quarantine()) {
        std::cout << fmt::format("QUARANTINED {} {} ({}): {}\n", row.gateway,
                                 row.sequence ? std::to_string(*row.sequence) : "-",
                                 format_time(row.received_ms), row.reason);
    }
    return 0;
}

}  // namespace fw::cli
