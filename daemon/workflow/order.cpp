#include "daemon/workflow/order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

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

// An event with the times the fold gives it (PlacedEvent): `at_ms` stands for its time wherever
// the state records one, and the times its payload carries (deadlines) move by `shift_ms`.
struct Timed {
    const Event& event;
    std::int64_t at_ms = 0;
    std::int64_t shift_ms = 0;

    std::optional<std::int64_t> time_field(std::string_view key) const {
        auto value = integer(event.payload, key);
        if (value && !true_time_from_elsewhere(*value)) *value += shift_ms;
        return value;
    }

    // A time this event's writer cannot have taken from its own clock: written while its time
    // (HLC) was still before kSyncedClockFloorMs, yet at or after it. The daemon's own deadlines
    // are its time plus a policy duration; this one was given absolute by a person on a right
    // clock (the web page on a phone, `--deadline` with a date, or a CLI run elsewhere) while the
    // gateway still ran at 1970. It is true time already: moving it by the correction's offset
    // too would put the deadline fifty years out.
    bool true_time_from_elsewhere(std::int64_t value_ms) const {
        return event.hlc.physical_ms < kSyncedClockFloorMs && value_ms >= kSyncedClockFloorMs;
    }
};

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

Status apply_reported(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    if (state.exists()) return Error{"the order was already reported"};
    const auto& fields = event.payload;
    const auto risk = risk_from_name(text(fields, "risk"));
    auto chain = payload::roles_from_json(fields, "review");
    const auto deadline = timed.time_field("review_deadline_ms");
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
    state.last_occurrence_ms = timed.at_ms;
    state.reported_ms = timed.at_ms;
    start_step(state, StepKind::review, timed.at_ms, *deadline);
    return {};
}

Status apply_approved(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
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
    state.approvals.push_back({pending + 1, event.role, event.actor, timed.at_ms});
    state.status = OrderStatus::in_review;
    return {};
}

Status apply_dismissed(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    if (state.status != OrderStatus::reported && state.status != OrderStatus::in_review) {
        return Error{fmt::format("the order is {}; only orders in review can be dismissed",
                                 order_status_name(state.status))};
    }
    const auto reason = text(event.payload, "reason");
    if (reason.empty()) return Error{"a dismissal needs a reason"};
    state.status = OrderStatus::dismissed;
    state.dismissal_kind = text(event.payload, "kind");
    state.dismissal_reason = reason;
    state.closed_ms = timed.at_ms;
    end_step(state, timed.at_ms);
    return {};
}

Status apply_assigned(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
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
    const auto deadline = timed.time_field("deadline_ms");
    if (assignee.empty() || !deadline)
        return Error{"an assignment needs an assignee and a deadline"};
    state.assignee = assignee;
    state.status = OrderStatus::rectifying;
    end_step(state, timed.at_ms);
    start_step(state, StepKind::rectification, timed.at_ms, *deadline);
    return {};
}

Status apply_reassigned(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    if (state.status != OrderStatus::rectifying) {
        return Error{fmt::format("the order is {}; only orders in rectification can be reassigned",
                                 order_status_name(state.status))};
    }
    const auto assignee = text(event.payload, "assignee");
    if (assignee.empty()) return Error{"a reassignment needs an assignee"};
    state.assignee = assignee;
    // A new deadline helps only a step that is not overdue yet; an overdue one stays overdue.
    if (const auto deadline = timed.time_field("deadline_ms")) {
        state.steps.back().deadline_ms = *deadline;
    }
    return {};
}

Status apply_submitted(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    if (state.status != OrderStatus::rectifying) {
        return Error{
            fmt::format("the order is {}, not in rectification", order_status_name(state.status))};
    }
    if (event.actor != state.assignee) {
        return Error{
            fmt::format("the order is assigned to {}; only the assignee submits", state.assignee)};
    }
    const auto note = text(event.payload, "note");
    const auto deadline = timed.time_field("acceptance_deadline_ms");
    if (note.empty() || !deadline)
        return Error{"a submission needs a note and an acceptance deadline"};
    state.submitted_by = event.actor;
    state.submission_note = note;
    state.evidence = payload::attachments_from_json(event.payload, "attachments");
    state.status = OrderStatus::awaiting_acceptance;
    end_step(state, timed.at_ms);
    start_step(state, StepKind::acceptance, timed.at_ms, *deadline);
    return {};
}

Status check_acceptance(const OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
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

Status apply_accepted(OrderState& state, const Timed& timed) {
    if (auto checked = check_acceptance(state, timed); !checked) return checked;
    state.status = OrderStatus::closed;
    state.closed_ms = timed.at_ms;
    end_step(state, timed.at_ms);
    return {};
}

Status apply_rejected(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    if (auto checked = check_acceptance(state, timed); !checked) return checked;
    const auto reason = text(event.payload, "reason");
    const auto deadline = timed.time_field("deadline_ms");
    if (reason.empty()) return Error{"a rejection needs a reason"};
    if (!deadline) return Error{"a rejection needs a new rectification deadline"};
    state.status = OrderStatus::rectifying;
    state.rejections += 1;
    state.last_rejection_reason = reason;
    end_step(state, timed.at_ms);
    start_step(state, StepKind::rectification, timed.at_ms, *deadline);
    return {};
}

Status apply_overdue(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    const auto* step = state.current_step();
    if (step == nullptr) return Error{"the order has no open step"};
    const auto index = integer(event.payload, "step_index");
    if (index != static_cast<std::int64_t>(step->index)) {
        return Error{fmt::format("step {} is already complete", index.value_or(0))};
    }
    if (step->overdue) return Error{fmt::format("step {} is already overdue", step->index)};
    if (timed.at_ms <= step->deadline_ms) {
        return Error{fmt::format("step {} is not due until {}", step->index, step->deadline_ms)};
    }
    state.steps.back().overdue = true;
    return {};
}

Status apply_escalated(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
    auto chain = payload::roles_from_json(event.payload, "review");
    const auto deadline = timed.time_field("review_deadline_ms");
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
    end_step(state, timed.at_ms);
    start_step(state, StepKind::review, timed.at_ms, *deadline);
    return {};
}

Status apply_occurred(OrderState& state, const Timed& timed) {
    if (!state.open()) {
        return Error{fmt::format("the order is {}; a new activation opens a new order",
                                 order_status_name(state.status))};
    }
    state.occurrences += 1;
    state.last_occurrence_ms = timed.at_ms;
    return {};
}

// The unsynchronised sequences of one origin a clock_corrected event covers, and by how much.
struct CorrectionRange {
    std::string origin;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::int64_t offset_ms = 0;
    bool covers(const Event& event) const {
        return !event.clock_synced && event.type != EventType::clock_corrected &&
               event.id.origin == origin && event.id.sequence >= first && event.id.sequence <= last;
    }
};

// A node corrects only its own earlier events, as the daemon itself.
Result<CorrectionRange> correction_range(const Event& event) {
    const auto origin = text(event.payload, "origin");
    const auto first = integer(event.payload, "first_sequence");
    const auto last = integer(event.payload, "last_sequence");
    const auto offset = integer(event.payload, "offset_ms");
    if (!first || !last || !offset) {
        return Error{"a clock correction needs origin, first_sequence, last_sequence, offset_ms"};
    }
    if (origin != event.id.origin) {
        return Error{
            fmt::format("a clock correction by {} names the events of {}; a node "
                        "corrects only its own",
                        event.id.origin, origin)};
    }
    if (*first < 1 || *last < *first || static_cast<std::uint64_t>(*last) >= event.id.sequence) {
        return Error{
            fmt::format("a clock correction covers earlier sequences of its node; {}..{} "
                        "is not before {}",
                        *first, *last, event.id.sequence)};
    }
    if (event.role != Role::system) return Error{"clock corrections are made by the daemon"};
    return CorrectionRange{origin, static_cast<std::uint64_t>(*first),
                           static_cast<std::uint64_t>(*last), *offset};
}

Status apply_clock_corrected(OrderState&, const Timed& timed) {
    auto range = correction_range(timed.event);
    if (!range) return Error{range.error()};
    return {};
}

Status apply_timed(OrderState& state, const Timed& timed) {
    const Event& event = timed.event;
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
            applied = apply_reported(next, timed);
            break;
        case EventType::approved:
            applied = apply_approved(next, timed);
            break;
        case EventType::dismissed:
            applied = apply_dismissed(next, timed);
            break;
        case EventType::assigned:
            applied = apply_assigned(next, timed);
            break;
        case EventType::reassigned:
            applied = apply_reassigned(next, timed);
            break;
        case EventType::submitted:
            applied = apply_submitted(next, timed);
            break;
        case EventType::accepted:
            applied = apply_accepted(next, timed);
            break;
        case EventType::rejected:
            applied = apply_rejected(next, timed);
            break;
        case EventType::overdue:
            applied = apply_overdue(next, timed);
            break;
        case EventType::escalated:
            applied = apply_escalated(next, timed);
            break;
        case EventType::occurred:
            applied = apply_occurred(next, timed);
            break;
        case EventType::clock_corrected:
            applied = apply_clock_corrected(next, timed);
            break;
    }
    if (!applied) return applied;
    next.event_count += 1;
    next.last_hlc = std::max(next.last_hlc, event.hlc);
    next.last_at_ms = timed.at_ms;
    next.head_hash = event.hash;
    state = std::move(next);
    return {};
}

// A person's (or the daemon's) choice about the order, as opposed to a fact observed about it
// (a deadline passed, the alarm activated again), which two nodes can both record.
bool is_decision(EventType type) {
    return type != EventType::overdue && type != EventType::occurred;
}

std::string sibling_reason(const Event& winner, const Event& loser, const std::string& error) {
    const auto winner_rank = sibling_rank(winner.type);
    const auto loser_rank = sibling_rank(loser.type);
    std::string why;
    if (winner_rank != loser_rank) {
        why = fmt::format("{} over {}", event_type_name(winner.type), event_type_name(loser.type));
    } else if (winner.hlc != loser.hlc) {
        why = "the earlier one first";
    } else {
        why = "by node";
    }
    return fmt::format("made from the same version as {} ({}); {}", winner.id.to_string(), why,
                       error);
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
    auto applied =
        apply_timed(state, Timed{event, std::max(state.last_at_ms, event.hlc.physical_ms), 0});
    // As the fold counts it: a new unsynchronised event waits for a correction too.
    if (applied && !event.clock_synced && event.type != EventType::clock_corrected) {
        ++state.uncorrected_unsynced;
    }
    return applied;
}

std::optional<int> sibling_rank(EventType type) {
    switch (type) {
        case EventType::escalated:
            return 0;
        case EventType::rejected:
            return 1;
        case EventType::overdue:
            return 2;
        case EventType::occurred:
            return 3;
        case EventType::reassigned:
            return 4;
        case EventType::approved:
            return 5;
        case EventType::assigned:
            return 6;
        case EventType::submitted:
            return 7;
        case EventType::accepted:
            return 8;
        case EventType::dismissed:
            return 9;
        case EventType::reported:
        case EventType::clock_corrected:
            break;
    }
    return std::nullopt;
}

FoldedOrder fold_placed(std::span<const Event> events) {
    // One event per id; should a damaged store hold two versions of one id, the same one wins on
    // every node.
    std::map<EventId, const Event*> distinct;
    for (const auto& event : events) {
        auto [entry, inserted] = distinct.try_emplace(event.id, &event);
        if (!inserted && event.hash < entry->second->hash) entry->second = &event;
    }
    std::vector<const Event*> ordered;
    ordered.reserve(distinct.size());
    for (const auto& [id, event] : distinct) ordered.push_back(event);
    std::ranges::sort(ordered,
                      [](const Event* a, const Event* b) { return applies_before(*a, *b); });

    // Siblings: transitions made from the same version. Each group keeps the places its members
    // hold, and is reordered into them by (rank, HLC, node, sequence).
    std::map<std::string_view, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < ordered.size(); ++i) {
        if (ordered[i]->prev_hash.empty() || !sibling_rank(ordered[i]->type)) continue;
        groups[ordered[i]->prev_hash].push_back(i);
    }
    std::map<const Event*, const Event*> winner_of;
    for (const auto& [prev_hash, places] : groups) {
        if (places.size() < 2) continue;
        std::vector<const Event*> members;
        for (const std::size_t place : places) members.push_back(ordered[place]);
        std::ranges::sort(members, [](const Event* a, const Event* b) {
            return std::make_tuple(*sibling_rank(a->type), a->hlc, std::cref(a->id)) <
                   std::make_tuple(*sibling_rank(b->type), b->hlc, std::cref(b->id));
        });
        for (std::size_t i = 0; i < places.size(); ++i) {
            ordered[places[i]] = members[i];
            if (i == 0) continue;
            // A decision loses to the first decision placed before it (it was made without
            // knowing of that one); a fact (overdue, occurred) conflicts with nothing.
            const auto first_decision =
                std::find_if(members.begin(), members.begin() + static_cast<std::ptrdiff_t>(i),
                             [](const Event* member) { return is_decision(member->type); });
            if (is_decision(members[i]->type) &&
                first_decision != members.begin() + static_cast<std::ptrdiff_t>(i)) {
                winner_of[members[i]] = *first_decision;
            }
        }
    }

    std::vector<CorrectionRange> corrections;
    for (const Event* event : ordered) {
        if (event->type != EventType::clock_corrected) continue;
        if (auto range = correction_range(*event)) corrections.push_back(std::move(*range));
    }

    FoldedOrder folded;
    OrderState& state = folded.state;
    std::set<const Event*> applied;
    for (const Event* event : ordered) {
        PlacedEvent placed{event, 0, 0, std::nullopt};
        const auto correction = std::ranges::find_if(
            corrections, [event](const CorrectionRange& range) { return range.covers(*event); });
        if (correction != corrections.end()) {
            // The event's true time is its wall clock plus the offset: its HLC may have been
            // pushed ahead of that wall clock by a synchronised node's time.
            placed.shift_ms = event->wall_ms + correction->offset_ms - event->hlc.physical_ms;
        } else if (!event->clock_synced && event->type != EventType::clock_corrected) {
            ++state.uncorrected_unsynced;
        }
        placed.at_ms = std::max(state.last_at_ms, event->hlc.physical_ms + placed.shift_ms);
        const auto winner = winner_of.find(event);
        // A sibling decision whose winner applied is superseded even where it would still fit:
        // a dismissal decided without knowing of an escalation must not close the order.
        const Timed timed{*event, placed.at_ms, placed.shift_ms};
        Status fits;
        if (winner != winner_of.end() && applied.contains(winner->second)) {
            OrderState probe = state;
            fits = apply_timed(probe, timed);
            if (fits) fits = Error{"it was decided without knowing of that one"};
        } else {
            fits = apply_timed(state, timed);
        }
        if (fits) {
            applied.insert(event);
        } else {
            SupersededEvent superseded{event->id.to_string(), event->type, event->actor,
                                       fits.error(), ""};
            if (winner != winner_of.end()) {
                superseded.reason = sibling_reason(*winner->second, *event, fits.error());
                superseded.winner = winner->second->id.to_string();
            }
            placed.superseded = superseded.reason;
            state.superseded.push_back(std::move(superseded));
            state.head_hash = event->hash;
        }
        folded.placement.push_back(std::move(placed));
    }
    return folded;
}

OrderState fold(std::span<const Event> events) {
    return fold_placed(events).state;
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
