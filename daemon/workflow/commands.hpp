#pragma once
// The one command handler every interface (control socket, web page, sync, the daemon's own
// rules and timers) goes through. It checks who may do what (README.md "Roles"), turns a valid
// command into the events to persist, and refuses anything else with a reason for the person
// who asked. It does no I/O: the caller persists the events (and the writer's cursor) in one
// transaction and acknowledges only after that.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/order.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::workflow {

// Who asks: a configured user with their roles, or the daemon itself.
struct Actor {
    std::string user;
    std::vector<Role> roles;
    bool holds(Role role) const;
    static Actor system();
    static Actor from_user(const UserConfig& user);
};

// Where a rule-raised order comes from.
struct RuleSource {
    std::string rule_id;
    std::string rule_version;  // the engine's 16-hex-digit hash of the rule's definition
};

// A new order, from a person (manual report) or from a rule's alarm (the daemon, as system).
struct ReportCommand {
    std::string equipment;  // may be empty when a person reports for an area
    std::string area;
    std::string hazard_type;
    Risk risk = Risk::medium;
    std::string title;
    std::string description;
    std::string immediate_measures;
    std::vector<Attachment> attachments;  // a photo of the hazard, already in the store
    bool anonymous = false;
    std::optional<RuleSource> rule;  // set by the daemon for alarms; never by a person
    // Filled by the service, not the person: the plant-local date and the next per-day counter
    // of the area's prefix, as the store has them.
    std::chrono::year_month_day local_date{};
    std::uint32_t day_counter = 1;
};

struct ApproveCommand {};

enum class DismissKind { false_alarm, duplicate };
std::string_view dismiss_kind_name(DismissKind kind);
std::optional<DismissKind> dismiss_kind_from_name(std::string_view name);

struct DismissCommand {
    DismissKind kind = DismissKind::false_alarm;
    std::string reason;
};

struct AssignCommand {
    std::string assignee;
    std::optional<std::int64_t> deadline_ms;  // default: now + the risk's rectification deadline
};

struct ReassignCommand {
    std::string assignee;
    std::optional<std::int64_t> deadline_ms;  // default: the deadline stays
    std::string reason;
};

struct SubmitCommand {
    std::string note;
    std::vector<Attachment> attachments;  // before/after photos, already in the store
};

struct AcceptCommand {
    std::string note;
};

struct RejectCommand {
    std::string reason;
    std::optional<std::int64_t> deadline_ms;  // default: now + the risk's rectification deadline
};

// Raise the risk to red: a recurrence rule (system) or safety staff by hand.
struct EscalateCommand {
    std::string reason;
    std::string rule_id;  // the recurrence rule, when the daemon escalates
};

// The daemon's deadline timer: the order's current step (by index) passed its deadline.
struct MarkOverdueCommand {
    std::uint32_t step_index = 0;
};

// The daemon: the rule that opened this order activated again on the same equipment.
struct RecordOccurrenceCommand {
    RuleSource rule;
};

// The daemon: its clock turned synchronised, and its events first..last on this order were
// written offset_ms off the true time (plan_clock_corrections says which and by how much).
struct CorrectClockCommand {
    std::uint64_t first_sequence = 0;
    std::uint64_t last_sequence = 0;
    std::int64_t offset_ms = 0;
};

using Command =
    std::variant<ReportCommand, ApproveCommand, DismissCommand, AssignCommand, ReassignCommand,
                 SubmitCommand, AcceptCommand, RejectCommand, EscalateCommand, MarkOverdueCommand,
                 RecordOccurrenceCommand, CorrectClockCommand>;

std::string_view command_name(const Command& command);

// Stamps new events with this node's ids and hybrid clock. The store persists its cursor
// (next_sequence, last HLC) in the same transaction as the events it stamped.
class EventWriter {
  public:
    EventWriter(std::string origin, std::uint64_t next_sequence, Hlc last_hlc = {});

    const std::string& origin() const { return origin_; }
    std::uint64_t next_sequence() const { return next_sequence_; }
    Hlc last_hlc() const { return clock_.last(); }
    HybridClock& clock() { return clock_; }

    // The next event's id and times; the caller fills the rest and seals it.
    Event stamp(const WallTime& now);

  private:
    std::string origin_;
    std::uint64_t next_sequence_;
    HybridClock clock_;
};

// Someone to tell about an overdue step or an escalation (log, MQTT, the web page).
struct Notice {
    std::string order_id;
    std::string message;
    std::vector<Role> roles;  // everyone holding one of these
    std::string user;         // and this person (the assignee), when set
};

// What an accepted command does.
struct Outcome {
    std::vector<Event> events;  // to persist in one transaction, in this order
    OrderState state;           // the order after the events
    std::vector<Notice> notices;
};

struct HandlerContext {
    const WorkflowConfig& workflow;
    const Clock& clock;
    EventWriter& writer;
    // Anonymous reporters are stored as HMAC-SHA256(key, user name); the store keeps the key.
    std::string_view anonymity_key;
};

// `order` is the current state of the order acted on and `last_hash` its head,
// `order.head_hash` (the hash of its last event in fold order: the version acted on); both are
// ignored for ReportCommand. After a CorrectClockCommand, Outcome::state does not show the
// shifted times: fold the order's events again. A refusal is an error saying
// why nothing happened, for the person who asked. The writer advances only when the command is
// accepted.
Result<Outcome> handle(const Command& command, const Actor& actor, const OrderState& order,
                       const std::string& last_hash, HandlerContext context);

// --- what the daemon decides on its own ---

// An alarm of a rule with a `hazard` block activated on `equipment`: add an occurrence to the
// open order that rule opened there, if there is one (its id), else open a new order (nullopt).
std::optional<std::string> open_order_for_activation(const std::vector<OrderState>& orders,
                                                     std::string_view rule_id,
                                                     std::string_view equipment);

// A recurrence rule fired for (equipment, hazard type): the order to escalate is the newest open
// one of that equipment and hazard type, else the newest of any state; nullopt when there is
// none (the daemon then reports a new order at red).
std::optional<std::string> order_to_escalate(const std::vector<OrderState>& orders,
                                             std::string_view equipment,
                                             std::string_view hazard_type);

// Orders whose current step passed its deadline at `now` and has no overdue event yet, with
// the step to name in MarkOverdueCommand. With a synchronised `now`, orders holding uncorrected
// unsynchronised events wait for their correction (their deadlines may be decades off).
struct DueStep {
    std::string order_id;
    std::uint32_t step_index = 0;
};
std::vector<DueStep> overdue_steps(const std::vector<OrderState>& orders, const WallTime& now);

// This node's events written with an unsynchronised clock that no clock_corrected event on their
// own order covers, in sequence order.
std::vector<Event> uncorrected_unsynced(std::span<const Event> events, std::string_view origin);

struct ClockCorrection {
    std::uint64_t first_sequence = 0;
    std::uint64_t last_sequence = 0;
    std::int64_t offset_ms = 0;
};

// The clock just turned synchronised: the corrections for `unsynced` (uncorrected_unsynced()),
// one per stretch of consecutive sequences whose wall clock never went back (a restart or a step
// back starts a new stretch). The last stretch is off by now − (its last wall time + the
// monotonic time since it was written); `since_last_ms` is nullopt when that event was written
// before this boot, and the time the node was down is then counted as zero. Each earlier stretch
// is taken to end where the next begins (its downtime counted as zero too).
std::vector<ClockCorrection> plan_clock_corrections(std::span<const Event> unsynced,
                                                    std::int64_t now_ms,
                                                    std::optional<std::int64_t> since_last_ms);

}  // namespace fw::workflow
