#pragma once
// The central store: every gateway's orders, their events and attachments, and the sync cursors
// (README.md). One code path for the domain — ingest of a gateway's events, hello bookkeeping,
// central actions through the workflow's handle(), the down queues, attachments, the seed of a
// reseed, the reads of the CLI — over two databases (SQLite or PostgreSQL, sql.hpp). Each call
// that changes something is one transaction.
//
// A CentralStore is one connection: one thread at a time. It blocks on the database, so the
// daemon calls it only from its store threads (store_workers.hpp), never from the core.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/central/sql.hpp"
#include "daemon/core/result.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/order.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::central {

// Where the central store lives: an SQLite store file, or a PostgreSQL database.
struct StoreLocation {
    std::string sqlite_path;                // used when postgresql is absent
    std::optional<std::string> postgresql;  // libpq conninfo
    std::string describe() const;
};

// One gateway as the centre knows it: up cursor, last hello, down cursor, and what needs people.
struct GatewayState {
    std::string gateway;  // its origin, "<site>.<node>"
    std::optional<std::string> incarnation;
    std::uint64_t received = 0;       // highest contiguous sequence stored or quarantined
    std::uint64_t next_sequence = 0;  // the gateway's writer cursor, from its last hello
    std::uint64_t acked = 0;          // what the gateway had seen acked, from its last hello
    sync::Verdict verdict = sync::Verdict::ok;
    std::string message;
    std::int64_t first_seen_ms = 0;
    std::optional<std::int64_t> last_hello_ms;
    std::optional<std::int64_t> hello_wall_ms;
    std::optional<bool> hello_clock_synced;
    std::optional<std::int64_t> last_message_ms;
    std::optional<std::int64_t> last_ack_ms;
    std::uint64_t down_next = 1;
    std::uint64_t down_acked = 0;
    std::optional<std::int64_t> last_down_ack_ms;
    std::uint64_t quarantined = 0;
    std::uint64_t integrity_alarms = 0;
    std::uint64_t wanted_attachments = 0;

    // Events the gateway said it wrote that the centre does not hold yet (from its last hello).
    std::uint64_t backlog() const {
        return next_sequence > received + 1 ? next_sequence - 1 - received : 0;
    }
};

// What the log says about one message: quarantined events, forgeries, integrity alarms.
struct Alert {
    enum class Level { warning, error };
    Level level = Level::warning;
    std::string text;
};

struct IngestOutcome {
    std::uint64_t received = 0;  // the contiguous cursor after the message: what to ack
    std::size_t stored = 0;
    std::size_t duplicates = 0;
    std::size_t quarantined = 0;  // forged ones included
    std::size_t forged = 0;       // origin or order not the topic's gateway
    std::size_t integrity_alarms = 0;
    std::vector<std::string> changed_orders;
    std::vector<sync::NeededAttachment> needs;  // attachments newly wanted from this gateway
    std::vector<Alert> alerts;
};

struct HelloOutcome {
    sync::Welcome welcome;
    std::uint64_t replay_from = 1;  // the first down sequence to send again (down_applied + 1)
    std::vector<Alert> alerts;
};

// A central action: a person (or the web page) acting on an order through the workflow.
struct ActionRequest {
    workflow::Command command;
    workflow::Actor actor;
    std::string order;  // id or human number; empty for a report
};

struct ActionContext {
    const workflow::WorkflowConfig& workflow;
    const workflow::Clock& clock;
    std::string origin;  // the centre's "<site>.<node>"
    // For a report: the plant-local date and its text ("2026-11-29"), which the number uses.
    std::chrono::year_month_day local_date{};
    std::string local_day;
};

struct ActionOutcome {
    workflow::Outcome outcome;
    std::optional<std::string> gateway;  // the order's gateway; nullopt for the centre's own
    std::vector<sync::DownEvent> down;   // what to send that gateway now
};

// The answer to one attachment chunk from a gateway.
struct ChunkOutcome {
    enum class Kind {
        appended,      // more to come
        stored,        // the whole file arrived and matched its sha256
        corrupt,       // the whole file did not match: asked again from 0
        out_of_order,  // not at the offset held: asked again from there
        not_wanted,    // nobody asked for it (or it is already stored): ignored
    };
    Kind kind = Kind::not_wanted;
    std::optional<sync::NeededAttachment> ask;  // what to ask for next
};

struct StoredAttachment {
    workflow::Attachment attachment;
    std::string data;
};

// One part of a reseed's answer: every event of the gateway's orders, whole orders at a time,
// each order's events in fold order (applies_before).
struct SeedPage {
    std::vector<workflow::Event> events;
    std::string last_order;  // the next page starts after this order id
    bool done = false;
    std::uint64_t origin_sequence = 0;  // highest sequence of the gateway's origin held here
    std::uint64_t down_last = 0;        // highest down sequence given to the gateway
};

struct OrderRow {
    std::string order_id;
    std::string number;
    std::optional<std::string> gateway;
    std::string equipment;
    std::string area;
    std::string hazard_type;
    std::string status;
    std::string risk;
    std::string assignee;
    std::string title;
    std::int64_t reported_ms = 0;
    std::optional<std::int64_t> closed_ms;
    std::uint64_t event_count = 0;
    std::uint64_t superseded = 0;
    std::int64_t updated_ms = 0;
};

struct QuarantineRow {
    std::int64_t id = 0;
    std::string gateway;
    std::optional<std::uint64_t> sequence;
    std::string reason;
    std::string raw;
    std::int64_t received_ms = 0;
};

struct IntegrityRow {
    std::int64_t id = 0;
    std::string gateway;
    std::string origin;
    std::uint64_t sequence = 0;
    std::string stored_hash;
    std::string received_hash;
    std::string raw;
    std::int64_t first_detected_ms = 0;
    std::int64_t last_detected_ms = 0;
    std::uint64_t detections = 0;
};

// A wanted attachment due to be asked for (again).
struct DueNeed {
    std::string gateway;
    sync::NeededAttachment need;
};

// Attachments larger than this are never wanted from a gateway: whatever a gateway's own limit,
// one file must not be able to fill the centre's memory while it is checked.
inline constexpr std::uint64_t kMaxAttachmentBytes = 256ULL * 1024 * 1024;

class CentralStore {
  public:
    explicit CentralStore(std::unique_ptr<SqlSession> session);

    // Opens (and, unless read_only, creates and migrates) the store at `location`. Throws with a
    // message naming the file or server and what to do.
    static std::unique_ptr<CentralStore> open(const StoreLocation& location, bool read_only);

    const std::string& description() const { return session_->description(); }
    bool broken() const { return session_->broken(); }
    std::string incarnation();

    // --- gateway -> centre ---

    // One `events` message from `gateway`'s up topic, in one transaction (README.md "Ingest").
    IngestOutcome ingest(const std::string& gateway, const sync::UpEvents& message,
                         const workflow::WallTime& now);
    // A hello: the verdict, the cursors recorded, the welcome to answer with.
    HelloOutcome hello(const std::string& gateway, const sync::Hello& hello,
                       const workflow::WallTime& now);
    // The welcome from what is on record (a gateway's `reannounce`).
    sync::Welcome welcome(const std::string& gateway, const workflow::WallTime& now);
    void down_ack(const std::string& gateway, std::uint64_t down_applied, std::int64_t now_ms);
    ChunkOutcome receive_chunk(const std::string& gateway, const sync::AttachmentChunk& chunk,
                               std::int64_t now_ms);
    // Orders after `after_order` ("" = from the first) until at least `max_events` events.
    SeedPage seed_page(const std::string& gateway, const std::string& after_order,
                       std::size_t max_events);

    // --- central actions ---

    // In one transaction: lock the order, fold its events, handle(), write the events and the
    // writer cursor, queue them for the order's gateway. An error is the workflow's refusal (or
    // an unknown order) for the person who asked; nothing is written then.
    Result<ActionOutcome> act(const ActionRequest& request, const ActionContext& context);
    // Attachment metadata by sha256, for the control commands that name attachments.
    std::map<std::string, workflow::Attachment, std::less<>> attachments(
        const std::vector<std::string>& sha256s);
    // An attachment uploaded at the centre (content-addressed: the first copy stays).
    void store_attachment(const orders::AttachmentUpload& upload);
    std::optional<StoredAttachment> attachment(const std::string& sha256);

    // --- the down queue and the resend timers ---

    // Down events of `gateway` after `after`, in down order, at most `limit`.
    std::vector<sync::DownEvent> down_events(const std::string& gateway, std::uint64_t after,
                                             std::size_t limit);
    // down_next - 1 and down_acked of `gateway`.
    std::pair<std::uint64_t, std::uint64_t> down_position(const std::string& gateway);
    // Wanted attachments not asked for since `asked_before_ms` (never asked included), marked as
    // asked at `now_ms`.
    std::vector<DueNeed> due_needs(std::int64_t asked_before_ms, std::int64_t now_ms);
    // Every wanted attachment of `gateway` with the offset held, marked as asked at `now_ms`.
    std::vector<sync::NeededAttachment> needs_of(const std::string& gateway, std::int64_t now_ms);

    // --- reads (CLI, web page, tests) ---

    std::vector<GatewayState> gateways();
    std::optional<GatewayState> gateway(const std::string& gateway);
    std::vector<OrderRow> orders();
    // By id, or by a human number that names one order only (several gateways may use one).
    std::optional<OrderRow> find_order(const std::string& id_or_number);
    // The order's events in the order they were stored.
    std::vector<workflow::Event> order_events(const std::string& order_id);
    std::vector<QuarantineRow> quarantine();
    std::vector<IntegrityRow> integrity_alarms();
    // Everything the order commands of the CLI read (`orders`, `verify`, `kpi`, `report`).
    orders::StoredOrders load_orders();
    std::vector<orders::IncidentRecord> incidents();
    // Highest sequence of `origin` stored here (0: none).
    std::uint64_t max_sequence(const std::string& origin);
    // Rows in order_events, readable or not: events are only ever added, so a reader holding
    // this many has them all (the web page's reads keep their fold until it moves).
    std::uint64_t order_event_count();

    // --- other domains' tables kept in the central store (the web page's users and sessions,
    // daemon/central/central_web.cpp) ---

    // Runs `work` in one read (or write) transaction of this connection; the same rules as
    // SqlSession::transaction (a write may run again after a serialization failure).
    void read_tables(const std::function<void(SqlSession&)>& work);
    void write_tables(const std::function<void(SqlSession&)>& work);

  private:
    void write(const std::function<void()>& work);
    void read(const std::function<void()>& work);

    std::unique_ptr<SqlSession> session_;
    std::optional<std::string> incarnation_;
};

// The order id's origin: "plant.gw-1" of "plant.gw-1.17" (everything before the last dot).
std::string order_origin(std::string_view order_id);

}  // namespace fw::central
