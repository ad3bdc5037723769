#include "daemon/workflow/order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "daemon/core/enum_names.hpp"
#include "daemon/workflow/payload.hpp"

namespace fw::workflow {
namespace {

constexpr auto kStatusNames = enum_names<OrderStatus>({
    {OrderStatus::reported, "reported"},
    {OrderStatus::in_review, "in_review"},
    {OrderStatus::rectifying, "rectifying"},
    {OrderStatus::awaiting_acceptance, "awaiting_acceptance"},
    {OrderStatus::closed, "closed"},
    {OrderStatus::dismissed, "dismissed"},
});
constexpr auto kStepNames = enum_names<StepKind>({{StepKind::review, "review"},
                                                  {StepKind::rectification, "rectification"},
                                                  {StepKind::acceptance, "acceptance"}});

using payload::integer;
using payload::text;

void start_step(OrderState& state, StepKind kind, std::int64_t at_ms, std::int64_t deadline_ms) {
    Step step;
    step.kind = kind;
    step.index = static_cast<std::uint32_t>(state.steps.size() + 1);
    step.started_ms = at_ms;
    step.deadline_ms = deadline_ms;
    state.steps.push_back(step);
}

void end_step(OrderState& state, std::int64_t at_ms) {
    if (!state.steps.empty() && !state.steps.back().ended_ms) state.steps.back().ended_ms = at_ms;
}

bool is_person(const std::string& actor) {
    return !actor.empty() && actor != "system" && actor != "anonymous";
}

Status apply_reported(OrderState& state, const Event& event) {
    if (state.exists()) return Error{"the order was already reported"};
    const auto& fields = event.payload;
    const auto risk = risk_from_name(text(fields, "risk"));
    auto chain = payload::roles_from_json(fields, "review");
    const auto deadline = integer(fields, "review_deadline_ms");
    if (!risk || chain.empty() || !deadline || text(fields, "area").empty()) {
        return Error{"a report needs area, risk, review chain and review deadline"};
    }
    state.id = event.order_id;
    state.number = text(fields, "number");
    state.equipment = text(fields, "equipment");
    state.area = text(fields, "area");
    state.hazard_type = text(fields, "hazard_type");
    state.risk = *risk;
    state.reported_risk = *risk;
    state.title = text(fields, "title");
    state.description = text(fields, "description");
    state.immediate_measures = text(fields, "immediate_measures");
    state.rule_id = text(fields, "rule_id");
    state.rule_version = text(fields, "rule_version");
    state.anonymous = payload::flag(fields, "anonymous");
    state.reporter = state.anonymous ? std::string() : text(fields, "reporter");
    state.reporter_hash = state.anonymous ? text(fields, "reporter_hash") : std::string();
    state.report_attachments = payload::attachments_from_json(fields, "attachments");
    state.status = OrderStatus::reported;
    state.review_round = 1;
    state.review_chain = std::move(chain);
    state.occurrences = 1;
    state.last_occurrence_ms = event.hlc.physical_ms;
    state.reported_ms = event.hlc.physical_ms;
    start_step(state, StepKind::review, event.hlc.physical_ms, *deadline);
    return {};
}

Status apply_approved(OrderState& state, const Event& event) {
    if (state.status != OrderStatus::reported && state.status != OrderStatus::in_review) {
        return Error{
            fmt::format("the order is {}, not in review", order_status_name(state.status))};
    }
    if (state.review_complete()) return Error{"every review level is already approved"};
    const auto round = integer(event.payload, "round");
    const auto level = integer(event.payload, "level");
    if (round != static_cast<std::int64_t>(state.review_round)) {
        return Error{fmt::format("the approval is for review round {}, the order is in round {}",
                                 round.value_or(0), state.review_round)};
    }
    const std::size_t pending = state.pending_level();
    if (level != static_cast<std::int64_t>(pending + 1)) {
        return Error{fmt::format("the approval is for level {}, level {} is pending",
                                 level.value_or(0), pending + 1)};
    }
    if (event.role != state.review_chain[pending]) {
        return Error{fmt::format("level {} is approved by {}, not {}", pending + 1,
                                 role_name(state.review_chain[pending]), role_name(event.role))};
    }
    if (!is_person(event.actor)) return Error{"approvals are given by named people"};
    for (const auto& approval : state.approvals) {
        if (approval.user == event.actor) {
            return Error{
                fmt::format("{} already approved level {} of this order; another person must "
                            "approve level {}",
                            event.actor, approval.level, pending + 1)};
        }
    }
    state.approvals.push_back({pending + 1, event.role, event.actor, event.hlc.physical_ms});
    state.status = OrderStatus::in_review;
    return {};
}

Status apply_dismissed(OrderState& state, const Event& event) {
    if (state.status != OrderStatus::reported && state.status != OrderStatus::in_review) {
        return Error{fmt::format("the order is {}; only orders in review can be dismissed",
                                 order_status_name(state.status))};
    }
    const auto reason = text(event.payload, "reason");
    if (reason.empty()) return Error{"a dismissal needs a reason"};
    state.status = OrderStatus::dismissed;
    state.dismissal_kind = text(event.payload, "kind");
    state.dismissal_reason = reason;
    state.closed_ms = event.hlc.physical_ms;
    end_step(state, event.hlc.physical_ms);
    return {};
}

Status apply_assigned(OrderState& state, const Event& event) {
    if (state.status != OrderStatus::reported && state.status != OrderStatus::in_review) {
        return Error{
            fmt::format("the order is {}, not in review", order_status_name(state.status))};
    }
    if (!state.review_complete()) {
        return Error{fmt::format("review level {} of {} ({}) is not approved yet",
                                 state.pending_level() + 1, state.review_chain.size(),
                                 role_name(state.review_chain[state.pending_level()]))};
    }
    const auto assignee = text(event.payload, "assignee");
    const auto deadline = integer(event.payload, "deadline_ms");
    if (assignee.empty() || !deadline)
        return Error{"an assignment needs an assignee and a deadline"};
    state.assignee = assignee;
    state.status = OrderStatus::rectifying;
    end_step(state, event.hlc.physical_ms);
    start_step(state, StepKind::rectification, event.hlc.physical_ms, *deadline);
    return {};
}

Status apply_reassigned(OrderState& state, const Event& event) {
    if (state.status != OrderStatus::rectifying) {
        return Error{fmt::format("the order is {}; only orders in rectification can be reassigned",
                                 order_status_name(state.status))};
    }
    const auto assignee = text(event.payload, "assignee");
    if (assignee.empty()) return Error{"a reassignment needs an assignee"};
    state.assignee = assignee;
    // A new deadline helps only a step that is not overdue yet; an overdue one stays overdue.
    if (const auto deadline = integer(event.payload, "deadline_ms")) {
        state.steps.back().deadline_ms = *deadline;
    }
    return {};
}

Status apply_submitted(OrderState& state, const Event& event) {
    if (state.status != OrderStatus::rectifying) {
        return Error{
            fmt::format("the order is {}, not in rectification", order_status_name(state.status))};
    }
    if (event.actor != state.assignee) {
        return Error{
            fmt::format("the order is assigned to {}; only the assignee submits", state.assignee)};
    }
    const auto note = text(event.payload, "note");
    const auto deadline = integer(event.payload, "acceptance_deadline_ms");
    if (note.empty() || !deadline)
        return Error{"a submission needs a note and an acceptance deadline"};
    state.submitted_by = event.actor;
    state.submission_note = note;
    state.evidence = payload::attachments_from_json(event.payload, "attachments");
    state.status = OrderStatus::awaiting_acceptance;
    end_step(state, event.hlc.physical_ms);
    start_step(state, StepKind::acceptance, event.hlc.physical_ms, *deadline);
    return {};
}

Status check_acceptance(const OrderState& state, const Event& event) {
    if (state.status != OrderStatus::awaiting_acceptance) {
        return Error{fmt::format("the order is {}, not awaiting acceptance",
                                 order_status_name(state.status))};
    }
    if (event.actor == state.submitted_by) {
        return Error{
            fmt::format("{} submitted the rectification; someone else must check it", event.actor)};
    }
    return {};
}

Status apply_accepted(OrderState& state, const Event& event) {
    if (auto checked = check_acceptance(state, event); !checked) return checked;
    state.status = OrderStatus::closed;
    state.closed_ms = event.hlc.physical_ms;
    end_step(state, event.hlc.physical_ms);
    return {};
}

Status apply_rejected(OrderState& state, const Event& event) {
    if (auto checked = check_acceptance(state, event); !checked) return checked;
    const auto reason = text(event.payload, "reason");
    const auto deadline = integer(event.payload, "deadline_ms");
    if (reason.empty()) return Error{"a rejection needs a reason"};
    if (!deadline) return Error{"a rejection needs a new rectification deadline"};
    state.status = OrderStatus::rectifying;
    state.rejections += 1;
    state.last_rejection_reason = reason;
    end_step(state, event.hlc.physical_ms);
    start_step(state, StepKind::rectification, event.hlc.physical_ms, *deadline);
    return {};
}

Status apply_overdue(OrderState& state, const Event& event) {
    const auto* step = state.current_step();
    if (step == nullptr) return Error{"the order has no open step"};
    const auto index = integer(event.payload, "step_index");
    if (index != static_cast<std::int64_t>(step->index)) {
        return Error{fmt::format("step {} is already complete", index.value_or(0))};
    }
    if (step->overdue) return Error{fmt::format("step {} is already overdue", step->index)};
    if (event.hlc.physical_ms <= step->deadline_ms) {
        return Error{fmt::format("step {} is not due until {}", step->index, step->deadline_ms)};
    }
    state.steps.back().overdue = true;
    return {};
}

Status apply_escalated(OrderState& state, const Event& event) {
    auto chain = payload::roles_from_json(event.payload, "review");
    const auto deadline = integer(event.payload, "review_deadline_ms");
    if (chain.empty() || !deadline)
        return Error{"an escalation needs the red review chain and deadline"};
    state.escalations += 1;
    // An open order already at red is already handled at the red chain; review restarts only for
    // a raised risk or a closed order that the hazard came back to.
    if (state.risk == Risk::red && state.open()) return {};
    state.risk = Risk::red;
    state.status = OrderStatus::in_review;
    state.review_round += 1;
    state.review_chain = std::move(chain);
    state.approvals.clear();
    state.assignee.clear();
    state.closed_ms.reset();
    end_step(state, event.hlc.physical_ms);
    start_step(state, StepKind::review, event.hlc.physical_ms, *deadline);
    return {};
}

Status apply_occurred(OrderState& state, const Event& event) {
    if (!state.open()) {
        return Error{fmt::format("the order is {}; a new activation opens a new order",
                                 order_status_name(state.status))};
    }
    state.occurrences += 1;
    state.last_occurrence_ms = event.hlc.physical_ms;
    return {};
}

}  // namespace

std::string_view order_status_name(OrderStatus status) {
    return kStatusNames.name_of(status);
}

std::optional<OrderStatus> order_status_from_name(std::string_view name) {
    return kStatusNames.from_name(name);
}

bool is_terminal(OrderStatus status) {
    return status == OrderStatus::closed || status == OrderStatus::dismissed;
}

std::string_view step_kind_name(StepKind kind) {
    return kStepNames.name_of(kind);
}

const Step* OrderState::current_step() const {
    if (!open() || steps.empty() || steps.back().ended_ms) return nullptr;
    return &steps.back();
}

bool OrderState::overdue() const {
    const auto* step = current_step();
    return step != nullptr && step->overdue;
}

Status apply_event(OrderState& state, const Event& event) {
    if (event.type != EventType::reported) {
        if (!state.exists()) return Error{"the order has not been reported"};
        if (event.order_id != state.id) {
            return Error{fmt::format("the event belongs to order {}", event.order_id)};
        }
    }
    OrderState next = state;
    Status applied;
    switch (event.type) {
        case EventType::reported:
            applied = apply_reported(next, event);
            break;
        case EventType::approved:
            applied = apply_approved(next, event);
            break;
        case EventType::dismissed:
            applied = apply_dismissed(next, event);
            break;
        case EventType::assigned:
            applied = apply_assigned(next, event);
            break;
        case EventType::reassigned:
            applied = apply_reassigned(next, event);
            break;
        case EventType::submitted:
            applied = apply_submitted(next, event);
            break;
        case EventType::accepted:
            applied = apply_accepted(next, event);
            break;
        case EventType::rejected:
            applied = apply_rejected(next, event);
            break;
        case EventType::overdue:
            applied = apply_overdue(next, event);
            break;
        case EventType::escalated:
            applied = apply_escalated(next, event);
            break;
        case EventType::occurred:
            applied = apply_occurred(next, event);
            break;
    }
    if (!applied) return applied;
    next.event_count += 1;
    next.last_hlc = std::max(next.last_hlc, event.hlc);
    state = std::move(next);
    return {};
}

OrderState fold(std::span<const Event> events) {
    std::vector<const Event*> ordered;
    ordered.reserve(events.size());
    for (const auto& event : events) ordered.push_back(&event);
    std::ranges::sort(ordered,
                      [](const Event* a, const Event* b) { return applies_before(*a, *b); });
    OrderState state;
    std::set<EventId> applied;
    for (const Event* event : ordered) {
        if (!applied.insert(event->id).second) continue;
        if (auto fits = apply_event(state, *event); !fits) {
            state.superseded.push_back(
                {event->id.to_string(), event->type, event->actor, fits.error()});
        }
    }
    return state;
}

std::map<std::string, OrderState, std::less<>> fold_orders(std::span<const Event> events) {
    std::map<std::string, std::vector<Event>, std::less<>> events_by_order;
    for (const auto& event : events) events_by_order[event.order_id].push_back(event);
    std::map<std::string, OrderState, std::less<>> states;
    for (const auto& [order_id, order_events] : events_by_order) {
        states.emplace(order_id, fold(order_events));
    }
    return states;
}

}  // namespace fw::workflow
