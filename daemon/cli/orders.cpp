#include "daemon/cli/orders.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "daemon/cli/common.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/units.hpp"
#include "daemon/orders/attachments.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/orders/reports.hpp"
#include "daemon/store/sqlite_util.hpp"
#include "daemon/workflow/views.hpp"

namespace fw::cli {
namespace {

namespace json = boost::json;
using orders::OrderIndex;
using workflow::OrderState;

constexpr std::size_t kUploadChunk = 512 * 1024;

struct StoreView {
    orders::StoredOrders stored;
    OrderIndex index;
    std::vector<orders::IncidentRecord> incidents;
};

StoreView read_store(const Options& options) {
    const std::string path = store_path(options);
    auto connection =
        store::detail::open_store_file(path, store::detail::OpenMode::read_only, false);
    StoreView view;
    view.stored = orders::load_orders(connection.get());
    view.index = orders::index_orders(view.stored.events);
    view.incidents = orders::load_incidents(connection.get());
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
json::array upload_photos(const Options& options) {
    json::array hashes;
    const auto list = options.get("photo");
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

void print_order_line(const OrderState& order, std::int64_t now_ms) {
    const auto* step = order.current_step();
    std::cout << fmt::format(
        "{:<20} {:<6} {:<19} {:<10} {:<10} {:<24} {:<7} {}\n", order.number,
        workflow::risk_name(order.risk), workflow::order_status_name(order.status),
        order.equipment.empty() ? order.area : order.equipment,
        order.assignee.empty() ? "-" : order.assignee,
        step != nullptr && order.open() ? format_time(step->deadline_ms) : std::string("-"),
        overdue_now(order, now_ms) ? "OVERDUE" : "", order.title);
}

int orders_list(const Options& options) {
    const auto view = read_store(options);
    const std::int64_t now = wall_now_ms();
    const auto state = options.get("state");
    if (state && !workflow::order_status_from_name(*state)) {
        throw UsageError(fmt::format(
            "unknown state '{}' (reported, in_review, rectifying, awaiting_acceptance, closed, "
            "dismissed)",
            *state));
    }
    std::vector<const OrderState*> shown;
    for (const auto& [id, order] : view.index.states) {
        if (state && workflow::order_status_name(order.status) != *state) continue;
        if (!state && !options.has("all") && !order.open()) continue;
        if (auto equipment = options.get("equipment"); equipment && order.equipment != *equipment)
            continue;
        if (auto assignee = options.get("assignee"); assignee && order.assignee != *assignee)
            continue;
        if (options.has("overdue") && !overdue_now(order, now)) continue;
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
            list.push_back(std::move(item));
        }
        std::cout << json::serialize(list) << '\n';
        return 0;
    }
    if (shown.empty()) {
        std::cout << "no orders match (open orders are listed by default; --all for every order)\n";
        return 0;
    }
    std::cout << fmt::format("{:<20} {:<6} {:<19} {:<10} {:<10} {:<24} {:<7} {}\n", "NUMBER",
                             "RISK", "STATE", "EQUIPMENT", "ASSIGNEE", "STEP DUE", "", "TITLE");
    for (const auto* order : shown) print_order_line(*order, now);
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

int orders_show(const Options& options) {
    const std::string& reference = options.word(1, "an order number or id");
    const auto view = read_store(options);
    const auto* order = view.index.find(reference);
    if (order == nullptr)
        throw std::runtime_error(
            fmt::format("no order '{}' in {}", reference, store_path(options)));
    const auto& events = view.index.events_by_order.at(order->id);
    const std::int64_t now = wall_now_ms();
    if (options.json) {
        auto item = workflow::order_view(*order);
        item["overdue"] = overdue_now(*order, now);
        item["timeline"] = workflow::timeline_view(events);
        std::cout << json::serialize(item) << '\n';
        return 0;
    }
    const auto item = workflow::order_view(*order);
    std::cout << fmt::format("{}  {}\n", order->number, order->title);
    std::cout << fmt::format("  id          {}\n", order->id);
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

void print_result(const Options& options, const json::value& result) {
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

int orders_act(const Options& options) {
    const std::string& reference = options.word(1, "an order number or id");
    const std::string& verb = options.word(
        2, "an action (approve, dismiss, assign, reassign, submit, accept, reject, escalate)");
    json::object args{{"order", reference}, {"action", verb}};
    for (const std::string_view key : {"reason", "assignee", "note", "kind"}) {
        if (auto value = options.get(key)) args[key] = *value;
    }
    if (auto deadline = options.get("deadline")) args["deadline_ms"] = parse_deadline(*deadline);
    auto photos = upload_photos(options);
    if (!photos.empty()) args["attachments"] = std::move(photos);
    print_result(options, call_daemon(options, "order.act", args));
    return 0;
}

int orders_attachment(const Options& options) {
    const std::string& sha = options.word(1, "the attachment's sha256");
    const auto out = options.get("out");
    if (!out) throw UsageError("orders attachment needs --out FILE");
    auto connection = store::detail::open_store_file(store_path(options),
                                                     store::detail::OpenMode::read_only, false);
    const auto data = orders::read_attachment_data(connection.get(), sha);
    if (!data) throw std::runtime_error(fmt::format("no attachment {} in the store", sha));
    std::ofstream file(*out, std::ios::binary);
    file.write(data->data(), static_cast<std::streamsize>(data->size()));
    if (!file) throw std::runtime_error(fmt::format("cannot write {}", *out));
    return 0;
}

std::string site_title(const Options& options) {
    try {
        if (auto config_path = options.get("config")) {
            const auto config = load_config(*config_path);
            return config.gateway.site + " / " + config.gateway.node;
        }
    } catch (const std::exception&) {
        // The title is cosmetic; the report is still right.
    }
    return store_path(options);
}

}  // namespace

int run_orders_command(int argc, char** argv) {
    const Options options =
        parse_options(argc, argv,
                      OptionSpec{.valued = {"state", "equipment", "assignee", "reason", "kind",
                                            "deadline", "note", "photo", "out"},
                                 .flags = {"overdue", "all"},
                                 .max_words = 3});
    const std::string sub = options.words.empty() ? std::string("list") : options.words[0];
    if (sub == "list") return orders_list(options);
    if (sub == "show") return orders_show(options);
    if (sub == "act") return orders_act(options);
    if (sub == "attachment") return orders_attachment(options);
    throw UsageError(fmt::format("unknown 'orders {}' (list, show, act, attachment)", sub));
}

int run_report_command(int argc, char** argv) {
    const Options options =
        parse_options(argc, argv,
                      OptionSpec{.valued = {"equipment", "area", "type", "risk", "title",
                                            "description", "measures", "photo", "until"},
                                 .flags = {"anonymous"},
                                 .max_words = 1});
    if (!options.words.empty()) {
        if (options.words[0] != "weekly") {
            throw UsageError(fmt::format(
                "unknown 'report {}' (report weekly, or report --type ...)", options.words[0]));
        }
        const auto view = read_store(options);
        const std::int64_t now = wall_now_ms();
        const std::int64_t until =
            options.get("until") ? parse_time(*options.get("until"), now) : now;
        std::cout << orders::weekly_report(view.index.all(), view.incidents, until, now,
                                           site_title(options));
        return 0;
    }
    if (!options.get("type"))
        throw UsageError("report needs --type (e.g. vibration, guarding, spill)");
    if (!options.get("equipment") && !options.get("area"))
        throw UsageError("report needs --equipment or --area");
    if (!options.get("description"))
        throw UsageError("report needs --description: what is wrong, where exactly");
    json::object args{{"hazard_type", *options.get("type")},
                      {"risk", options.get("risk").value_or("medium")},
                      {"anonymous", options.has("anonymous")}};
    const std::pair<std::string_view, std::string_view> fields[] = {
        {"equipment", "equipment"},
        {"area", "area"},
        {"title", "title"},
        {"description", "description"},
        {"measures", "immediate_measures"}};
    for (const auto& [option, key] : fields) {
        if (auto value = options.get(option)) args[key] = *value;
    }
    auto photos = upload_photos(options);
    if (!photos.empty()) args["attachments"] = std::move(photos);
    print_result(options, call_daemon(options, "order.report", args));
    return 0;
}

int run_verify_command(int argc, char** argv) {
    const Options options = parse_options(argc, argv, OptionSpec{});
    const auto view = read_store(options);
    std::optional<workflow::LocalSequence> local;
    std::vector<workflow::ChainBreak> breaks;
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

int run_kpi_command(int argc, char** argv) {
    const Options options = parse_options(argc, argv, {"since", "until", "area"});
    const auto view = read_store(options);
    const std::int64_t now = wall_now_ms();
    workflow::KpiFilter filter;
    if (auto since = options.get("since")) filter.since_ms = parse_time(*since, now);
    if (auto until = options.get("until")) filter.until_ms = parse_time(*until, now);
    if (auto area = options.get("area")) filter.area = *area;
    const auto report = orders::kpi_report(view.index.all(), view.incidents, filter, now);
    if (options.json) {
        std::cout << json::serialize(report) << '\n';
    } else {
        std::cout << orders::kpi_text(report);
    }
    return 0;
}

int run_incidents_command(int argc, char** argv) {
    const Options options =
        parse_options(argc, argv,
                      OptionSpec{.valued = {"at", "since", "until", "hours", "area", "description"},
                                 .flags = {},
                                 .max_words = 1});
    const std::string sub = options.words.empty() ? std::string("list") : options.words[0];
    const std::int64_t now = wall_now_ms();
    if (sub == "record") {
        json::object args{{"kind", "incident"},
                          {"description", options.get("description").value_or("")}};
        if (auto at = options.get("at")) args["at_ms"] = parse_time(*at, now);
        if (auto area = options.get("area")) args["area"] = *area;
        call_daemon(options, "incidents.record", args);
        std::cout << "incident recorded\n";
        return 0;
    }
    if (sub == "hours") {
        const auto since = options.get("since");
        const auto until = options.get("until");
        const auto hours = options.get("hours");
        if (!since || !until || !hours)
            throw UsageError("incidents hours needs --since TIME --until TIME --hours N");
        double value = 0;
        try {
            value = std::stod(*hours);
        } catch (const std::exception&) {
            throw UsageError(fmt::format("--hours needs a number, got '{}'", *hours));
        }
        json::object args{{"kind", "hours"},
                          {"at_ms", parse_time(*since, now)},
                          {"until_ms", parse_time(*until, now)},
                          {"hours", value}};
        if (auto area = options.get("area")) args["area"] = *area;
        call_daemon(options, "incidents.record", args);
        std::cout << "hours worked recorded\n";
        return 0;
    }
    if (sub != "list")
        throw UsageError(fmt::format("unknown 'incidents {}' (record, hours, list)", sub));
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

}  // namespace fw::cli
