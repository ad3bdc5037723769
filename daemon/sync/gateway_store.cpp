#include "daemon/sync/gateway_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <stdexcept>

#include "daemon/orders/order_store.hpp"
#include "daemon/store/sqlite.hpp"

namespace fw::sync {

using store::Blob;
using store::Statement;

namespace {
constexpr std::string_view kReadingSync = "reading the sync tables";
}  // namespace

Backlog read_backlog(sqlite3* db, std::string_view origin) {
    Backlog waiting;
    Statement backlog(db,
                      "SELECT count(*), min(queued_ms) FROM order_outbox WHERE origin = ?1 AND "
                      "synced_ms IS NULL");
    backlog.bind(1, origin);
    if (backlog.next_row(kReadingSync)) {
        waiting.events = static_cast<std::uint64_t>(backlog.column_int64(0));
        waiting.oldest_unsynced_ms = backlog.column_optional_int64(1);
    }
    return waiting;
}

GatewaySyncState read_sync_state(sqlite3* db, std::string_view origin) {
    GatewaySyncState state;
    state.origin = std::string(origin);
    // Every read of one state sees the same committed store.
    const store::Transaction snapshot(db, store::Transaction::Kind::deferred,
                                      "reading the sync state");
    Statement identity(db, "SELECT incarnation FROM store_identity WHERE id = 1");
    if (!identity.next_row(kReadingSync)) {
        throw std::runtime_error("the store has no identity row (store_identity)");
    }
    state.incarnation = identity.column_text(0);

    Statement cursor(db, "SELECT next_sequence FROM order_writer WHERE origin = ?1");
    cursor.bind(1, origin);
    if (cursor.next_row(kReadingSync)) {
        state.next_sequence = static_cast<std::uint64_t>(cursor.column_int64(0));
    }

    Statement peer(db,
                   "SELECT coalesce(central_incarnation, ''), coalesce(known_incarnation, ''), "
                   "acked, down_applied, last_hello_ms, last_welcome_ms, last_ack_ms, "
                   "last_down_ms, verdict, message FROM sync_peer WHERE id = 1");
    if (peer.next_row(kReadingSync)) {
        state.peer.central_incarnation = peer.column_text(0);
        state.peer.known_incarnation = peer.column_text(1);
        state.peer.acked = static_cast<std::uint64_t>(peer.column_int64(2));
        state.peer.down_applied = static_cast<std::uint64_t>(peer.column_int64(3));
        state.peer.last_hello_ms = peer.column_optional_int64(4);
        state.peer.last_welcome_ms = peer.column_optional_int64(5);
        state.peer.last_ack_ms = peer.column_optional_int64(6);
        state.peer.last_down_ms = peer.column_optional_int64(7);
        state.peer.verdict = peer.column_text(8);
        state.peer.message = peer.column_text(9);
    }

    Statement others(db,
                     "SELECT origin, max(sequence) FROM order_events WHERE origin <> ?1 "
                     "GROUP BY origin ORDER BY origin");
    others.bind(1, origin);
    while (others.next_row(kReadingSync)) {
        state.centre_max[others.column_text(0)] =
            static_cast<std::uint64_t>(others.column_int64(1));
    }

    const auto waiting = read_backlog(db, origin);
    state.backlog = waiting.events;
    state.oldest_unsynced_ms = waiting.oldest_unsynced_ms;

    Statement quarantined(db,
                          "SELECT id, received_ms, down, event_id, reason FROM sync_quarantine "
                          "ORDER BY id");
    while (quarantined.next_row(kReadingSync)) {
        state.quarantined.push_back({quarantined.column_int64(0), quarantined.column_int64(1),
                                     static_cast<std::uint64_t>(quarantined.column_int64(2)),
                                     quarantined.column_text(3), quarantined.column_text(4)});
    }

    Statement wanted(db,
                     "SELECT sha256, received, size, asked_ms FROM sync_attachment_parts "
                     "ORDER BY wanted_ms, sha256");
    while (wanted.next_row(kReadingSync)) {
        state.wanted.push_back(
            {wanted.column_text(0), static_cast<std::uint64_t>(wanted.column_int64(1)),
             static_cast<std::uint64_t>(wanted.column_int64(2)), wanted.column_optional_int64(3)});
    }
    return state;
}

void write_hello_sent(sqlite3* db, std::int64_t now_ms) {
    Statement update(db, "UPDATE sync_peer SET last_hello_ms = ?1 WHERE id = 1");
    update.bind(1, now_ms);
    update.execute("recording the hello");
}

void write_welcome(sqlite3* db, const Welcome& welcome, std::int64_t now_ms) {
    Statement update(db,
                     "UPDATE sync_peer SET central_incarnation = ?1, known_incarnation = ?2, "
                     "last_welcome_ms = ?3, verdict = ?4, message = ?5 WHERE id = 1");
    update.bind(1, welcome.incarnation);
    if (welcome.known_incarnation) {
        update.bind(2, *welcome.known_incarnation);
    } else {
        update.bind_null(2);
    }
    update.bind(3, now_ms);
    const std::string verdict(verdict_name(welcome.verdict));
    update.bind(4, verdict);
    update.bind(5, welcome.message);
    update.execute("recording the welcome");
}

namespace {

// This origin's events up to `up_to` are the centre's now: they leave the backlog.
void mark_outbox_synced(sqlite3* db, std::string_view origin, std::uint64_t up_to,
                        std::int64_t now_ms) {
    Statement synced(db,
                     "UPDATE order_outbox SET synced_ms = ?1 WHERE origin = ?2 AND sequence <= ?3 "
                     "AND synced_ms IS NULL");
    synced.bind_all(now_ms, origin, up_to);
    synced.execute("marking the outbox synced");
}

}  // namespace

void write_acked(sqlite3* db, std::string_view origin, std::uint64_t received,
                 std::int64_t now_ms) {
    mark_outbox_synced(db, origin, received, now_ms);
    Statement peer(db,
                   "UPDATE sync_peer SET acked = max(acked, ?1), last_ack_ms = ?2 WHERE id = 1");
    peer.bind_all(received, now_ms);
    peer.execute("recording the acknowledgement");
}

void write_rewind(sqlite3* db, std::string_view origin, std::uint64_t received) {
    Statement unsynced(db,
                       "UPDATE order_outbox SET synced_ms = NULL WHERE origin = ?1 AND "
                       "sequence > ?2");
    unsynced.bind_all(origin, received);
    unsynced.execute("queueing events again for the centre");
    Statement peer(db, "UPDATE sync_peer SET acked = ?1 WHERE id = 1");
    peer.bind(1, received);
    peer.execute("moving the acknowledged cursor back");
}

void write_down_applied(sqlite3* db, std::uint64_t down_applied,
                        const std::vector<QuarantineEntry>& refused,
                        const std::vector<workflow::Attachment>& missing, std::int64_t now_ms) {
    Statement quarantine(db,
                         "INSERT INTO sync_quarantine (received_ms, down, event_id, reason, raw) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& row : refused) {
        quarantine.bind_all(now_ms, row.down, row.event_id, row.reason, row.raw);
        quarantine.execute("quarantining an event from the centre");
    }
    Statement wanted(db,
                     "INSERT INTO sync_attachment_parts (sha256, media_type, size, name, "
                     "wanted_ms) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM "
                     "order_attachments WHERE sha256 = ?1) ON CONFLICT (sha256) DO NOTHING");
    for (const auto& attachment : missing) {
        wanted.bind_all(attachment.sha256, attachment.media_type, attachment.size, attachment.name,
                        now_ms);
        wanted.execute("recording a wanted attachment");
    }
    Statement peer(db,
                   "UPDATE sync_peer SET down_applied = max(down_applied, ?1), last_down_ms = ?2 "
                   "WHERE id = 1");
    peer.bind_all(down_applied, now_ms);
    peer.execute("recording the applied down sequence");
}

void write_seed_quarantine(sqlite3* db, const std::vector<QuarantineEntry>& refused,
                           const std::vector<workflow::Attachment>& missing, std::int64_t now_ms) {
    // down_applied = 0 never moves the down cursor (it only rises).
    write_down_applied(db, 0, refused, missing, now_ms);
}

void write_reseeded(sqlite3* db, std::string_view origin, std::uint64_t origin_sequence,
                    std::uint64_t down_last, const std::string& message, std::int64_t now_ms) {
    mark_outbox_synced(db, origin, origin_sequence, now_ms);
    Statement peer(db,
                   "UPDATE sync_peer SET acked = ?1, down_applied = ?2, last_ack_ms = ?3, "
                   "last_down_ms = ?3, verdict = 'ok', message = ?4 WHERE id = 1");
    peer.bind_all(origin_sequence, down_last, now_ms, message);
    peer.execute("recording the reseed");
}

void write_need_sent(sqlite3* db, const std::vector<std::string>& sha256s, std::int64_t now_ms) {
    Statement asked(db, "UPDATE sync_attachment_parts SET asked_ms = ?1 WHERE sha256 = ?2");
    for (const auto& sha256 : sha256s) {
        asked.bind_all(now_ms, sha256);
        asked.execute("recording an attachment request");
    }
}

std::optional<StoredAttachment> read_attachment(sqlite3* db, const std::string& sha256) {
    Statement row(db,
                  "SELECT media_type, size, name, data FROM order_attachments WHERE sha256 = "
                  "?1");
    row.bind(1, sha256);
    if (!row.next_row("reading an attachment to send")) return std::nullopt;
    StoredAttachment stored;
    stored.attachment.sha256 = sha256;
    stored.attachment.media_type = row.column_text(0);
    stored.attachment.size = static_cast<std::uint64_t>(row.column_int64(1));
    stored.attachment.name = row.column_text(2);
    stored.data = row.column_blob(3);
    return stored;
}

ChunkTaken write_attachment_chunk(sqlite3* db, const AttachmentChunk& chunk, std::int64_t now_ms) {
    Statement part(db, "SELECT received, data FROM sync_attachment_parts WHERE sha256 = ?1");
    part.bind(1, chunk.sha256);
    if (!part.next_row("reading a partial attachment")) return ChunkTaken::not_wanted;
    const auto received = static_cast<std::uint64_t>(part.column_int64(0));
    std::string data = part.column_blob(1);
    part.reset();  // the read ends here; the writes below use the same connection
    if (chunk.offset != received) return ChunkTaken::wrong_offset;
    data += chunk.data;
    if (chunk.last) {
        if (data.size() == chunk.size && workflow::sha256_hex(data) == chunk.sha256) {
            orders::write_attachment(
                db, {workflow::Attachment{chunk.sha256, chunk.media_type, chunk.size, chunk.name},
                     data, "centre", now_ms});
            Statement done(db, "DELETE FROM sync_attachment_parts WHERE sha256 = ?1");
            done.bind(1, chunk.sha256);
            done.execute("removing a completed transfer");
            return ChunkTaken::completed;
        }
        Statement discard(db,
                          "UPDATE sync_attachment_parts SET received = 0, data = x'' WHERE "
                          "sha256 = ?1");
        discard.bind(1, chunk.sha256);
        discard.execute("discarding a corrupt transfer");
        return ChunkTaken::corrupt;
    }
    Statement append(db,
                     "UPDATE sync_attachment_parts SET received = ?2, data = ?3, media_type = "
                     "?4, size = ?5, name = ?6 WHERE sha256 = ?1");
    append.bind_all(chunk.sha256, static_cast<std::int64_t>(data.size()), Blob{data},
                    chunk.media_type, static_cast<std::int64_t>(chunk.size), chunk.name);
    append.execute("appending an attachment chunk");
    return ChunkTaken::appended;
}

}  // namespace fw::sync
