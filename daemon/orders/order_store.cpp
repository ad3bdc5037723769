#include "daemon/orders/order_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include "daemon/store/sqlite.hpp"
#include "daemon/workflow/numbering.hpp"

namespace fw::orders {
namespace {

using store::Statement;
using workflow::OrderState;

// Every read is checked (Statement::next_row throws): a read that silently stopped early would
// look like fewer orders, counters or cursors than there are, and the daemon would then repeat
// numbers, replay alarm events or open duplicate orders.
constexpr std::string_view kReadingOrders = "reading the work orders from the store";

std::string upper(std::string_view text) {
    std::string result(text);
    for (auto& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return result;
}

// Every column of order_events, in the order stored_columns reads them.
std::string select_events(std::string_view rest) {
    return fmt::format(
        "SELECT id, origin, sequence, order_id, type, actor, role, wall_ms, clock_synced, hlc_ms, "
        "hlc_logical, format, payload, prev_hash, hash FROM order_events {}",
        rest);
}

// A row of select_events as it is stored; the views live until the row moves on.
workflow::StoredEventText stored_columns(const Statement& row) {
    workflow::StoredEventText stored;
    stored.origin = row.column_text_view(1);
    stored.sequence = static_cast<std::uint64_t>(row.column_int64(2));
    stored.order_id = row.column_text_view(3);
    stored.type = row.column_text_view(4);
    stored.actor = row.column_text_view(5);
    stored.role = row.column_text_view(6);
    stored.wall_ms = row.column_int64(7);
    stored.clock_synced = row.column_int64(8) != 0;
    stored.hlc_ms = row.column_int64(9);
    stored.hlc_logical = row.column_int64(10);
    stored.format = row.column_int64(11);
    stored.payload = row.column_text_view(12);
    stored.prev_hash = row.column_text_view(13);
    stored.hash = row.column_text_view(14);
    return stored;
}

std::optional<Event> event_from_row(const Statement& row, std::string& problem) {
    const auto stored = stored_columns(row);
    Event event;
    event.id.origin = std::string(stored.origin);
    event.id.sequence = stored.sequence;
    event.order_id = std::string(stored.order_id);
    const auto parsed_type = workflow::event_type_from_name(stored.type);
    if (!parsed_type) {
        problem = fmt::format("unknown event type '{}'", stored.type);
        return std::nullopt;
    }
    event.type = *parsed_type;
    event.actor = std::string(stored.actor);
    const auto parsed_role = workflow::role_from_name(stored.role);
    if (!parsed_role) {
        problem = fmt::format("unknown role '{}'", stored.role);
        return std::nullopt;
    }
    event.role = *parsed_role;
    event.wall_ms = stored.wall_ms;
    event.clock_synced = stored.clock_synced;
    event.hlc.physical_ms = stored.hlc_ms;
    event.hlc.logical = static_cast<std::uint32_t>(stored.hlc_logical);
    boost::system::error_code error;
    auto payload = boost::json::parse(stored.payload, error);
    if (error || !payload.is_object()) {
        problem = "payload is not a JSON object";
        return std::nullopt;
    }
    event.payload = std::move(payload.as_object());
    event.prev_hash = std::string(stored.prev_hash);
    event.hash = std::string(stored.hash);
    if (stored.format != workflow::kEventFormat) {
        problem = fmt::format("event format {} is not {}", stored.format, workflow::kEventFormat);
        return std::nullopt;
    }
    return event;
}

// The statements of load_orders, prepared before anything is read: a store from before schema 4
// fails here, with a message that says what to do.
struct OrderQueries {
    explicit OrderQueries(sqlite3* db)
        : events(db, select_events("ORDER BY id")),
          cursors(db,
                  "SELECT origin, next_sequence, hlc_ms, hlc_logical FROM order_writer "
                  "ORDER BY origin"),
          key(db, "SELECT value FROM order_keys WHERE name = 'anonymity'"),
          alarm_cursor(db, "SELECT last_alarm_event_id FROM order_alarm_cursor WHERE id = 1"),
          counters(db, "SELECT prefix, day, last_counter FROM order_number_counters"),
          attachments(db, "SELECT sha256, media_type, size, name FROM order_attachments") {}

    Statement events;
    Statement cursors;
    Statement key;
    Statement alarm_cursor;
    Statement counters;
    Statement attachments;
};

}  // namespace

const WriterCursor* StoredOrders::cursor_of(std::string_view origin) const {
    for (const auto& cursor : cursors) {
        if (cursor.origin == origin) return &cursor;
    }
    return nullptr;
}

StoredOrders load_orders(sqlite3* db) {
    // One read transaction: every table read sees the same committed state, so `floorwatch verify`
    // never sees a cursor that is ahead of the events it read.
    store::Transaction snapshot(db, store::Transaction::Kind::deferred, "reading the work orders");
    std::optional<OrderQueries> prepared;
    try {
        prepared.emplace(db);
    } catch (const store::StoreError& error) {
        throw std::runtime_error(fmt::format(
            "the store has no work-order tables ({}); start floorwatchd once with this version "
            "so that it migrates the file",
            error.what()));
    }
    OrderQueries& sql = *prepared;
    StoredOrders stored;
    while (sql.events.next_row(kReadingOrders)) {
        std::string problem;
        if (auto event = event_from_row(sql.events, problem)) {
            stored.events.push_back(std::move(*event));
        } else {
            stored.unreadable.push_back(
                {sql.events.column_int64(0), sql.events.column_text(3),
                 fmt::format("{}:{}", sql.events.column_text(1), sql.events.column_int64(2)),
                 problem});
        }
    }
    while (sql.cursors.next_row(kReadingOrders)) {
        stored.cursors.push_back({sql.cursors.column_text(0),
                                  static_cast<std::uint64_t>(sql.cursors.column_int64(1)),
                                  Hlc{sql.cursors.column_int64(2),
                                      static_cast<std::uint32_t>(sql.cursors.column_int64(3))}});
    }
    if (sql.key.next_row(kReadingOrders)) {
        stored.anonymity_key = sql.key.column_text(0);
        sql.key.reset();
    }
    if (sql.alarm_cursor.next_row(kReadingOrders)) {
        stored.last_alarm_event_id = sql.alarm_cursor.column_int64(0);
        sql.alarm_cursor.reset();
    }
    while (sql.counters.next_row(kReadingOrders)) {
        stored.day_counters[{sql.counters.column_text(0), sql.counters.column_text(1)}] =
            static_cast<std::uint32_t>(sql.counters.column_int64(2));
    }
    while (sql.attachments.next_row(kReadingOrders)) {
        Attachment attachment{sql.attachments.column_text(0), sql.attachments.column_text(1),
                              static_cast<std::uint64_t>(sql.attachments.column_int64(2)),
                              sql.attachments.column_text(3)};
        stored.attachments.emplace(attachment.sha256, std::move(attachment));
    }
    prepared.reset();
    snapshot.commit();
    return stored;
}

std::vector<OrderState> OrderIndex::all() const {
    std::vector<OrderState> orders;
    orders.reserve(states.size());
    for (const auto& [id, state] : states) orders.push_back(state);
    return orders;
}

const OrderState* OrderIndex::find(std::string_view id_or_number) const {
    if (const auto it = states.find(id_or_number); it != states.end()) return &it->second;
    if (const auto it = id_by_number.find(upper(id_or_number)); it != id_by_number.end()) {
        if (const auto state = states.find(it->second); state != states.end()) {
            return &state->second;
        }
    }
    return nullptr;
}

std::vector<const OrderState*> OrderIndex::named_by(std::string_view id_or_number) const {
    if (const auto it = states.find(id_or_number); it != states.end()) return {&it->second};
    const std::string number = upper(id_or_number);
    std::vector<const OrderState*> named;
    for (const auto& [id, state] : states) {
        if (upper(state.number) == number) named.push_back(&state);
    }
    return named;
}

OrderIndex index_orders(const std::vector<Event>& events) {
    OrderIndex index;
    for (const auto& event : events) index.events_by_order[event.order_id].push_back(event);
    for (const auto& [id, order_events] : index.events_by_order) {
        auto state = workflow::fold(order_events);
        if (!state.exists()) continue;
        if (!state.number.empty()) index.id_by_number[upper(state.number)] = id;
        index.states.emplace(id, std::move(state));
    }
    return index;
}

const OrderIndex& OrderIndexCache::refresh(sqlite3* db) {
    store::Transaction snapshot(db, store::Transaction::Kind::deferred,
                                "reading the new work-order events");
    std::int64_t newest = 0;
    {
        Statement max_row(db, "SELECT coalesce(max(id), 0) FROM order_events");
        if (max_row.next_row(kReadingOrders)) newest = max_row.column_int64(0);
        max_row.reset();
    }
    // Rows never go away; fewer than before means another file: start again.
    if (newest < last_row_) {
        index_ = OrderIndex();
        last_row_ = 0;
    }
    if (newest == last_row_) {
        snapshot.commit();
        return index_;
    }
    const bool first = last_row_ == 0;
    Statement events(db, select_events("WHERE id > ?1 AND id <= ?2 ORDER BY id"));
    events.bind(1, last_row_);
    events.bind(2, newest);
    std::set<std::string, std::less<>> touched;
    try {
        while (events.next_row(kReadingOrders)) {
            std::string problem;
            // An unreadable row is left out, as load_orders leaves it out of its events.
            if (auto event = event_from_row(events, problem)) {
                touched.insert(event->order_id);
                index_.events_by_order[event->order_id].push_back(std::move(*event));
            }
        }
    } catch (...) {
        // Half of the new rows are in events_by_order: forget everything, the next refresh
        // reads it all again.
        index_ = OrderIndex();
        last_row_ = 0;
        throw;
    }
    events.reset();
    snapshot.commit();
    last_row_ = newest;
    if (first) {
        // Everything is new: the same folds as index_orders, without a set of every id.
        touched.clear();
        for (const auto& [id, order_events] : index_.events_by_order) touched.insert(id);
    }
    // index_orders maps a number to the highest order id holding it (its last assignment in id
    // order). A number that stays with its order keeps that rule by taking the higher id; one
    // that moved or went away (events from another node folded in before the first ones) makes
    // the whole map be built again.
    bool renumbered = false;
    for (const auto& id : touched) {
        auto state = workflow::fold(index_.events_by_order.at(id));
        if (const auto old = index_.states.find(id); old != index_.states.end()) {
            renumbered = renumbered || !state.exists() || old->second.number != state.number;
            index_.states.erase(old);
        }
        if (!state.exists()) continue;
        if (!state.number.empty()) {
            auto& mapped = index_.id_by_number[upper(state.number)];
            if (mapped.empty() || mapped < id) mapped = id;
        }
        index_.states.emplace(id, std::move(state));
    }
    if (renumbered) {
        index_.id_by_number.clear();
        for (const auto& [id, state] : index_.states) {
            if (!state.number.empty()) index_.id_by_number[upper(state.number)] = id;
        }
    }
    return index_;
}

namespace {

constexpr std::string_view kInsertEvent =
    "INSERT INTO order_events (origin, sequence, order_id, type, actor, role, wall_ms, "
    "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

void insert_event_row(Statement& insert_event, const Event& event) {
    const std::string type(workflow::event_type_name(event.type));
    const std::string role(workflow::role_name(event.role));
    const std::string payload = workflow::canonical_json(event.payload);
    insert_event.bind_all(event.id.origin, event.id.sequence, event.order_id, type, event.actor,
                          role, event.wall_ms, std::int64_t{event.clock_synced ? 1 : 0},
                          event.hlc.physical_ms, std::int64_t{event.hlc.logical},
                          workflow::kEventFormat, payload, event.prev_hash, event.hash);
    insert_event.execute(
        fmt::format("writing event {} of order {}", event.id.to_string(), event.order_id));
}

void write_cursor(sqlite3* db, const WriterCursor& writer_cursor) {
    Statement cursor(db,
                     "INSERT INTO order_writer (origin, next_sequence, hlc_ms, hlc_logical) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (origin) DO UPDATE SET "
                     "next_sequence = excluded.next_sequence, hlc_ms = excluded.hlc_ms, "
                     "hlc_logical = excluded.hlc_logical");
    cursor.bind_all(writer_cursor.origin, writer_cursor.next_sequence,
                    writer_cursor.last_hlc.physical_ms,
                    std::int64_t{writer_cursor.last_hlc.logical});
    cursor.execute("saving the event writer's cursor");
}

}  // namespace

void write_remote_events(sqlite3* db, const std::vector<Event>& events,
                         const WriterCursor& cursor) {
    Statement insert_event(db, kInsertEvent);
    for (const auto& event : events) insert_event_row(insert_event, event);
    write_cursor(db, cursor);
}

std::vector<OriginEventText> read_origin_event_texts(sqlite3* db, std::string_view origin,
                                                     std::uint64_t from_sequence,
                                                     std::size_t limit) {
    Statement rows(
        db, select_events("WHERE origin = ?1 AND sequence >= ?2 ORDER BY sequence LIMIT ?3"));
    rows.bind_all(origin, from_sequence, static_cast<std::uint64_t>(limit));
    std::vector<OriginEventText> texts;
    texts.reserve(limit);
    while (rows.next_row("reading this gateway's events for sync")) {
        const auto stored = stored_columns(rows);
        auto text = workflow::event_text_from_stored(stored);
        if (!text) {
            const std::string id = fmt::format("{}:{}", stored.origin, stored.sequence);
            rows.reset();
            // What came before it still goes; the next read starts at this row and says why.
            if (!texts.empty()) return texts;
            throw std::runtime_error(fmt::format(
                "event {} cannot be read: {}; run floorwatch verify", id, text.error()));
        }
        texts.push_back({stored.sequence, std::move(*text)});
    }
    return texts;
}

void write_event_batch(sqlite3* db, const EventBatch& batch) {
    Statement insert_event(db, kInsertEvent);
    Statement insert_outbox(db,
                            "INSERT INTO order_outbox (event_row, origin, sequence, queued_ms) "
                            "VALUES (?1, ?2, ?3, ?4)");
    for (const auto& event : batch.events) {
        insert_event_row(insert_event, event);
        insert_outbox.bind_all(std::int64_t{sqlite3_last_insert_rowid(db)}, event.id.origin,
                               event.id.sequence, batch.queued_ms);
        insert_outbox.execute("queueing the event for sync");
    }
    write_cursor(db, batch.cursor);
    if (batch.day_counter) {
        Statement counter(db,
                          "INSERT INTO order_number_counters (prefix, day, last_counter) VALUES "
                          "(?1, ?2, ?3) ON CONFLICT (prefix, day) DO UPDATE SET last_counter = "
                          "max(last_counter, excluded.last_counter)");
        counter.bind(1, batch.day_counter->first.first);
        counter.bind(2, batch.day_counter->first.second);
        counter.bind(3, std::int64_t{batch.day_counter->second});
        counter.execute("saving the order number counter");
    }
    if (batch.alarm_event_id) write_alarm_cursor(db, *batch.alarm_event_id);
}

std::uint64_t count_unsynced_own_events(sqlite3* db, std::string_view origin, std::uint64_t up_to) {
    Statement count(db,
                    "SELECT count(*) FROM order_outbox WHERE origin = ?1 AND sequence <= ?2 AND "
                    "synced_ms IS NULL");
    count.bind(1, origin);
    count.bind(2, up_to);
    if (!count.next_row("counting this gateway's unsynced events")) return 0;
    const auto found = static_cast<std::uint64_t>(count.column_int64(0));
    count.reset();
    return found;
}

void write_day_counters(sqlite3* db, const DayCounters& counters) {
    Statement counter(db,
                      "INSERT INTO order_number_counters (prefix, day, last_counter) VALUES "
                      "(?1, ?2, ?3) ON CONFLICT (prefix, day) DO UPDATE SET last_counter = "
                      "max(last_counter, excluded.last_counter)");
    for (const auto& [key, last] : counters) {
        counter.bind(1, key.first);
        counter.bind(2, key.second);
        counter.bind(3, std::int64_t{last});
        counter.execute("saving an order number counter");
    }
}

void write_alarm_cursor(sqlite3* db, std::int64_t alarm_event_id) {
    Statement statement(db,
                        "UPDATE order_alarm_cursor SET last_alarm_event_id = "
                        "max(last_alarm_event_id, ?1) WHERE id = 1");
    statement.bind(1, alarm_event_id);
    statement.execute("saving the processed alarm event id");
}

void write_attachment(sqlite3* db, const AttachmentUpload& upload) {
    Statement statement(db,
                        "INSERT INTO order_attachments (sha256, media_type, size, name, "
                        "uploaded_by, uploaded_ms, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                        "ON CONFLICT (sha256) DO NOTHING");
    const auto& meta = upload.attachment;
    statement.bind_all(meta.sha256, meta.media_type, meta.size, meta.name, upload.uploaded_by,
                       upload.uploaded_ms, store::Blob{upload.data});
    statement.execute(fmt::format("storing attachment {}", meta.name));
}

std::optional<std::string> read_attachment_data(sqlite3* db, const std::string& sha256) {
    Statement statement(db, "SELECT data FROM order_attachments WHERE sha256 = ?1");
    statement.bind(1, sha256);
    std::optional<std::string> data;
    if (statement.next_row(fmt::format("reading attachment {}", sha256))) {
        data = statement.column_blob(0);
    }
    return data;
}

void write_incident(sqlite3* db, const IncidentRecord& record) {
    Statement statement(db,
                        "INSERT INTO recorded_incidents (kind, at_ms, until_ms, area, hours, "
                        "description, recorded_by, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                        "?7, ?8)");
    statement.bind_all(record.kind, record.at_ms, record.until_ms, record.area, record.hours,
                       record.description, record.recorded_by, record.recorded_ms);
    statement.execute("recording the incident");
}

std::vector<IncidentRecord> load_incidents(sqlite3* db) {
    Statement statement(db,
                        "SELECT id, kind, at_ms, until_ms, area, hours, description, "
                        "recorded_by, recorded_ms FROM recorded_incidents ORDER BY at_ms, id");
    std::vector<IncidentRecord> records;
    while (statement.next_row("reading the recorded incidents")) {
        records.push_back(
            {statement.column_int64(0), statement.column_text(1), statement.column_int64(2),
             statement.column_int64(3), statement.column_text(4), statement.column_double(5),
             statement.column_text(6), statement.column_text(7), statement.column_int64(8)});
    }
    return records;
}

}  // namespace fw::orders
