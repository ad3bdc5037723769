// The alarm state machine as a table: every state x every input, with the state it leads to and
// whether an operator would be told "refused".
#include "rules/alarm.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>

using fw::rules::AlarmAction;
using fw::rules::AlarmState;
using fw::rules::AlarmStatus;

namespace {

// Overlay states are entered with the condition active: the harder case when they are left.
AlarmStatus status_in(AlarmState state) {
    AlarmStatus status;
    switch (state) {
        case AlarmState::normal:
            break;
        case AlarmState::unack_active:
            status.base = AlarmState::unack_active;
            status.condition = true;
            break;
        case AlarmState::ack_active:
            status.base = AlarmState::ack_active;
            status.condition = true;
            break;
        case AlarmState::rtn_unack:
            status.base = AlarmState::rtn_unack;
            break;
        case AlarmState::shelved:
            status = {AlarmState::unack_active, true, true, false, false};
            break;
        case AlarmState::suppressed:
            status = {AlarmState::unack_active, true, false, true, false};
            break;
        case AlarmState::out_of_service:
            status = {AlarmState::unack_active, true, false, false, true};
            break;
    }
    REQUIRE(status.state() == state);
    return status;
}

struct Row {
    AlarmState from;
    AlarmAction input;
    AlarmState to;
    bool accepted;
};

// One letter per state, and ok/x below, keep kTable a 7 x 9 grid that reads like ISA-18.2's
// state transition table; kN, kU... would only add noise to every cell.
// NOLINTBEGIN(readability-identifier-naming)
constexpr auto N = AlarmState::normal;
constexpr auto U = AlarmState::unack_active;
constexpr auto A = AlarmState::ack_active;
constexpr auto R = AlarmState::rtn_unack;
constexpr auto S = AlarmState::shelved;
constexpr auto P = AlarmState::suppressed;
constexpr auto O = AlarmState::out_of_service;

constexpr std::array<AlarmAction, 9> kInputs{
    AlarmAction::activate,         AlarmAction::clear,
    AlarmAction::acknowledge,      AlarmAction::shelve,
    AlarmAction::unshelve,         AlarmAction::suppress,
    AlarmAction::unsuppress,       AlarmAction::remove_from_service,
    AlarmAction::return_to_service};

// Columns in kInputs order: activate, clear, acknowledge, shelve, unshelve, suppress, unsuppress,
// remove_from_service, return_to_service. Lowercase "x" marks a refused operator action.
struct Expected {
    AlarmState to;
    bool accepted;
};
constexpr bool ok = true;
constexpr bool x = false;
// NOLINTEND(readability-identifier-naming)

constexpr std::array<std::pair<AlarmState, std::array<Expected, 9>>, 7> kTable{{
    {N, {{{U, ok}, {N, ok}, {N, x}, {S, ok}, {N, x}, {P, ok}, {N, ok}, {O, ok}, {N, x}}}},
    {U, {{{U, ok}, {R, ok}, {A, ok}, {S, ok}, {U, x}, {P, ok}, {U, ok}, {O, ok}, {U, x}}}},
    {A, {{{A, ok}, {N, ok}, {A, x}, {S, ok}, {A, x}, {P, ok}, {A, ok}, {O, ok}, {A, x}}}},
    {R, {{{U, ok}, {R, ok}, {N, ok}, {S, ok}, {R, x}, {P, ok}, {R, ok}, {O, ok}, {R, x}}}},
    {S, {{{S, ok}, {S, ok}, {S, x}, {S, ok}, {U, ok}, {S, ok}, {S, ok}, {O, ok}, {S, x}}}},
    {P, {{{P, ok}, {P, ok}, {P, x}, {S, ok}, {P, x}, {P, ok}, {U, ok}, {O, ok}, {P, x}}}},
    {O, {{{O, ok}, {O, ok}, {O, x}, {O, x}, {O, x}, {O, ok}, {O, ok}, {O, x}, {U, ok}}}},
}};

}  // namespace

TEST_CASE("every alarm state x every input leads where ISA-18.2 says") {
    for (const auto& [from, row] : kTable) {
        for (std::size_t i = 0; i < kInputs.size(); ++i) {
            const auto next = fw::rules::apply_action(status_in(from), kInputs[i]);
            INFO(fw::rules::alarm_state_name(from), " + ",
                 fw::rules::alarm_action_name(kInputs[i]));
            CHECK(next.ok() == row[i].accepted);
            // A refused action changes nothing: the alarm stays where it was.
            const AlarmState to = next ? next->state() : from;
            CHECK(fw::rules::alarm_state_name(to) == fw::rules::alarm_state_name(row[i].to));
            if (!next) CHECK(!next.error().empty());
        }
    }
}

TEST_CASE("leaving an overlay shows the condition as it is now") {
    using fw::rules::apply_action;
    SUBCASE("shelved while the condition went away: unshelving gives normal") {
        AlarmStatus shelved = status_in(S);
        shelved = apply_action(shelved, AlarmAction::clear).value();
        CHECK(shelved.state() == S);
        CHECK(apply_action(shelved, AlarmAction::unshelve).value().state() == N);
    }
    SUBCASE("acknowledged, then suppressed and released while still active: must be acked again") {
        AlarmStatus status = status_in(A);
        status = apply_action(status, AlarmAction::suppress).value();
        CHECK(apply_action(status, AlarmAction::unsuppress).value().state() == U);
    }
    SUBCASE("out of service while inactive returns to normal") {
        AlarmStatus status = apply_action(AlarmStatus{}, AlarmAction::remove_from_service).value();
        CHECK(apply_action(status, AlarmAction::return_to_service).value().state() == N);
    }
    SUBCASE("shelved and suppressed: unshelving leaves it suppressed") {
        AlarmStatus status = status_in(S);
        status = apply_action(status, AlarmAction::suppress).value();
        CHECK(apply_action(status, AlarmAction::unshelve).value().state() == P);
    }
    SUBCASE("out of service replaces shelving") {
        AlarmStatus status = apply_action(status_in(S), AlarmAction::remove_from_service).value();
        CHECK(!status.shelved);
        CHECK(apply_action(status, AlarmAction::return_to_service).value().state() == U);
    }
}

TEST_CASE("state and action names round-trip") {
    for (int i = 0; i <= static_cast<int>(AlarmState::out_of_service); ++i) {
        const auto state = static_cast<AlarmState>(i);
        CHECK(fw::rules::alarm_state_from_name(fw::rules::alarm_state_name(state)) == state);
    }
    for (int i = 0; i <= static_cast<int>(AlarmAction::flood_end); ++i) {
        const auto action = static_cast<AlarmAction>(i);
        CHECK(fw::rules::alarm_action_from_name(fw::rules::alarm_action_name(action)) == action);
    }
}
