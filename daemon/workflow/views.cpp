#include "daemon/workflow/views.hpp"

#include "daemon/workflow/payload.hpp"

namespace fw::workflow {

boost::json::object order_view(const OrderState& order) {
    boost::json::object view;
    view["id"] = order.id;
    view["number"] = order.number;
    view["status"] = order_status_name(order.status);
    view["equipment"] = order.equipment;
    view["area"] = order.area;
    view["hazard_type"] = order.hazard_type;
    view["risk"] = risk_name(order.risk);
    view["title"] = order.title;
    view["description"] = order.description;
    view["immediate_measures"] = order.immediate_measures;
    if (!order.rule_id.empty()) {
        view["source"] =
            boost::json::object{{"rule_id", order.rule_id}, {"rule_version", order.rule_version}};
    } else {
        view["source"] = boost::json::object{
            {"reporter", order.anonymous ? std::string("anonymous") : order.reporter}};
    }
    view["review"] = boost::json::object{{"round", order.review_round},
                                         {"chain", payload::roles_to_json(order.review_chain)},
                                         {"approved_levels", order.approvals.size()}};
    boost::json::array approvals;
    for (const auto& approval : order.approvals) {
        approvals.push_back(boost::json::object{{"level", approval.level},
                                                {"role", role_name(approval.role)},
                                                {"user", approval.user},
                                                {"at_ms", approval.at_ms}});
    }
    view["approvals"] = std::move(approvals);
    view["assignee"] = order.assignee;
    if (const auto* step = order.current_step()) {
        view["step"] = boost::json::object{{"kind", step_kind_name(step->kind)},
                                           {"index", step->index},
                                           {"started_ms", step->started_ms},
                                           {"deadline_ms", step->deadline_ms}};
    }
    view["overdue"] = order.overdue();
    view["occurrences"] = order.occurrences;
    view["rejections"] = order.rejections;
    view["attachments"] = payload::attachments_to_json(order.report_attachments);
    view["evidence"] = payload::attachments_to_json(order.evidence);
    if (order.status == OrderStatus::dismissed) {
        view["dismissal"] =
            boost::json::object{{"kind", order.dismissal_kind}, {"reason", order.dismissal_reason}};
    }
    view["reported_ms"] = order.reported_ms;
    if (order.closed_ms) view["closed_ms"] = *order.closed_ms;
    return view;
}

boost::json::array timeline_view(std::span<const Event> events) {
    boost::json::array timeline;
    for (const auto& placed : fold_placed(events).placement) {
        const Event& event = *placed.event;
        boost::json::object payload = event.payload;
        payload.erase("reporter_hash");
        boost::json::object entry{{"event_id", event.id.to_string()},
                                  {"type", event_type_name(event.type)},
                                  {"actor", event.actor},
                                  {"role", role_name(event.role)},
                                  {"wall_ms", event.wall_ms},
                                  {"at_ms", placed.at_ms},
                                  {"clock_synced", event.clock_synced},
                                  {"payload", std::move(payload)},
                                  {"hash", event.hash}};
        if (placed.superseded) entry["superseded"] = *placed.superseded;
        timeline.push_back(std::move(entry));
    }
    return timeline;
}

}  // namespace fw::workflow
