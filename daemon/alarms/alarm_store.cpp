#include "daemon/alarms/alarm_store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "daemon/core/time.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::alarms {
namespace {

using store::Statement;

// Schema version that added the alarm tables (schemas/0003_alarms.sql).
constexpr int kAlarmsVersion = 3;
// Schema version that added the rule's hazard to alarm_events (schemas/0006_alarm_hazard.sql).
constexpr int kAlarmHazardVersion = 6;

// No value (NaN) is stored as NULL.
std::optional<double> finite_or_null(double value) {
    return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

std::int64_t flag(bool value) {
    return value ? 1 : 0;
}

double value_or_none(const Statement& row, int column) {
    return row.column_optional_double(column).value_or(std::numeric_limits<double>::quiet_NaN());
}

// The enum a name column holds; nullopt, with the first such problem kept in `problem`, when the
// name is not one this build knows.
template <typename Enum>
std::optional<Enum> name_column(const Statement& row, int column,
                                std::optional<Enum> (*from_name)(std::string_view),
                                std::string_view what, std::string& problem) {
    const std::string text = row.column_text(column);
    auto value = from_name(text);
    if (!value && problem.empty()) problem = fmt::format("unknown {} '{}'", what, text);
    return value;
}

// The text `text` points to, or NULL.
std::optional<std::string_view> text_or_null(const std::string* text) {
    return text != nullptr ? std::optional<std::string_view>(*text) : std::nullopt;
}

// The columns read_event() reads, in its order; before schema 6 the rule's hazard is NULL.
constexpr std::string_view kEventColumns =
    "id, time_ms, rule_id, rule_version, equipment, area, action, from_state, to_state, severity, "
    "condition, value, detail, chattering, flood, escalation, actor, reason, shelved_until_ms, "
    "rule_description, hazard_type, hazard_risk, hazard_title, counted_hazard_type";
constexpr std::string_view kEventColumnsBeforeV6 =
    "id, time_ms, rule_id, rule_version, equipment, area, action, from_state, to_state, severity, "
    "condition, value, detail, chattering, flood, escalation, actor, reason, shelved_until_ms, "
    "NULL, NULL, NULL, NULL, NULL";

// A row of kEventColumns; nullopt, with `problem` set, when it names something this build does
// not know.
std::optional<StoredAlarmEvent> read_event(const Statement& query, std::string& problem) {
    const auto action = name_column(query, 6, &rules::alarm_action_from_name, "action", problem);
    const auto from = name_column(query, 7, &rules::alarm_state_from_name, "state", problem);
    const auto to = name_column(query, 8, &rules::alarm_state_from_name, "state", problem);
    const auto severity = name_column(query, 9, &rules::severity_from_name, "severity", problem);
    std::optional<rules::Risk> risk;
    const bool has_hazard = !query.column_is_null(19) && !query.column_is_null(20);
    if (has_hazard) risk = name_column(query, 21, &rules::risk_from_name, "hazard risk", problem);
    if (!action || !from || !to || !severity || (has_hazard && !risk)) return std::nullopt;
    StoredAlarmEvent row;
    row.id = query.column_int64(0);
    auto& event = row.event;
    event.time.wall_ms = query.column_int64(1);
    event.rule_id = query.column_text(2);
    event.rule_version = query.column_text(3);
    event.equipment = query.column_text(4);
    event.area = query.column_text(5);
    event.action = *action;
    event.from = *from;
    event.to = *to;
    event.severity = *severity;
    event.condition = query.column_int64(10) != 0;
    event.value = value_or_none(query, 11);
    event.detail = query.column_text(12);
    event.chattering = query.column_int64(13) != 0;
    event.flood = query.column_int64(14) != 0;
    event.escalation = query.column_int64(15) != 0;
    event.actor = query.column_text(16);
    event.reason = query.column_text(17);
    event.shelved_until_wall_ms = query.column_int64(18);
    if (!query.column_is_null(19)) {
        rules::RuleHazard hazard;
        hazard.description = query.column_text(19);
        if (has_hazard) {
            hazard.hazard =
                rules::HazardConfig{query.column_text(20), *risk, query.column_text(22)};
        }
        hazard.counted_hazard_type = query.column_text(23);
        event.rule_hazard = std::move(hazard);
    }
    return row;
}

// Reads every row of a kEventColumns query, the unreadable ones apart.
AlarmHistory read_events(Statement& query, std::string_view doing) {
    AlarmHistory history;
    while (query.next_row(doing)) {
        std::string problem;
        if (auto row = read_event(query, problem)) {
            history.events.push_back(std::move(*row));
        } else {
            history.unreadable.push_back({"alarm_events", query.column_int64(0),
                                          query.column_text(2), query.column_text(4),
                                          std::move(problem)});
        }
    }
    return history;
}

// Columns: rule_id, equipment, rule_version, area, state, condition, severity, value, detail,
// chattering, shelved_until_ms, shelved_by, reason, last_event_id, last_change_ms.
std::optional<AlarmRow> alarm_from_row(const Statement& query, std::string& problem) {
    const auto state = name_column(query, 4, &rules::alarm_state_from_name, "state", problem);
    const auto severity = name_column(query, 6, &rules::severity_from_name, "severity", problem);
    if (!state || !severity) return std::nullopt;
    AlarmRow row;
    auto& view = row.view;
    view.rule_id = query.column_text(0);
    view.equipment = query.column_text(1);
    view.rule_version = query.column_text(2);
    view.area = query.column_text(3);
    view.state = *state;
    view.status.condition = query.column_int64(5) != 0;
    view.severity = *severity;
    view.value = value_or_none(query, 7);
    view.detail = query.column_text(8);
    view.chattering = query.column_int64(9) != 0;
    view.shelved_until_wall_ms = query.column_int64(10);
    view.shelved_by = query.column_text(11);
    view.reason = query.column_text(12);
    row.last_event_id = query.column_int64(13);
    row.last_change_ms = query.column_int64(14);
    return row;
}

}  // namespace

std::string describe_unreadable(const UnreadableAlarmRow& row) {
    const std::string alarm = fmt::format("rule {} on {}", row.rule_id, row.equipment);
    if (row.row_id != 0) {
        return fmt::format("{} row {} ({}) cannot be read: {}", row.table, row.row_id, alarm,
                           row.problem);
    }
    return fmt::format("the {} row of {} cannot be read: {}", row.table, alarm, row.problem);
}

std::vector<std::int64_t> insert_alarm_events(sqlite3* db,
                                              const std::vector<rules::AlarmEvent>& events) {
    Statement insert(
        db,
        "INSERT INTO alarm_events (time_ms, rule_id, rule_version, equipment, area, "
        "action, from_state, to_state, severity, condition, value, detail, "
        "chattering, flood, escalation, actor, reason, shelved_until_ms, rule_description, "
        "hazard_type, hazard_risk, hazard_title, counted_hazard_type) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
        "?23)");
    std::vector<std::int64_t> ids;
    ids.reserve(events.size());
    for (const auto& event : events) {
        insert.bind_all(event.time.wall_ms, event.rule_id, event.rule_version, event.equipment,
                        event.area, rules::alarm_action_name(event.action),
                        rules::alarm_state_name(event.from), rules::alarm_state_name(event.to),
                        rules::severity_name(event.severity), flag(event.condition),
                        finite_or_null(event.value), event.detail, flag(event.chattering),
                        flag(event.flood), flag(event.escalation), event.actor, event.reason,
                        event.shelved_until_wall_ms);
        const auto& rule = event.rule_hazard;
        const auto* hazard = rule && rule->hazard ? &*rule->hazard : nullptr;
        insert.bind(19, text_or_null(rule ? &rule->description : nullptr));
        insert.bind(20, text_or_null(hazard ? &hazard->type : nullptr));
        insert.bind(
            21, hazard != nullptr ? std::optional(rules::risk_name(hazard->risk)) : std::nullopt);
        insert.bind(22, text_or_null(hazard ? &hazard->title : nullptr));
        insert.bind(23, text_or_null(rule ? &rule->counted_hazard_type : nullptr));
        insert.execute("writing an alarm event");
        ids.push_back(sqlite3_last_insert_rowid(db));
    }
    return ids;
}

void upsert_alarms(sqlite3* db, const std::vector<AlarmRowUpdate>& rows) {
    Statement upsert(db,
                     "INSERT INTO alarms (rule_id, equipment, rule_version, area, state, "
                     "condition, severity, value, detail, chattering, shelved_until_ms, "
                     "shelved_by, reason, last_event_id, last_change_ms) VALUES (?1, ?2, ?3, ?4, "
                     "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (rule_id, "
                     "equipment) DO UPDATE SET rule_version = excluded.rule_version, area = "
                     "excluded.area, state = excluded.state, condition = excluded.condition, "
                     "severity = excluded.severity, value = excluded.value, detail = "
                     "excluded.detail, chattering = excluded.chattering, shelved_until_ms = "
                     "excluded.shelved_until_ms, shelved_by = excluded.shelved_by, reason = "
                     "excluded.reason, last_event_id = excluded.last_event_id, last_change_ms = "
                     "excluded.last_change_ms");
    for (const auto& row : rows) {
        const auto& view = row.view;
        upsert.bind_all(view.rule_id, view.equipment, view.rule_version, view.area,
                        rules::alarm_state_name(view.state), flag(view.status.condition),
                        rules::severity_name(view.severity), finite_or_null(view.value),
                        view.detail, flag(view.chattering), view.shelved_until_wall_ms,
                        view.shelved_by, view.reason, row.last_event_id, row.changed_ms);
        upsert.execute("writing an alarm's state");
    }
}

void replace_alarms(sqlite3* db, const std::vector<rules::AlarmView>& views) {
    std::set<std::pair<std::string, std::string>> keep;
    for (const auto& view : views) keep.emplace(view.rule_id, view.equipment);
    Statement existing(db, "SELECT rule_id, equipment, last_event_id, last_change_ms FROM alarms");
    std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> known;
    std::vector<std::pair<std::string, std::string>> gone;
    while (existing.next_row("reading the alarms")) {
        std::pair key{existing.column_text(0), existing.column_text(1)};
        if (keep.contains(key)) {
            known[key] = {existing.column_int64(2), existing.column_int64(3)};
        } else {
            gone.push_back(std::move(key));
        }
    }
    Statement remove(db, "DELETE FROM alarms WHERE rule_id = ?1 AND equipment = ?2");
    for (const auto& [rule, equipment] : gone) {
        remove.bind(1, rule);
        remove.bind(2, equipment);
        remove.execute("removing an alarm of a rule that is gone");
    }
    std::vector<AlarmRowUpdate> rows;
    rows.reserve(views.size());
    for (const auto& view : views) {
        AlarmRowUpdate row{.view = view};
        if (auto it = known.find({view.rule_id, view.equipment}); it != known.end()) {
            row.last_event_id = it->second.first;
            row.changed_ms = it->second.second;
        }
        rows.push_back(std::move(row));
    }
    upsert_alarms(db, rows);
}

void save_engine_state(sqlite3* db, std::int64_t saved_ms, const std::string& snapshot) {
    Statement save(db,
                   "INSERT INTO engine_state (id, saved_ms, snapshot) VALUES (1, ?1, ?2) "
                   "ON CONFLICT (id) DO UPDATE SET saved_ms = excluded.saved_ms, "
                   "snapshot = excluded.snapshot");
    save.bind(1, saved_ms);
    save.bind(2, snapshot);
    save.execute("saving the rules engine's state");
}

AlarmHistory load_alarm_events_after(sqlite3* db, std::int64_t after_id) {
    Statement query(
        db, fmt::format("SELECT {} FROM alarm_events WHERE id > ?1 ORDER BY id", kEventColumns));
    query.bind(1, after_id);
    return read_events(query, fmt::format("reading the alarm events after {}", after_id));
}

struct AlarmReader::Impl {
    std::string path;
    store::Connection connection;
    int schema_version = 0;

    std::string doing(std::string_view what) const { return fmt::format("{}: {}", path, what); }
};

AlarmReader::AlarmReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->connection = store::open_store_file(path, store::OpenMode::read_only, false);
    impl_->schema_version = store::read_user_version(impl_->connection.get(), path);
    if (impl_->schema_version < kAlarmsVersion) {
        throw store::StoreError(fmt::format(
            "{}: this store has no alarms yet (schema older than v3); start floorwatchd once to "
            "upgrade it",
            path));
    }
}

AlarmReader::~AlarmReader() = default;

AlarmTable AlarmReader::alarms() {
    Statement query(impl_->connection.get(),
                    "SELECT rule_id, equipment, rule_version, area, state, condition, severity, "
                    "value, detail, chattering, shelved_until_ms, shelved_by, reason, "
                    "last_event_id, last_change_ms FROM alarms ORDER BY rule_id, equipment");
    AlarmTable table;
    const std::string reading = impl_->doing("reading the alarms");
    while (query.next_row(reading)) {
        std::string problem;
        if (auto row = alarm_from_row(query, problem)) {
            table.alarms.push_back(std::move(*row));
        } else {
            table.unreadable.push_back(
                {"alarms", 0, query.column_text(0), query.column_text(1), std::move(problem)});
        }
    }
    return table;
}

AlarmHistory AlarmReader::history(const HistoryFilter& filter) {
    // The newest `limit` rows, returned oldest first. The CLI may read a store the daemon has not
    // migrated yet.
    const auto columns =
        impl_->schema_version >= kAlarmHazardVersion ? kEventColumns : kEventColumnsBeforeV6;
    Statement query(
        impl_->connection.get(),
        fmt::format("SELECT * FROM (SELECT {} FROM alarm_events WHERE id > ?1 AND "
                    "time_ms >= ?2 AND time_ms < ?3 AND (?4 = '' OR rule_id = ?4) AND "
                    "(?5 = '' OR equipment = ?5) ORDER BY id DESC LIMIT ?6) ORDER BY id",
                    columns));
    query.bind_all(filter.after_id, filter.since_ms, filter.until_ms, filter.rule, filter.equipment,
                   static_cast<std::int64_t>(filter.limit));
    return read_events(query, impl_->doing("reading the alarm history"));
}

std::optional<std::string> AlarmReader::engine_state() {
    Statement query(impl_->connection.get(), "SELECT snapshot FROM engine_state WHERE id = 1");
    std::optional<std::string> snapshot;
    if (query.next_row(impl_->doing("reading the rules engine's saved state"))) {
        snapshot = query.column_text(0);
    }
    return snapshot;
}

boost::json::object alarm_view_json(const rules::AlarmView& view) {
    boost::json::object json;
    json["rule"] = view.rule_id;
    json["version"] = view.rule_version;
    json["equipment"] = view.equipment;
    json["area"] = view.area;
    json["state"] = rules::alarm_state_name(view.state);
    json["condition"] = view.status.condition;
    json["severity"] = rules::severity_name(view.severity);
    json["value"] = std::isfinite(view.value) ? boost::json::value(view.value) : nullptr;
    json["detail"] = view.detail;
    json["chattering"] = view.chattering;
    if (view.shelved_until_wall_ms != 0) {
        json["shelved_until"] = format_iso_time(view.shelved_until_wall_ms);
        json["shelved_by"] = view.shelved_by;
    }
    if (!view.reason.empty()) json["reason"] = view.reason;
    return json;
}

boost::json::object alarm_event_json(std::int64_t id, const rules::AlarmEvent& event) {
    boost::json::object json;
    json["id"] = id;
    json["time"] = format_iso_time(event.time.wall_ms);
    json["rule"] = event.rule_id;
    json["version"] = event.rule_version;
    json["equipment"] = event.equipment;
    json["area"] = event.area;
    json["action"] = rules::alarm_action_name(event.action);
    json["from"] = rules::alarm_state_name(event.from);
    json["to"] = rules::alarm_state_name(event.to);
    json["severity"] = rules::severity_name(event.severity);
    json["condition"] = event.condition;
    json["value"] = std::isfinite(event.value) ? boost::json::value(event.value) : nullptr;
    json["detail"] = event.detail;
    json["chattering"] = event.chattering;
    json["flood"] = event.flood;
    json["escalation"] = event.escalation;
    if (!event.actor.empty()) json["actor"] = event.actor;
    if (!event.reason.empty()) json["reason"] = event.reason;
    if (event.shelved_until_wall_ms != 0) {
        json["shelved_until"] = format_iso_time(event.shelved_until_wall_ms);
    }
    return json;
}

}  // namespace fw::alarms
