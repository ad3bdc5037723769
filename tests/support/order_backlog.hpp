#pragma once
// A gateway's sync backlog made fast, for the sync chaos test and the sync benchmark: hazard
// orders reported and approved through the workflow's own command handler (so ids, HLCs, hash
// chains and human numbers are what floorwatchd itself writes) and stored with the product's
// order-store code (`write_event_batch`: events, outbox rows, writer cursor, day counter). A week
// of reports is written in seconds instead of the hours the CLI would take.
//
// The store file must exist (made and migrated by floorwatchd) and no floorwatchd may be running
// on it: the writer cursor is read from the file and continued, as the daemon would at its next
// start.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/orders/order_store.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/workflow_config.hpp"

namespace fw::test {

struct BacklogWritten {
    std::uint64_t first_sequence = 0;
    std::uint64_t last_sequence = 0;
    std::uint64_t orders = 0;
};

namespace backlog_detail {

inline std::string user_holding(const workflow::WorkflowConfig& workflow, workflow::Role role) {
    for (const auto& user : workflow.users) {
        for (const auto held : user.role_list) {
            if (held == role) return user.name;
        }
    }
    throw std::runtime_error("the test workflow has no user for a role of the review chain");
}

inline std::string utc_day(std::int64_t ms) {
    const auto days = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
    const std::chrono::year_month_day date(days);
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return text;
}

}  // namespace backlog_detail

// Appends at least `events` events of `origin` to the store at `db`: medium-risk reports on
// `equipment` in `area`, each approved by every level of its review chain (users of `workflow`),
// with wall times from `start_ms` on, `step` apart (clock synchronised). Whole orders only, so the
// last order may overshoot `events` by a few events.
inline BacklogWritten write_order_backlog(const std::filesystem::path& db,
                                          const std::string& origin,
                                          const workflow::WorkflowConfig& workflow,
                                          std::uint64_t events, std::int64_t start_ms,
                                          std::chrono::milliseconds step,
                                          const std::string& equipment = "press-1",
                                          const std::string& area = "stamping") {
    using namespace workflow;
    auto connection = store::Connection::open(db.string(), store::OpenMode::read_write_create);
    sqlite3* store_db = connection.get();

    std::uint64_t next_sequence = 1;
    Hlc last_hlc;
    {
        store::Statement cursor(
            store_db,
            "SELECT next_sequence, hlc_ms, hlc_logical FROM order_writer WHERE origin = ?1");
        cursor.bind(1, origin);
        if (cursor.next_row("reading the writer cursor")) {
            next_sequence = static_cast<std::uint64_t>(cursor.column_int64(0));
            last_hlc = {cursor.column_int64(1), static_cast<std::uint32_t>(cursor.column_int64(2))};
        }
    }
    const std::string prefix = workflow.prefix_for_area(area);
    const std::string day = backlog_detail::utc_day(start_ms);
    std::uint32_t counter = 0;
    {
        store::Statement last(
            store_db,
            "SELECT last_counter FROM order_number_counters WHERE prefix = ?1 AND day = ?2");
        last.bind(1, prefix);
        last.bind(2, day);
        if (last.next_row("reading the order number counter")) {
            counter = static_cast<std::uint32_t>(last.column_int64(0));
        }
    }
    const auto date = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(
        std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(start_ms))));

    ManualClock clock(start_ms, true);
    EventWriter writer(origin, next_sequence, last_hlc);
    BacklogWritten written;
    written.first_sequence = next_sequence;
    const auto reporter = Actor::from_user(
        *workflow.find_user(backlog_detail::user_holding(workflow, Role::reporter)));
    const HandlerContext context{workflow, clock, writer, ""};

    // One transaction per 2,000 orders: quick, and a failure names a small range.
    constexpr std::uint64_t kOrdersPerTransaction = 2000;
    while (writer.next_sequence() - next_sequence < events) {
        store::Transaction transaction(store_db, store::Transaction::Kind::immediate,
                                       "writing the backlog");
        for (std::uint64_t i = 0;
             i < kOrdersPerTransaction && writer.next_sequence() - next_sequence < events; ++i) {
            orders::EventBatch batch;
            ReportCommand report;
            report.equipment = equipment;
            report.area = area;
            report.hazard_type = "vibration";
            report.risk = Risk::medium;
            report.description = equipment + " shakes, report " + std::to_string(counter + 1);
            report.local_date = date;
            report.day_counter = ++counter;
            auto outcome = handle(report, reporter, OrderState{}, "", context);
            if (!outcome) throw std::runtime_error("backlog report refused: " + outcome.error());
            OrderState state = outcome->state;
            batch.events = std::move(outcome->events);
            clock.advance(step);
            while (!state.review_complete()) {
                const Role role = state.review_chain[state.pending_level()];
                const auto approver = Actor::from_user(
                    *workflow.find_user(backlog_detail::user_holding(workflow, role)));
                auto approved = handle(ApproveCommand{}, approver, state, state.head_hash, context);
                if (!approved)
                    throw std::runtime_error("backlog approval refused: " + approved.error());
                state = approved->state;
                for (auto& event : approved->events) batch.events.push_back(std::move(event));
                clock.advance(step);
            }
            batch.cursor = {origin, writer.next_sequence(), writer.last_hlc()};
            batch.day_counter = std::make_pair(std::make_pair(prefix, day), counter);
            batch.queued_ms = batch.events.front().wall_ms;
            orders::write_event_batch(store_db, batch);
            ++written.orders;
        }
        transaction.commit();
    }
    written.last_sequence = writer.next_sequence() - 1;
    return written;
}

}  // namespace fw::test
