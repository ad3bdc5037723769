#pragma once
// What the JSON API reads, as JSON (daemon/http/README.md "API"): pure functions over a
// read-only store connection, run on the HTTP read pool, never on the core thread. The shapes
// are those of the CLI's --json output and daemon/workflow/views.hpp, so the page, scripts and
// the CLI read the same thing.

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/config/config.hpp"
#include "daemon/http/prometheus.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/store/store.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/kpi.hpp"

struct sqlite3;

namespace fw::http {

struct StoredFile {
    std::string media_type;
    std::string name;
    std::string data;
};

// Where the API's reads come from: one per read pool worker, used on that worker's thread only
// (a connection stays on the thread that uses it). A gateway reads its own SQLite store
// (ReadConnections, below); a centre reads its central store, SQLite or PostgreSQL
// (daemon/central/central_web.hpp). A read throws std::exception with the reason; the API answers
// 500 with it.
class ReadSource {
  public:
    virtual ~ReadSource() = default;
    // Every order as of the store's last commit.
    virtual const orders::OrderIndex& orders() = 0;
    virtual std::vector<orders::IncidentRecord> incidents() = 0;
    virtual std::optional<StoredFile> attachment(const std::string& sha256) = 0;
    // A gateway's readings and alarms; nullptr on a centre, which polls nothing and runs no rules.
    virtual store::Reader* readings() = 0;
    virtual alarms::AlarmReader* alarms() = 0;
    // The centre: the gateway an order belongs to ("(centre)" for its own), as `floorwatch orders
    // --json` says it; nullopt on a gateway, whose orders are all its own.
    virtual std::optional<std::string> gateway_of(std::string_view order_id) const = 0;
    // GET /api/v1/sync: the centre's gateways, or a gateway's peers.
    virtual boost::json::object sync_state() = 0;
};
using ReadSourceFactory = std::function<std::unique_ptr<ReadSource>()>;

// A gateway's read pool worker: its own read-only connections to the store file, opened on first
// use on that worker's thread.
class ReadConnections final : public ReadSource {
  public:
    explicit ReadConnections(std::string path);
    ~ReadConnections() override;
    ReadConnections(const ReadConnections&) = delete;
    ReadConnections& operator=(const ReadConnections&) = delete;

    sqlite3* db();
    store::Reader& reader();
    // Every order, brought up to date with the events written since the last call on this
    // connection (orders::OrderIndexCache): no read replays the whole history.
    const orders::OrderIndex& orders() override;
    std::vector<orders::IncidentRecord> incidents() override;
    std::optional<StoredFile> attachment(const std::string& sha256) override;
    store::Reader* readings() override { return &reader(); }
    alarms::AlarmReader* alarms() override;
    std::optional<std::string> gateway_of(std::string_view) const override { return std::nullopt; }
    // A gateway without the sync agent has no peer to report: {peers: []}.
    boost::json::object sync_state() override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "1h" ago or "2026-11-29T08:00:00Z"; nullopt for anything else.
std::optional<std::int64_t> parse_when(const std::string& text, std::int64_t now_ms);

struct OrderQuery {
    std::string state;
    std::string risk;
    std::string area;
    std::string equipment;
    std::string assignee;
    std::string gateway;  // the centre: only this gateway's orders ("(centre)": its own)
    std::string text;     // q: in number, title, description, equipment
    bool overdue = false;
    // One page of the sorted list: the counts cover every match, `orders` holds at most `limit`
    // of them from `offset` on (a plant's whole history at 10,000 orders is megabytes of JSON).
    std::size_t offset = 0;
    std::size_t limit = kDefaultOrderPage;
    static constexpr std::size_t kDefaultOrderPage = 200;
    static constexpr std::size_t kMaxOrderPage = 5000;
};
// {orders: [order_view + overdue], counts: {by_state, by_risk, overdue, total}, offset, limit,
// more}, overdue first, then the higher risk, then the current step's deadline. On a centre each
// order also says its `gateway`.
boost::json::object orders_json(ReadSource& source, const OrderQuery& query, std::int64_t now_ms);

// {order, timeline, approval_chain, photos, occurrences, alarm, actions}; nullopt when there is
// no such order. `actions` are what `actor` may do now, asked of the workflow's own handler.
std::optional<boost::json::object> order_detail_json(ReadSource& source,
                                                     const std::string& id_or_number,
                                                     const workflow::Actor& actor,
                                                     const Config& config, std::int64_t now_ms);

boost::json::object channels_json(store::Reader& reader, std::int64_t now_ms);
// {channel, unit, points: [{time_ms, value|null, quality}]}, at most kMaxPoints points (evenly
// thinned); nullopt when there is no such channel.
inline constexpr std::size_t kMaxPoints = 500;
std::optional<boost::json::object> samples_json(store::Reader& reader, const std::string& channel,
                                                std::int64_t since_ms, std::int64_t until_ms);
boost::json::object devices_json(store::Reader& reader);

boost::json::object alarms_json(alarms::AlarmReader& reader, bool all);
boost::json::object alarm_history_json(alarms::AlarmReader& reader,
                                       const alarms::HistoryFilter& filter);

boost::json::object kpi_json(ReadSource& source, const workflow::KpiFilter& filter,
                             std::int64_t now_ms);
boost::json::object weekly_json(ReadSource& source, std::int64_t week_end_ms, std::int64_t now_ms,
                                const std::string& title);

// The families /metrics reads from the store: device and MQTT input health and alarms by state
// (a gateway's), orders by state and overdue.
void store_metrics(PrometheusText& text, ReadSource& source, std::int64_t now_ms);

}  // namespace fw::http
