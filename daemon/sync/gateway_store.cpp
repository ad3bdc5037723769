#include "daemon/sync/gateway_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <stdexcept>

#include "daemon/orders/order_store.hpp"
#include "daemon/store/sqlite_util.hpp"

namespace fw::sync {
namespace {

using store::detail::Statement;

bool next_row(sqlite3* db, Statement& statement) {
    const int rc = statement.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(fmt::format("reading the sync tables failed: {}", sqlite3_errmsg(db)));
}

void run_or_throw(sqlite3* db, Statement& statement, std::string_view what) {
    if (statement.run() != SQLITE_DONE) {
        throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errmsg(db)));
    }
}

std::optional<std::int64_t> optional_int(const Statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_int64(column);
}

// Every read of one state sees the same committed store.
class ReadTransaction {
  public:
    explicit ReadTransaction(sqlite3* db) : db_(db) {
        sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    }
    ~ReadTransaction() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

  private:
    sqlite3* db_;
};

// detail::Statement binds no blobs; the partial transfers are blobs.
class BlobStatement {
  public:
    BlobStatement(sqlite3* db, std::string_view sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
            SQLITE_OK) {
            throw std::runtime_error(
                fmt::format("preparing a sync statement: {}", sqlite3_errmsg(db)));
        }
    }
    ~BlobStatement() { sqlite3_finalize(stmt_); }
    BlobStatement(const BlobStatement&) = delete;
    BlobStatement& operator=(const BlobStatement&) = delete;

    void bind_text(int index, std::string_view text) {
        sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    }
    void bind_blob(int index, std::string_view bytes) {
        sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                          SQLITE_STATIC);
    }
    void bind_int(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
    bool row() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(
            fmt::format("an attachment transfer in the store: {}", sqlite3_errmsg(db_)));
    }
    std::int64_t int_at(int column) const { return sqlite3_column_int64(stmt_, column); }
    std::string blob_at(int column) const {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
        return data == nullptr
                   ? std::string()
                   : std::string(data,
                                 static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

GatewaySyncState read_sync_state(sqlite3* db, std::string_view origin) {
    GatewaySyncState state;
    state.origin = std::string(origin);
    const ReadTransaction snapshot(db);
    Statement identity(db, "SELECT incarnation FROM store_identity WHERE id = 1");
    if (!next_row(db, identity)) {
        throw std::runtime_error("the store has no identity row (store_identity)");
    }
    state.incarnation = identity.column_text(0);

    Statement cursor(db, "SELECT next_sequence FROM order_writer WHERE origin = ?1");
    cursor.bind(1, origin);
    if (next_row(db, cursor)) {
        state.next_sequence = static_cast<std::uint64_t>(cursor.column_int64(0));
    }

    Statement peer(db,
                   "SELECT coalesce(central_incarnation, ''), coalesce(known_incarnation, ''), "
                   "acked, down_applied, last_hello_ms, last_welcome_ms, last_ack_ms, "
                   "last_down_ms, verdict, message FROM sync_peer WHERE id = 1");
    if (next_row(db, peer)) {
        state.peer.central_incarnation = peer.column_text(0);
        state.peer.known_incarnation = peer.column_text(1);
        state.peer.acked = static_cast<std::uint64_t>(peer.column_int64(2));
        state.peer.down_applied = static_cast<std::uint64_t>(peer.column_int64(3));
        state.peer.last_hello_ms = optional_int(peer, 4);
        state.peer.last_welcome_ms = optional_int(peer, 5);
        state.peer.last_ack_ms = optional_int(peer, 6);
        state.peer.last_down_ms = optional_int(peer, 7);
        state.peer.verdict = peer.column_text(8);
        state.peer.message = peer.column_text(9);
    }

    Statement others(db,
                     "SELECT origin, max(sequence) FROM order_events WHERE origin <> ?1 "
                     "GROUP BY origin ORDER BY origin");
    others.bind(1, origin);
    while (next_row(db, others)) {
        state.centre_max[others.column_text(0)] =
            static_cast<std::uint64_t>(others.column_int64(1));
    }

    Statement backlog(db,
                      "SELECT count(*), min(queued_ms) FROM order_outbox WHERE origin = ?1 AND "
                      "synced_ms IS NULL");
    backlog.bind(1, origin);
    if (next_row(db, backlog)) {
        state.backlog = static_cast<std::uint64_t>(backlog.column_int64(0));
        state.oldest_unsynced_ms = optional_int(backlog, 1);
    }

    Statement quarantined(db,
                          "SELECT id, received_ms, down, event_id, reason FROM sync_quarantine "
                          "ORDER BY id");
    while (next_row(db, quarantined)) {
        state.quarantined.push_back({quarantined.column_int64(0), quarantined.column_int64(1),
                                     static_cast<std::uint64_t>(quarantined.column_int64(2)),
                                     quarantined.column_text(3), quarantined.column_text(4)});
    }

    Statement wanted(db,
                     "SELECT sha256, received, size, asked_ms FROM sync_attachment_parts "
                     "ORDER BY wanted_ms, sha256");
    while (next_row(db, wanted)) {
        state.wanted.push_back(
            {wanted.column_text(0), static_cast<std::uint64_t>(wanted.column_int64(1)),
             static_cast<std::uint64_t>(wanted.column_int64(2)), optional_int(wanted, 3)});
    }
    return state;
}

void write_hello_sent(sqlite3* db, std::int64_t now_ms) {
    Statement update(db, "UPDATE sync_peer SET last_hello_ms = ?1 WHERE id = 1");
    update.bind(1, now_ms);
    run_or_throw(db, update, "recording the hello");
}

void write_welcome(sqlite3* db, const Welcome& welcome, std::int64_t now_ms) {
    Statement update(db,
                     "UPDATE sync_peer SET central_incarnation = ?1, known_incarnation = ?2, "
                     "last_welcome_ms = ?3, verdict = ?4, message = ?5 WHERE id = 1");
    update.bind(1, std::string_view(welcome.incarnation));
    if (welcome.known_incarnation) {
        update.bind(2, std::string_view(*welcome.known_incarnation));
    } else {
        update.bind_null(2);
    }
    update.bind(3, now_ms);
    const std::string verdict(verdict_name(welcome.verdict));
    update.bind(4, std::string_view(verdict));
    update.bind(5, std::string_view(welcome.message));
    run_or_throw(db, update, "recording the welcome");
}

void write_acked(sqlite3* db, std::string_view origin, std::uint64_t received,
                 std::int64_t now_ms) {
    Statement synced(db,
                     "UPDATE order_outbox SET synced_ms = ?1 WHERE origin = ?2 AND sequence <= ?3 "
                     "AND synced_ms IS NULL");
    synced.bind(1, now_ms);
    synced.bind(2, origin);
    synced.bind(3, received);
    run_or_throw(db, synced, "marking the outbox synced");
    Statement peer(db,
                   "UPDATE sync_peer SET acked = max(acked, ?1), last_ack_ms = ?2 WHERE id = 1");
    peer.bind(1, received);
    peer.bind(2, now_ms);
    run_or_throw(db, peer, "recording the acknowledgement");
}

void write_rewind(sqlite3* db, std::string_view origin, std::uint64_t received) {
    Statement unsynced(db,
                       "UPDATE order_outbox SET synced_ms = NULL WHERE origin = ?1 AND "
                       "sequence > ?2");
    unsynced.bind(1, origin);
    unsynced.bind(2, received);
    run_or_throw(db, unsynced, "queueing events again for the centre");
    Statement peer(db, "UPDATE sync_peer SET acked = ?1 WHERE id = 1");
    peer.bind(1, received);
    run_or_throw(db, peer, "moving the acknowledged cursor back");
}

void write_down_applied(sqlite3* db, std::uint64_t down_applied,
                        const std::vector<QuarantineEntry>& refused,
                        const std::vector<workflow::Attachment>& missing, std::int64_t now_ms) {
    Statement quarantine(db,
                         "INSERT INTO sync_quarantine (received_ms, down, event_id, reason, raw) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& row : refused) {
        quarantine.bind(1, now_ms);
        quarantine.bind(2, row.down);
        quarantine.bind(3, std::string_view(row.event_id));
        quarantine.bind(4, std::string_view(row.reason));
        quarantine.bind(5, std::string_view(row.raw));
        run_or_throw(db, quarantine, "quarantining an event from the centre");
    }
    Statement wanted(db,
                     "INSERT INTO sync_attachment_parts (sha256, media_type, size, name, "
                     "wanted_ms) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM "
                     "order_attachments WHERE sha256 = ?1) ON CONFLICT (sha256) DO NOTHING");
    for (const auto& attachment : missing) {
        wanted.bind(1, std::string_view(attachment.sha256));
        wanted.bind(2, std::string_view(attachment.media_type));
        wanted.bind(3, attachment.size);
        wanted.bind(4, std::string_view(attachment.name));
        wanted.bind(5, now_ms);
        run_or_throw(db, wanted, "recording a wanted attachment");
    }
    Statement peer(db,
                   "UPDATE sync_peer SET down_applied = max(down_applied, ?1), last_down_ms = ?2 "
                   "WHERE id = 1");
    peer.bind(1, down_applied);
    peer.bind(2, now_ms);
    run_or_throw(db, peer, "recording the applied down sequence");
}

void write_need_sent(sqlite3* db, const std::vector<std::string>& sha256s, std::int64_t now_ms) {
    Statement asked(db, "UPDATE sync_attachment_parts SET asked_ms = ?1 WHERE sha256 = ?2");
    for (const auto& sha256 : sha256s) {
        asked.bind(1, now_ms);
        asked.bind(2, std::string_view(sha256));
        run_or_throw(db, asked, "recording an attachment request");
    }
}

}  // namespace fw::sync

namespace fw::sync {

std::optional<StoredAttachment> read_attachment(sqlite3* db, const std::string& sha256) {
    BlobStatement row(db,
                      "SELECT media_type, size, name, data FROM order_attachments WHERE sha256 = "
                      "?1");
    row.bind_text(1, sha256);
    if (!row.row()) return std::nullopt;
    StoredAttachment stored;
    stored.attachment.sha256 = sha256;
    stored.attachment.media_type = row.blob_at(0);
    stored.attachment.size = static_cast<std::uint64_t>(row.int_at(1));
    stored.attachment.name = row.blob_at(2);
    stored.data = row.blob_at(3);
    return stored;
}

ChunkTaken write_attachment_chunk(sqlite3* db, const AttachmentChunk& chunk, std::int64_t now_ms) {
    BlobStatement part(db, "SELECT received, data FROM sync_attachment_parts WHERE sha256 = ?1");
    part.bind_text(1, chunk.sha256);
    if (!part.row()) return ChunkTaken::not_wanted;
    const auto received = static_cast<std::uint64_t>(part.int_at(0));
    std::string data = part.blob_at(1);
    if (chunk.offset != received) return ChunkTaken::wrong_offset;
    data += chunk.data;
    if (chunk.last) {
        if (data.size() == chunk.size && workflow::sha256_hex(data) == chunk.sha256) {
            orders::write_attachment(
                db, {workflow::Attachment{chunk.sha256, chunk.media_type, chunk.size, chunk.name},
                     data, "centre", now_ms});
            BlobStatement done(db, "DELETE FROM sync_attachment_parts WHERE sha256 = ?1");
            done.bind_text(1, chunk.sha256);
            done.row();
            return ChunkTaken::completed;
        }
        BlobStatement discard(db,
                              "UPDATE sync_attachment_parts SET received = 0, data = x'' WHERE "
                              "sha256 = ?1");
        discard.bind_text(1, chunk.sha256);
        discard.row();
        return ChunkTaken::corrupt;
    }
    BlobStatement append(db,
                         "UPDATE sync_attachment_parts SET received = ?2, data = ?3, media_type = "
                         "?4, size = ?5, name = ?6 WHERE sha256 = ?1");
    append.bind_text(1, chunk.sha256);
    append.bind_int(2, static_cast<std::int64_t>(data.size()));
    append.bind_blob(3, data);
    append.bind_text(4, chunk.media_type);
    append.bind_int(5, static_cast<std::int64_t>(chunk.size));
    append.bind_text(6, chunk.name);
    append.row();
    return ChunkTaken::appended;
}

}  // namespace fw::sync
