#include "daemon/sync/sync_options.hpp"

#include <fmt/format.h>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/units.hpp"
#include "daemon/sync/sync_options_section.hpp"

namespace fw {

namespace {

constexpr auto kRoleNames =
    enum_names<ProcessRole>({{ProcessRole::gateway, "gateway"}, {ProcessRole::central, "central"}});

}  // namespace

std::span<const std::string_view> process_role_names() {
    return kRoleNames.names();
}

std::string_view process_role_name(ProcessRole role) {
    return kRoleNames.name_of(role);
}

std::optional<ProcessRole> process_role_from_name(std::string_view name) {
    return kRoleNames.from_name(name);
}

}  // namespace fw

namespace fw::sync {

// The option-table framework is the vocabulary of this file.
using namespace config_table;

namespace {

// An attachment message carries base64 (4 bytes per 3) and a header well under 1 KiB.
constexpr std::uint64_t kAttachmentHeaderBytes = 1024;

std::uint64_t attachment_message_limit(std::uint64_t chunk_size) {
    return (chunk_size + 2) / 3 * 4 + kAttachmentHeaderBytes;
}

void finish_sync(SyncConfig& sync, const std::string& path, Reader& reader) {
    if (sync.postgresql_conninfo.empty()) {
        sync.postgresql.reset();
    } else {
        sync.postgresql = sync.postgresql_conninfo;
    }
    const std::string chunk_path = join_path(path, "chunk_size");
    if (reader.failed(chunk_path) || reader.failed(join_path(path, "batch_bytes"))) {
        return;
    }
    if (attachment_message_limit(sync.chunk_size) > sync.batch_bytes) {
        reader.issue(chunk_path,
                     fmt::format("a chunk of {} travels as about {} of text, more than "
                                 "batch_bytes ({}); lower chunk_size or raise batch_bytes",
                                 format_size(sync.chunk_size),
                                 format_size(attachment_message_limit(sync.chunk_size)),
                                 format_size(sync.batch_bytes)));
    }
}

}  // namespace

Section<SyncConfig> sync_section(Section<mqtt::BrokerConfig> broker_connection) {
    Section<SyncConfig> section;
    section
        .section("broker", &SyncConfig::broker, std::move(broker_connection),
                 "The central broker (the connection keys of mqtt.brokers[]); the client id "
                 "defaults to fw-<site>-<node>-sync.")
        .required();
    section.integer("batch_events", &SyncConfig::batch_events, "Events per sync message at most.")
        .between(1, 5000);
    section
        .size("batch_bytes", &SyncConfig::batch_bytes,
              "Text per sync message at most; one event larger than this still goes, alone.")
        .between(4LL * 1024, 64LL * 1024 * 1024);
    section
        .integer("in_flight", &SyncConfig::in_flight,
                 "Event messages sent to the centre and not yet acknowledged, at most.")
        .between(1, 64);
    section
        .duration("ack_timeout", &SyncConfig::ack_timeout,
                  "No acknowledgement by then: send again from the last one acknowledged.")
        .between(Millis(100), Millis(3600 * 1000));
    section
        .size("chunk_size", &SyncConfig::chunk_size,
              "Attachment bytes per message, before base64; must fit in batch_bytes.")
        .between(1024, 16LL * 1024 * 1024);
    section
        .string("share_group", &SyncConfig::share_group,
                "role: central. MQTT shared subscription group central processes split the "
                "gateways' messages in; \"\" subscribes plainly.")
        .pattern("^[A-Za-z0-9_.-]*$", "letters, digits, '_', '.' and '-'");
    section
        .string("postgresql", &SyncConfig::postgresql_conninfo,
                "role: central. libpq conninfo of the central store in PostgreSQL; absent: "
                "SQLite at store.path.")
        .not_empty();
    section.finish_with(finish_sync);
    return section;
}

}  // namespace fw::sync
