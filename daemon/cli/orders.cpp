#include "daemon/cli/orders.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "daemon/central/central_store.hpp"
#include "daemon/cli/command_line.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/orders/attachments.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/orders/reports.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::cli {
namespace {

namespace json = boost::json;
using orders::OrderIndex;
using workflow::OrderState;

constexpr std::size_t kUploadChunk = std::size_t{512} * 1024;

struct ListOptions : CommonOptions {
    std::optional<std::string> state;
    std::optional<std::string> equipment;
    std::optional<std::string> assignee;
    bool overdue = false;
    bool all = false;
};

struct ShowOptions : CommonOptions {
    std::string reference;
};

struct ActOptions : CommonOptions {
    std::string reference;
    std::string verb;
    std::optional<std::string> reason;
    std::optional<std::string> kind;
    std::optional<std::string> assignee;
    std::optional<std::string> deadline;
    std::optional<std::string> note;
    std::optional<std::string> photos;
};

struct AttachmentOptions : CommonOptions {
    std::string sha;
    std::optional<std::string> out;
};

struct ReportOptions : CommonOptions {
    std::optional<std::string> type;
    std::optional<std::string> equipment;
    std::optional<std::string> area;
    std::optional<std::string> description;
    std::optional<std::string> risk;
    std::optional<std::string> title;
    std::optional<std::string> measures;
    std::optional<std::string> photos;
    bool anonymous = false;
};

struct WeeklyOptions : CommonOptions {
    std::optional<std::string> until;
};

struct KpiOptions : CommonOptions {
    std::optional<std::string> since;
    std::optional<std::string> until;
    std::optional<std::string> area;
};

struct IncidentOptions : CommonOptions {
    std::optional<std::string> description;
    std::optional<std::string> at;
    std::optional<std::string> area;
};

struct HoursOptions : CommonOptions {
    std::optional<std::string> since;
    std::optional<std::string> until;
    std::optional<double> hours;
    std::optional<std::string> area;
};

struct StoreView {
    orders::StoredOrders stored;
    OrderIndex index;
    std::vector<orders::IncidentRecord> incidents;
    // A central store (daemon/central): which gateway each order belongs to; "" for the centre's
    // own orders. Empty map for a gateway's store, whose orders are all its own.
    bool central = false;
    std::map<std::string, std::string, std::less<>> gateway_of;

    std::string gateway(const OrderState& order) const {
        const auto found = gateway_of.find(order.id);
        return found == gateway_of.end() || found->second.empty() ? std::string("(centre)")
                                                                  : found->second;
    }
};

// Whether an SQLite store file holds a centre's data (gateways have sent it events), and if so
// which gateway each order belongs to. A file from before migration 0009 has no such table.
bool read_central_orders(sqlite3* db, std::map<std::string, std::string, std::less<>>& gateways) {
    store::Statement tables(db,
                            "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                            "AND name = 'central_gateways'");
    if (!tables.next_row("looking for the central tables")) return false;
    store::Statement rows(db,
                          "SELECT o.order_id, COALESCE(o.gateway, '') FROM central_orders o "
                          "WHERE EXISTS (SELECT 1 FROM central_gateways)");
    bool any = false;
    while (rows.next_row("reading which gateway each order is from")) {
        any = true;
        gateways.emplace(rows.column_text(0), rows.column_text(1));
    }
    return any;
}

StoreView read_store(const CommonOptions& options) {
    StoreView view;
    if (const auto postgresql = central_postgresql(options)) {
        const auto store = central::CentralStore::open({"", *postgresql}, true);
        view.stored = store->load_orders();
        view.incidents = store->incidents();
        view.central = true;
        for (const auto& row : store->orders()) {
            view.gateway_of.emplace(row.order_id, row.gateway.value_or(""));
        }
    } else {
        const std::string path = store_path(options);
        auto connection = store::open_store_file(path, store::OpenMode::read_only, false);
        view.stored = orders::load_orders(connection.get());
        view.incidents = orders::load_incidents(connection.get());
        view.central = read_central_orders(connection.get(), view.gateway_of);
    }
    view.index = orders::index_orders(view.stored.events);
    return view;
}

bool overdue_now(const OrderState& order, std::int64_t now_ms) {
    const auto* step = order.current_step();
    return order.open() && (order.overdue() || (step != nullptr && step->deadline_ms < now_ms));
}

// "3d" or "12h" from now, or an absolute UTC time.
std::int64_t parse_deadline(const std::string& text) {
    const std::int64_t now = wall_now_ms();
    if (const auto ahead = parse_duration(text)) return now + ahead->count();
    return parse_time(text, now);
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error(fmt::format("cannot read {}", path));
    std::ostringstream bytes;
    bytes << file.rdbuf();
    return bytes.str();
}

// Sends each file to the daemon in chunks; returns their SHA-256 addresses.
json::array upload_photos(const CommonOptions& options, const std::optional<std::string>& list) {
    json::array hashes;
    if (!list) return hashes;
    std::stringstream names(*list);
    std::string path;
    while (std::getline(names, path, ',')) {
        if (path.empty()) continue;
        const std::string bytes = read_file(path);
        const std::string name = std::filesystem::path(path).filename().string();
        std::string upload;
        std::size_t offset = 0;
        do {
            const std::size_t size = std::min(kUploadChunk, bytes.size() - offset);
            const bool last = offset + size >= bytes.size();
            json::object args{
                {"name", name},
                {"data", orders::base64_encode(std::string_view(bytes).substr(offset, size))},
                {"last", last}};
            if (!upload.empty()) args["upload"] = upload;
            const auto result = call_daemon(options, "attachment.upload", args).as_object();
            if (last) {
                hashes.push_back(result.at("sha256"));
                std::cerr << fmt::format("{}: stored as {} ({}, {} bytes)\n", path,
                                         json::value_to<std::string>(result.at("sha256")),
                                         json::value_to<std::string>(result.at("media_type")),
                                         bytes.size());
            } else {
                upload = json::value_to<std::string>(result.at("upload"));
            }
            offset += size;
        } while (offset < bytes.size());
    }
    return hashes;
}

void print_order_line(const StoreView& view, const OrderState& order, std::int64_t now_ms) {
    const auto* step = order.current_step();
    if (view.central) std::cout << fmt::format("{:<24} ", view.gateway(order));
    std::cout << fmt::format(
        "{:<20} {:<6} {:<19} {:<10} {:<10} {:<24} {:<7} {}\n", order.number,
        workflow::risk_name(order.risk), workflow::order_status_name(order.status),
        order.equipment.empty() ? order.area : order.equipment,
        order.assignee.empty() ? "-" : order.assignee,
        step != nullptr && order.open() ? format_time(step->deadline_ms) : std::string("-"),
        overdue_now(order, now_ms) ? "OVERDUE" : "", order.title);
}

int orders_list(const ListOptions& options) {
    const auto view = read_store(options);
    const std::int64_t now = wall_now_ms();
    const auto& state = options.state;
    if (state && !workflow::order_status_from_name(*state)) {
        throw UsageError(fmt::format(
            "unknown state '{}' (reported, in_review, rectifying, awaiting_acceptance, closed, "
            "dismissed)",
            *state));
    }
    std::vector<const OrderState*> shown;
    for (const auto& [id, order] : view.index.states) {
        if (state && workflow::order_status_name(order.status) != *state) continue;
        if (!state && !options.all && !order.open()) continue;
        if (options.equipment && order.equipment != *options.equipment) continue;
        if (options.assignee && order.assignee != *options.assignee) continue;
        if (options.overdue && !overdue_now(order, now)) continue;
        shown.push_back(&order);
    }
    std::ranges::sort(shown, [](const OrderState* a, const OrderState* b) {
        return std::tie(a->reported_ms, a->id) < std::tie(b->reported_ms, b->id);
    });
    if (options.json) {
        json::array list;
        for (const auto* order : shown) {
            auto item = workflow::order_view(*order);
            item["overdue"] = overdue_now(*order, now);
            if (view.central) item["gateway"] = view.gateway(*order);
            list.push_back(std::move(item));
        }
        std::cout << json::serialize(list) << '\n';
        return 0;
    }
    if (shown.empty()) {
        std::cout << "no orders match (open orders are listed by default; --all for every order)\n";
        return 0;
    }
    if (view.central) std::cout << fmt::format("{:<24} ", "GATEWAY");
    std::cout << fmt::format("{:<20} {:<6} {:<19} {:<10} {:<10} {:<24} {:<7} {}\n", "NUMBER",
                             "RISK", "STATE", "EQUIPMENT", "ASSIGNEE", "STEP DUE", "", "TITLE");
    for (const auto* order : shown) print_order_line(view, *order, now);
    return 0;
}

std::string payload_summary(const json::object& payload) {
    std::string text;
    for (const auto& [key, value] : payload) {
        if (key == "review" || key == "number" || key == "format") continue;
        if (value.is_string() && value.as_string().empty()) continue;
        if (value.is_array() && value.as_array().empty()) continue;
        std::string shown;
        if (value.is_string()) {
            shown = std::string(value.as_string());
        } else if (key.ends_with("_ms") && value.is_int64()) {
            shown = format_time(value.as_int64());
        } else {
            shown = json::serialize(value);
        }
        text += fmt::format("{}{}={}", text.empty() ? "" : "  ", std::string_view(key), shown);
    }
    return text;
}

// At a centre, gateways number their orders independently, so one number can name several
// orders: showing whichever the index holds would show someone the wrong order. Refused, naming
// them (the centre's order.act refuses such a number the same way).
void refuse_shared_number(const StoreView& view, const std::string& reference) {
    const auto named = view.index.named_by(reference);
    if (named.size() < 2) return;
    std::string listed;
    for (const auto* state : named) {
        listed +=
            fmt::format("{}{} ({})", listed.empty() ? "" : ", ", state->id, view.gateway(*state));
    }
    throw std::runtime_error(fmt::format(
        "'{}' is the number of several orders: {}; give the order's id", reference, listed));
}

int orders_show(const ShowOptions& options) {
    const std::string& reference = options.reference;
    const auto view = read_store(options);
    const auto* order = view.index.find(reference);
    if (order == nullptr)
        throw std::runtime_error(
            fmt::format("no order '{}' in {}", reference, store_path(options)));
    refuse_shared_number(view, reference);
    const auto& events = view.index.events_by_order.at(order->id);
    const std::int64_t now = wall_now_ms();
    if (options.json) {
        auto item = workflow::order_view(*order);
        item["overdue"] = overdue_now(*order, now);
        if (view.central) item["gateway"] = view.gateway(*order);
        item["timeline"] = workflow::timeline_view(events);
        std::cout << json::serialize(item) << '\n';
        return 0;
    }
    const auto item = workflow::order_view(*order);
    std::cout << fmt::format("{}  {}\n", order->number, order->title);
    std::cout << fmt::format("  id          {}\n", order->id);
    if (view.central) std::cout << fmt::format("  gateway     {}\n", view.gateway(*order));
    std::cout << fmt::format("  state       {}{}\n", workflow::order_status_name(order->status),
                             overdue_now(*order, now) ? "  (OVERDUE)" : "");
    std::cout << fmt::format(
        "  risk        {}{}\n", workflow::risk_name(order->risk),
        order->risk != order->reported_risk
            ? fmt::format(" (reported {})", workflow::risk_name(order->reported_risk))
            : "");
    std::cout << fmt::format("  where       {} ({})\n",
                             order->equipment.empty() ? "-" : order->equipment, order->area);
    std::cout << fmt::format("  hazard      {}\n", order->hazard_type);
    std::cout << fmt::format(
        "  source      {}\n",
        !order->rule_id.empty()
            ? fmt::format("rule {} (version {})", order->rule_id, order->rule_version)
            : (order->anonymous ? std::string("anonymous report")
                                : "reported by " + order->reporter));
    std::cout << fmt::format("  description {}\n", order->description);
    if (!order->immediate_measures.empty()) {
        std::cout << fmt::format("  measures    {}\n", order->immediate_measures);
    }
    std::string chain;
    for (std::size_t i = 0; i < order->review_chain.size(); ++i) {
        chain += fmt::format(
            "{}{}{}", i == 0 ? "" : " → ", workflow::role_name(order->review_chain[i]),
            i < order->approvals.size() ? fmt::format(" ✓ {}", order->approvals[i].user) : "");
    }
    std::cout << fmt::format("  review      round {}: {}\n", order->review_round, chain);
    if (!order->assignee.empty()) std::cout << fmt::format("  assignee    {}\n", order->assignee);
    if (const auto* step = order->current_step(); step != nullptr && order->open()) {
        std::cout << fmt::format("  step        {} due {}\n", workflow::step_kind_name(step->kind),
                                 format_time(step->deadline_ms));
    }
    std::cout << fmt::format("  occurrences {}   rejections {}\n", order->occurrences,
                             order->rejections);
    for (const auto& attachment : order->report_attachments) {
        std::cout << fmt::format("  photo       {} {} ({} bytes) sha256 {}\n", attachment.name,
                                 attachment.media_type, attachment.size, attachment.sha256);
    }
    for (const auto& attachment : order->evidence) {
        std::cout << fmt::format("  evidence    {} {} ({} bytes) sha256 {}\n", attachment.name,
                                 attachment.media_type, attachment.size, attachment.sha256);
    }
    std::cout << "Timeline:\n";
    for (const auto& entry : workflow::timeline_view(events)) {
        const auto& event = entry.as_object();
        std::cout << fmt::format("  {}  {:<10} {:<10} {:<10} {}\n",
                                 format_time(event.at("wall_ms").as_int64()),
                                 std::string_view(event.at("type").as_string()),
                                 std::string_view(event.at("actor").as_string()),
                                 std::string_view(event.at("role").as_string()),
                                 payload_summary(event.at("payload").as_object()));
    }
    for (const auto& superseded : order->superseded) {
        std::cout << fmt::format("  superseded {} {} by {}: {}\n", superseded.event_id,
                                 workflow::event_type_name(superseded.type), superseded.actor,
                                 superseded.reason);
    }
    return 0;
}

void print_result(const CommonOptions& options, const json::value& result) {
    if (options.json) {
        std::cout << json::serialize(result) << '\n';
        return;
    }
    const auto& order = result.as_object().at("order").as_object();
    std::cout << fmt::format(
        "{}: {} ({} risk){}\n", std::string_view(order.at("number").as_string()),
        std::string_view(order.at("status").as_string()),
        std::string_view(order.at("risk").as_string()),
        order.at("assignee").as_string().empty()
            ? std::string()
            : fmt::format(", assigned to {}", std::string_view(order.at("assignee").as_string())));
    for (const auto& notice : result.as_object().at("notices").as_array()) {
        std::cout << "  notice: " << std::string_view(notice.as_string()) << '\n';
    }
}

int orders_act(const ActOptions& options) {
    json::object args{{"order", options.reference}, {"action", options.verb}};
    const std::pair<std::string_view, const std::optional<std::string>*> fields[] = {
        {"reason", &options.reason},
        {"assignee", &options.assignee},
        {"note", &options.note},
        {"kind", &options.kind}};
    for (const auto& [key, value] : fields) {
        if (*value) args[key] = **value;
    }
    if (options.deadline) args["deadline_ms"] = parse_deadline(*options.deadline);
    auto photos = upload_photos(options, options.photos);
    if (!photos.empty()) args["attachments"] = std::move(photos);
    print_result(options, call_daemon(options, "order.act", args));
    return 0;
}

int orders_attachment(const AttachmentOptions& options) {
    const std::string& sha = options.sha;
    const auto& out = options.out;
    if (!out) throw UsageError("orders attachment needs --out FILE");
    auto connection =
        store::open_store_file(store_path(options), store::OpenMode::read_only, false);
    const auto data = orders::read_attachment_data(connection.get(), sha);
    if (!data) throw std::runtime_error(fmt::format("no attachment {} in the store", sha));
    std::ofstream file(*out, std::ios::binary);
    file.write(data->data(), static_cast<std::streamsize>(data->size()));
    if (!file) throw std::runtime_error(fmt::format("cannot write {}", *out));
    return 0;
}

std::string site_title(const CommonOptions& options) {
    try {
        if (const auto& config_path = options.config) {
            const auto config = load_config(*config_path);
            return config.gateway.site + " / " + config.gateway.node;
        }
    } catch (const std::exception&) {
        // The title is cosmetic; the report is still right.
    }
    return store_path(options);
}

int report_weekly(const WeeklyOptions& options) {
    const auto view = read_store(options);
    const std::int64_t now = wall_now_ms();
    const std::int64_t until = options.until ? parse_time(*options.until, now) : now;
    std::cout << orders::weekly_report(view.index.all(), view.incidents, until, now,
                                       site_title(options));
    return 0;
}

int report_hazard(const ReportOptions& options) {
    if (!options.type) throw UsageError("report needs --type (e.g. vibration, guarding, spill)");
    if (!options.equipment && !options.area) throw UsageError("report needs --equipment or --area");
    if (!options.description)
        throw UsageError("report needs --description: what is wrong, where exactly");
    json::object args{{"hazard_type", *options.type},
                      {"risk", options.risk.value_or("medium")},
                      {"anonymous", options.anonymous}};
    const std::pair<const std::optional<std::string>*, std::string_view> fields[] = {
        {&options.equipment, "equipment"},
        {&options.area, "area"},
        {&options.title, "title"},
        {&options.description, "description"},
        {&options.measures, "immediate_measures"}};
    for (const auto& [value, key] : fields) {
        if (*value) args[key] = **value;
    }
    auto photos = upload_photos(options, options.photos);
    if (!photos.empty()) args["attachments"] = std::move(photos);
    print_result(options, call_daemon(options, "order.report", args));
    return 0;
}

int verify_chains(const CommonOptions& options) {
    const auto view = read_store(options);
    std::vector<workflow::ChainBreak> breaks;
    breaks.reserve(view.stored.unreadable.size());
    for (const auto& row : view.stored.unreadable) {
        breaks.push_back(
            {row.order_id, row.event_id, workflow::ChainFault::modified,
             fmt::format("order_events row {} cannot be read: {}", row.row_id, row.problem)});
    }
    // Every origin that wrote here must still have each of its events.
    for (const auto& cursor : view.stored.cursors) {
        auto found = workflow::verify_events(
            view.stored.events, workflow::LocalSequence{cursor.origin, cursor.next_sequence});
        for (auto& found_break : found) {
            if (std::ranges::none_of(breaks, [&](const auto& known) {
                    return known.order_id == found_break.order_id &&
                           known.event_id == found_break.event_id;
                })) {
                breaks.push_back(std::move(found_break));
            }
        }
    }
    if (view.stored.cursors.empty()) {
        // No cursor row (the store never wrote an order, or the row was deleted): chains only.
        for (auto& found : workflow::verify_events(view.stored.events, std::nullopt)) {
            breaks.push_back(std::move(found));
        }
    }
    if (options.json) {
        json::array list;
        for (const auto& found : breaks) {
            list.push_back({{"order_id", found.order_id},
                            {"event_id", found.event_id},
                            {"fault", workflow::chain_fault_name(found.fault)},
                            {"detail", found.detail}});
        }
        std::cout << json::serialize(json::object{{"events", view.stored.events.size()},
                                                  {"orders", view.index.states.size()},
                                                  {"ok", breaks.empty()},
                                                  {"breaks", std::move(list)}})
                  << '\n';
        return breaks.empty() ? 0 : 1;
    }
    if (breaks.empty()) {
        std::cout << fmt::format("ok: {} event(s) of {} order(s), every hash chain intact\n",
                                 view.stored.events.size(), view.index.states.size());
        return 0;
    }
    for (const auto& found : breaks) {
        const auto* order = view.index.find(found.order_id);
        std::cout << fmt::format("BROKEN order {}{} at event {}: {}: {}\n", found.order_id,
                                 order != nullptr ? fmt::format(" ({})", order->number) : "",
                                 found.event_id, workflow::chain_fault_name(found.fault),
                                 found.detail);
    }
    std::cout << fmt::format("{} break(s) in {} event(s)\n", breaks.size(),
                             view.stored.events.size());
    return 1;
}

int show_kpi(const KpiOptions& options) {
    const auto view = read_store(options);
    const std::int64_t now = wall_now_ms();
    workflow::KpiFilter filter;
    if (options.since) filter.since_ms = parse_time(*options.since, now);
    if (options.until) filter.until_ms = parse_time(*options.until, now);
    if (options.area) filter.area = *options.area;
    const auto report = orders::kpi_report(view.index.all(), view.incidents, filter, now);
    if (options.json) {
        std::cout << json::serialize(report) << '\n';
    } else {
        std::cout << orders::kpi_text(report);
    }
    return 0;
}

int record_incident(const IncidentOptions& options) {
    json::object args{{"kind", "incident"}, {"description", options.description.value_or("")}};
    if (options.at) args["at_ms"] = parse_time(*options.at, wall_now_ms());
    if (options.area) args["area"] = *options.area;
    call_daemon(options, "incidents.record", args);
    std::cout << "incident recorded\n";
    return 0;
}

int record_hours(const HoursOptions& options) {
    if (!options.since || !options.until || !options.hours)
        throw UsageError("incidents hours needs --since TIME --until TIME --hours N");
    const std::int64_t now = wall_now_ms();
    json::object args{{"kind", "hours"},
                      {"at_ms", parse_time(*options.since, now)},
                      {"until_ms", parse_time(*options.until, now)},
                      {"hours", *options.hours}};
    if (options.area) args["area"] = *options.area;
    call_daemon(options, "incidents.record", args);
    std::cout << "hours worked recorded\n";
    return 0;
}

int list_incidents(const CommonOptions& options) {
    const auto view = read_store(options);
    if (options.json) {
        json::array list;
        for (const auto& record : view.incidents) {
            list.push_back({{"kind", record.kind},
                            {"at", format_time(record.at_ms)},
                            {"until", format_time(record.until_ms)},
                            {"area", record.area},
                            {"hours", record.hours},
                            {"description", record.description},
                            {"recorded_by", record.recorded_by}});
        }
        std::cout << json::serialize(list) << '\n';
        return 0;
    }
    for (const auto& record : view.incidents) {
        if (record.kind == "incident") {
            std::cout << fmt::format(
                "{}  incident  {:<10} {} (recorded by {})\n", format_time(record.at_ms),
                record.area.empty() ? "site" : record.area, record.description, record.recorded_by);
        } else {
            std::cout << fmt::format("{}  hours     {:<10} {:g} h until {} (recorded by {})\n",
                                     format_time(record.at_ms),
                                     record.area.empty() ? "site" : record.area, record.hours,
                                     format_time(record.until_ms), record.recorded_by);
        }
    }
    if (view.incidents.empty()) std::cout << "no incidents or hours recorded\n";
    return 0;
}

// The filters of `orders` and `orders list` (the same command).
void add_list_options(Command<ListOptions> list) {
    list.app
        .add_option("--state", list.options.state,
                    "reported, in_review, rectifying, awaiting_acceptance, closed or "
                    "dismissed (default: open)")
        ->type_name("STATE");
    list.app.add_option("--equipment", list.options.equipment, "only orders on this equipment")
        ->type_name("ID");
    list.app.add_option("--assignee", list.options.assignee, "only orders assigned to USER")
        ->type_name("USER");
    list.app.add_flag("--overdue", list.options.overdue, "only orders past a step's deadline");
    list.app.add_flag("--all", list.options.all, "closed and dismissed orders too");
}

void add_orders(CLI::App& root, CommandTable& commands) {
    auto orders =
        add_command(commands, root, "orders",
                    "hazard work orders: list (the default), show, act, attachment", orders_list);
    add_list_options(orders);
    orders.app.footer(
        "'orders act' asks the running daemon, which checks who may do what (workflow.users, by\n"
        "your uid); the rest reads the store.");
    add_list_options(add_command(commands, orders.app, "list",
                                 "hazard work orders (open ones unless --all or --state)",
                                 orders_list));

    auto show =
        add_command(commands, orders.app, "show", "one order with its full timeline", orders_show);
    show.app
        .add_option("N", show.options.reference, "the order's number (PRS-20261129-0042) or id")
        ->type_name("")
        ->required();

    auto act =
        add_command(commands, orders.app, "act", "take the next step of an order", orders_act);
    act.app.add_option("N", act.options.reference, "the order's number (PRS-20261129-0042) or id")
        ->type_name("")
        ->required();
    act.app
        .add_option("ACTION", act.options.verb,
                    "approve, dismiss, assign, reassign, submit, accept, reject or escalate")
        ->type_name("")
        ->required();
    act.app.add_option("--reason", act.options.reason, "why (dismiss, reject, escalate)")
        ->type_name("TEXT");
    act.app.add_option("--kind", act.options.kind, "false_alarm or duplicate (dismiss)")
        ->type_name("KIND");
    act.app.add_option("--assignee", act.options.assignee, "who rectifies (assign, reassign)")
        ->type_name("USER");
    act.app
        .add_option("--deadline", act.options.deadline,
                    "rectification due: in 3d, 12h, ... or at a UTC time (default by risk)")
        ->type_name("TIME");
    act.app.add_option("--note", act.options.note, "what was done (submit, accept)")
        ->type_name("TEXT");
    act.app.add_option("--photo", act.options.photos, "photos of the rectification (submit)")
        ->type_name("FILE[,FILE]");

    auto attachment = add_command(commands, orders.app, "attachment", "save an attached photo",
                                  orders_attachment);
    attachment.app.add_option("SHA256", attachment.options.sha, "the photo's sha256")
        ->type_name("")
        ->required();
    attachment.app.add_option("--out", attachment.options.out, "where to save it (required)")
        ->type_name("FILE");
    orders.app.group("Work orders");
}

void add_report(CLI::App& root, CommandTable& commands) {
    auto report = add_command(commands, root, "report",
                              "report a hazard (asks the daemon); report weekly", report_hazard);
    report.app
        .add_option("--type", report.options.type,
                    "the hazard type, e.g. vibration, guarding, spill (required)")
        ->type_name("TYPE");
    report.app.add_option("--equipment", report.options.equipment, "where: the equipment")
        ->type_name("ID");
    report.app.add_option("--area", report.options.area, "where: the area (without --equipment)")
        ->type_name("AREA");
    report.app
        .add_option("--description", report.options.description,
                    "what is wrong, where exactly (required)")
        ->type_name("TEXT");
    report.app
        .add_option("--risk", report.options.risk, "low, medium, high or red (default: medium)")
        ->type_name("RISK");
    report.app.add_option("--title", report.options.title, "a short title")->type_name("TEXT");
    report.app.add_option("--measures", report.options.measures, "immediate measures taken")
        ->type_name("TEXT");
    report.app.add_option("--photo", report.options.photos, "photos of the hazard")
        ->type_name("FILE[,FILE]");
    report.app.add_flag("--anonymous", report.options.anonymous,
                        "leave your name out (stored only as a keyed hash)");

    auto weekly =
        add_command(commands, report.app, "weekly",
                    "Markdown: top risk points, to-do list, KPIs against last week", report_weekly);
    weekly.app.add_option("--until", weekly.options.until, "the week ending (default: now)")
        ->type_name("TIME");
    weekly.app.footer(std::string(kTimeFooter));
    report.app.group("Work orders");
}

void add_figures(CLI::App& root, CommandTable& commands) {
    add_command(commands, root, "verify",
                "re-compute every order's hash chain; exit 1 on any break", verify_chains)
        .app.group("Work orders");

    auto kpi =
        add_command(commands, root, "kpi",
                    "closure rate, time to close, overdue, top risks, incident rates", show_kpi);
    kpi.app.add_option("--since", kpi.options.since, "orders reported from")->type_name("TIME");
    kpi.app.add_option("--until", kpi.options.until, "orders reported up to")->type_name("TIME");
    kpi.app.add_option("--area", kpi.options.area, "only this area")->type_name("AREA");
    kpi.app.footer(std::string(kTimeFooter));
    kpi.app.group("Work orders");

    auto incidents = add_command(commands, root, "incidents",
                                 "recordable incidents and hours worked: list (the default), "
                                 "record, hours",
                                 list_incidents);
    add_command(commands, incidents.app, "list", "every recorded incident and hours worked",
                list_incidents);

    auto incident = add_command(commands, incidents.app, "record",
                                "record an incident (through the running daemon)", record_incident);
    incident.app
        .add_option("--description", incident.options.description, "what happened (required)")
        ->type_name("TEXT");
    incident.app.add_option("--at", incident.options.at, "when (default: now)")->type_name("TIME");
    incident.app.add_option("--area", incident.options.area, "where")->type_name("AREA");
    incident.app.footer(std::string(kTimeFooter));

    auto hours =
        add_command(commands, incidents.app, "hours",
                    "record hours worked in a period (through the running daemon)", record_hours);
    hours.app.add_option("--since", hours.options.since, "the period's start (required)")
        ->type_name("TIME");
    hours.app.add_option("--until", hours.options.until, "the period's end (required)")
        ->type_name("TIME");
    hours.app.add_option("--hours", hours.options.hours, "hours worked (required)")
        ->type_name("N")
        ->check(positive_number());
    hours.app.add_option("--area", hours.options.area, "where (default: the whole site)")
        ->type_name("AREA");
    hours.app.footer(std::string(kTimeFooter));
    incidents.app.group("Work orders");
}

}  // namespace

void add_orders_commands(CLI::App& root, CommandTable& commands) {
    add_orders(root, commands);
    add_report(root, commands);
    add_figures(root, commands);
}

}  // namespace fw::cli
