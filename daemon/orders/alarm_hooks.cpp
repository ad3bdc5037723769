// The AlarmService as the order service sees it. Kept apart so that tests of the order service
// feed alarm events directly without linking the alarm service.
#include "daemon/alarms/alarm_service.hpp"
#include "daemon/orders/order_service.hpp"

namespace fw::orders {

AlarmHooks alarm_hooks(alarms::AlarmService& service) {
    return AlarmHooks{
        [&service](alarms::AlarmListener listener) { service.add_listener(std::move(listener)); },
        [&service](std::string_view rule_id) { return service.engine().find_rule(rule_id); }};
}

}  // namespace fw::orders
