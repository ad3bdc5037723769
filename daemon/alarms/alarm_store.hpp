#pragma once
// Alarm rows in the store (schemas/0003_alarms.sql, 0006_alarm_hazard.sql): the write side runs
// inside store WriteJobs on the writer thread; the read side opens its own read-only connection
// (CLI, startup) or reads on the caller's (the order service's catch-up).

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rules/alarm.hpp"
#include "rules/engine.hpp"

struct sqlite3;

namespace fw::alarms {

// --- write side (writer thread, inside a WriteJob; each throws store::SqliteError on failure) ---

// Inserts the events in order and returns their row ids.
std::vector<std::int64_t> insert_alarm_events(sqlite3* db,
                                              const std::vector<rules::AlarmEvent>& events);
// Upserts each alarm's current row; `last_event_ids` and `changed_ms` are per view.
struct AlarmRowUpdate {
    rules::AlarmView view;
    std::int64_t last_event_id = 0;
    std::int64_t changed_ms = 0;
};
void upsert_alarms(sqlite3* db, const std::vector<AlarmRowUpdate>& rows);
// Makes `alarms` hold exactly these alarms (start and reload: rules may have gone), keeping the
// last event id and change time of the ones that stay.
void replace_alarms(sqlite3* db, const std::vector<rules::AlarmView>& views);
void save_engine_state(sqlite3* db, std::int64_t saved_ms, const std::string& snapshot);

// --- read side (own read-only connection, or the caller's; throws store::StoreError) ---

struct AlarmRow {
    rules::AlarmView view;
    std::int64_t last_event_id = 0;
    std::int64_t last_change_ms = 0;
};

// An alarm event as stored, wherever it is read: `id` is its alarm_events row id. Events stored
// before schema 6 have no event.rule_hazard.
struct StoredAlarmEvent {
    std::int64_t id = 0;
    rules::AlarmEvent event;
};

// A row that could not be read back because it names a state, action, severity or risk this build
// does not know (written by a newer floorwatch, or edited by hand). It is reported, never shown
// with a guessed value.
struct UnreadableAlarmRow {
    std::string table;        // "alarms" or "alarm_events"
    std::int64_t row_id = 0;  // alarm_events.id; 0 for `alarms`, keyed by rule and equipment
    std::string rule_id;
    std::string equipment;
    std::string problem;  // "unknown state 'latched'"
};
// "alarm_events row 17 (rule press-vibration on press-1) cannot be read: unknown state 'latched'"
std::string describe_unreadable(const UnreadableAlarmRow& row);

struct AlarmTable {
    std::vector<AlarmRow> alarms;
    std::vector<UnreadableAlarmRow> unreadable;
};

struct AlarmHistory {
    std::vector<StoredAlarmEvent> events;  // oldest first
    std::vector<UnreadableAlarmRow> unreadable;
};

// The alarm events after `after_id`, oldest first, on the caller's connection to a store at the
// latest schema (the order service's catch-up at start). Throws store::StoreError.
AlarmHistory load_alarm_events_after(sqlite3* db, std::int64_t after_id);

struct HistoryFilter {
    std::int64_t since_ms = 0;
    std::int64_t until_ms = 0;
    std::string rule;           // empty: every rule
    std::string equipment;      // empty: all equipment
    std::size_t limit = 10000;  // the newest `limit` when there are more
    std::int64_t after_id = 0;  // only rows with a bigger id
};

class AlarmReader {
  public:
    explicit AlarmReader(const std::string& path);
    ~AlarmReader();
    AlarmReader(const AlarmReader&) = delete;
    AlarmReader& operator=(const AlarmReader&) = delete;

    AlarmTable alarms();
    AlarmHistory history(const HistoryFilter& filter);
    std::optional<std::string> engine_state();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// JSON for scripts and the CLI (`floorwatch alarms --json`, control replies).
boost::json::object alarm_view_json(const rules::AlarmView& view);
boost::json::object alarm_event_json(std::int64_t id, const rules::AlarmEvent& event);

}  // namespace fw::alarms
