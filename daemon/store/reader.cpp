// Read-only queries for the CLI and the HTTP API. In WAL mode a reader sees the last committed
// state and never blocks the writer.

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "daemon/core/log.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::store {
namespace {

constexpr std::string_view kLogInstance = "store";
// Schema version that added plant_events and input_health (schemas/0002_plant_events.sql).
constexpr int kPlantEventsVersion = 2;

void require_floorwatch_tables(sqlite3* db, const std::string& path) {
    Statement count(db,
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                    "AND name IN ('channels', 'samples', 'device_health')");
    const bool found = count.next_row(fmt::format("{}: looking for the store's tables", path)) &&
                       count.column_int64(0) == 3;
    count.reset();
    if (!found) {
        throw StoreError(fmt::format(
            "{} is an SQLite database but not a floorwatch store (its tables are missing); is "
            "store.path right?",
            path));
    }
}

class SqliteReader final : public Reader {
  public:
    SqliteReader(std::string path, Connection connection)
        : path_(std::move(path)),
          connection_(std::move(connection)),
          has_channel_(connection_.get(), "SELECT 1 FROM channels WHERE name = ?1"),
          channels_(connection_.get(),
                    "SELECT c.name, c.equipment, c.area, c.unit, c.source, "
                    "(SELECT count(*) FROM samples s WHERE s.channel_id = c.id), "
                    "(SELECT max(time_ms) FROM samples s WHERE s.channel_id = c.id) "
                    "FROM channels c ORDER BY c.name"),
          // Newest first so LIMIT keeps the newest; the caller gets them reversed, oldest first.
          samples_(connection_.get(),
                   "SELECT s.time_ms, s.value, s.quality FROM samples s "
                   "WHERE s.channel_id = (SELECT id FROM channels WHERE name = ?1) "
                   "AND s.time_ms >= ?2 AND s.time_ms < ?3 "
                   "ORDER BY s.time_ms DESC, s.rowid DESC LIMIT ?4"),
          device_health_(connection_.get(),
                         "SELECT driver, bus, device, online, last_error, last_change_ms, "
                         "last_success_ms, poll_interval_ms, polls, polls_failed, requests, "
                         "timeouts, exceptions, reconnects, samples "
                         "FROM device_health ORDER BY driver, bus, device"),
          schema_version_(connection_.get(), "PRAGMA user_version") {}

    bool has_channel(const std::string& channel) override {
        has_channel_.bind(1, channel);
        const bool found = has_channel_.next_row(doing("looking up a channel"));
        has_channel_.reset();
        return found;
    }

    std::vector<ChannelRow> channels() override {
        std::vector<ChannelRow> rows;
        const std::string listing = doing("listing channels");
        while (channels_.next_row(listing)) {
            ChannelRow row;
            row.info.name = channels_.column_text(0);
            row.info.equipment = channels_.column_text(1);
            row.info.area = channels_.column_text(2);
            row.info.unit = channels_.column_text(3);
            row.info.source = channels_.column_text(4);
            row.sample_count = static_cast<std::uint64_t>(channels_.column_int64(5));
            row.last_time_ms = channels_.column_optional_int64(6);
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::vector<StoredSample> samples(const std::string& channel, std::int64_t since_ms,
                                      std::int64_t until_ms, std::size_t limit) override {
        constexpr auto kMaxLimit =
            static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
        samples_.bind_all(channel, since_ms, until_ms,
                          static_cast<std::int64_t>(std::min(limit, kMaxLimit)));
        std::vector<StoredSample> rows;
        const std::string reading = doing("reading samples");
        while (samples_.next_row(reading)) {
            StoredSample row{};
            row.time_ms = samples_.column_int64(0);
            row.value = samples_.column_optional_double(1);
            row.quality = quality_of(samples_.column_int64(2));
            rows.push_back(row);
        }
        std::reverse(rows.begin(), rows.end());
        return rows;
    }

    std::vector<DeviceHealth> device_health() override {
        std::vector<DeviceHealth> rows;
        Statement& q = device_health_;
        auto counter = [&](int column) {
            return static_cast<std::uint64_t>(q.column_int64(column));
        };
        const std::string reading = doing("reading device health");
        while (q.next_row(reading)) {
            DeviceHealth row;
            row.driver = q.column_text(0);
            row.bus = q.column_text(1);
            row.device = q.column_text(2);
            row.online = q.column_int64(3) != 0;
            row.last_error = q.column_text(4);
            row.last_change_ms = q.column_int64(5);
            row.last_success_ms = q.column_int64(6);
            row.poll_interval_ms = q.column_int64(7);
            row.polls = counter(8);
            row.polls_failed = counter(9);
            row.requests = counter(10);
            row.timeouts = counter(11);
            row.exceptions = counter(12);
            row.reconnects = counter(13);
            row.samples = counter(14);
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::vector<StoredEvent> events(std::int64_t since_ms, std::int64_t until_ms,
                                    const std::string& name, std::size_t limit) override {
        std::vector<StoredEvent> rows;
        // A store the daemon has not migrated yet has no events table; it has no events either.
        if (schema_version() < kPlantEventsVersion) return rows;
        if (!events_) {
            // Newest first so LIMIT keeps the newest; reversed below to oldest first.
            events_.emplace(connection_.get(),
                            "SELECT id, name, time_ms, equipment, area, source, attributes "
                            "FROM plant_events WHERE time_ms >= ?1 AND time_ms < ?2 "
                            "AND (?3 = '' OR name = ?3) ORDER BY time_ms DESC, id DESC LIMIT ?4");
        }
        constexpr auto kMaxLimit =
            static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
        Statement& q = *events_;
        q.bind_all(since_ms, until_ms, name, static_cast<std::int64_t>(std::min(limit, kMaxLimit)));
        const std::string reading = doing("reading plant events");
        while (q.next_row(reading)) {
            StoredEvent row;
            row.id = q.column_int64(0);
            row.event.name = q.column_text(1);
            row.event.time_ms = q.column_int64(2);
            row.event.equipment = q.column_text(3);
            row.event.area = q.column_text(4);
            row.event.source = q.column_text(5);
            row.event.attributes = q.column_text(6);
            rows.push_back(std::move(row));
        }
        std::reverse(rows.begin(), rows.end());
        return rows;
    }

    std::vector<InputHealth> input_health() override {
        std::vector<InputHealth> rows;
        if (schema_version() < kPlantEventsVersion) return rows;
        if (!input_health_) {
            input_health_.emplace(connection_.get(),
                                  "SELECT driver, connection, input, topic, received, accepted, "
                                  "rejected, rejected_by_reason, last_rejection, "
                                  "last_rejection_ms, last_accepted_ms FROM input_health "
                                  "ORDER BY driver, connection, input = '', input");
        }
        Statement& q = *input_health_;
        auto counter = [&](int column) {
            return static_cast<std::uint64_t>(q.column_int64(column));
        };
        const std::string reading = doing("reading input health");
        while (q.next_row(reading)) {
            InputHealth row;
            row.driver = q.column_text(0);
            row.connection = q.column_text(1);
            row.input = q.column_text(2);
            row.topic = q.column_text(3);
            row.received = counter(4);
            row.accepted = counter(5);
            row.rejected = counter(6);
            row.rejected_by_reason = q.column_text(7);
            row.last_rejection = q.column_text(8);
            row.last_rejection_ms = q.column_int64(9);
            row.last_accepted_ms = q.column_int64(10);
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::vector<BrokerHealth> broker_health() override {
        std::vector<BrokerHealth> rows;
        if (!broker_health_) {
            Statement has_table(connection_.get(),
                                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = "
                                "'broker_health'");
            const bool found = has_table.next_row(doing("looking for broker health"));
            has_table.reset();
            if (!found) return rows;
            broker_health_.emplace(connection_.get(),
                                   "SELECT broker, connected, last_error, last_change_ms, "
                                   "connect_attempts, reconnects, thread_restarts, "
                                   "messages_received, messages_accepted, messages_rejected, "
                                   "last_accepted_ms FROM broker_health ORDER BY broker");
        }
        Statement& q = *broker_health_;
        auto counter = [&](int column) {
            return static_cast<std::uint64_t>(q.column_int64(column));
        };
        const std::string reading = doing("reading broker health");
        while (q.next_row(reading)) {
            BrokerHealth row;
            row.broker = q.column_text(0);
            row.connected = q.column_int64(1) != 0;
            row.last_error = q.column_text(2);
            row.last_change_ms = q.column_int64(3);
            row.connect_attempts = counter(4);
            row.reconnects = counter(5);
            row.thread_restarts = counter(6);
            row.messages_received = counter(7);
            row.messages_accepted = counter(8);
            row.messages_rejected = counter(9);
            row.last_accepted_ms = q.column_int64(10);
            rows.push_back(std::move(row));
        }
        return rows;
    }

    int schema_version() override {
        const auto version = schema_version_.next_row(doing("reading the schema version"))
                                 ? schema_version_.column_int64(0)
                                 : 0;
        schema_version_.reset();
        return static_cast<int>(version);
    }

  private:
    // A query failing on an open store is not expected (the file vanished, the disk failed); the
    // caller (CLI, HTTP handler) reports the SqliteError, which names the file and the query.
    std::string doing(std::string_view what) const { return fmt::format("{}: {}", path_, what); }

    Quality quality_of(std::int64_t code) {
        const bool fits =
            code >= std::numeric_limits<int>::min() && code <= std::numeric_limits<int>::max();
        if (auto quality = fits ? quality_from_code(static_cast<int>(code)) : std::nullopt) {
            return *quality;
        }
        // Written by a newer build or damaged: show it as not good rather than as a value.
        if (!warned_unknown_quality_) {
            warned_unknown_quality_ = true;
            log_warning(kLogInstance, "{}: unknown quality code {} shown as decode_error", path_,
                        code);
        }
        return Quality::decode_error;
    }

    std::string path_;
    Connection connection_;
    Statement has_channel_;
    Statement channels_;
    Statement samples_;
    Statement device_health_;
    Statement schema_version_;
    // Prepared on first use: a v1 store (not yet migrated by the daemon) lacks their tables.
    std::optional<Statement> events_;
    std::optional<Statement> input_health_;
    std::optional<Statement> broker_health_;
    bool warned_unknown_quality_ = false;
};

}  // namespace

std::unique_ptr<Reader> Reader::open(const std::string& path) {
    Connection connection = open_store_file(path, OpenMode::read_only, false);
    if (read_user_version(connection.get(), path) == 0) {
        throw StoreError(fmt::format(
            "{} is not a floorwatch store (schema version 0: empty or made by another program); "
            "is store.path right?",
            path));
    }
    require_floorwatch_tables(connection.get(), path);
    return std::make_unique<SqliteReader>(path, std::move(connection));
}

}  // namespace fw::store
