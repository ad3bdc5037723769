#include "daemon/http/api_reads.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <tuple>

#include "daemon/core/health_json.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/orders/reports.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"
#include "daemon/workflow/kpi.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::http {

namespace json = boost::json;
using workflow::OrderState;

struct ReadConnections::Impl {
    std::string path;
    store::Connection db;
    std::unique_ptr<store::Reader> reader;
    std::unique_ptr<alarms::AlarmReader> alarms;
    orders::OrderIndexCache orders;
};

ReadConnections::ReadConnections(std::string path) : impl_(std::make_unique<Impl>()) {
    impl_->path = std::move(path);
}
ReadConnections::~ReadConnections() = default;

sqlite3* ReadConnections::db() {
    if (impl_->db.get() == nullptr) {
        impl_->db = store::open_store_file(impl_->path, store::OpenMode::read_only, false);
    }
    return impl_->db.get();
}

store::Reader& ReadConnections::reader() {
    if (!impl_->reader) impl_->reader = store::Reader::open(impl_->path);
    return *impl_->reader;
}

const orders::OrderIndex& ReadConnections::orders() {
    return impl_->orders.refresh(db());
}

std::vector<orders::IncidentRecord> ReadConnections::incidents() {
    return orders::load_incidents(db());
}

alarms::AlarmReader* ReadConnections::alarms() {
    if (!impl_->alarms) impl_->alarms = std::make_unique<alarms::AlarmReader>(impl_->path);
    return impl_->alarms.get();
}

json::object ReadConnections::sync_state() {
    return {{"peers", json::array()}};
}

std::optional<std::int64_t> parse_when(const std::string& text, std::int64_t now_ms) {
    if (const auto ago = parse_duration(text)) return now_ms - ago->count();
    return parse_iso_time(text, IsoZone::utc_if_absent);
}

namespace {

bool overdue_now(const OrderState& order, std::int64_t now_ms) {
    const auto* step = order.current_step();
    return order.open() && (order.overdue() || (step != nullptr && step->deadline_ms < now_ms));
}

std::string lower(std::string_view text) {
    std::string result(text);
    for (auto& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return result;
}

bool contains_text(const OrderState& order, const std::string& needle) {
    if (needle.empty()) return true;
    for (const auto* field :
         {&order.number, &order.title, &order.description, &order.equipment, &order.area}) {
        if (lower(*field).find(needle) != std::string::npos) return true;
    }
    return false;
}

json::object attachment_json(const workflow::Attachment& attachment) {
    return {{"sha256", attachment.sha256},
            {"media_type", attachment.media_type},
            {"size", attachment.size},
            {"name", attachment.name}};
}

// A stand-in for each field an action needs, so asking the handler whether the action is allowed
// tests the role and the state, not the form the person has yet to fill in.
struct Probe {
    std::string action;
    std::vector<std::string> fields;
    workflow::Command command;
};

std::vector<Probe> probes(const OrderState& order, const Config& config) {
    std::string assignee;
    for (const auto& user : config.workflow.users) {
        const bool can_take = std::ranges::any_of(user.role_list, [](workflow::Role role) {
            return role == workflow::Role::technician || role == workflow::Role::team_lead;
        });
        if (can_take && user.name != order.assignee) {
            assignee = user.name;
            break;
        }
    }
    if (assignee.empty()) assignee = order.assignee;
    const std::string filled = "-";
    const workflow::Attachment photo{std::string(64, '0'), "image/jpeg", 1, "probe.jpg"};
    std::vector<workflow::Attachment> photos;
    const auto& types = config.workflow.attachments.allowed_types;
    if (std::ranges::find(types, photo.media_type) != types.end()) photos.push_back(photo);
    return {
        {"approve", {}, workflow::ApproveCommand{}},
        {"dismiss",
         {"kind", "reason"},
         workflow::DismissCommand{workflow::DismissKind::false_alarm, filled}},
        {"assign", {"assignee", "deadline"}, workflow::AssignCommand{assignee, std::nullopt}},
        {"reassign",
         {"assignee", "deadline", "reason"},
         workflow::ReassignCommand{assignee, std::nullopt, filled}},
        {"submit", {"note", "photos"}, workflow::SubmitCommand{filled, photos}},
        {"accept", {"note"}, workflow::AcceptCommand{filled}},
        {"reject", {"reason", "deadline"}, workflow::RejectCommand{filled, std::nullopt}},
        {"escalate", {"reason"}, workflow::EscalateCommand{filled, ""}},
    };
}

class FixedClock final : public workflow::Clock {
  public:
    explicit FixedClock(std::int64_t ms) : ms_(ms) {}
    workflow::WallTime now() const override { return {ms_, true}; }

  private:
    std::int64_t ms_;
};

json::array allowed_actions(const OrderState& order, const std::vector<workflow::Event>& events,
                            const workflow::Actor& actor, const Config& config,
                            std::int64_t now_ms) {
    json::array actions;
    if (actor.user.empty()) return actions;
    const FixedClock clock(now_ms);
    const std::string last_hash = events.empty() ? std::string() : events.back().hash;
    for (auto& probe : probes(order, config)) {
        // A throwaway writer: nothing the probe makes is kept.
        workflow::EventWriter writer("probe", 1, order.last_hlc);
        const workflow::HandlerContext context{config.workflow, clock, writer, ""};
        if (workflow::handle(probe.command, actor, order, last_hash, context)) {
            json::array fields;
            for (const auto& field : probe.fields) fields.emplace_back(field);
            actions.push_back(
                json::object{{"action", probe.action}, {"fields", std::move(fields)}});
        }
    }
    return actions;
}

json::array approval_chain(const OrderState& order) {
    std::int64_t deadline = 0;
    for (const auto& step : order.steps) {
        if (step.kind == workflow::StepKind::review) deadline = step.deadline_ms;
    }
    json::array chain;
    for (std::size_t i = 0; i < order.review_chain.size(); ++i) {
        json::object level{{"level", i + 1},
                           {"role", workflow::role_name(order.review_chain[i])},
                           {"user", nullptr},
                           {"at_ms", nullptr},
                           {"deadline_ms", deadline}};
        if (i < order.approvals.size()) {
            level["user"] = order.approvals[i].user;
            level["at_ms"] = order.approvals[i].at_ms;
        }
        chain.push_back(std::move(level));
    }
    return chain;
}

}  // namespace

json::object orders_json(ReadSource& source, const OrderQuery& query, std::int64_t now_ms) {
    const auto& orders = source.orders();
    const std::string needle = lower(query.text);
    std::vector<const OrderState*> selected;
    for (const auto& [id, order] : orders.states) {
        if (!query.gateway.empty() && source.gateway_of(id).value_or("") != query.gateway) {
            continue;
        }
        if (!query.state.empty() && workflow::order_status_name(order.status) != query.state) {
            continue;
        }
        if (!query.risk.empty() && rules::risk_name(order.risk) != query.risk) continue;
        if (!query.area.empty() && order.area != query.area) continue;
        if (!query.equipment.empty() && order.equipment != query.equipment) continue;
        if (!query.assignee.empty() && order.assignee != query.assignee) continue;
        if (query.overdue && !overdue_now(order, now_ms)) continue;
        if (!contains_text(order, needle)) continue;
        selected.push_back(&order);
    }
    const auto urgency = [now_ms](const OrderState* order) {
        const auto* step = order->current_step();
        return std::make_tuple(
            !overdue_now(*order, now_ms), !order->open(), -static_cast<int>(order->risk),
            step == nullptr || !order->open() ? INT64_MAX : step->deadline_ms, -order->reported_ms);
    };
    std::ranges::stable_sort(selected, [&](const OrderState* a, const OrderState* b) {
        return urgency(a) < urgency(b);
    });
    json::array list;
    json::object by_state;
    json::object by_risk;
    std::int64_t overdue = 0;
    const std::size_t end = query.offset + std::min(query.limit, OrderQuery::kMaxOrderPage);
    for (std::size_t at = 0; at < selected.size(); ++at) {
        const auto* order = selected[at];
        const bool late = overdue_now(*order, now_ms);
        if (at >= query.offset && at < end) {
            auto view = workflow::order_view(*order);
            view["overdue"] = late;
            if (auto gateway = source.gateway_of(order->id)) view["gateway"] = *gateway;
            list.push_back(std::move(view));
        }
        const auto state = workflow::order_status_name(order->status);
        by_state[state] = (by_state.contains(state) ? by_state[state].as_int64() : 0) + 1;
        const auto risk = rules::risk_name(order->risk);
        by_risk[risk] = (by_risk.contains(risk) ? by_risk[risk].as_int64() : 0) + 1;
        if (late) ++overdue;
    }
    const auto total = static_cast<std::int64_t>(selected.size());
    return {{"orders", std::move(list)},
            {"counts",
             {{"by_state", std::move(by_state)},
              {"by_risk", std::move(by_risk)},
              {"overdue", overdue},
              {"total", total}}},
            {"offset", query.offset},
            {"limit", query.limit},
            {"more", end < selected.size()}};
}

std::optional<json::object> order_detail_json(ReadSource& source, const std::string& id_or_number,
                                              const workflow::Actor& actor, const Config& config,
                                              std::int64_t now_ms) {
    const auto& orders = source.orders();
    const OrderState* order = orders.find(id_or_number);
    if (order == nullptr) return std::nullopt;
    static const std::vector<workflow::Event> kNoEvents;
    const auto events_it = orders.events_by_order.find(order->id);
    const auto& events = events_it == orders.events_by_order.end() ? kNoEvents : events_it->second;

    auto timeline = workflow::timeline_view(events);
    for (auto& entry : timeline) {
        auto& object = entry.as_object();
        const auto event_id = json::value_to<std::string>(object["event_id"]);
        for (const auto& superseded : order->superseded) {
            if (superseded.event_id != event_id) continue;
            object["superseded"] = true;
            object["superseded_reason"] = superseded.reason;
        }
    }

    json::array before;
    for (const auto& attachment : order->report_attachments) {
        before.push_back(attachment_json(attachment));
    }
    json::array after;
    json::array occurrences;
    std::int64_t submission = 0;
    for (const auto& event : events) {
        const auto& payload = event.payload;
        if (event.type == workflow::EventType::submitted) {
            json::array photos;
            if (const auto* list = payload.if_contains("attachments"); list && list->is_array()) {
                photos = list->as_array();
            }
            const auto* note = payload.if_contains("note");
            after.push_back(
                json::object{{"submission", ++submission},
                             {"event_id", event.id.to_string()},
                             {"by", event.actor},
                             {"at_ms", event.wall_ms},
                             {"note", note && note->is_string() ? *note : json::value("")},
                             {"photos", std::move(photos)}});
        }
        const bool from_rule =
            (event.type == workflow::EventType::reported && !order->rule_id.empty()) ||
            event.type == workflow::EventType::occurred;
        if (from_rule) {
            const auto* rule = payload.if_contains("rule_id");
            occurrences.push_back(json::object{
                {"at_ms", event.wall_ms},
                {"rule_id", rule && rule->is_string() ? *rule : json::value(order->rule_id)}});
        }
    }

    json::object detail{{"order", workflow::order_view(*order)},
                        {"timeline", std::move(timeline)},
                        {"approval_chain", approval_chain(*order)},
                        {"photos", {{"before", std::move(before)}, {"after", std::move(after)}}},
                        {"occurrences", std::move(occurrences)},
                        {"alarm", nullptr},
                        {"actions", allowed_actions(*order, events, actor, config, now_ms)}};
    detail["order"].as_object()["overdue"] = overdue_now(*order, now_ms);
    if (auto gateway = source.gateway_of(order->id))
        detail["order"].as_object()["gateway"] = *gateway;
    if (!order->rule_id.empty()) {
        // The readings around the activation are the gateway's; a centre holds none.
        json::array channels;
        if (auto* readings = source.readings()) {
            for (const auto& row : readings->channels()) {
                if (!order->equipment.empty() && row.info.equipment == order->equipment) {
                    channels.emplace_back(row.info.name);
                }
            }
        }
        detail["alarm"] =
            json::object{{"rule", order->rule_id},
                         {"equipment", order->equipment},
                         {"channel", channels.empty() ? json::value(nullptr) : channels.front()},
                         {"channels", std::move(channels)},
                         {"activation_ms", order->reported_ms}};
    }
    return detail;
}

std::optional<StoredFile> ReadConnections::attachment(const std::string& sha256) {
    sqlite3* db = this->db();
    store::Statement select(db, "SELECT media_type, name FROM order_attachments WHERE sha256 = ?1");
    select.bind(1, sha256);
    if (select.step() != SQLITE_ROW) return std::nullopt;
    StoredFile file{select.column_text(0), select.column_text(1), {}};
    auto data = orders::read_attachment_data(db, sha256);
    if (!data) return std::nullopt;
    file.data = std::move(*data);
    return file;
}

json::object channels_json(store::Reader& reader, std::int64_t now_ms) {
    json::array rows;
    for (const auto& row : reader.channels()) {
        json::object object{{"channel", row.info.name},  {"equipment", row.info.equipment},
                            {"area", row.info.area},     {"unit", row.info.unit},
                            {"source", row.info.source}, {"samples", row.sample_count}};
        const auto latest = reader.samples(row.info.name, 0, now_ms + 1, 1);
        if (!latest.empty()) {
            const auto& last = latest.back();
            object["latest"] = json::object{
                {"time", format_iso_time(last.time_ms)},
                {"time_ms", last.time_ms},
                {"value", last.value ? json::value(*last.value) : json::value(nullptr)},
                {"quality", quality_name(last.quality)}};
        }
        rows.push_back(std::move(object));
    }
    return {{"channels", std::move(rows)}};
}

std::optional<json::object> samples_json(store::Reader& reader, const std::string& channel,
                                         std::int64_t since_ms, std::int64_t until_ms) {
    std::string unit;
    bool found = false;
    for (const auto& row : reader.channels()) {
        if (row.info.name != channel) continue;
        unit = row.info.unit;
        found = true;
    }
    if (!found) return std::nullopt;
    constexpr std::size_t kReadAtMost = 200000;
    const auto samples = reader.samples(channel, since_ms, until_ms, kReadAtMost);
    const std::size_t stride = samples.size() / kMaxPoints + 1;
    json::array points;
    for (std::size_t i = 0; i < samples.size(); i += stride) {
        const auto& sample = samples[i];
        points.push_back(json::object{
            {"time_ms", sample.time_ms},
            {"value", sample.value ? json::value(*sample.value) : json::value(nullptr)},
            {"quality", quality_name(sample.quality)}});
    }
    return json::object{{"channel", channel}, {"unit", unit}, {"points", std::move(points)}};
}

json::object devices_json(store::Reader& reader) {
    json::array devices;
    for (const auto& device : reader.device_health()) devices.push_back(device_health_json(device));
    json::array brokers;
    for (const auto& broker : reader.broker_health()) brokers.push_back(broker_health_json(broker));
    return {{"devices", std::move(devices)}, {"brokers", std::move(brokers)}};
}

json::object alarms_json(alarms::AlarmReader& reader, bool all) {
    json::array list;
    const auto table = reader.alarms();
    for (const auto& row : table.alarms) {
        if (!all && row.view.state == rules::AlarmState::normal) continue;
        auto object = alarms::alarm_view_json(row.view);
        object["last_change"] = row.last_change_ms != 0
                                    ? json::value(format_iso_time(row.last_change_ms))
                                    : json::value(nullptr);
        list.push_back(std::move(object));
    }
    // A row this build cannot read is named, never shown as a guess (alarm_store.hpp).
    json::array unreadable;
    for (const auto& row : table.unreadable)
        unreadable.push_back(json::value(alarms::describe_unreadable(row)));
    return {{"alarms", std::move(list)}, {"unreadable", std::move(unreadable)}};
}

json::object alarm_history_json(alarms::AlarmReader& reader, const alarms::HistoryFilter& filter) {
    const auto history = reader.history(filter);
    json::array events;
    for (const auto& row : history.events) {
        events.push_back(alarms::alarm_event_json(row.id, row.event));
    }
    json::array unreadable;
    for (const auto& row : history.unreadable) {
        unreadable.push_back(json::value(alarms::describe_unreadable(row)));
    }
    return {{"events", std::move(events)}, {"unreadable", std::move(unreadable)}};
}

json::object kpi_json(ReadSource& source, const workflow::KpiFilter& filter, std::int64_t now_ms) {
    return orders::kpi_report(source.orders().all(), source.incidents(), filter, now_ms);
}

json::object weekly_json(ReadSource& source, std::int64_t week_end_ms, std::int64_t now_ms,
                         const std::string& title) {
    return orders::weekly_report_json(source.orders().all(), source.incidents(), week_end_ms,
                                      now_ms, title);
}

namespace {

// A gateway's own families: device polls, MQTT inputs.
void readings_metrics(PrometheusText& text, store::Reader& readings) {
    const auto devices = readings.device_health();
    text.family("floorwatch_device_online", "gauge", "1 while the device answers its polls.");
    for (const auto& d : devices) {
        text.sample("floorwatch_device_online", std::uint64_t{d.online ? 1U : 0U},
                    {{"driver", d.driver}, {"bus", d.bus}, {"device", d.device}});
    }
    text.family("floorwatch_device_polls_total", "counter", "Poll cycles attempted.");
    for (const auto& d : devices) {
        text.sample("floorwatch_device_polls_total", d.polls,
                    {{"driver", d.driver}, {"bus", d.bus}, {"device", d.device}});
    }
    text.family("floorwatch_device_poll_failures_total", "counter",
                "Poll cycles with at least one failed request.");
    for (const auto& d : devices) {
        text.sample("floorwatch_device_poll_failures_total", d.polls_failed,
                    {{"driver", d.driver}, {"bus", d.bus}, {"device", d.device}});
    }

    const auto inputs = readings.input_health();
    text.family("floorwatch_mqtt_messages_accepted_total", "counter",
                "Messages an MQTT input turned into a sample or a plant event.");
    for (const auto& input : inputs) {
        text.sample("floorwatch_mqtt_messages_accepted_total", input.accepted,
                    {{"broker", input.connection}, {"input", input.input}});
    }
    text.family("floorwatch_mqtt_messages_rejected_total", "counter",
                "Messages an MQTT input dropped, by reason.");
    for (const auto& input : inputs) {
        boost::system::error_code error;
        const auto reasons = json::parse(input.rejected_by_reason, error);
        if (error || !reasons.is_object()) continue;
        for (const auto& reason : reasons.as_object()) {
            if (!reason.value().is_number()) continue;
            const std::string name(reason.key().data(), reason.key().size());
            text.sample("floorwatch_mqtt_messages_rejected_total",
                        reason.value().to_number<double>(),
                        {{"broker", input.connection}, {"input", input.input}, {"reason", name}});
        }
    }
}

// Alarms by ISA-18.2 state (a gateway's rules).
void alarm_metrics(PrometheusText& text, alarms::AlarmReader& alarm_reader) {
    std::map<std::string, std::uint64_t> alarm_states;
    for (const auto name : {"normal", "unack_active", "ack_active", "rtn_unack", "shelved",
                            "suppressed", "out_of_service"}) {
        alarm_states[name] = 0;
    }
    const auto alarm_table = alarm_reader.alarms();
    for (const auto& row : alarm_table.alarms) {
        ++alarm_states[std::string(rules::alarm_state_name(row.view.state))];
    }
    text.family("floorwatch_alarms", "gauge", "Alarms by ISA-18.2 state.");
    for (const auto& [state, count] : alarm_states) {
        text.sample("floorwatch_alarms", count, {{"state", state}});
    }
    text.family("floorwatch_alarm_rows_unreadable", "gauge",
                "Alarm rows this build cannot read (floorwatch alarms names them).");
    text.sample("floorwatch_alarm_rows_unreadable", std::uint64_t{alarm_table.unreadable.size()});
}

}  // namespace

void store_metrics(PrometheusText& text, ReadSource& source, std::int64_t now_ms) {
    if (auto* readings = source.readings()) readings_metrics(text, *readings);
    if (auto* alarm_reader = source.alarms()) alarm_metrics(text, *alarm_reader);
    const auto& orders = source.orders();
    std::map<std::string, std::uint64_t> order_states;
    for (const auto name :
         {"reported", "in_review", "rectifying", "awaiting_acceptance", "closed", "dismissed"}) {
        order_states[name] = 0;
    }
    std::uint64_t overdue = 0;
    for (const auto& [id, order] : orders.states) {
        ++order_states[std::string(workflow::order_status_name(order.status))];
        if (overdue_now(order, now_ms)) ++overdue;
    }
    text.family("floorwatch_orders", "gauge", "Hazard work orders by state.");
    for (const auto& [state, count] : order_states) {
        text.sample("floorwatch_orders", count, {{"state", state}});
    }
    text.family("floorwatch_orders_overdue", "gauge",
                "Open orders whose current step is past its deadline.");
    text.sample("floorwatch_orders_overdue", overdue);
}

}  // namespace fw::http
