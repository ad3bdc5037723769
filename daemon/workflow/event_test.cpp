#include "daemon/workflow/event.hpp"

#include <doctest/doctest.h>

#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/numbering.hpp"
#include "daemon/workflow/test_harness.hpp"

namespace fw::workflow {
namespace {

using testing::kStartMs;
using testing::Plant;

TEST_CASE("hlc: local events advance past the wall clock and past each other") {
    HybridClock clock;
    CHECK(clock.send(1000) == Hlc{1000, 0});
    CHECK(clock.send(1000) == Hlc{1000, 1});
    CHECK(clock.send(1500) == Hlc{1500, 0});
    // The wall clock jumped back (NTP correction, RTC-less boot): time still moves forward.
    CHECK(clock.send(200) == Hlc{1500, 1});
    CHECK(clock.send(200) == Hlc{1500, 2});
}

TEST_CASE("hlc: receiving takes the largest time seen and orders after it") {
    HybridClock clock(Hlc{1000, 3});
    SUBCASE("remote ahead") {
        CHECK(clock.receive({2000, 7}, WallTime{1200, true}) == Hlc{2000, 8});
    }
    SUBCASE("same physical time, the larger counter wins") {
        CHECK(clock.receive({1000, 9}, WallTime{900, true}) == Hlc{1000, 10});
    }
    SUBCASE("local ahead") {
        CHECK(clock.receive({500, 9}, WallTime{900, true}) == Hlc{1000, 4});
    }
    SUBCASE("wall clock ahead of both") {
        CHECK(clock.receive({1100, 9}, WallTime{5000, true}) == Hlc{5000, 0});
    }
    SUBCASE("a remote time more than 5 min ahead is refused and changes nothing") {
        const std::int64_t wall = 10'000'000;
        CHECK_FALSE(clock.receive({wall + kMaxRemoteAhead.count() + 1, 0}, WallTime{wall, true})
                        .has_value());
        CHECK(clock.last() == Hlc{1000, 3});
        CHECK(clock.receive({wall + kMaxRemoteAhead.count(), 0}, WallTime{wall, true}).has_value());
    }
    SUBCASE("an unsynchronised clock refuses nothing: a gateway at 1970 takes in the present") {
        const Hlc present{1795939200000, 4};
        CHECK(clock.receive(present, WallTime{1000, false}) == Hlc{1795939200000, 5});
    }
}

TEST_CASE("hlc: a clock is synchronised when the kernel says so and it reads 2024 or later") {
    CHECK(clock_synced(kSyncedClockFloorMs, true));
    CHECK(clock_synced(1795939200000, true));
    CHECK_FALSE(clock_synced(1795939200000, false));
    CHECK_FALSE(clock_synced(kSyncedClockFloorMs - 1, true));
    CHECK_FALSE(clock_synced(86400000, true));  // libfaketime at 1970-01-02 with NTP "synced"
}

TEST_CASE("canonical encoding: sorted keys, compact, minimal escapes, no floats") {
    Event event;
    event.id = {"site.node", 7};
    event.order_id = "site.node.1";
    event.type = EventType::approved;
    event.actor = "sam";
    event.role = Role::safety;
    event.wall_ms = 1000;
    event.hlc = {1001, 2};
    event.clock_synced = true;
    event.payload = {
        {"z", 1}, {"a", "tab\there \"q\" \x01"}, {"m", boost::json::array{true, nullptr}}};
    event.prev_hash = "";
    CHECK(
        canonical_encoding(event) ==
        R"({"actor":"sam","clock_synced":true,"format":1,"hlc_logical":2,"hlc_ms":1001,)"
        R"("order_id":"site.node.1","origin":"site.node","payload":{"a":"tab\there \"q\" \u0001",)"
        R"("m":[true,null],"z":1},"prev_hash":"","role":"safety","sequence":7,"type":"approved",)"
        R"("wall_ms":1000})");
    // Keys in unsigned byte order: UTF-8 (0xc3 ...) after ASCII, shorter prefix first.
    CHECK(canonical_json(
              boost::json::object{{"\xc3\xa9t\xc3\xa9", 1}, {"z", 2}, {"zz", 3}, {"Z", 4}}) ==
          "{\"Z\":4,\"z\":2,\"zz\":3,\"\xc3\xa9t\xc3\xa9\":1}");
    event.payload["reading"] = 4.5;
    CHECK_THROWS_AS(canonical_encoding(event), std::invalid_argument);
}

TEST_CASE("hashes: SHA-256 and HMAC-SHA256 known answers") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231, test case 2.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("events survive JSON and keep their hash") {
    Plant plant;
    const auto order = plant.report();
    const Event& original = plant.events[order].front();
    const auto text = boost::json::serialize(event_to_json(original));
    const auto parsed = event_from_json(boost::json::parse(text));
    REQUIRE_MESSAGE(parsed.ok(), parsed.error());
    CHECK(compute_hash(*parsed) == original.hash);
    CHECK(parsed->hash == original.hash);
    CHECK(canonical_encoding(*parsed) == canonical_encoding(original));

    auto json = event_to_json(original);
    json["type"] = "approvd";
    CHECK(event_from_json(json).error() == "unknown event type 'approvd'");
    json = event_to_json(original);
    json["extra"] = 1;
    CHECK(event_from_json(json).error() == "unknown event field 'extra'");
}

// An order walked to closure: reported, 2 approvals, assigned, submitted, accepted.
std::vector<Event> closed_order(Plant& plant) {
    const auto id = plant.report(Risk::medium);
    plant.approve_all(id);
    REQUIRE(plant.act("lea", AssignCommand{"tom", {}}, id).ok());
    REQUIRE(plant.act("tom", SubmitCommand{"bearing replaced", {}}, id).ok());
    REQUIRE(plant.act("sam", AcceptCommand{"checked on site"}, id).ok());
    REQUIRE(plant.state(id).status == OrderStatus::closed);
    return plant.events[id];
}

// The columns of the store's order_events row for `event` (orders/order_store.cpp writes them)
// that are text of their own; the views of stored_text point into them and into the event.
struct StoredStrings {
    std::string type;
    std::string role;
    std::string payload;
};
StoredStrings stored_strings(const Event& event) {
    return {std::string(event_type_name(event.type)), std::string(role_name(event.role)),
            canonical_json(event.payload)};
}
StoredEventText stored_text(const Event& event, const StoredStrings& strings) {
    return {event.id.origin,       event.id.sequence, event.order_id, strings.type,
            event.actor,           strings.role,      event.wall_ms,  event.clock_synced,
            event.hlc.physical_ms, event.hlc.logical, kEventFormat,   strings.payload,
            event.prev_hash,       event.hash};
}

TEST_CASE("an event's text from its stored columns is its canonical JSON, checked like a decode") {
    Plant plant;
    auto events = closed_order(plant);
    // Strings that need escaping, in every string the text writes itself.
    Event odd = events.front();
    odd.actor = "o\"brien\n\x01";
    odd.order_id = "ord\\1";
    odd.payload["note"] = "tab\there";
    seal(odd, "");
    events.push_back(odd);
    for (const auto& event : events) {
        CAPTURE(event.id.to_string());
        const auto strings = stored_strings(event);
        const auto text = event_text_from_stored(stored_text(event, strings));
        REQUIRE_MESSAGE(text.ok(), text.error());
        CHECK(*text == canonical_json(event_to_json(event)));
        const auto back = event_from_json(boost::json::parse(*text));
        REQUIRE(back.ok());
        CHECK(compute_hash(*back) == event.hash);
    }

    const auto refused = [&events](auto change) {
        const auto strings = stored_strings(events.front());
        auto stored = stored_text(events.front(), strings);
        change(stored);
        const auto text = event_text_from_stored(stored);
        REQUIRE_FALSE(text.ok());
        return text.error();
    };
    CHECK(refused([](StoredEventText& t) { t.type = "approvd"; }) ==
          "unknown event type 'approvd'");
    CHECK(refused([](StoredEventText& t) { t.role = "boss"; }) == "unknown role 'boss'");
    CHECK(refused([](StoredEventText& t) { t.format = 2; }) == "event format 2 is not 1");
    CHECK(refused([](StoredEventText& t) { t.payload = "[1]"; }) == "payload is not a JSON object");
    CHECK(refused([](StoredEventText& t) { t.payload = "{\"a\":"; }) ==
          "payload is not a JSON object");
    CHECK(refused([](StoredEventText& t) { t.hash = "ABC"; }).starts_with("hash and prev_hash"));
    CHECK(refused([](StoredEventText& t) { t.hlc_logical = -1; }) ==
          "hlc_logical -1 is out of range");
}

TEST_CASE("verify: an intact chain passes; each kind of break is named with its event") {
    Plant plant;
    auto events = closed_order(plant);
    REQUIRE(events.size() == 6);
    CHECK_FALSE(verify_chain(events).has_value());
    CHECK(verify_events(events, LocalSequence{"demo-plant.gw-1", 7}).empty());

    SUBCASE("modified") {
        events[3].payload["assignee"] = "tina";
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::modified);
        CHECK(found->event_id == "demo-plant.gw-1:4");
        CHECK(found->order_id == events[0].order_id);
    }
    SUBCASE("modified and re-hashed: the next event no longer follows it") {
        events[3].payload["assignee"] = "tina";
        events[3].hash = compute_hash(events[3]);
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::missing);
        CHECK(found->event_id == "demo-plant.gw-1:5");
    }
    SUBCASE("removed from the middle") {
        events.erase(events.begin() + 2);
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::missing);
        CHECK(found->event_id == "demo-plant.gw-1:4");
    }
    SUBCASE("removed at the end: only the node's sequence shows it") {
        events.pop_back();
        CHECK_FALSE(verify_chain(events).has_value());
        const auto breaks = verify_events(events, LocalSequence{"demo-plant.gw-1", 7});
        REQUIRE(breaks.size() == 1);
        CHECK(breaks[0].fault == ChainFault::missing);
        CHECK(breaks[0].event_id == "demo-plant.gw-1:6");
    }
    SUBCASE("stored in another order: the chain is in the links, not the storage order") {
        std::swap(events[2], events[3]);
        std::ranges::reverse(events);
        CHECK_FALSE(verify_chain(events).has_value());
    }
    SUBCASE("reordered: an event's time before its predecessor's") {
        events[3].hlc = Hlc{events[2].hlc.physical_ms - 1, 0};
        events[3].hash = compute_hash(events[3]);
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::reordered);
        CHECK(found->event_id == "demo-plant.gw-1:4");
    }
    SUBCASE("reordered: a chain that starts mid-order") {
        events[2].prev_hash.clear();
        events[2].hash = compute_hash(events[2]);
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::reordered);
        CHECK(found->event_id == "demo-plant.gw-1:3");
    }
    SUBCASE("duplicated") {
        events.insert(events.begin() + 3, events[2]);
        const auto found = verify_chain(events);
        REQUIRE(found.has_value());
        CHECK(found->fault == ChainFault::duplicated);
    }
}

TEST_CASE("numbering: ids from the report event, human numbers per prefix and day") {
    CHECK(order_id_for({"demo-plant.gw-1", 42}) == "demo-plant.gw-1.42");
    const std::chrono::year_month_day day{std::chrono::year(2026), std::chrono::November,
                                          std::chrono::day(29)};
    CHECK(format_human_number("PRS", day, 42) == "PRS-20261129-0042");
    CHECK(format_human_number("PRS", day, 12345) == "PRS-20261129-12345");
    const auto parsed = parse_human_number("prs-20261129-0042");
    REQUIRE(parsed.has_value());
    CHECK(parsed->prefix == "PRS");
    CHECK(parsed->date == day);
    CHECK(parsed->day_counter == 42);
    CHECK_FALSE(parse_human_number("PRS-20261131-0001").has_value());  // no 31 November
    CHECK_FALSE(parse_human_number("PRS-2026112-0001").has_value());
    CHECK_FALSE(parse_human_number("demo-plant.gw-1.42").has_value());

    Plant plant;
    const auto first = plant.report();
    const auto second = plant.report();
    CHECK(plant.state(first).number == "PRS-20261129-0001");
    CHECK(plant.state(second).number == "PRS-20261129-0002");
    CHECK(first != second);
}

}  // namespace
}  // namespace fw::workflow
