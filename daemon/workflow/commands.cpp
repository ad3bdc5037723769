#include "daemon/workflow/commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "daemon/core/enum_names.hpp"
#include "daemon/core/overloaded.hpp"
#include "daemon/workflow/numbering.hpp"
#include "daemon/workflow/payload.hpp"

namespace fw::workflow {
namespace {

constexpr auto kDismissKindNames = enum_names<DismissKind>(
    {{DismissKind::false_alarm, "false_alarm"}, {DismissKind::duplicate, "duplicate"}});

std::string roles_text(const std::vector<Role>& roles, std::string_view conjunction) {
    std::string text;
    for (std::size_t i = 0; i < roles.size(); ++i) {
        if (i > 0) text += i + 1 == roles.size() ? fmt::format(" {} ", conjunction) : ", ";
        text += role_name(roles[i]);
    }
    return text.empty() ? std::string("no role") : text;
}

std::string describe_actor(const Actor& actor) {
    if (actor.roles.empty()) {
        return fmt::format("'{}' is not a user in workflow.users and holds no role", actor.user);
    }
    return fmt::format("{} holds {}", actor.user, roles_text(actor.roles, "and"));
}

std::string format_time(std::int64_t ms) {
    const std::chrono::sys_time<std::chrono::milliseconds> time{std::chrono::milliseconds(ms)};
    return fmt::format("{:%Y-%m-%d %H:%M} UTC", std::chrono::floor<std::chrono::minutes>(time));
}

std::string label(const OrderState& order) {
    return order.number.empty() ? order.id : order.number;
}

bool is_hex_digest(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// An event in the making: the handler fills type, role and payload, then stamps and seals it.
struct Draft {
    EventType type;
    Role role;
    std::string actor;
    boost::json::object payload;
};

class Handling {
  public:
    Handling(const Actor& actor, const OrderState& order, const std::string& last_hash,
             HandlerContext context)
        : actor_(actor),
          order_(order),
          last_hash_(last_hash),
          context_(context),
          writer_(context.writer),
          now_(context.clock.now()) {
        // Deadlines count from the time the event will carry (its HLC is never behind).
        event_ms_ = std::max(now_.ms, writer_.last_hlc().physical_ms);
    }

    Result<Outcome> operator()(const ReportCommand& command);
    Result<Outcome> operator()(const ApproveCommand& command);
    Result<Outcome> operator()(const DismissCommand& command);
    Result<Outcome> operator()(const AssignCommand& command);
    Result<Outcome> operator()(const ReassignCommand& command);
    Result<Outcome> operator()(const SubmitCommand& command);
    Result<Outcome> operator()(const AcceptCommand& command);
    Result<Outcome> operator()(const RejectCommand& command);
    Result<Outcome> operator()(const EscalateCommand& command);
    Result<Outcome> operator()(const MarkOverdueCommand& command);
    Result<Outcome> operator()(const RecordOccurrenceCommand& command);
    Result<Outcome> operator()(const CorrectClockCommand& command);

  private:
    // The role `actor_` acts in: the first of `allowed` they hold.
    std::optional<Role> acting_role(const std::vector<Role>& allowed) const {
        for (const Role role : allowed) {
            if (actor_.holds(role)) return role;
        }
        return std::nullopt;
    }

    std::string not_permitted(std::string_view action, const std::vector<Role>& allowed) const {
        return fmt::format("{} may not {}: that needs {} ({})", actor_.user, action,
                           roles_text(allowed, "or"), describe_actor(actor_));
    }

    Status existing_order() const {
        if (!order_.exists()) return Error{"no such order"};
        return {};
    }

    Status check_attachments(const std::vector<Attachment>& attachments) const {
        const auto& limits = context_.workflow.attachments;
        for (const auto& attachment : attachments) {
            if (!is_hex_digest(attachment.sha256)) {
                return Error{
                    fmt::format("attachment '{}' has no valid SHA-256 (64 lowercase hex digits)",
                                attachment.name)};
            }
            if (attachment.size == 0 || attachment.size > limits.max_size) {
                return Error{
                    fmt::format("attachment '{}' is {} bytes; files of 1 to {} bytes are "
                                "accepted (workflow.attachments.max_size)",
                                attachment.name, attachment.size, limits.max_size)};
            }
            if (std::ranges::find(limits.allowed_types, attachment.media_type) ==
                limits.allowed_types.end()) {
                return Error{
                    fmt::format("attachment '{}' is {}; accepted types are {} "
                                "(workflow.attachments.types)",
                                attachment.name, attachment.media_type, limits.types)};
            }
        }
        return {};
    }

    // Rectification goes to someone who can do it: a technician or a team lead from the config.
    Status check_assignee(const std::string& name) const {
        const auto* assignee = context_.workflow.find_user(name);
        if (assignee != nullptr && std::ranges::any_of(assignee->role_list, [](Role held) {
                return held == Role::technician || held == Role::team_lead;
            })) {
            return {};
        }
        return Error{fmt::format(
            "'{}' cannot take rectification: assignees are users in workflow.users with the "
            "technician or team_lead role",
            name)};
    }

    Status check_deadline(std::int64_t deadline_ms) const {
        if (deadline_ms <= event_ms_) {
            return Error{
                fmt::format("the deadline {} is not in the future", format_time(deadline_ms))};
        }
        return {};
    }

    std::int64_t from_now(Millis duration) const { return event_ms_ + duration.count(); }

    const RiskPolicy& policy(Risk risk) const { return context_.workflow.policy(risk); }

    // Stamps and seals the drafts on a copy of the writer, applies them to a copy of the order,
    // and only if every one fits commits the writer: a refusal changes nothing.
    Result<Outcome> commit(std::vector<Draft> drafts, std::string order_id,
                           std::vector<Notice> notices) {
        EventWriter writer = writer_;
        Outcome outcome;
        outcome.state = order_;
        std::string prev_hash = last_hash_;
        for (auto& draft : drafts) {
            Event event = writer.stamp(now_);
            if (order_id.empty()) order_id = order_id_for(event.id);
            event.order_id = order_id;
            event.type = draft.type;
            event.actor = std::move(draft.actor);
            event.role = draft.role;
            event.payload = std::move(draft.payload);
            seal(event, prev_hash);
            if (auto applied = apply_event(outcome.state, event); !applied) {
                return Error{applied.error()};
            }
            prev_hash = event.hash;
            outcome.events.push_back(std::move(event));
        }
        for (auto& notice : notices) notice.order_id = order_id;
        outcome.notices = std::move(notices);
        writer_ = std::move(writer);
        return outcome;
    }

    Result<Outcome> commit_one(EventType type, Role role, boost::json::object payload,
                               std::vector<Notice> notices = {}) {
        return commit({Draft{type, role, actor_.user, std::move(payload)}}, order_.id,
                      std::move(notices));
    }

    const Actor& actor_;
    const OrderState& order_;
    const std::string& last_hash_;
    HandlerContext context_;
    EventWriter& writer_;
    WallTime now_;
    std::int64_t event_ms_ = 0;
};

const std::vector<Role> kEveryUserRole(user_roles().begin(), user_roles().end());
const std::vector<Role> kDismissRoles{Role::safety, Role::manager};
const std::vector<Role> kAssignRoles{Role::team_lead, Role::manager};
const std::vector<Role> kReassignRoles{Role::team_lead, Role::manager, Role::admin};
const std::vector<Role> kSubmitRoles{Role::technician, Role::team_lead};
const std::vector<Role> kAcceptRoles{Role::team_lead, Role::safety, Role::manager};
const std::vector<Role> kEscalateRoles{Role::safety, Role::manager, Role::system};
const std::vector<Role> kSystemOnly{Role::system};

Result<Outcome> Handling::operator()(const ReportCommand& command) {
    const bool by_rule = command.rule.has_value();
    boost::json::object fields;
    Role role = Role::reporter;
    std::string actor_name = actor_.user;
    if (by_rule) {
        if (!actor_.holds(Role::system)) {
            return Error{
                "orders from rules are opened by the daemon; a person reports as "
                "themselves"};
        }
        if (command.anonymous) return Error{"an order from a rule cannot be anonymous"};
        if (command.rule->rule_id.empty()) return Error{"an order from a rule names the rule"};
        role = Role::system;
        fields["rule_id"] = command.rule->rule_id;
        fields["rule_version"] = command.rule->rule_version;
    } else {
        if (!acting_role(kEveryUserRole)) {
            return Error{actor_.holds(Role::system)
                             ? std::string("the daemon reports only from rules")
                             : not_permitted("report a hazard", kEveryUserRole)};
        }
        if (command.description.empty()) {
            return Error{"describe the hazard: what is wrong, where exactly"};
        }
        if (command.anonymous) {
            if (context_.anonymity_key.empty()) {
                return Error{"anonymous reports are not available: the store has no key"};
            }
            actor_name = "anonymous";
            fields["anonymous"] = true;
            fields["reporter_hash"] = hmac_sha256_hex(context_.anonymity_key, actor_.user);
        } else {
            fields["reporter"] = actor_.user;
        }
    }
    if (command.area.empty()) return Error{"a report needs the area (or equipment) it concerns"};
    if (command.hazard_type.empty()) {
        return Error{"a report needs a hazard type, e.g. vibration or overheating"};
    }
    if (auto checked = check_attachments(command.attachments); !checked)
        return Error{checked.error()};
    if (!command.local_date.ok() || command.day_counter == 0) {
        return Error{"the report has no valid date and day counter for its number"};
    }
    const auto& risk_policy = policy(command.risk);
    fields["number"] = format_human_number(context_.workflow.prefix_for_area(command.area),
                                           command.local_date, command.day_counter);
    fields["equipment"] = command.equipment;
    fields["area"] = command.area;
    fields["hazard_type"] = command.hazard_type;
    fields["risk"] = risk_name(command.risk);
    fields["title"] =
        command.title.empty()
            ? fmt::format("{} at {}", command.hazard_type,
                          command.equipment.empty() ? command.area : command.equipment)
            : command.title;
    fields["description"] = command.description;
    fields["immediate_measures"] = command.immediate_measures;
    fields["attachments"] = payload::attachments_to_json(command.attachments);
    fields["review"] = payload::roles_to_json(risk_policy.review_levels);
    fields["review_deadline_ms"] = from_now(risk_policy.review_deadline);
    return commit({Draft{EventType::reported, role, actor_name, std::move(fields)}}, "", {});
}

Result<Outcome> Handling::operator()(const ApproveCommand&) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    if (order_.status != OrderStatus::reported && order_.status != OrderStatus::in_review) {
        return Error{fmt::format("{} is {}; only orders in review are approved", label(order_),
                                 order_status_name(order_.status))};
    }
    if (order_.review_complete()) {
        return Error{fmt::format("every review level of {} is approved; it awaits assignment",
                                 label(order_))};
    }
    const std::size_t level = order_.pending_level();
    const Role needed = order_.review_chain[level];
    if (!actor_.holds(needed)) {
        return Error{fmt::format("level {} of {} of this {}-risk order needs a {} approval ({})",
                                 level + 1, order_.review_chain.size(), risk_name(order_.risk),
                                 role_name(needed), describe_actor(actor_))};
    }
    return commit_one(EventType::approved, needed,
                      {{"round", order_.review_round}, {"level", level + 1}});
}

Result<Outcome> Handling::operator()(const DismissCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kDismissRoles);
    if (!role) return Error{not_permitted("dismiss an order", kDismissRoles)};
    if (command.reason.empty()) {
        return Error{
            "say why the order is dismissed (false alarm: what was found; duplicate: "
            "of which order)"};
    }
    return commit_one(EventType::dismissed, *role,
                      {{"kind", dismiss_kind_name(command.kind)}, {"reason", command.reason}});
}

Result<Outcome> Handling::operator()(const AssignCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kAssignRoles);
    if (!role) return Error{not_permitted("assign rectification", kAssignRoles)};
    if (auto checked = check_assignee(command.assignee); !checked) return Error{checked.error()};
    const std::int64_t deadline =
        command.deadline_ms.value_or(from_now(policy(order_.risk).rectification_deadline));
    if (auto checked = check_deadline(deadline); !checked) return Error{checked.error()};
    return commit_one(
        EventType::assigned, *role, {{"assignee", command.assignee}, {"deadline_ms", deadline}},
        {Notice{"",
                fmt::format("{} assigned to you, due {}", label(order_), format_time(deadline)),
                {},
                command.assignee}});
}

Result<Outcome> Handling::operator()(const ReassignCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kReassignRoles);
    if (!role) return Error{not_permitted("reassign rectification", kReassignRoles)};
    if (auto checked = check_assignee(command.assignee); !checked) return Error{checked.error()};
    boost::json::object fields{{"assignee", command.assignee}, {"reason", command.reason}};
    if (command.deadline_ms) {
        if (auto checked = check_deadline(*command.deadline_ms); !checked)
            return Error{checked.error()};
        fields["deadline_ms"] = *command.deadline_ms;
    }
    return commit_one(
        EventType::reassigned, *role, std::move(fields),
        {Notice{"", fmt::format("{} reassigned to you", label(order_)), {}, command.assignee}});
}

Result<Outcome> Handling::operator()(const SubmitCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kSubmitRoles);
    if (!role) return Error{not_permitted("submit rectification", kSubmitRoles)};
    if (order_.status == OrderStatus::rectifying && order_.assignee != actor_.user) {
        return Error{
            fmt::format("{} is assigned to {}; only the assignee submits (a team lead "
                        "can reassign it)",
                        label(order_), order_.assignee)};
    }
    if (command.note.empty()) return Error{"a submission needs a note: what was done"};
    if (auto checked = check_attachments(command.attachments); !checked)
        return Error{checked.error()};
    return commit_one(
        EventType::submitted, *role,
        {{"note", command.note},
         {"attachments", payload::attachments_to_json(command.attachments)},
         {"acceptance_deadline_ms", from_now(policy(order_.risk).acceptance_deadline)}});
}

Result<Outcome> Handling::operator()(const AcceptCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kAcceptRoles);
    if (!role) return Error{not_permitted("accept rectification", kAcceptRoles)};
    return commit_one(EventType::accepted, *role, {{"note", command.note}});
}

Result<Outcome> Handling::operator()(const RejectCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kAcceptRoles);
    if (!role) return Error{not_permitted("reject rectification", kAcceptRoles)};
    if (command.reason.empty()) {
        return Error{"say why the rectification is rejected, so the assignee knows what to fix"};
    }
    const std::int64_t deadline =
        command.deadline_ms.value_or(from_now(policy(order_.risk).rectification_deadline));
    if (auto checked = check_deadline(deadline); !checked) return Error{checked.error()};
    return commit_one(EventType::rejected, *role,
                      {{"reason", command.reason}, {"deadline_ms", deadline}},
                      {Notice{"",
                              fmt::format("{} rejected: {}", label(order_), command.reason),
                              {},
                              order_.assignee}});
}

Result<Outcome> Handling::operator()(const EscalateCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    const auto role = acting_role(kEscalateRoles);
    if (!role) return Error{not_permitted("escalate an order to red", kEscalateRoles)};
    if (*role != Role::system && command.reason.empty()) {
        return Error{"say why the order is escalated to red"};
    }
    const auto& red = policy(Risk::red);
    const std::string reason = command.reason.empty()
                                   ? fmt::format("recurrence rule {}", command.rule_id)
                                   : command.reason;
    return commit_one(EventType::escalated, *role,
                      {{"from_risk", risk_name(order_.risk)},
                       {"reason", reason},
                       {"rule_id", command.rule_id},
                       {"review", payload::roles_to_json(red.review_levels)},
                       {"review_deadline_ms", from_now(red.review_deadline)}},
                      {Notice{"", fmt::format("{} escalated to red: {}", label(order_), reason),
                              red.review_levels, ""}});
}

Result<Outcome> Handling::operator()(const MarkOverdueCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    if (!actor_.holds(Role::system))
        return Error{not_permitted("mark a step overdue", kSystemOnly)};
    const auto* step = order_.current_step();
    if (step != nullptr && step->index == command.step_index && step->deadline_ms >= event_ms_) {
        return Error{fmt::format("step {} of {} is not due until {}", step->index, label(order_),
                                 format_time(step->deadline_ms))};
    }
    const std::string step_name =
        step != nullptr ? std::string(step_kind_name(step->kind)) : std::string();
    const std::int64_t deadline = step != nullptr ? step->deadline_ms : 0;
    Notice notice{
        "", fmt::format("{}: {} overdue since {}", label(order_), step_name, format_time(deadline)),
        context_.workflow.overdue_notify_roles,
        step != nullptr && step->kind == StepKind::rectification ? order_.assignee : std::string()};
    return commit_one(
        EventType::overdue, Role::system,
        {{"step_index", command.step_index}, {"step", step_name}, {"deadline_ms", deadline}},
        {std::move(notice)});
}

Result<Outcome> Handling::operator()(const RecordOccurrenceCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    if (!actor_.holds(Role::system)) {
        return Error{not_permitted("record an alarm occurrence", kSystemOnly)};
    }
    return commit_one(
        EventType::occurred, Role::system,
        {{"rule_id", command.rule.rule_id}, {"rule_version", command.rule.rule_version}});
}

Result<Outcome> Handling::operator()(const CorrectClockCommand& command) {
    if (auto exists = existing_order(); !exists) return Error{exists.error()};
    if (!actor_.holds(Role::system)) return Error{not_permitted("correct the clock", kSystemOnly)};
    if (!now_.synced) return Error{"the clock is not synchronised yet; nothing to correct against"};
    if (command.first_sequence < 1 || command.last_sequence < command.first_sequence ||
        command.last_sequence >= writer_.next_sequence()) {
        return Error{fmt::format("sequences {}..{} are not events this node wrote",
                                 command.first_sequence, command.last_sequence)};
    }
    return commit_one(EventType::clock_corrected, Role::system,
                      {{"origin", writer_.origin()},
                       {"first_sequence", command.first_sequence},
                       {"last_sequence", command.last_sequence},
                       {"offset_ms", command.offset_ms}});
}

}  // namespace

bool Actor::holds(Role role) const {
    return std::ranges::find(roles, role) != roles.end();
}

Actor Actor::system() {
    return Actor{"system", {Role::system}};
}

Actor Actor::from_user(const UserConfig& user) {
    return Actor{user.name, user.role_list};
}

std::string_view dismiss_kind_name(DismissKind kind) {
    return kDismissKindNames.name_of(kind);
}

std::optional<DismissKind> dismiss_kind_from_name(std::string_view name) {
    return kDismissKindNames.from_name(name);
}

std::string_view command_name(const Command& command) {
    static constexpr std::array<std::string_view, std::variant_size_v<Command>> kNames{
        "report", "approve", "dismiss",  "assign",  "reassign",   "submit",
        "accept", "reject",  "escalate", "overdue", "occurrence", "clock"};
    return kNames[command.index()];
}

EventWriter::EventWriter(std::string origin, std::uint64_t next_sequence, Hlc last_hlc)
    : origin_(std::move(origin)), next_sequence_(next_sequence), clock_(last_hlc) {}

Event EventWriter::stamp(const WallTime& now) {
    Event event;
    event.id = {origin_, next_sequence_++};
    event.hlc = clock_.send(now.ms);
    event.wall_ms = now.ms;
    event.clock_synced = now.synced;
    return event;
}

Result<Outcome> handle(const Command& command, const Actor& actor, const OrderState& order,
                       const std::string& last_hash, HandlerContext context) {
    Handling handling(actor, order, last_hash, context);
    return std::visit(handling, command);
}

std::optional<std::string> open_order_for_activation(const std::vector<OrderState>& orders,
                                                     std::string_view rule_id,
                                                     std::string_view equipment) {
    const OrderState* newest = nullptr;
    for (const auto& order : orders) {
        if (!order.open() || order.rule_id != rule_id || order.equipment != equipment) continue;
        if (newest == nullptr ||
            std::tie(order.reported_ms, order.id) > std::tie(newest->reported_ms, newest->id)) {
            newest = &order;
        }
    }
    if (newest == nullptr) return std::nullopt;
    return newest->id;
}

std::optional<std::string> order_to_escalate(const std::vector<OrderState>& orders,
                                             std::string_view equipment,
                                             std::string_view hazard_type) {
    const OrderState* newest_open = nullptr;
    const OrderState* newest_any = nullptr;
    const auto newer = [](const OrderState& a, const OrderState* b) {
        return b == nullptr || std::tie(a.reported_ms, a.id) > std::tie(b->reported_ms, b->id);
    };
    for (const auto& order : orders) {
        if (order.equipment != equipment || order.hazard_type != hazard_type) continue;
        if (newer(order, newest_any)) newest_any = &order;
        if (order.open() && newer(order, newest_open)) newest_open = &order;
    }
    const OrderState* target = newest_open != nullptr ? newest_open : newest_any;
    if (target == nullptr) return std::nullopt;
    return target->id;
}

std::vector<DueStep> overdue_steps(const std::vector<OrderState>& orders, const WallTime& now) {
    std::vector<DueStep> due;
    for (const auto& order : orders) {
        if (now.synced && order.uncorrected_unsynced > 0) continue;
        const auto* step = order.current_step();
        if (step == nullptr || step->overdue || step->deadline_ms >= now.ms) continue;
        due.push_back({order.id, step->index});
    }
    return due;
}

}  // namespace fw::workflow

namespace fw::workflow {

std::vector<Event> uncorrected_unsynced(std::span<const Event> events, std::string_view origin) {
    // (order, first, last) of this node's corrections.
    std::vector<std::tuple<std::string_view, std::int64_t, std::int64_t>> corrected;
    for (const auto& event : events) {
        if (event.type != EventType::clock_corrected || event.id.origin != origin) continue;
        const auto first = payload::integer(event.payload, "first_sequence");
        const auto last = payload::integer(event.payload, "last_sequence");
        if (first && last) corrected.emplace_back(event.order_id, *first, *last);
    }
    std::map<std::uint64_t, Event> found;
    for (const auto& event : events) {
        if (event.clock_synced || event.id.origin != origin ||
            event.type == EventType::clock_corrected) {
            continue;
        }
        const auto sequence = static_cast<std::int64_t>(event.id.sequence);
        const bool covered = std::ranges::any_of(corrected, [&](const auto& range) {
            return std::get<0>(range) == event.order_id && std::get<1>(range) <= sequence &&
                   sequence <= std::get<2>(range);
        });
        if (!covered) found.emplace(event.id.sequence, event);
    }
    std::vector<Event> result;
    result.reserve(found.size());
    for (auto& [sequence, event] : found) result.push_back(std::move(event));
    return result;
}

std::vector<ClockCorrection> plan_clock_corrections(std::span<const Event> unsynced,
                                                    std::int64_t now_ms,
                                                    std::optional<std::int64_t> since_last_ms) {
    struct Stretch {
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        std::int64_t first_wall = 0;
        std::int64_t last_wall = 0;
    };
    std::vector<Stretch> stretches;
    for (const auto& event : unsynced) {
        if (stretches.empty() || event.id.sequence != stretches.back().last + 1 ||
            event.wall_ms < stretches.back().last_wall) {
            stretches.push_back(
                {event.id.sequence, event.id.sequence, event.wall_ms, event.wall_ms});
            continue;
        }
        stretches.back().last = event.id.sequence;
        stretches.back().last_wall = event.wall_ms;
    }
    std::vector<ClockCorrection> corrections(stretches.size());
    // The true time the next stretch began, for the stretch before it.
    std::int64_t next_start = now_ms - since_last_ms.value_or(0);
    for (std::size_t i = stretches.size(); i-- > 0;) {
        const auto& stretch = stretches[i];
        const std::int64_t offset = next_start - stretch.last_wall;
        corrections[i] = {stretch.first, stretch.last, offset};
        next_start = stretch.first_wall + offset;
    }
    return corrections;
}

}  // namespace fw::workflow
