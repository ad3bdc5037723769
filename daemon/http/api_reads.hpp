#pragma once
// What the JSON API reads, as JSON (daemon/http/README.md "API"): pure functions over a
// read-only store connection, run on the HTTP read pool, never on the core thread. The shapes
// are those of the CLI's --json output and daemon/workflow/views.hpp, so the page, scripts and
// the CLI read the same thing.

#include <boost/json.hpp>
#include <cstdint>
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

// One read pool worker's connections to the store, opened on first use on that worker's thread
// (SQLite connections stay on the thread that uses them).
class ReadConnections {
  public:
    explicit ReadConnections(std::string path);
    ~ReadConnections();
    ReadConnections(const ReadConnections&) = delete;
    ReadConnections& operator=(const ReadConnections&) = delete;

    sqlite3* db();
    store::Reader& reader();
    alarms::AlarmReader& alarms();
    // Every order, brought up to date with the events written since the last call on this
    // connection (orders::OrderIndexCache): no read replays the whole history.
    const orders::OrderIndex& orders();

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
    std::string text;  // q: in number, title, description, equipment
    bool overdue = false;
    // One page of the sorted list: the counts cover every match, `orders` holds at most `limit`
    // of them from `offset` on (a plant's whole history at 10,000 orders is megabytes of JSON).
    std::size_t offset = 0;
    std::size_t limit = kDefaultOrderPage;
    static constexpr std::size_t kDefaultOrderPage = 200;
    static constexpr std::size_t kMaxOrderPage = 5000;
};
// {orders: [order_view + overdue], counts: {by_state, by_risk, overdue, total}, offset, limit,
// more}, overdue first, then the higher risk, then the current step's deadline.
boost::json::object orders_json(const orders::OrderIndex& orders, const OrderQuery& query,
                                std::int64_t now_ms);

// {order, timeline, approval_chain, photos, occurrences, alarm, actions}; nullopt when there is
// no such order. `actions` are what `actor` may do now, asked of the workflow's own handler.
std::optional<boost::json::object> order_detail_json(const orders::OrderIndex& orders,
                                                     store::Reader& reader,
                                                     const std::string& id_or_number,
                                                     const workflow::Actor& actor,
                                                     const Config& config, std::int64_t now_ms);

struct StoredFile {
    std::string media_type;
    std::string name;
    std::string data;
};
std::optional<StoredFile> read_attachment(sqlite3* db, const std::string& sha256);

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

boost::json::object kpi_json(sqlite3* db, const orders::OrderIndex& orders,
                             const workflow::KpiFilter& filter, std::int64_t now_ms);
boost::json::object weekly_json(sqlite3* db, const orders::OrderIndex& orders,
                                std::int64_t week_end_ms, std::int64_t now_ms,
                                const std::string& title);

// The families /metrics reads from the store: device and MQTT input health, alarms by state,
// orders by state and overdue.
void store_metrics(PrometheusText& text, const orders::OrderIndex& orders, store::Reader& reader,
                   alarms::AlarmReader& alarm_reader, std::int64_t now_ms);

}  // namespace fw::http
