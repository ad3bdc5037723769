#include "daemon/central/central_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <stdexcept>

#include "daemon/workflow/numbering.hpp"

namespace fw::central {
namespace {

namespace json = boost::json;
using workflow::Event;
using workflow::OrderState;

// ---- the SQL, once for both databases (sql.hpp) ----

constexpr Sql kIncarnation{"central_incarnation",
                           "SELECT incarnation FROM store_identity WHERE id = 1"};

constexpr Sql kCreateGateway{
    "central_create_gateway",
    "INSERT INTO central_gateways (gateway, first_seen_ms) VALUES ($1, $2) "
    "ON CONFLICT (gateway) DO NOTHING"};
constexpr Sql kLockGateway{"central_lock_gateway",
                           "SELECT incarnation, received, next_sequence, acked, verdict, message "
                           "FROM central_gateways WHERE gateway = $1 FOR UPDATE"};
constexpr Sql kSaveReceived{
    "central_save_received",
    "UPDATE central_gateways SET received = $2, last_message_ms = $3, last_ack_ms = $3 "
    "WHERE gateway = $1"};
constexpr Sql kSaveHello{
    "central_save_hello",
    "UPDATE central_gateways SET incarnation = $2, next_sequence = $3, acked = $4, "
    "verdict = $5, message = $6, last_hello_ms = $7, hello_wall_ms = $8, "
    "hello_clock_synced = $9, last_message_ms = $7, last_ack_ms = $7 WHERE gateway = $1"};
constexpr Sql kTouchGateway{"central_touch_gateway",
                            "UPDATE central_gateways SET last_message_ms = $2 WHERE gateway = $1"};

constexpr Sql kStoredHashes{
    "central_stored_hashes",
    "SELECT sequence, hash FROM order_events WHERE origin = $1 AND sequence >= $2 AND "
    "sequence <= $3"};
constexpr Sql kQuarantinedSequences{
    "central_quarantined_sequences",
    "SELECT sequence FROM central_quarantine WHERE gateway = $1 AND sequence >= $2 AND "
    "sequence <= $3"};
constexpr Sql kReceivedAfter{
    "central_received_after",
    "SELECT sequence FROM order_events WHERE origin = $1 AND sequence > $2 "
    "UNION SELECT sequence FROM central_quarantine WHERE gateway = $1 AND sequence > $2 "
    "ORDER BY 1 LIMIT $3"};
constexpr Sql kMaxSequence{"central_max_sequence",
                           "SELECT COALESCE(MAX(sequence), 0) FROM order_events WHERE origin = $1"};
constexpr Sql kMaxQuarantined{
    "central_max_quarantined",
    "SELECT COALESCE(MAX(sequence), 0) FROM central_quarantine WHERE gateway = $1"};

constexpr Sql kInsertEvent{
    "central_insert_event",
    "INSERT INTO order_events (origin, sequence, order_id, type, actor, role, wall_ms, "
    "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash, gateway, received_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
    "RETURNING id"};
constexpr Sql kQuarantine{
    "central_quarantine",
    "INSERT INTO central_quarantine (gateway, sequence, reason, raw, received_ms) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (gateway, sequence) DO NOTHING"};
constexpr Sql kIntegrity{
    "central_integrity",
    "INSERT INTO central_integrity (gateway, origin, sequence, stored_hash, received_hash, raw, "
    "first_detected_ms, last_detected_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
    "ON CONFLICT (origin, sequence, received_hash) DO UPDATE SET last_detected_ms = "
    "excluded.last_detected_ms, detections = central_integrity.detections + 1"};

constexpr Sql kLockOrder{"central_lock_order",
                         "SELECT gateway FROM central_orders WHERE order_id = $1 FOR UPDATE"};
// Every order the reference may name, the exact id first. A human number is unique on its gateway
// only: two gateways with the same prefix number their first order of a day alike, so a number
// may name several orders here (ten of them are enough to say so).
constexpr Sql kFindOrderId{
    "central_find_order_id",
    "SELECT order_id, COALESCE(gateway, '') FROM central_orders WHERE order_id = $1 OR "
    "upper(number) = upper($1) ORDER BY order_id = $1 DESC, order_id LIMIT 10"};
constexpr Sql kOrderEvents{"central_order_events",
                           "SELECT id, origin, sequence, order_id, type, actor, role, wall_ms, "
                           "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash "
                           "FROM order_events WHERE order_id = $1 ORDER BY id"};
constexpr Sql kSaveOrder{
    "central_save_order",
    "INSERT INTO central_orders (order_id, number, gateway, equipment, area, hazard_type, status, "
    "risk, assignee, title, reported_ms, closed_ms, event_count, superseded, updated_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
    "ON CONFLICT (order_id) DO UPDATE SET number = excluded.number, equipment = "
    "excluded.equipment, area = excluded.area, hazard_type = excluded.hazard_type, status = "
    "excluded.status, risk = excluded.risk, assignee = excluded.assignee, title = "
    "excluded.title, reported_ms = excluded.reported_ms, closed_ms = excluded.closed_ms, "
    "event_count = excluded.event_count, superseded = excluded.superseded, updated_ms = "
    "excluded.updated_ms"};
constexpr Sql kOrders{"central_orders",
                      "SELECT order_id, number, gateway, equipment, area, hazard_type, status, "
                      "risk, assignee, title, reported_ms, closed_ms, event_count, superseded, "
                      "updated_ms FROM central_orders ORDER BY reported_ms, order_id"};
constexpr Sql kOrder{"central_order",
                     "SELECT order_id, number, gateway, equipment, area, hazard_type, status, "
                     "risk, assignee, title, reported_ms, closed_ms, event_count, superseded, "
                     "updated_ms FROM central_orders WHERE order_id = $1"};

constexpr Sql kCreateWriter{
    "central_create_writer",
    "INSERT INTO order_writer (origin, next_sequence, hlc_ms, hlc_logical) VALUES ($1, 1, 0, 0) "
    "ON CONFLICT (origin) DO NOTHING"};
constexpr Sql kLockWriter{"central_lock_writer",
                          "SELECT next_sequence, hlc_ms, hlc_logical FROM order_writer "
                          "WHERE origin = $1 FOR UPDATE"};
constexpr Sql kSaveWriter{"central_save_writer",
                          "UPDATE order_writer SET next_sequence = $2, hlc_ms = $3, "
                          "hlc_logical = $4 WHERE origin = $1"};
constexpr Sql kAnonymityKey{"central_anonymity_key",
                            "SELECT value FROM order_keys WHERE name = 'anonymity'"};
constexpr Sql kCreateCounter{
    "central_create_counter",
    "INSERT INTO order_number_counters (prefix, day, last_counter) VALUES ($1, $2, 0) "
    "ON CONFLICT (prefix, day) DO NOTHING"};
constexpr Sql kLockCounter{"central_lock_counter",
                           "SELECT last_counter FROM order_number_counters WHERE prefix = $1 AND "
                           "day = $2 FOR UPDATE"};
constexpr Sql kSaveCounter{"central_save_counter",
                           "UPDATE order_number_counters SET last_counter = $3 WHERE prefix = $1 "
                           "AND day = $2"};

constexpr Sql kCreateDownCursor{
    "central_create_down_cursor",
    "INSERT INTO central_down_cursor (gateway) VALUES ($1) ON CONFLICT (gateway) DO NOTHING"};
constexpr Sql kLockDownCursor{"central_lock_down_cursor",
                              "SELECT down_next, down_acked FROM central_down_cursor "
                              "WHERE gateway = $1 FOR UPDATE"};
constexpr Sql kSaveDownCursor{
    "central_save_down_cursor",
    "UPDATE central_down_cursor SET down_next = $2, down_acked = $3, last_down_ack_ms = "
    "COALESCE($4, last_down_ack_ms) WHERE gateway = $1"};
constexpr Sql kDownPosition{
    "central_down_position",
    "SELECT down_next, down_acked FROM central_down_cursor WHERE gateway = $1"};
constexpr Sql kQueueDown{"central_queue_down",
                         "INSERT INTO central_down (gateway, down, event_row, queued_ms) "
                         "VALUES ($1, $2, $3, $4)"};
constexpr Sql kDownEvents{
    "central_down_events",
    "SELECT d.down, e.id, e.origin, e.sequence, e.order_id, e.type, e.actor, e.role, e.wall_ms, "
    "e.clock_synced, e.hlc_ms, e.hlc_logical, e.format, e.payload, e.prev_hash, e.hash "
    "FROM central_down d JOIN order_events e ON e.id = d.event_row "
    "WHERE d.gateway = $1 AND d.down > $2 ORDER BY d.down LIMIT $3"};

constexpr Sql kHasAttachment{"central_has_attachment",
                             "SELECT 1 FROM order_attachments WHERE sha256 = $1"};
constexpr Sql kAttachmentMeta{
    "central_attachment_meta",
    "SELECT media_type, size, name FROM order_attachments WHERE sha256 = $1"};
constexpr Sql kAttachmentData{
    "central_attachment_data",
    "SELECT media_type, size, name, data FROM order_attachments WHERE sha256 = $1"};
constexpr Sql kStoreAttachment{
    "central_store_attachment",
    "INSERT INTO order_attachments (sha256, media_type, size, name, uploaded_by, uploaded_ms, "
    "data) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING"};
constexpr Sql kAllAttachments{"central_all_attachments",
                              "SELECT sha256, media_type, size, name FROM order_attachments"};
constexpr Sql kWant{
    "central_want",
    "INSERT INTO central_wanted (gateway, sha256, media_type, size, name, wanted_ms, "
    "last_asked_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (gateway, sha256) DO NOTHING"};
constexpr Sql kLockWanted{"central_lock_wanted",
                          "SELECT media_type, size, name, received_bytes FROM central_wanted "
                          "WHERE gateway = $1 AND sha256 = $2 FOR UPDATE"};
constexpr Sql kAddChunk{"central_add_chunk",
                        "INSERT INTO central_wanted_chunks (gateway, sha256, start_byte, data) "
                        "VALUES ($1, $2, $3, $4)"};
constexpr Sql kSaveWanted{"central_save_wanted",
                          "UPDATE central_wanted SET received_bytes = $3, last_asked_ms = $4 "
                          "WHERE gateway = $1 AND sha256 = $2"};
constexpr Sql kWantedChunks{"central_wanted_chunks",
                            "SELECT data FROM central_wanted_chunks WHERE gateway = $1 AND "
                            "sha256 = $2 ORDER BY start_byte"};
constexpr Sql kDropChunks{"central_drop_chunks",
                          "DELETE FROM central_wanted_chunks WHERE gateway = $1 AND sha256 = $2"};
constexpr Sql kDropWanted{"central_drop_wanted",
                          "DELETE FROM central_wanted WHERE gateway = $1 AND sha256 = $2"};
constexpr Sql kDueNeeds{
    "central_due_needs",
    "SELECT gateway, sha256, received_bytes FROM central_wanted WHERE last_asked_ms IS NULL OR "
    "last_asked_ms < $1 ORDER BY gateway, wanted_ms"};
constexpr Sql kNeedsOf{"central_needs_of",
                       "SELECT sha256, received_bytes FROM central_wanted WHERE gateway = $1 "
                       "ORDER BY wanted_ms"};
constexpr Sql kMarkAsked{"central_mark_asked",
                         "UPDATE central_wanted SET last_asked_ms = $3 WHERE gateway = $1 AND "
                         "sha256 = $2"};

constexpr Sql kSeedOrders{"central_seed_orders",
                          "SELECT order_id FROM central_orders WHERE gateway = $1 AND "
                          "order_id > $2 ORDER BY order_id LIMIT $3"};

constexpr Sql kGateways{
    "central_gateways",
    "SELECT g.gateway, g.incarnation, g.received, g.next_sequence, g.acked, g.verdict, "
    "g.message, g.first_seen_ms, g.last_hello_ms, g.hello_wall_ms, g.hello_clock_synced, "
    "g.last_message_ms, g.last_ack_ms, COALESCE(d.down_next, 1), COALESCE(d.down_acked, 0), "
    "d.last_down_ack_ms, "
    "(SELECT count(*) FROM central_quarantine q WHERE q.gateway = g.gateway), "
    "(SELECT count(*) FROM central_integrity i WHERE i.gateway = g.gateway), "
    "(SELECT count(*) FROM central_wanted w WHERE w.gateway = g.gateway) "
    "FROM central_gateways g LEFT JOIN central_down_cursor d ON d.gateway = g.gateway "
    "ORDER BY g.gateway"};
constexpr Sql kQuarantineRows{"central_quarantine_rows",
                              "SELECT id, gateway, sequence, reason, raw, received_ms FROM "
                              "central_quarantine ORDER BY id"};
constexpr Sql kIntegrityRows{
    "central_integrity_rows",
    "SELECT id, gateway, origin, sequence, stored_hash, received_hash, raw, first_detected_ms, "
    "last_detected_ms, detections FROM central_integrity ORDER BY id"};
constexpr Sql kEventCount{"central_event_count", "SELECT count(*) FROM order_events"};
constexpr Sql kAllEvents{"central_all_events",
                         "SELECT id, origin, sequence, order_id, type, actor, role, wall_ms, "
                         "clock_synced, hlc_ms, hlc_logical, format, payload, prev_hash, hash "
                         "FROM order_events ORDER BY id"};
constexpr Sql kWriters{"central_writers",
                       "SELECT origin, next_sequence, hlc_ms, hlc_logical FROM order_writer "
                       "ORDER BY origin"};
constexpr Sql kCounters{"central_counters",
                        "SELECT prefix, day, last_counter FROM order_number_counters"};
constexpr Sql kIncidents{"central_incidents",
                         "SELECT id, kind, at_ms, until_ms, area, hours, description, "
                         "recorded_by, recorded_ms FROM recorded_incidents ORDER BY at_ms, id"};

// Rows of ingest's contiguous walk read at a time.
constexpr std::int64_t kReceivedWalkPage = 5000;

// The event in columns `first`..`first + 14` (id, origin, sequence, ..., hash as in kAllEvents).
// nullopt with `problem` set when the row cannot be an event (someone edited the database).
std::optional<Event> event_from_row(const SqlRow& row, int first, std::string& problem) {
    Event event;
    event.id.origin = row.text(first + 1);
    event.id.sequence = row.count(first + 2);
    event.order_id = row.text(first + 3);
    const std::string type = row.text(first + 4);
    const auto parsed_type = workflow::event_type_from_name(type);
    if (!parsed_type) {
        problem = fmt::format("unknown event type '{}'", type);
        return std::nullopt;
    }
    event.type = *parsed_type;
    event.actor = row.text(first + 5);
    const std::string role = row.text(first + 6);
    const auto parsed_role = workflow::role_from_name(role);
    if (!parsed_role) {
        problem = fmt::format("unknown role '{}'", role);
        return std::nullopt;
    }
    event.role = *parsed_role;
    event.wall_ms = row.integer(first + 7);
    event.clock_synced = row.boolean(first + 8);
    event.hlc.physical_ms = row.integer(first + 9);
    event.hlc.logical = static_cast<std::uint32_t>(row.integer(first + 10));
    if (row.integer(first + 11) != workflow::kEventFormat) {
        problem = fmt::format("event format {} is not {}", row.integer(first + 11),
                              workflow::kEventFormat);
        return std::nullopt;
    }
    boost::system::error_code error;
    auto payload = json::parse(row.text(first + 12), error);
    if (error || !payload.is_object()) {
        problem = "payload is not a JSON object";
        return std::nullopt;
    }
    event.payload = std::move(payload.as_object());
    event.prev_hash = row.text(first + 13);
    event.hash = row.text(first + 14);
    return event;
}

// Events of a result whose rows are readable; unreadable ones are skipped (a fold cannot use
// them; `floorwatch verify` reports them).
std::vector<Event> events_of(const SqlResult& result, int first = 0) {
    std::vector<Event> events;
    events.reserve(result.size());
    for (const auto row : result) {
        std::string problem;
        if (auto event = event_from_row(row, first, problem)) events.push_back(std::move(*event));
    }
    return events;
}

std::int64_t insert_event(SqlSession& db, const Event& event,
                          const std::optional<std::string>& gateway, std::int64_t now_ms) {
    const std::string payload = workflow::canonical_json(event.payload);
    const auto inserted = db.run(
        kInsertEvent, event.id.origin, event.id.sequence, event.order_id,
        workflow::event_type_name(event.type), event.actor, workflow::role_name(event.role),
        event.wall_ms, event.clock_synced, event.hlc.physical_ms, std::int64_t{event.hlc.logical},
        workflow::kEventFormat, payload, event.prev_hash, event.hash, gateway, now_ms);
    return inserted[0].integer(0);
}

OrderRow order_row(const OrderState& state, const std::optional<std::string>& gateway,
                   std::int64_t now_ms) {
    OrderRow row;
    row.order_id = state.id;
    row.number = state.number;
    row.gateway = gateway;
    row.equipment = state.equipment;
    row.area = state.area;
    row.hazard_type = state.hazard_type;
    row.status = std::string(workflow::order_status_name(state.status));
    row.risk = std::string(workflow::risk_name(state.risk));
    row.assignee = state.assignee;
    row.title = state.title;
    row.reported_ms = state.reported_ms;
    row.closed_ms = state.closed_ms;
    row.event_count = state.event_count;
    row.superseded = state.superseded.size();
    row.updated_ms = now_ms;
    return row;
}

void save_order(SqlSession& db, const OrderRow& row) {
    db.run(kSaveOrder, row.order_id, row.number, row.gateway, row.equipment, row.area,
           row.hazard_type, row.status, row.risk, row.assignee, row.title, row.reported_ms,
           row.closed_ms, row.event_count, row.superseded, row.updated_ms);
}

OrderRow read_order_row(const SqlRow& row) {
    OrderRow order;
    order.order_id = row.text(0);
    order.number = row.text(1);
    order.gateway = row.optional_text(2);
    order.equipment = row.text(3);
    order.area = row.text(4);
    order.hazard_type = row.text(5);
    order.status = row.text(6);
    order.risk = row.text(7);
    order.assignee = row.text(8);
    order.title = row.text(9);
    order.reported_ms = row.integer(10);
    order.closed_ms = row.optional_integer(11);
    order.event_count = row.count(12);
    order.superseded = row.count(13);
    order.updated_ms = row.integer(14);
    return order;
}

// The attachments an event's payload names ({sha256, media_type, size, name}).
std::vector<workflow::Attachment> named_attachments(const Event& event) {
    std::vector<workflow::Attachment> found;
    const auto* list = event.payload.if_contains("attachments");
    if (list == nullptr || !list->is_array()) return found;
    for (const auto& item : list->as_array()) {
        if (!item.is_object()) continue;
        const auto& fields = item.as_object();
        const auto text = [&](std::string_view key) {
            const auto* value = fields.if_contains(key);
            return value != nullptr && value->is_string() ? std::string(value->as_string())
                                                          : std::string();
        };
        workflow::Attachment attachment{text("sha256"), text("media_type"), 0, text("name")};
        // A size written from an unsigned field parses back as uint64, from text as int64.
        if (const auto* size = fields.if_contains("size"); size != nullptr) {
            if (size->is_uint64()) {
                attachment.size = size->as_uint64();
            } else if (size->is_int64()) {
                attachment.size =
                    static_cast<std::uint64_t>(std::max<std::int64_t>(size->as_int64(), 0));
            }
        }
        if (attachment.sha256.size() == 64) found.push_back(std::move(attachment));
    }
    return found;
}

std::string event_text(const Event& event) {
    return json::serialize(workflow::event_to_json(event));
}

std::string verdict_text(sync::Verdict verdict) {
    return std::string(sync::verdict_name(verdict));
}

struct GatewayRowLock {
    std::optional<std::string> incarnation;
    std::uint64_t received = 0;
    std::uint64_t next_sequence = 0;
    std::uint64_t acked = 0;
    sync::Verdict verdict = sync::Verdict::ok;
    std::string message;
};

GatewayRowLock lock_gateway(SqlSession& db, const std::string& gateway, std::int64_t now_ms) {
    db.run(kCreateGateway, gateway, now_ms);
    const auto found = db.run(kLockGateway, gateway);
    const auto row = found[0];
    GatewayRowLock locked;
    locked.incarnation = row.optional_text(0);
    locked.received = row.count(1);
    locked.next_sequence = row.count(2);
    locked.acked = row.count(3);
    locked.verdict = sync::verdict_from_name(row.text(4)).value_or(sync::Verdict::ok);
    locked.message = row.text(5);
    return locked;
}

// The id of the order `reference` (an id, or a human number) names. A number that several
// gateways gave an order is refused, naming them: acting on whichever the store finds first could
// approve or close another gateway's order than the one the person meant.
Result<std::string> resolve_order(SqlSession& db, const std::string& reference) {
    const auto found = db.run(kFindOrderId, reference);
    if (found.empty()) {
        return Error{fmt::format("no order '{}' (floorwatch orders list shows them)", reference)};
    }
    if (found[0].text(0) == reference || found.size() == 1) return found[0].text(0);
    std::string named;
    for (const auto row : found) {
        const std::string gateway = row.text(1);
        named += fmt::format("{}{} ({})", named.empty() ? "" : ", ", row.text(0),
                             gateway.empty() ? std::string("centre") : gateway);
    }
    return Error{fmt::format("'{}' is the number of several orders: {}; give the order's id",
                             reference, named)};
}

struct DownCursor {
    std::uint64_t down_next = 1;
    std::uint64_t down_acked = 0;
};

DownCursor lock_down_cursor(SqlSession& db, const std::string& gateway) {
    db.run(kCreateDownCursor, gateway);
    const auto row = db.run(kLockDownCursor, gateway)[0];
    return {row.count(0), row.count(1)};
}

void save_down_cursor(SqlSession& db, const std::string& gateway, const DownCursor& cursor,
                      std::optional<std::int64_t> acked_ms) {
    db.run(kSaveDownCursor, gateway, cursor.down_next, cursor.down_acked, acked_ms);
}

orders::WriterCursor lock_writer(SqlSession& db, const std::string& origin) {
    db.run(kCreateWriter, origin);
    const auto row = db.run(kLockWriter, origin)[0];
    return {origin, row.count(0),
            workflow::Hlc{row.integer(1), static_cast<std::uint32_t>(row.integer(2))}};
}

void save_writer(SqlSession& db, const orders::WriterCursor& cursor) {
    db.run(kSaveWriter, cursor.origin, cursor.next_sequence, cursor.last_hlc.physical_ms,
           std::int64_t{cursor.last_hlc.logical});
}

// The highest sequence of the gateway held here, stored or quarantined.
std::uint64_t held_up_to(SqlSession& db, const std::string& gateway) {
    const auto stored = db.run(kMaxSequence, gateway)[0].count(0);
    const auto quarantined = db.run(kMaxQuarantined, gateway)[0].count(0);
    return std::max(stored, quarantined);
}

// Folds the order from its stored events and rewrites its cache row; returns the state.
OrderState refresh_order(SqlSession& db, const std::string& order_id,
                         const std::optional<std::string>& gateway, std::int64_t now_ms) {
    db.run(kLockOrder, order_id);
    const auto events = events_of(db.run(kOrderEvents, order_id));
    OrderState state = workflow::fold(events);
    if (state.exists()) save_order(db, order_row(state, gateway, now_ms));
    return state;
}

}  // namespace

std::string StoreLocation::describe() const {
    return postgresql ? "PostgreSQL (" + *postgresql + ")" : "SQLite " + sqlite_path;
}

std::string order_origin(std::string_view order_id) {
    const auto dot = order_id.rfind('.');
    return std::string(dot == std::string_view::npos ? std::string_view()
                                                     : order_id.substr(0, dot));
}

CentralStore::CentralStore(std::unique_ptr<SqlSession> session) : session_(std::move(session)) {}

std::unique_ptr<CentralStore> CentralStore::open(const StoreLocation& location, bool read_only) {
    auto session = location.postgresql ? open_postgresql_session(*location.postgresql, read_only)
                                       : open_sqlite_session(location.sqlite_path, read_only);
    return std::make_unique<CentralStore>(std::move(session));
}

void CentralStore::write(const std::function<void()>& work) {
    session_->transaction(SqlAccess::write, work);
}

void CentralStore::read(const std::function<void()>& work) {
    session_->transaction(SqlAccess::read, work);
}

std::string CentralStore::incarnation() {
    if (!incarnation_) {
        read([&] {
            const auto found = session_->run(kIncarnation);
            if (found.empty()) {
                throw std::runtime_error(fmt::format(
                    "{} has no store_identity row: the store was not migrated", description()));
            }
            incarnation_ = found[0].text(0);
        });
    }
    return *incarnation_;
}

// ---- gateway -> centre ----

IngestOutcome CentralStore::ingest(const std::string& gateway, const sync::UpEvents& message,
                                   const workflow::WallTime& now) {
    IngestOutcome outcome;
    write([&] {
        auto& db = *session_;
        outcome = IngestOutcome{};
        const GatewayRowLock cursor = lock_gateway(db, gateway, now.ms);

        std::uint64_t low = message.first;
        std::uint64_t high = message.last;
        for (const auto& event : message.events) {
            low = std::min(low, event.id.sequence);
            high = std::max(high, event.id.sequence);
        }
        std::map<std::uint64_t, std::string> stored;
        for (const auto row : db.run(kStoredHashes, gateway, low, high)) {
            stored.emplace(row.count(0), row.text(1));
        }
        std::set<std::uint64_t> quarantined;
        for (const auto row : db.run(kQuarantinedSequences, gateway, low, high)) {
            quarantined.insert(row.count(0));
        }

        const auto quarantine = [&](std::optional<std::uint64_t> sequence,
                                    const std::string& reason, const std::string& raw) {
            if (sequence && quarantined.contains(*sequence)) {
                ++outcome.duplicates;
                return false;
            }
            db.run(kQuarantine, gateway, sequence, reason, raw, now.ms);
            if (sequence) quarantined.insert(*sequence);
            ++outcome.quarantined;
            outcome.alerts.push_back(
                {Alert::Level::warning,
                 fmt::format("event {} quarantined: {}",
                             sequence ? fmt::format("{}:{}", gateway, *sequence)
                                      : std::string("(no sequence)"),
                             reason)});
            return true;
        };

        for (const auto& refused : message.refused) {
            const bool in_range =
                refused.position >= message.first && refused.position <= message.last;
            quarantine(in_range ? std::optional<std::uint64_t>(refused.position) : std::nullopt,
                       refused.reason, refused.raw);
        }

        std::set<std::string> touched;
        for (const auto& event : message.events) {
            const std::uint64_t sequence = event.id.sequence;
            if (event.id.origin != gateway || order_origin(event.order_id) != gateway) {
                // A gateway writes only its own orders: whatever this is, it is not gateway's
                // event number `sequence`, but that number is spent either way.
                const std::string reason =
                    event.id.origin != gateway
                        ? fmt::format("forged: origin {} arrived on the up topic of {}",
                                      event.id.origin, gateway)
                        : fmt::format("forged: order {} belongs to {}, not to {}", event.order_id,
                                      order_origin(event.order_id), gateway);
                if (quarantine(sequence, reason, event_text(event))) ++outcome.forged;
                continue;
            }
            if (const auto known = stored.find(sequence); known != stored.end()) {
                if (known->second == event.hash) {
                    ++outcome.duplicates;
                    continue;
                }
                db.run(kIntegrity, gateway, gateway, sequence, known->second, event.hash,
                       event_text(event), now.ms);
                ++outcome.integrity_alarms;
                outcome.alerts.push_back(
                    {Alert::Level::error,
                     fmt::format("INTEGRITY: event {} was stored with hash {} and arrived again "
                                 "with hash {}; the stored one is kept. Someone rewrote this "
                                 "gateway's history, or it reused its ids (floorwatch sync "
                                 "integrity)",
                                 event.id.to_string(), known->second, event.hash)});
                continue;
            }
            if (quarantined.contains(sequence)) {
                ++outcome.duplicates;
                continue;
            }
            if (now.synced && event.hlc.physical_ms > now.ms + workflow::kMaxRemoteAhead.count()) {
                quarantine(sequence,
                           fmt::format("its time is {} s ahead of this centre's synchronised "
                                       "clock (more than {} s)",
                                       (event.hlc.physical_ms - now.ms) / 1000,
                                       workflow::kMaxRemoteAhead.count() / 1000),
                           event_text(event));
                continue;
            }
            insert_event(db, event, gateway, now.ms);
            stored.emplace(sequence, event.hash);
            ++outcome.stored;
            touched.insert(event.order_id);
            for (const auto& attachment : named_attachments(event)) {
                if (!db.run(kHasAttachment, attachment.sha256).empty()) continue;
                if (attachment.size == 0 || attachment.size > kMaxAttachmentBytes) continue;
                const auto wanted = db.run(kWant, gateway, attachment.sha256, attachment.media_type,
                                           attachment.size, attachment.name, now.ms);
                if (wanted.affected() > 0) outcome.needs.push_back({attachment.sha256, 0});
            }
        }

        for (const auto& order_id : touched) {
            if (refresh_order(db, order_id, gateway, now.ms).exists()) {
                outcome.changed_orders.push_back(order_id);
            }
        }

        // Advance over every sequence now held, stored or quarantined; batches may arrive out of
        // order through a shared subscription, and the contiguous cursor is what is acked.
        std::uint64_t received = cursor.received;
        for (bool more = true; more;) {
            const auto next = db.run(kReceivedAfter, gateway, received, kReceivedWalkPage);
            more = next.size() == static_cast<std::size_t>(kReceivedWalkPage);
            for (const auto row : next) {
                if (row.count(0) != received + 1) {
                    more = false;
                    break;
                }
                received = row.count(0);
            }
        }
        db.run(kSaveReceived, gateway, received, now.ms);
        outcome.received = received;
    });
    return outcome;
}

HelloOutcome CentralStore::hello(const std::string& gateway, const sync::Hello& hello,
                                 const workflow::WallTime& now) {
    const std::string centre_incarnation = incarnation();
    HelloOutcome outcome;
    write([&] {
        auto& db = *session_;
        outcome = HelloOutcome{};
        const GatewayRowLock cursor = lock_gateway(db, gateway, now.ms);
        const std::uint64_t held = held_up_to(db, gateway);
        const std::uint64_t written = hello.next_sequence > 0 ? hello.next_sequence - 1 : 0;

        sync::Welcome& welcome = outcome.welcome;
        welcome.incarnation = centre_incarnation;
        welcome.known_incarnation = cursor.incarnation;
        welcome.received = cursor.received;
        if (held > written) {
            welcome.verdict = sync::Verdict::reseed;
            welcome.message = fmt::format(
                "this centre holds events of {} up to sequence {}, but the gateway's store has "
                "written only {} (store {}{}): it was re-imaged or restored from an older backup, "
                "and new events would reuse ids. Stopped sending; run `floorwatch sync reseed` on "
                "the gateway to fetch its orders from the centre and continue after {}",
                gateway, held, written, hello.incarnation,
                cursor.incarnation && *cursor.incarnation != hello.incarnation
                    ? fmt::format(", was {}", *cursor.incarnation)
                    : std::string(),
                held);
            outcome.alerts.push_back({Alert::Level::error, welcome.message});
        } else if (cursor.incarnation && *cursor.incarnation != hello.incarnation) {
            outcome.alerts.push_back(
                {Alert::Level::warning,
                 fmt::format("{} has a new store (incarnation {}, was {}); it has written {} "
                             "event(s) and this centre holds up to {}, so no id is reused",
                             gateway, hello.incarnation, *cursor.incarnation, written, held)});
        }
        const bool accepted = welcome.verdict == sync::Verdict::ok;
        db.run(kSaveHello, gateway,
               accepted ? std::optional(hello.incarnation) : cursor.incarnation,
               hello.next_sequence, hello.acked, verdict_text(welcome.verdict), welcome.message,
               now.ms, hello.wall_ms, hello.clock_synced);

        // The centre's own writers must never reuse an id a gateway already holds (a centre
        // restored from a backup): move them past what the gateway reports.
        for (const auto& [origin, highest] : hello.centre_max) {
            if (origin == gateway) continue;
            auto writer = lock_writer(db, origin);
            if (writer.next_sequence <= highest) {
                outcome.alerts.push_back(
                    {Alert::Level::warning,
                     fmt::format("{} holds events of {} up to sequence {}, but this store would "
                                 "write {} next (restored from a backup?): moved past them",
                                 gateway, origin, highest, writer.next_sequence)});
                writer.next_sequence = highest + 1;
                save_writer(db, writer);
            }
        }

        DownCursor down = lock_down_cursor(db, gateway);
        if (hello.down_applied >= down.down_next) {
            outcome.alerts.push_back(
                {Alert::Level::warning,
                 fmt::format("{} applied down events up to {}, but this store would give {} "
                             "next (restored from a backup?): moved past them",
                             gateway, hello.down_applied, down.down_next)});
            down.down_next = hello.down_applied + 1;
        }
        down.down_acked = std::max(down.down_acked, hello.down_applied);
        save_down_cursor(db, gateway, down, now.ms);
        welcome.down_next = down.down_next;
        outcome.replay_from = hello.down_applied + 1;
    });
    return outcome;
}

sync::Welcome CentralStore::welcome(const std::string& gateway, const workflow::WallTime& now) {
    const std::string centre_incarnation = incarnation();
    sync::Welcome welcome;
    write([&] {
        auto& db = *session_;
        const GatewayRowLock cursor = lock_gateway(db, gateway, now.ms);
        db.run(kTouchGateway, gateway, now.ms);
        welcome = sync::Welcome{};
        welcome.incarnation = centre_incarnation;
        welcome.known_incarnation = cursor.incarnation;
        welcome.received = cursor.received;
        welcome.verdict = cursor.verdict;
        welcome.message = cursor.message;
        const auto position = db.run(kDownPosition, gateway);
        welcome.down_next = position.empty() ? 1 : position[0].count(0);
    });
    return welcome;
}

void CentralStore::down_ack(const std::string& gateway, std::uint64_t down_applied,
                            std::int64_t now_ms) {
    write([&] {
        auto& db = *session_;
        DownCursor down = lock_down_cursor(db, gateway);
        // A gateway cannot have applied what was never queued for it.
        down.down_acked = std::max(down.down_acked, std::min(down_applied, down.down_next - 1));
        save_down_cursor(db, gateway, down, now_ms);
        db.run(kTouchGateway, gateway, now_ms);
    });
}

ChunkOutcome CentralStore::receive_chunk(const std::string& gateway,
                                         const sync::AttachmentChunk& chunk, std::int64_t now_ms) {
    ChunkOutcome outcome;
    write([&] {
        auto& db = *session_;
        outcome = ChunkOutcome{};
        db.run(kTouchGateway, gateway, now_ms);
        const auto found = db.run(kLockWanted, gateway, chunk.sha256);
        if (found.empty()) return;
        const auto row = found[0];
        const workflow::Attachment wanted{chunk.sha256, row.text(0), row.count(1), row.text(2)};
        const std::uint64_t held = row.count(3);
        if (chunk.offset != held) {
            outcome.kind = ChunkOutcome::Kind::out_of_order;
            outcome.ask = sync::NeededAttachment{chunk.sha256, held};
            db.run(kMarkAsked, gateway, chunk.sha256, now_ms);
            return;
        }
        const std::uint64_t after = held + chunk.data.size();
        const bool too_long = after > wanted.size || (chunk.last && after != wanted.size);
        if (!too_long && !chunk.data.empty()) {
            db.run(kAddChunk, gateway, chunk.sha256, held, SqlBlob{chunk.data});
        }
        if (!too_long && !chunk.last) {
            db.run(kSaveWanted, gateway, chunk.sha256, after, now_ms);
            outcome.kind = ChunkOutcome::Kind::appended;
            return;
        }
        std::string whole;
        if (!too_long) {
            whole.reserve(static_cast<std::size_t>(wanted.size));
            for (const auto part : db.run(kWantedChunks, gateway, chunk.sha256)) {
                whole += part.bytes(0);
            }
        }
        if (too_long || workflow::sha256_hex(whole) != chunk.sha256) {
            // Discarded and asked again from the start.
            db.run(kDropChunks, gateway, chunk.sha256);
            db.run(kSaveWanted, gateway, chunk.sha256, 0, now_ms);
            outcome.kind = ChunkOutcome::Kind::corrupt;
            outcome.ask = sync::NeededAttachment{chunk.sha256, 0};
            return;
        }
        db.run(kStoreAttachment, chunk.sha256, wanted.media_type, wanted.size, wanted.name, gateway,
               now_ms, SqlBlob{whole});
        db.run(kDropChunks, gateway, chunk.sha256);
        db.run(kDropWanted, gateway, chunk.sha256);
        outcome.kind = ChunkOutcome::Kind::stored;
    });
    return outcome;
}

SeedPage CentralStore::seed_page(const std::string& gateway, const std::string& after_order,
                                 std::size_t max_events) {
    SeedPage page;
    read([&] {
        auto& db = *session_;
        page = SeedPage{};
        page.last_order = after_order;
        page.done = true;
        // Whole orders, each in fold order; at least one order per page however long it is.
        constexpr std::size_t kOrdersPerQuery = 100;
        for (bool more = true; more;) {
            const auto orders = db.run(kSeedOrders, gateway, page.last_order, kOrdersPerQuery);
            more = orders.size() == kOrdersPerQuery;
            for (const auto row : orders) {
                if (!page.events.empty() && page.events.size() >= max_events) {
                    page.done = false;
                    more = false;
                    break;
                }
                page.last_order = row.text(0);
                auto events = events_of(db.run(kOrderEvents, page.last_order));
                std::ranges::sort(events, workflow::applies_before);
                std::ranges::move(events, std::back_inserter(page.events));
            }
        }
        page.origin_sequence = db.run(kMaxSequence, gateway)[0].count(0);
        const auto position = db.run(kDownPosition, gateway);
        page.down_last = position.empty() ? 0 : position[0].count(0) - 1;
    });
    return page;
}

// ---- central actions ----

Result<ActionOutcome> CentralStore::act(const ActionRequest& request,
                                        const ActionContext& context) {
    std::optional<Result<ActionOutcome>> result;
    write([&] {
        auto& db = *session_;
        result.reset();
        const workflow::WallTime now = context.clock.now();
        OrderState state;
        std::string head;
        std::optional<std::string> gateway;
        std::vector<Event> events;
        const bool report = std::holds_alternative<workflow::ReportCommand>(request.command);
        if (!report) {
            auto resolved = resolve_order(db, request.order);
            if (!resolved) {
                result.emplace(Error{resolved.error()});
                return;
            }
            const std::string order_id = std::move(*resolved);
            const auto locked = db.run(kLockOrder, order_id);
            gateway = locked[0].optional_text(0);
            events = events_of(db.run(kOrderEvents, order_id));
            state = workflow::fold(events);
            head = state.head_hash;
        }

        auto cursor = lock_writer(db, context.origin);
        workflow::EventWriter writer(context.origin, cursor.next_sequence, cursor.last_hlc);
        // After every event of the order seen so far, so that the new ones fold after them. (A
        // time too far ahead was quarantined at ingest; receive() would refuse it, harmlessly.)
        for (const auto& event : events) {
            [[maybe_unused]] const auto seen = writer.clock().receive(event.hlc, now);
        }

        workflow::Command command = request.command;
        std::optional<std::pair<std::string, std::string>> counter_key;
        std::uint32_t counter = 0;
        if (auto* report_command = std::get_if<workflow::ReportCommand>(&command)) {
            counter_key.emplace(context.workflow.prefix_for_area(report_command->area),
                                context.local_day);
            db.run(kCreateCounter, counter_key->first, counter_key->second);
            counter =
                static_cast<std::uint32_t>(
                    db.run(kLockCounter, counter_key->first, counter_key->second)[0].count(0)) +
                1;
            report_command->local_date = context.local_date;
            report_command->day_counter = counter;
        }

        const auto key = db.run(kAnonymityKey);
        const std::string anonymity_key = key.empty() ? std::string() : key[0].text(0);
        auto decided = workflow::handle(
            command, request.actor, state, head,
            workflow::HandlerContext{context.workflow, context.clock, writer, anonymity_key});
        if (!decided) {
            result.emplace(Error{decided.error()});
            return;
        }

        ActionOutcome done;
        done.outcome = std::move(*decided);
        done.gateway = gateway;
        std::vector<std::int64_t> rows;
        rows.reserve(done.outcome.events.size());
        for (const auto& event : done.outcome.events) {
            rows.push_back(insert_event(db, event, std::nullopt, now.ms));
        }
        save_writer(db, {context.origin, writer.next_sequence(), writer.last_hlc()});
        if (counter_key) db.run(kSaveCounter, counter_key->first, counter_key->second, counter);
        save_order(db, order_row(done.outcome.state, gateway, now.ms));

        if (gateway) {
            DownCursor down = lock_down_cursor(db, *gateway);
            for (std::size_t i = 0; i < done.outcome.events.size(); ++i) {
                db.run(kQueueDown, *gateway, down.down_next, rows[i], now.ms);
                done.down.push_back({down.down_next, done.outcome.events[i]});
                ++down.down_next;
            }
            save_down_cursor(db, *gateway, down, std::nullopt);
        }
        result.emplace(std::move(done));
    });
    return std::move(*result);
}

std::map<std::string, workflow::Attachment, std::less<>> CentralStore::attachments(
    const std::vector<std::string>& sha256s) {
    std::map<std::string, workflow::Attachment, std::less<>> found;
    read([&] {
        found.clear();
        for (const auto& sha256 : sha256s) {
            const auto rows = session_->run(kAttachmentMeta, sha256);
            if (rows.empty()) continue;
            found.emplace(sha256, workflow::Attachment{sha256, rows[0].text(0), rows[0].count(1),
                                                       rows[0].text(2)});
        }
    });
    return found;
}

void CentralStore::store_attachment(const orders::AttachmentUpload& upload) {
    write([&] {
        const auto& meta = upload.attachment;
        session_->run(kStoreAttachment, meta.sha256, meta.media_type, meta.size, meta.name,
                      upload.uploaded_by, upload.uploaded_ms, SqlBlob{upload.data});
    });
}

std::optional<StoredAttachment> CentralStore::attachment(const std::string& sha256) {
    std::optional<StoredAttachment> found;
    read([&] {
        found.reset();
        const auto rows = session_->run(kAttachmentData, sha256);
        if (rows.empty()) return;
        found = StoredAttachment{
            workflow::Attachment{sha256, rows[0].text(0), rows[0].count(1), rows[0].text(2)},
            rows[0].bytes(3)};
    });
    return found;
}

// ---- the down queue and resends ----

std::vector<sync::DownEvent> CentralStore::down_events(const std::string& gateway,
                                                       std::uint64_t after, std::size_t limit) {
    std::vector<sync::DownEvent> events;
    read([&] {
        events.clear();
        for (const auto row : session_->run(kDownEvents, gateway, after, limit)) {
            std::string problem;
            if (auto event = event_from_row(row, 1, problem)) {
                events.push_back({row.count(0), std::move(*event)});
            }
        }
    });
    return events;
}

std::pair<std::uint64_t, std::uint64_t> CentralStore::down_position(const std::string& gateway) {
    std::pair<std::uint64_t, std::uint64_t> position{0, 0};
    read([&] {
        const auto rows = session_->run(kDownPosition, gateway);
        position = rows.empty() ? std::pair<std::uint64_t, std::uint64_t>{0, 0}
                                : std::pair{rows[0].count(0) - 1, rows[0].count(1)};
    });
    return position;
}

std::vector<DueNeed> CentralStore::due_needs(std::int64_t asked_before_ms, std::int64_t now_ms) {
    std::vector<DueNeed> due;
    write([&] {
        due.clear();
        for (const auto row : session_->run(kDueNeeds, asked_before_ms)) {
            due.push_back({row.text(0), {row.text(1), row.count(2)}});
        }
        for (const auto& item : due) {
            session_->run(kMarkAsked, item.gateway, item.need.sha256, now_ms);
        }
    });
    return due;
}

std::vector<sync::NeededAttachment> CentralStore::needs_of(const std::string& gateway,
                                                           std::int64_t now_ms) {
    std::vector<sync::NeededAttachment> needs;
    write([&] {
        needs.clear();
        for (const auto row : session_->run(kNeedsOf, gateway)) {
            needs.push_back({row.text(0), row.count(1)});
        }
        for (const auto& need : needs) session_->run(kMarkAsked, gateway, need.sha256, now_ms);
    });
    return needs;
}

// ---- reads ----

std::vector<GatewayState> CentralStore::gateways() {
    std::vector<GatewayState> states;
    read([&] {
        states.clear();
        for (const auto row : session_->run(kGateways)) {
            GatewayState state;
            state.gateway = row.text(0);
            state.incarnation = row.optional_text(1);
            state.received = row.count(2);
            state.next_sequence = row.count(3);
            state.acked = row.count(4);
            state.verdict = sync::verdict_from_name(row.text(5)).value_or(sync::Verdict::ok);
            state.message = row.text(6);
            state.first_seen_ms = row.integer(7);
            state.last_hello_ms = row.optional_integer(8);
            state.hello_wall_ms = row.optional_integer(9);
            if (!row.is_null(10)) state.hello_clock_synced = row.boolean(10);
            state.last_message_ms = row.optional_integer(11);
            state.last_ack_ms = row.optional_integer(12);
            state.down_next = row.count(13);
            state.down_acked = row.count(14);
            state.last_down_ack_ms = row.optional_integer(15);
            state.quarantined = row.count(16);
            state.integrity_alarms = row.count(17);
            state.wanted_attachments = row.count(18);
            states.push_back(std::move(state));
        }
    });
    return states;
}

std::optional<GatewayState> CentralStore::gateway(const std::string& gateway) {
    for (auto& state : gateways()) {
        if (state.gateway == gateway) return std::move(state);
    }
    return std::nullopt;
}

std::vector<OrderRow> CentralStore::orders() {
    std::vector<OrderRow> rows;
    read([&] {
        rows.clear();
        for (const auto row : session_->run(kOrders)) rows.push_back(read_order_row(row));
    });
    return rows;
}

std::optional<OrderRow> CentralStore::find_order(const std::string& id_or_number) {
    std::optional<OrderRow> found;
    read([&] {
        found.reset();
        const auto id = resolve_order(*session_, id_or_number);
        if (!id) return;
        const auto rows = session_->run(kOrder, *id);
        if (!rows.empty()) found = read_order_row(rows[0]);
    });
    return found;
}

std::vector<Event> CentralStore::order_events(const std::string& order_id) {
    std::vector<Event> events;
    read([&] { events = events_of(session_->run(kOrderEvents, order_id)); });
    return events;
}

std::vector<QuarantineRow> CentralStore::quarantine() {
    std::vector<QuarantineRow> rows;
    read([&] {
        rows.clear();
        for (const auto row : session_->run(kQuarantineRows)) {
            QuarantineRow item;
            item.id = row.integer(0);
            item.gateway = row.text(1);
            if (!row.is_null(2)) item.sequence = row.count(2);
            item.reason = row.text(3);
            item.raw = row.text(4);
            item.received_ms = row.integer(5);
            rows.push_back(std::move(item));
        }
    });
    return rows;
}

std::vector<IntegrityRow> CentralStore::integrity_alarms() {
    std::vector<IntegrityRow> rows;
    read([&] {
        rows.clear();
        for (const auto row : session_->run(kIntegrityRows)) {
            rows.push_back({row.integer(0), row.text(1), row.text(2), row.count(3), row.text(4),
                            row.text(5), row.text(6), row.integer(7), row.integer(8),
                            row.count(9)});
        }
    });
    return rows;
}

orders::StoredOrders CentralStore::load_orders() {
    orders::StoredOrders stored;
    read([&] {
        auto& db = *session_;
        stored = orders::StoredOrders{};
        for (const auto row : db.run(kAllEvents)) {
            std::string problem;
            if (auto event = event_from_row(row, 0, problem)) {
                stored.events.push_back(std::move(*event));
            } else {
                stored.unreadable.push_back({row.integer(0), row.text(3),
                                             fmt::format("{}:{}", row.text(1), row.integer(2)),
                                             problem});
            }
        }
        for (const auto row : db.run(kWriters)) {
            stored.cursors.push_back(
                {row.text(0), row.count(1),
                 workflow::Hlc{row.integer(2), static_cast<std::uint32_t>(row.integer(3))}});
        }
        const auto key = db.run(kAnonymityKey);
        if (!key.empty()) stored.anonymity_key = key[0].text(0);
        for (const auto row : db.run(kCounters)) {
            stored.day_counters[{row.text(0), row.text(1)}] =
                static_cast<std::uint32_t>(row.count(2));
        }
        for (const auto row : db.run(kAllAttachments)) {
            workflow::Attachment attachment{row.text(0), row.text(1), row.count(2), row.text(3)};
            stored.attachments.emplace(attachment.sha256, std::move(attachment));
        }
    });
    return stored;
}

std::vector<orders::IncidentRecord> CentralStore::incidents() {
    std::vector<orders::IncidentRecord> records;
    read([&] {
        records.clear();
        for (const auto row : session_->run(kIncidents)) {
            records.push_back({row.integer(0), row.text(1), row.integer(2), row.integer(3),
                               row.text(4), row.real(5), row.text(6), row.text(7), row.integer(8)});
        }
    });
    return records;
}

std::uint64_t CentralStore::max_sequence(const std::string& origin) {
    std::uint64_t highest = 0;
    read([&] { highest = session_->run(kMaxSequence, origin)[0].count(0); });
    return highest;
}

std::uint64_t CentralStore::order_event_count() {
    std::uint64_t count = 0;
    read([&] { count = session_->run(kEventCount)[0].count(0); });
    return count;
}

void CentralStore::read_tables(const std::function<void(SqlSession&)>& work) {
    read([&] { work(*session_); });
}

void CentralStore::write_tables(const std::function<void(SqlSession&)>& work) {
    write([&] { work(*session_); });
}

}  // namespace fw::central
