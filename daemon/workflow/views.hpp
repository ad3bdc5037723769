#pragma once
// What people see of an order and its timeline (CLI, web page, MQTT). These are the only
// renderings: an anonymous reporter appears as "anonymous" and their keyed hash never leaves the
// store.

#include <boost/json.hpp>
#include <span>

#include "daemon/workflow/event.hpp"
#include "daemon/workflow/order.hpp"

namespace fw::workflow {

boost::json::object order_view(const OrderState& order);
// One timeline entry per event of one order, in fold order: its time as the fold sees it
// (`at_ms`: clock corrections applied), and `superseded` with the reason for an event that did not
// apply.
boost::json::array timeline_view(std::span<const Event> events);

}  // namespace fw::workflow
