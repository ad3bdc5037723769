#pragma once
// The work-order tables of the store (schemas/0004_work_orders.sql): writing an action's events,
// the outbox rows and the writer's cursor in one transaction (called from a store WriteJob on the
// writer thread), and reading everything back (the daemon at start, the CLI's read-only
// commands). Plain functions over a connection: no threads, no state.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/order.hpp"

struct sqlite3;

namespace fw::orders {

using workflow::Attachment;
using workflow::Event;
using workflow::Hlc;

struct WriterCursor {
    std::string origin;
    std::uint64_t next_sequence = 1;
    Hlc last_hlc;
};

// (prefix, plant-local day "2026-11-29") -> the last human-number counter used.
using DayCounters = std::map<std::pair<std::string, std::string>, std::uint32_t>;

// A row of order_events that could not be read back as an event (someone edited the file).
struct UnreadableRow {
    std::int64_t row_id = 0;
    std::string order_id;
    std::string event_id;
    std::string problem;
};

struct StoredOrders {
    std::vector<Event> events;  // every readable event, in the order written (row id)
    std::vector<UnreadableRow> unreadable;
    std::vector<WriterCursor> cursors;  // one per origin that wrote here
    std::string anonymity_key;
    std::int64_t last_alarm_event_id = 0;
    DayCounters day_counters;
    std::map<std::string, Attachment, std::less<>> attachments;  // by sha256, metadata only

    const WriterCursor* cursor_of(std::string_view origin) const;
};

// Reads every work-order table in one read transaction. Throws std::runtime_error naming the table
// when the store has none of them (a file from before schema 4), store::SqliteError when a read
// fails or the transaction cannot start (e.g. `db` is already in one).
StoredOrders load_orders(sqlite3* db);

// Every order folded from its events, and each order's events in written order.
struct OrderIndex {
    std::map<std::string, workflow::OrderState, std::less<>> states;
    std::map<std::string, std::vector<Event>, std::less<>> events_by_order;
    std::map<std::string, std::string, std::less<>> id_by_number;  // upper-case human number
    std::vector<workflow::OrderState> all() const;
    // An order by id or human number (case-insensitive); nullptr when there is none.
    const workflow::OrderState* find(std::string_view id_or_number) const;
    // Every order `id_or_number` names: the one with that id, else each whose number it is (at a
    // centre, gateways number their orders independently, so one number can name several).
    std::vector<const workflow::OrderState*> named_by(std::string_view id_or_number) const;
};
OrderIndex index_orders(const std::vector<Event>& events);

// index_orders(load_orders(db).events), kept up to date instead of rebuilt: the first refresh
// reads every event, later ones only the rows written since the last (order_events is
// append-only, schemas/0004), adds them to their orders' events and folds again only the orders
// they touched. What a read of the web API or /metrics costs then follows what changed, not the
// whole history. One per read-only connection, used on that connection's thread.
class OrderIndexCache {
  public:
    // The index as of the store's last commit. Throws store::SqliteError when a read fails (the
    // cache is then rebuilt by the next refresh), std::runtime_error as load_orders does for a
    // store without the work-order tables.
    const OrderIndex& refresh(sqlite3* db);

  private:
    OrderIndex index_;
    std::int64_t last_row_ = 0;  // the highest order_events id folded in; 0: nothing yet
};

// What one accepted command writes, in one savepoint of the writer's transaction.
struct EventBatch {
    std::vector<Event> events;
    WriterCursor cursor;  // after the events
    std::optional<std::pair<std::pair<std::string, std::string>, std::uint32_t>> day_counter;
    std::optional<std::int64_t> alarm_event_id;  // the alarm event these events answer
    std::int64_t queued_ms = 0;
};
// Throws store::SqliteError (the job fails alone) on any SQLite error, e.g. a repeated event id.
void write_event_batch(sqlite3* db, const EventBatch& batch);

// Events another node wrote (the centre's, applied by the sync agent): into order_events only,
// never the outbox (they are not this node's to send), with this node's writer cursor (its HLC
// advanced past them). Throws std::runtime_error on any SQLite error.
void write_remote_events(sqlite3* db, const std::vector<Event>& events, const WriterCursor& cursor);

// This node's own events written here (in the outbox), never acknowledged by the centre, with a
// sequence at or below `up_to`: what a reseed would collide with (daemon/sync/README.md "Reseed").
std::uint64_t count_unsynced_own_events(sqlite3* db, std::string_view origin, std::uint64_t up_to);
// Raises the order number counters to at least these (a reseed brings back numbered orders).
void write_day_counters(sqlite3* db, const DayCounters& counters);

// One stored event as the text sync sends (workflow::event_text_from_stored).
struct OriginEventText {
    std::uint64_t sequence = 0;
    std::string text;
};
// This origin's events from `from_sequence` on, in sequence order, at most `limit`, as text (the
// sync agent's outbox read: no event is decoded). Stops before a row that is not a valid event;
// throws std::runtime_error, naming it, when that is the first row.
std::vector<OriginEventText> read_origin_event_texts(sqlite3* db, std::string_view origin,
                                                     std::uint64_t from_sequence,
                                                     std::size_t limit);
// Moves the alarm cursor forward (never back).
void write_alarm_cursor(sqlite3* db, std::int64_t alarm_event_id);

struct AttachmentUpload {
    Attachment attachment;
    std::string data;  // the bytes
    std::string uploaded_by;
    std::int64_t uploaded_ms = 0;
};
// Content-addressed: uploading the same bytes again keeps the first row.
void write_attachment(sqlite3* db, const AttachmentUpload& upload);
// The bytes of a stored attachment; nullopt when there is none with that hash.
std::optional<std::string> read_attachment_data(sqlite3* db, const std::string& sha256);

struct IncidentRecord {
    std::int64_t id = 0;
    std::string kind;  // "incident" or "hours"
    std::int64_t at_ms = 0;
    std::int64_t until_ms = 0;  // hours: the end of the period; incidents: = at_ms
    std::string area;           // empty: the whole site
    double hours = 0;
    std::string description;
    std::string recorded_by;
    std::int64_t recorded_ms = 0;
};
void write_incident(sqlite3* db, const IncidentRecord& record);
std::vector<IncidentRecord> load_incidents(sqlite3* db);

}  // namespace fw::orders
