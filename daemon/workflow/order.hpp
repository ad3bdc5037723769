#pragma once
// A hazard work order's state: a fold over its events (README.md "States and transitions").
// The fold places events by HLC then event id, reorders concurrent transitions made from the same
// version (siblings) safety-first, and skips event ids it has seen, so the same events in any
// arrival order, with or without duplicates, give the same state on every node. An event that
// does not fit the state it lands on is kept as superseded with the reason, never lost. Clock
// corrections shift the times of a node's unsynchronised events (README.md "Clocks").

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/workflow/event.hpp"

namespace fw::workflow {

enum class OrderStatus { reported, in_review, rectifying, awaiting_acceptance, closed, dismissed };
std::string_view order_status_name(OrderStatus status);
std::optional<OrderStatus> order_status_from_name(std::string_view name);
bool is_terminal(OrderStatus status);

// The part of the workflow a deadline applies to: review runs from report (or escalation) until
// rectification is assigned, rectification until submission, acceptance until accept/reject.
enum class StepKind { review, rectification, acceptance };
std::string_view step_kind_name(StepKind kind);

struct Attachment {
    std::string sha256;      // content address of the file the store keeps
    std::string media_type;  // "image/jpeg"
    std::uint64_t size = 0;  // bytes
    std::string name;        // file name as given, for people
    bool operator==(const Attachment&) const = default;
};

struct Approval {
    std::size_t level = 0;  // 1-based within its round
    Role role = Role::safety;
    std::string user;
    std::int64_t at_ms = 0;
};

struct Step {
    StepKind kind = StepKind::review;
    std::uint32_t index = 0;  // 1, 2, ... over the order's life; overdue events name it
    std::int64_t started_ms = 0;
    std::int64_t deadline_ms = 0;
    std::optional<std::int64_t> ended_ms;
    bool overdue = false;  // an overdue event was recorded for this step
};

struct SupersededEvent {
    std::string event_id;
    EventType type = EventType::reported;
    std::string actor;
    std::string reason;
    std::string winner;  // the sibling placed before it, when it lost a conflict; else empty
};

struct OrderState {
    std::string id;
    std::string number;  // PRS-20261129-0042
    std::string equipment;
    std::string area;
    std::string hazard_type;
    Risk risk = Risk::medium;
    Risk reported_risk = Risk::medium;
    std::string title;
    std::string description;
    std::string immediate_measures;
    // Source: a rule (rule_id, rule_version) or a person (reporter, or anonymous).
    std::string rule_id;
    std::string rule_version;  // 16 hex digits (rules/engine.hpp RuleInfo::version)
    std::string reporter;      // empty for rules and anonymous reports
    bool anonymous = false;
    std::string reporter_hash;  // HMAC of an anonymous reporter; never shown
    std::vector<Attachment> report_attachments;

    OrderStatus status = OrderStatus::reported;
    std::uint32_t review_round = 0;   // 1 at report, +1 per escalation that restarts review
    std::vector<Role> review_chain;   // the levels of the current round
    std::vector<Approval> approvals;  // of the current round
    std::string assignee;
    std::string submitted_by;
    std::string submission_note;
    std::vector<Attachment> evidence;
    std::uint32_t rejections = 0;
    std::string last_rejection_reason;
    std::string dismissal_kind;  // false_alarm, duplicate
    std::string dismissal_reason;
    std::uint32_t occurrences = 0;  // activations or reports attached, the first included
    std::int64_t last_occurrence_ms = 0;
    std::uint32_t escalations = 0;
    std::vector<Step> steps;  // every step so far; the last is current while the order is open

    std::int64_t reported_ms = 0;
    std::optional<std::int64_t> closed_ms;  // closed or dismissed (cleared by a reopening)
    std::vector<SupersededEvent> superseded;
    std::size_t event_count = 0;  // applied events
    Hlc last_hlc;
    // The hash of the last event in fold order (superseded ones included): the version a new
    // command is made from, its prev_hash.
    std::string head_hash;
    // The time of the last applied event as the fold sees it (clock corrections applied, never
    // going back), so the next event's time is never earlier.
    std::int64_t last_at_ms = 0;
    // Events written with an unsynchronised clock that no clock_corrected event covers yet: their
    // times are not to be judged against a synchronised clock (deadlines wait for the correction).
    std::size_t uncorrected_unsynced = 0;

    bool exists() const { return !id.empty(); }
    bool open() const { return exists() && !is_terminal(status); }
    const Step* current_step() const;
    bool overdue() const;
    // Index into review_chain of the level awaiting approval; review_chain.size() when every
    // level of this round is approved.
    std::size_t pending_level() const { return approvals.size(); }
    bool review_complete() const { return approvals.size() >= review_chain.size(); }
};

// Applies one event after the others, at its HLC time (never before the last event's); an error
// says why it does not fit (and `state` is left unchanged). For a new event on a folded state
// (what handle() does); fold() is the whole rule.
Status apply_event(OrderState& state, const Event& event);

// Siblings (transitions with the same prev_hash) are placed most conservative first: the lower
// rank wins. escalated 0, rejected 1, overdue 2, occurred 3, reassigned 4, approved 5, assigned
// 6, submitted 7, accepted 8, dismissed 9; reported and clock_corrected are never siblings.
// A sibling decision placed after another that applied is superseded (it was decided without
// knowing of it); overdue and occurred are facts and apply alongside any sibling.
std::optional<int> sibling_rank(EventType type);

// An event where the fold puts it.
struct PlacedEvent {
    const Event* event = nullptr;
    std::int64_t at_ms = 0;     // its time: HLC, clock-corrected, never before the previous one
    std::int64_t shift_ms = 0;  // the clock correction added to the times it carries (deadlines)
    std::optional<std::string> superseded;  // why it did not apply
};

struct FoldedOrder {
    OrderState state;
    std::vector<PlacedEvent> placement;  // every distinct event, in fold order; points into the
                                         // events given to fold_placed()
};

// The state of one order from its events, in any order, duplicates allowed.
OrderState fold(std::span<const Event> events);
FoldedOrder fold_placed(std::span<const Event> events);
// Every order's state from a mix of events.
std::map<std::string, OrderState, std::less<>> fold_orders(std::span<const Event> events);

}  // namespace fw::workflow
