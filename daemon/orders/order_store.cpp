#include "daemon/orders/order_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>

#include "daemon/store/sqlite_util.hpp"
#include "daemon/store/store.hpp"
#include "daemon/workflow/numbering.hpp"

namespace fw::orders {
namespace {

using store::detail::Statement;
using workflow::OrderState;

// SQLITE_ROW: true; SQLITE_DONE: false; anything else throws. A read that silently stopped early
// would look like fewer orders, counters or cursors than there are, and the daemon would then
// repeat numbers, replay alarm events or open duplicate orders.
bool next_row(sqlite3* db, Statement& statement) {
    const int rc = statement.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(
        fmt::format("reading the work orders from the store failed: {}", sqlite3_errmsg(db)));
}

// One read transaction: every table read sees the same committed state, so `floorwatch verify`
// never sees a cursor that is ahead of the events it read.
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

std::string sqlite_message(sqlite3* db, std::string_view what) {
    return fmt::format("{}: {}", what, sqlite3_errmsg(db));
}

void run_or_throw(sqlite3* db, Statement& statement, std::string_view what) {
    if (statement.run() != SQLITE_DONE) throw std::runtime_error(sqlite_message(db, what));
}

std::string upper(std::string_view text) {
    std::string result(text);
    for (auto& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return result;
}

// A statement that binds a blob, which detail::Statement does not offer.
struct RawStatement {
    sqlite3_stmt* stmt = nullptr;
    RawStatement(sqlite3* db, std::string_view sql) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
            SQLITE_OK) {
            throw std::runtime_error(sqlite_message(db, "preparing an attachment statement"));
        }
    }
    ~RawStatement() { sqlite3_finalize(stmt); }
    RawStatement(const RawStatement&) = delete;
    RawStatement& operator=(const RawStatement&) = delete;
};

std::optional<Event> event_from_row(Statement& row, std::string& problem) {
    Event event;
    event.id.origin = row.column_text(1);
    event.id.sequence = static_cast<std::uint64_t>(row.column_int64(2));
    event.order_id = row.column_text(3);
    const std::string type = row.column_text(4);
    const auto parsed_type = workflow::event_type_from_name(type);
    if (!parsed_type) {
        problem = fmt::format("unknown event type '{}'", type);
        return std::nullopt;
    }
    event.type = *parsed_type;
    event.actor = row.column_text(5);
    const std::string role = row.column_text(6);
    const auto parsed_role = workflow::role_from_name(role);
    if (!parsed_role) {
        problem = fmt::format("unknown role '{}'", role);
        return std::nullopt;
    }
    event.role = *parsed_role;
    event.wall_ms = row.column_int64(7);
    event.clock_synced = row.column_int64(8) != 0;
    event.hlc.physical_ms = row.column_int64(9);
    event.hlc.logical = static_cast<std::uint32_t>(row.column_int64(10));
    const std::string payload_text = row.column_text(12);
    boost::system::error_code error;
    auto payload = boost::json::parse(payload_text, error);
    if (error || !payload.is_object()) {
        problem = "payload is not a JSON object";
        return std::nullopt;
    }
    event.payload = std::move(payload.as_object());
    event.prev_hash = row.column_text(13);
    event.hash = row.column_text(14);
    if (row.column_int64(11) != workflow::kEventFormat) {
        problem =
            fmt::format("event format {} is not {}", row.column_int64(11), workflow::kEventFormat);
        return std::nullopt;
    }
    return event;
}

}  // namespace

const WriterCursor* StoredOrders::cursor_of(std::string_view origin) const {
    for (const auto& cursor : cursors) {
        if (cursor.origin == origin) return &cursor;
    }
    return nullptr;
}

StoredOrders load_orders(sqlite3* db) {
    StoredOrders stored;
    const ReadTransaction snapshot(db);
    try {
        Statement events(db,
                         "SELECT id, origin, sequence, order_id, type, actor, role, wall_ms, "
                         "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash "
                         "FROM order_events ORDER BY id");
        while (next_row(db, events)) {
            std::string problem;
            if (auto event = event_from_row(events, problem)) {
                stored.events.push_back(std::move(*event));
            } else {
                stored.unreadable.push_back(
                    {events.column_int64(0), events.column_text(3),
                     fmt::format("{}:{}", events.column_text(1), events.column_int64(2)), problem});
            }
        }
        Statement cursors(db,
                          "SELECT origin, next_sequence, hlc_ms, hlc_logical FROM order_writer "
                          "ORDER BY origin");
        while (next_row(db, cursors)) {
            stored.cursors.push_back({cursors.column_text(0),
                                      static_cast<std::uint64_t>(cursors.column_int64(1)),
                                      Hlc{cursors.column_int64(2),
                                          static_cast<std::uint32_t>(cursors.column_int64(3))}});
        }
        Statement key(db, "SELECT value FROM order_keys WHERE name = 'anonymity'");
        if (next_row(db, key)) stored.anonymity_key = key.column_text(0);
        Statement alarm_cursor(db,
                               "SELECT last_alarm_event_id FROM order_alarm_cursor WHERE id = 1");
        if (next_row(db, alarm_cursor)) {
            stored.last_alarm_event_id = alarm_cursor.column_int64(0);
        }
        Statement counters(db, "SELECT prefix, day, last_counter FROM order_number_counters");
        while (next_row(db, counters)) {
            stored.day_counters[{counters.column_text(0), counters.column_text(1)}] =
                static_cast<std::uint32_t>(counters.column_int64(2));
        }
        Statement attachments(db, "SELECT sha256, media_type, size, name FROM order_attachments");
        while (next_row(db, attachments)) {
            Attachment attachment{attachments.column_text(0), attachments.column_text(1),
                                  static_cast<std::uint64_t>(attachments.column_int64(2)),
                                  attachments.column_text(3)};
            stored.attachments.emplace(attachment.sha256, std::move(attachment));
        }
    } catch (const store::StoreError& error) {
        throw std::runtime_error(fmt::format(
            "the store has no work-order tables ({}); start floorwatchd once with this version "
            "so that it migrates the file",
            error.what()));
    }
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

namespace {

constexpr std::string_view kInsertEvent =
    "INSERT INTO order_events (origin, sequence, order_id, type, actor, role, wall_ms, "
    "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

void insert_event_row(sqlite3* db, Statement& insert_event, const Event& event) {
    const std::string type(workflow::event_type_name(event.type));
    const std::string role(workflow::role_name(event.role));
    const std::string payload = workflow::canonical_json(event.payload);
    insert_event.bind(1, std::string_view(event.id.origin));
    insert_event.bind(2, event.id.sequence);
    insert_event.bind(3, std::string_view(event.order_id));
    insert_event.bind(4, std::string_view(type));
    insert_event.bind(5, std::string_view(event.actor));
    insert_event.bind(6, std::string_view(role));
    insert_event.bind(7, event.wall_ms);
    insert_event.bind(8, std::int64_t{event.clock_synced ? 1 : 0});
    insert_event.bind(9, event.hlc.physical_ms);
    insert_event.bind(10, std::int64_t{event.hlc.logical});
    insert_event.bind(11, workflow::kEventFormat);
    insert_event.bind(12, std::string_view(payload));
    insert_event.bind(13, std::string_view(event.prev_hash));
    insert_event.bind(14, std::string_view(event.hash));
    run_or_throw(db, insert_event,
                 fmt::format("writing event {} of order {}", event.id.to_string(), event.order_id));
    insert_event.reset();
}

void write_cursor(sqlite3* db, const WriterCursor& writer_cursor) {
    Statement cursor(db,
                     "INSERT INTO order_writer (origin, next_sequence, hlc_ms, hlc_logical) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (origin) DO UPDATE SET "
                     "next_sequence = excluded.next_sequence, hlc_ms = excluded.hlc_ms, "
                     "hlc_logical = excluded.hlc_logical");
    cursor.bind(1, std::string_view(writer_cursor.origin));
    cursor.bind(2, writer_cursor.next_sequence);
    cursor.bind(3, writer_cursor.last_hlc.physical_ms);
    cursor.bind(4, std::int64_t{writer_cursor.last_hlc.logical});
    run_or_throw(db, cursor, "saving the event writer's cursor");
}

}  // namespace

void write_remote_events(sqlite3* db, const std::vector<Event>& events,
                         const WriterCursor& cursor) {
    Statement insert_event(db, kInsertEvent);
    for (const auto& event : events) insert_event_row(db, insert_event, event);
    write_cursor(db, cursor);
}

std::vector<Event> read_origin_events(sqlite3* db, std::string_view origin,
                                      std::uint64_t from_sequence, std::size_t limit) {
    Statement rows(db,
                   "SELECT id, origin, sequence, order_id, type, actor, role, wall_ms, "
                   "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash "
                   "FROM order_events WHERE origin = ?1 AND sequence >= ?2 ORDER BY sequence "
                   "LIMIT ?3");
    rows.bind(1, origin);
    rows.bind(2, from_sequence);
    rows.bind(3, static_cast<std::uint64_t>(limit));
    std::vector<Event> events;
    while (next_row(db, rows)) {
        std::string problem;
        auto event = event_from_row(rows, problem);
        if (!event) {
            throw std::runtime_error(
                fmt::format("event {}:{} cannot be read: {}; run floorwatch "
                            "verify",
                            rows.column_text(1), rows.column_int64(2), problem));
        }
        events.push_back(std::move(*event));
    }
    return events;
}

void write_event_batch(sqlite3* db, const EventBatch& batch) {
    Statement insert_event(db, kInsertEvent);
    Statement insert_outbox(db,
                            "INSERT INTO order_outbox (event_row, origin, sequence, queued_ms) "
                            "VALUES (?1, ?2, ?3, ?4)");
    for (const auto& event : batch.events) {
        insert_event_row(db, insert_event, event);
        insert_outbox.bind(1, std::int64_t{sqlite3_last_insert_rowid(db)});
        insert_outbox.bind(2, std::string_view(event.id.origin));
        insert_outbox.bind(3, event.id.sequence);
        insert_outbox.bind(4, batch.queued_ms);
        run_or_throw(db, insert_outbox, "queueing the event for sync");
        insert_outbox.reset();
    }
    write_cursor(db, batch.cursor);
    if (batch.day_counter) {
        Statement counter(db,
                          "INSERT INTO order_number_counters (prefix, day, last_counter) VALUES "
                          "(?1, ?2, ?3) ON CONFLICT (prefix, day) DO UPDATE SET last_counter = "
                          "max(last_counter, excluded.last_counter)");
        counter.bind(1, std::string_view(batch.day_counter->first.first));
        counter.bind(2, std::string_view(batch.day_counter->first.second));
        counter.bind(3, std::int64_t{batch.day_counter->second});
        run_or_throw(db, counter, "saving the order number counter");
    }
    if (batch.alarm_event_id) write_alarm_cursor(db, *batch.alarm_event_id);
}

void write_alarm_cursor(sqlite3* db, std::int64_t alarm_event_id) {
    Statement statement(db,
                        "UPDATE order_alarm_cursor SET last_alarm_event_id = "
                        "max(last_alarm_event_id, ?1) WHERE id = 1");
    statement.bind(1, alarm_event_id);
    run_or_throw(db, statement, "saving the processed alarm event id");
}

void write_attachment(sqlite3* db, const AttachmentUpload& upload) {
    RawStatement statement(db,
                           "INSERT INTO order_attachments (sha256, media_type, size, name, "
                           "uploaded_by, uploaded_ms, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                           "ON CONFLICT (sha256) DO NOTHING");
    const auto& meta = upload.attachment;
    sqlite3_bind_text(statement.stmt, 1, meta.sha256.data(), static_cast<int>(meta.sha256.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(statement.stmt, 2, meta.media_type.data(),
                      static_cast<int>(meta.media_type.size()), SQLITE_STATIC);
    sqlite3_bind_int64(statement.stmt, 3, static_cast<sqlite3_int64>(meta.size));
    sqlite3_bind_text(statement.stmt, 4, meta.name.data(), static_cast<int>(meta.name.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(statement.stmt, 5, upload.uploaded_by.data(),
                      static_cast<int>(upload.uploaded_by.size()), SQLITE_STATIC);
    sqlite3_bind_int64(statement.stmt, 6, upload.uploaded_ms);
    sqlite3_bind_blob64(statement.stmt, 7, upload.data.data(), upload.data.size(), SQLITE_STATIC);
    if (sqlite3_step(statement.stmt) != SQLITE_DONE) {
        throw std::runtime_error(
            sqlite_message(db, fmt::format("storing attachment {}", meta.name)));
    }
}

std::optional<std::string> read_attachment_data(sqlite3* db, const std::string& sha256) {
    RawStatement statement(db, "SELECT data FROM order_attachments WHERE sha256 = ?1");
    sqlite3_bind_text(statement.stmt, 1, sha256.data(), static_cast<int>(sha256.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(statement.stmt) != SQLITE_ROW) return std::nullopt;
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement.stmt, 0));
    const int size = sqlite3_column_bytes(statement.stmt, 0);
    return std::string(bytes == nullptr ? "" : bytes,
                       bytes == nullptr ? 0 : static_cast<std::size_t>(size));
}

void write_incident(sqlite3* db, const IncidentRecord& record) {
    Statement statement(db,
                        "INSERT INTO recorded_incidents (kind, at_ms, until_ms, area, hours, "
                        "description, recorded_by, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                        "?7, ?8)");
    statement.bind(1, std::string_view(record.kind));
    statement.bind(2, record.at_ms);
    statement.bind(3, record.until_ms);
    statement.bind(4, std::string_view(record.area));
    statement.bind(5, record.hours);
    statement.bind(6, std::string_view(record.description));
    statement.bind(7, std::string_view(record.recorded_by));
    statement.bind(8, record.recorded_ms);
    run_or_throw(db, statement, "recording the incident");
}

std::vector<IncidentRecord> load_incidents(sqlite3* db) {
    Statement statement(db,
                        "SELECT id, kind, at_ms, until_ms, area, hours, description, "
                        "recorded_by, recorded_ms FROM recorded_incidents ORDER BY at_ms, id");
    std::vector<IncidentRecord> records;
    while (next_row(db, statement)) {
        records.push_back(
            {statement.column_int64(0), statement.column_text(1), statement.column_int64(2),
             statement.column_int64(3), statement.column_text(4), statement.column_double(5),
             statement.column_text(6), statement.column_text(7), statement.column_int64(8)});
    }
    return records;
}

}  // namespace fw::orders
