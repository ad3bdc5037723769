#pragma once
// The gateway's sync tables (schemas/0008_sync.sql): what the agent reads to say hello and to
// show `floorwatch sync`, and what it writes as the exchange goes on. Plain functions over a
// connection: reads on the agent's read-only connection (or the CLI's), writes inside store jobs
// on the writer thread. Each throws std::runtime_error on an SQLite error.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/order.hpp"

struct sqlite3;

namespace fw::sync {

struct PeerRecord {
    std::string central_incarnation;
    std::string known_incarnation;
    std::uint64_t acked = 0;
    std::uint64_t down_applied = 0;
    std::optional<std::int64_t> last_hello_ms;
    std::optional<std::int64_t> last_welcome_ms;
    std::optional<std::int64_t> last_ack_ms;
    std::optional<std::int64_t> last_down_ms;
    std::string verdict;  // "", "ok" or "reseed"
    std::string message;
};

struct QuarantinedRow {
    std::int64_t id = 0;
    std::int64_t received_ms = 0;
    std::uint64_t down = 0;
    std::string event_id;
    std::string reason;
};

// A down event that could not be applied, for sync_quarantine.
struct QuarantineEntry {
    std::uint64_t down = 0;
    std::string event_id;  // "<origin>:<sequence>" as far as it could be read; "" if not
    std::string reason;
    std::string raw;
};

struct WantedAttachment {
    std::string sha256;
    std::uint64_t received = 0;  // bytes held so far
    std::uint64_t size = 0;      // 0 until the first chunk says
    std::optional<std::int64_t> asked_ms;
};

// Everything `hello` and `floorwatch sync` need, read in one transaction.
struct GatewaySyncState {
    std::string incarnation;
    std::string origin;
    std::uint64_t next_sequence = 1;  // the writer cursor of `origin`
    PeerRecord peer;
    std::map<std::string, std::uint64_t> centre_max;  // other origins: highest sequence held
    std::uint64_t backlog = 0;                        // own events not acknowledged
    std::optional<std::int64_t> oldest_unsynced_ms;   // queued time of the oldest of them
    std::vector<QuarantinedRow> quarantined;
    std::vector<WantedAttachment> wanted;
};

GatewaySyncState read_sync_state(sqlite3* db, std::string_view origin);

// Own events not acknowledged yet, and the queued time of the oldest: what the agent refreshes
// after every ack. Only the outbox's partial index is read; read_sync_state also scans every
// event for the other origins' highest sequences, which made each ack of a long drain cost a
// pass over the whole order_events table.
struct Backlog {
    std::uint64_t events = 0;
    std::optional<std::int64_t> oldest_unsynced_ms;
};
Backlog read_backlog(sqlite3* db, std::string_view origin);

void write_hello_sent(sqlite3* db, std::int64_t now_ms);
void write_welcome(sqlite3* db, const Welcome& welcome, std::int64_t now_ms);
// The centre has every sequence up to `received`: outbox rows up to it synced, `acked` raised.
void write_acked(sqlite3* db, std::string_view origin, std::uint64_t received, std::int64_t now_ms);
// The centre holds less than was acknowledged (restored from a backup): those rows are unsynced
// again and `acked` goes back to `received`.
void write_rewind(sqlite3* db, std::string_view origin, std::uint64_t received);
// Down events first..down_applied are applied (or quarantined, `refused`); attachments they
// name that the store lacks become wanted. Inside the order service's remote-events job.
void write_down_applied(sqlite3* db, std::uint64_t down_applied,
                        const std::vector<QuarantineEntry>& refused,
                        const std::vector<workflow::Attachment>& missing, std::int64_t now_ms);
void write_need_sent(sqlite3* db, const std::vector<std::string>& sha256s, std::int64_t now_ms);

// Seed events the order service could not apply, quarantined with their index in the seed part
// as `down` (the reason says they came with a seed).
void write_seed_quarantine(sqlite3* db, const std::vector<QuarantineEntry>& refused,
                           const std::vector<workflow::Attachment>& missing, std::int64_t now_ms);
// The last seed part is applied: the centre holds this origin up to `origin_sequence` (acked,
// outbox rows up to it synced) and gave this gateway down events up to `down_last`; the verdict
// is cleared until the next welcome. Inside the order service's job of that part.
void write_reseeded(sqlite3* db, std::string_view origin, std::uint64_t origin_sequence,
                    std::uint64_t down_last, const std::string& message, std::int64_t now_ms);

// A stored attachment with its bytes, to answer the centre's `need`; nullopt when there is none.
struct StoredAttachment {
    workflow::Attachment attachment;
    std::string data;
};
std::optional<StoredAttachment> read_attachment(sqlite3* db, const std::string& sha256);

enum class ChunkTaken {
    appended,      // held; more to come
    completed,     // the whole file matched its sha256 and is in order_attachments now
    corrupt,       // the whole did not match: discarded, to be asked again from 0
    wrong_offset,  // not where the transfer stands: ignored, to be asked again
    not_wanted,    // held already, or never asked for
};
// Appends a chunk from the centre to its partial transfer (sync_attachment_parts); the last one
// is checked against the sha256 and stored as an attachment uploaded by "centre".
ChunkTaken write_attachment_chunk(sqlite3* db, const AttachmentChunk& chunk, std::int64_t now_ms);

}  // namespace fw::sync
