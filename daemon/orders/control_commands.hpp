#pragma once
// The work-order commands of the control socket as values: a request's arguments in, the
// workflow command (or incident record) to queue out, or why not, for the caller. Pure: the
// order service checks nothing else before queueing, and the workflow's command handler decides
// the rest (roles, states) when the command's turn comes.
//
//   order.report      {equipment | area, hazard_type, risk, title, description,
//                      immediate_measures, anonymous, attachments: [sha256]}
//   order.act         {order, action: approve | dismiss | assign | reassign | submit | accept |
//                      reject | escalate, reason, note, kind, assignee, deadline_ms, attachments}
//   incidents.record  {kind: incident | hours, at_ms, until_ms, hours, area, description}

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/result.hpp"
#include "daemon/orders/order_store.hpp"
#include "daemon/workflow/commands.hpp"

namespace fw::orders {

// The attachments in the store (metadata by SHA-256), as the order service keeps them.
using AttachmentIndex = std::map<std::string, workflow::Attachment, std::less<>>;

// The workflow user who asks: the signed-in web user when the caller has one (who must still be
// in workflow.users), else the user of the caller's uid, or what to add to workflow.users.
Result<workflow::Actor> actor_for(const control::Caller& caller, const Config& config);

Result<workflow::ReportCommand> parse_report(const boost::json::object& args, const Config& config,
                                             const AttachmentIndex& attachments);
// order.act's command; the caller looks up `order` itself.
Result<workflow::Command> parse_action(const boost::json::object& args,
                                       const AttachmentIndex& attachments);
Result<IncidentRecord> parse_incident(const boost::json::object& args, const workflow::Actor& actor,
                                      const Config& config, std::int64_t now_ms);

// The answer to an accepted order command, once durable.
boost::json::object outcome_json(const workflow::Outcome& outcome);

}  // namespace fw::orders
