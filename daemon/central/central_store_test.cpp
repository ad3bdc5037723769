// The central store's contract: every test case runs once against SQLite (a store file in a
// temporary folder) and once against PostgreSQL (a fresh database on a throwaway server,
// tests/support/postgres.hpp). The same calls must give the same answers on both.

#include "daemon/central/central_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <thread>

#include "daemon/workflow/test_harness.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

namespace {

using fw::central::ActionContext;
using fw::central::ActionRequest;
using fw::central::CentralStore;
using fw::central::ChunkOutcome;
using fw::central::StoreLocation;
using fw::workflow::Event;
using fw::workflow::Role;
using fw::workflow::testing::kStartMs;
using fw::workflow::testing::Plant;
namespace workflow = fw::workflow;
namespace sync = fw::sync;

constexpr std::string_view kGateway = "demo-plant.gw-1";
constexpr std::string_view kOtherGateway = "demo-plant.gw-2";
constexpr std::string_view kCentre = "demo-plant.central-1";

struct SqliteBackend {
    static constexpr std::string_view kName = "SQLite";
    fw::test::TempDir dir{"fw-central"};
    StoreLocation location() const { return {(dir / "central.db").string(), std::nullopt}; }
};

struct PostgresBackend {
    static constexpr std::string_view kName = "PostgreSQL";
    fw::test::PostgresDatabase database;
    StoreLocation location() const { return {"", database.conninfo()}; }
};

// A central store on one backend, with a gateway plant making events and a centre's context.
template <typename Backend>
struct Centre {
    Backend backend;
    std::unique_ptr<CentralStore> store = CentralStore::open(backend.location(), false);
    Plant gateway{std::string(kGateway)};
    workflow::ManualClock clock{kStartMs + 60'000};
    workflow::WorkflowConfig config = fw::workflow::testing::test_workflow();

    std::unique_ptr<CentralStore> another_connection() {
        return CentralStore::open(backend.location(), false);
    }

    workflow::WallTime now() const { return clock.now(); }

    // Events [from, to] of the gateway's log (sequences from 1) as one up message.
    sync::UpEvents batch(std::size_t from, std::size_t to) const {
        sync::UpEvents message;
        message.first = from;
        message.last = to;
        for (std::size_t sequence = from; sequence <= to; ++sequence) {
            message.events.push_back(gateway.log.at(sequence - 1));
        }
        return message;
    }

    sync::UpEvents everything() const { return batch(1, gateway.log.size()); }

    ActionContext context() {
        return ActionContext{
            config, clock, std::string(kCentre),
            std::chrono::year_month_day{std::chrono::year(2026), std::chrono::November,
                                        std::chrono::day(29)},
            "2026-11-29"};
    }

    fw::Result<fw::central::ActionOutcome> act(const std::string& who,
                                               const workflow::Command& command,
                                               const std::string& order = {}) {
        const auto* user = config.find_user(who);
        REQUIRE(user != nullptr);
        return store->act(ActionRequest{command, workflow::Actor::from_user(*user), order},
                          context());
    }

    sync::Hello hello(std::uint64_t next_sequence,
                      std::string incarnation = std::string(32, 'a')) const {
        sync::Hello hello;
        hello.incarnation = std::move(incarnation);
        hello.origin = std::string(kGateway);
        hello.next_sequence = next_sequence;
        hello.wall_ms = kStartMs;
        hello.clock_synced = true;
        return hello;
    }
};

// An order reported on the gateway and taken through review, so that it waits for assignment.
template <typename Backend>
std::string reviewed_order(Centre<Backend>& centre) {
    std::string id = centre.gateway.report();
    centre.gateway.approve_all(id);
    return id;
}

// The event resealed after `change`, as a node that rewrote it would send it.
Event rewritten(Event event, const std::function<void(Event&)>& change) {
    change(event);
    workflow::seal(event, event.prev_hash);
    return event;
}

std::size_t count_events(CentralStore& store, std::string_view origin) {
    std::size_t count = 0;
    for (const auto& event : store.load_orders().events) {
        if (event.id.origin == origin) ++count;
    }
    return count;
}

}  // namespace

TEST_CASE_TEMPLATE("central store: an events message is stored once and acked contiguously",
                   Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    const std::string id = reviewed_order(centre);
    const std::size_t total = centre.gateway.log.size();
    REQUIRE(total >= 3);

    const auto first =
        centre.store->ingest(std::string(kGateway), centre.everything(), centre.now());
    CHECK(first.stored == total);
    CHECK(first.received == total);
    CHECK(first.duplicates == 0);
    CHECK(first.quarantined == 0);
    CHECK(first.changed_orders == std::vector<std::string>{id});

    const auto row = centre.store->find_order(id);
    REQUIRE(row);
    CHECK(row->gateway == std::string(kGateway));
    CHECK(row->status == "in_review");
    CHECK(row->number == centre.gateway.state(id).number);
    CHECK(row->event_count == total);
    CHECK(centre.store->find_order(centre.gateway.state(id).number)->order_id == id);

    SUBCASE("the same message again is a duplicate: acked, nothing inserted twice") {
        const auto again =
            centre.store->ingest(std::string(kGateway), centre.everything(), centre.now());
        CHECK(again.stored == 0);
        CHECK(again.duplicates == total);
        CHECK(again.received == total);
        CHECK(count_events(*centre.store, kGateway) == total);
    }

    const auto gateway = centre.store->gateway(std::string(kGateway));
    REQUIRE(gateway);
    CHECK(gateway->received == total);
    CHECK(gateway->last_ack_ms == centre.now().ms);
    const auto stored = centre.store->order_events(id);
    REQUIRE(stored.size() == total);
    for (std::size_t i = 0; i < total; ++i) CHECK(stored[i].hash == centre.gateway.log[i].hash);
}

TEST_CASE_TEMPLATE("central store: batches out of order are acked up to the first gap", Backend,
                   SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    reviewed_order(centre);
    reviewed_order(centre);
    const std::size_t total = centre.gateway.log.size();
    REQUIRE(total >= 6);

    const auto second =
        centre.store->ingest(std::string(kGateway), centre.batch(4, total), centre.now());
    CHECK(second.stored == total - 3);
    CHECK(second.received == 0);
    const auto third =
        centre.store->ingest(std::string(kGateway), centre.batch(2, 3), centre.now());
    CHECK(third.received == 0);
    const auto first =
        centre.store->ingest(std::string(kGateway), centre.batch(1, 1), centre.now());
    CHECK(first.received == total);
    CHECK(centre.store->orders().size() == 2);
    for (const auto& order : centre.store->orders()) CHECK(order.status == "in_review");
}

TEST_CASE_TEMPLATE(
    "central store: forged, refused and far-ahead events are quarantined and "
    "counted as received",
    Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    centre.gateway.report();  // sequence 1
    Plant other{std::string(kOtherGateway)};
    other.report();

    sync::UpEvents message;
    message.first = 1;
    message.last = 4;
    message.events.push_back(centre.gateway.log[0]);
    // 2: another gateway's event on this gateway's topic.
    Event foreign = other.log[0];
    foreign.id.sequence = 2;
    workflow::seal(foreign, foreign.prev_hash);
    message.events.push_back(foreign);
    // 3: this gateway's event on another gateway's order.
    message.events.push_back(rewritten(centre.gateway.log[0], [&](Event& event) {
        event.id.sequence = 3;
        event.type = workflow::EventType::approved;
        event.order_id = other.log[0].order_id;
    }));
    // 4: refused by the codec (its content does not match its hash).
    message.refused.push_back(
        {4, R"({"origin":"demo-plant.gw-1","sequence":4})", "hash does not match the content"});

    const auto outcome = centre.store->ingest(std::string(kGateway), message, centre.now());
    CHECK(outcome.stored == 1);
    CHECK(outcome.quarantined == 3);
    CHECK(outcome.forged == 2);
    CHECK(outcome.received == 4);
    CHECK(outcome.alerts.size() == 3);
    CHECK(count_events(*centre.store, kOtherGateway) == 0);

    const auto rows = centre.store->quarantine();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].sequence == 4u);
    CHECK(rows[0].raw.find("\"sequence\":4") != std::string::npos);
    CHECK(rows[1].sequence == 2u);
    CHECK(rows[1].reason.find("forged: origin demo-plant.gw-2") != std::string::npos);
    CHECK(rows[2].reason.find("forged: order") != std::string::npos);
    CHECK(centre.store->gateway(std::string(kGateway))->quarantined == 3);

    SUBCASE("a resent quarantined event is quarantined once") {
        const auto again = centre.store->ingest(std::string(kGateway), message, centre.now());
        CHECK(again.quarantined == 0);
        CHECK(again.duplicates == 4);
        CHECK(centre.store->quarantine().size() == 3);
    }

    SUBCASE("a time more than 5 min ahead of a synchronised clock is quarantined") {
        centre.gateway.clock.advance(std::chrono::minutes(30));
        centre.gateway.report();  // sequence 2 of the gateway's own log
        sync::UpEvents ahead;
        ahead.first = 5;
        ahead.last = 5;
        ahead.events.push_back(rewritten(centre.gateway.log[1], [](Event& event) {
            event.id.sequence = 5;
            event.order_id = "demo-plant.gw-1.5";
        }));
        const auto refused = centre.store->ingest(std::string(kGateway), ahead, centre.now());
        CHECK(refused.quarantined == 1);
        CHECK(refused.received == 5);
        CHECK(centre.store->quarantine().back().reason.find("ahead of this centre") !=
              std::string::npos);
    }

    SUBCASE("an unsynchronised centre refuses no time") {
        centre.clock = workflow::ManualClock(kStartMs, false);
        centre.gateway.clock.advance(std::chrono::minutes(30));
        centre.gateway.report();
        sync::UpEvents ahead;
        ahead.first = 5;
        ahead.last = 5;
        ahead.events.push_back(rewritten(centre.gateway.log[1], [](Event& event) {
            event.id.sequence = 5;
            event.order_id = "demo-plant.gw-1.5";
        }));
        CHECK(centre.store->ingest(std::string(kGateway), ahead, centre.now()).stored == 1);
    }
}

TEST_CASE_TEMPLATE("central store: the same key with another hash raises an integrity alarm",
                   Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    const std::string id = centre.gateway.report();
    REQUIRE(centre.store->ingest(std::string(kGateway), centre.everything(), centre.now()).stored ==
            1);

    sync::UpEvents modified;
    modified.first = 1;
    modified.last = 1;
    modified.events.push_back(rewritten(centre.gateway.log[0], [](Event& event) {
        event.payload["description"] = "nothing to see here";
    }));
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto outcome = centre.store->ingest(std::string(kGateway), modified, centre.now());
        CHECK(outcome.integrity_alarms == 1);
        CHECK(outcome.stored == 0);
        CHECK(outcome.received == 1);
        REQUIRE(outcome.alerts.size() == 1);
        CHECK(outcome.alerts[0].level == fw::central::Alert::Level::error);
    }
    const auto alarms = centre.store->integrity_alarms();
    REQUIRE(alarms.size() == 1);
    CHECK(alarms[0].stored_hash == centre.gateway.log[0].hash);
    CHECK(alarms[0].received_hash == modified.events[0].hash);
    CHECK(alarms[0].detections == 2);
    CHECK(alarms[0].raw.find("nothing to see here") != std::string::npos);
    // The stored event stays.
    CHECK(centre.store->order_events(id).at(0).hash == centre.gateway.log[0].hash);
    CHECK(centre.store->gateway(std::string(kGateway))->integrity_alarms == 1);
}

TEST_CASE_TEMPLATE("central store: hello records the gateway and gives the verdict", Backend,
                   SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    reviewed_order(centre);
    const std::size_t total = centre.gateway.log.size();

    const auto first =
        centre.store->hello(std::string(kGateway), centre.hello(total + 1), centre.now());
    CHECK(first.welcome.verdict == sync::Verdict::ok);
    CHECK_FALSE(first.welcome.known_incarnation);
    CHECK(first.welcome.incarnation == centre.store->incarnation());
    CHECK(first.welcome.incarnation.size() == 32);
    CHECK(first.welcome.received == 0);
    CHECK(first.welcome.down_next == 1);
    CHECK(first.replay_from == 1);
    CHECK(first.alerts.empty());
    auto state = centre.store->gateway(std::string(kGateway));
    REQUIRE(state);
    CHECK(state->incarnation == std::string(32, 'a'));
    CHECK(state->next_sequence == total + 1);
    CHECK(state->backlog() == total);
    CHECK(state->last_hello_ms == centre.now().ms);

    REQUIRE(
        centre.store->ingest(std::string(kGateway), centre.everything(), centre.now()).received ==
        total);

    SUBCASE("a re-imaged gateway behind the centre is told to reseed") {
        const auto reimaged = centre.store->hello(
            std::string(kGateway), centre.hello(1, std::string(32, 'b')), centre.now());
        CHECK(reimaged.welcome.verdict == sync::Verdict::reseed);
        CHECK(reimaged.welcome.known_incarnation == std::string(32, 'a'));
        CHECK(reimaged.welcome.message.find("floorwatch sync reseed") != std::string::npos);
        CHECK(centre.store->gateway(std::string(kGateway))->verdict == sync::Verdict::reseed);
        // Once reseeded (its writer past the centre's), the new store is accepted.
        const auto reseeded = centre.store->hello(
            std::string(kGateway), centre.hello(total + 1, std::string(32, 'b')), centre.now());
        CHECK(reseeded.welcome.verdict == sync::Verdict::ok);
        CHECK(reseeded.alerts.size() == 1);
        CHECK(centre.store->gateway(std::string(kGateway))->incarnation == std::string(32, 'b'));
    }

    SUBCASE("a centre behind the gateway's copy of its events moves its cursors past them") {
        auto hello = centre.hello(total + 1);
        hello.centre_max[std::string(kCentre)] = 40;
        hello.down_applied = 7;
        const auto outcome = centre.store->hello(std::string(kGateway), hello, centre.now());
        CHECK(outcome.welcome.down_next == 8);
        CHECK(outcome.alerts.size() == 2);
        const auto cursors = centre.store->load_orders().cursors;
        REQUIRE(cursors.size() == 1);
        CHECK(cursors[0].origin == kCentre);
        CHECK(cursors[0].next_sequence == 41);
    }

    SUBCASE("reannounce: the welcome on record") {
        const auto welcome = centre.store->welcome(std::string(kGateway), centre.now());
        CHECK(welcome.received == total);
        CHECK(welcome.known_incarnation == std::string(32, 'a'));
        CHECK(welcome.verdict == sync::Verdict::ok);
    }
}

TEST_CASE_TEMPLATE(
    "central store: central actions go through the workflow and down to the "
    "order's gateway",
    Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    const std::string id = reviewed_order(centre);
    REQUIRE(
        centre.store->ingest(std::string(kGateway), centre.everything(), centre.now()).received ==
        centre.gateway.log.size());

    SUBCASE("a refusal writes nothing") {
        const auto refused = centre.act("tom", workflow::AssignCommand{"tom", std::nullopt}, id);
        CHECK_FALSE(refused);
        CHECK(refused.error().find("assign") != std::string::npos);
        CHECK(count_events(*centre.store, kCentre) == 0);
        CHECK(centre.store->down_position(std::string(kGateway)).first == 0);
    }

    SUBCASE("an unknown order") {
        const auto unknown =
            centre.act("lea", workflow::AssignCommand{"tom", std::nullopt}, "PRS-20261129-9999");
        CHECK(unknown.error().find("no order") != std::string::npos);
    }

    const auto number = centre.gateway.state(id).number;
    const auto assigned = centre.act("lea", workflow::AssignCommand{"tom", std::nullopt}, number);
    REQUIRE_MESSAGE(assigned, assigned.error());
    CHECK(assigned->gateway == std::string(kGateway));
    REQUIRE(assigned->down.size() == 1);
    CHECK(assigned->down[0].down == 1);
    CHECK(assigned->down[0].event.id.origin == kCentre);
    CHECK(assigned->down[0].event.id.sequence == 1);
    CHECK(assigned->down[0].event.prev_hash == centre.gateway.log.back().hash);
    CHECK(assigned->down[0].event.hlc > centre.gateway.log.back().hlc);
    CHECK(assigned->outcome.state.status == workflow::OrderStatus::rectifying);
    CHECK(centre.store->find_order(id)->status == "rectifying");
    CHECK(centre.store->find_order(id)->assignee == "tom");

    const auto second =
        centre.act("lea", workflow::ReassignCommand{"tina", std::nullopt, "leave"}, id);
    REQUIRE_MESSAGE(second, second.error());
    CHECK(second->down.at(0).down == 2);

    const auto queued = centre.store->down_events(std::string(kGateway), 0, 10);
    REQUIRE(queued.size() == 2);
    CHECK(queued[0].event.hash == assigned->down[0].event.hash);
    CHECK(queued[1].down == 2);
    CHECK(centre.store->down_events(std::string(kGateway), 1, 10).size() == 1);
    CHECK(centre.store->down_events(std::string(kOtherGateway), 0, 10).empty());
    CHECK(centre.store->down_position(std::string(kGateway)) ==
          std::pair<std::uint64_t, std::uint64_t>{2, 0});

    centre.store->down_ack(std::string(kGateway), 1, centre.now().ms);
    CHECK(centre.store->down_position(std::string(kGateway)).second == 1);
    centre.store->down_ack(std::string(kGateway), 0, centre.now().ms);  // never back
    CHECK(centre.store->down_position(std::string(kGateway)).second == 1);
    centre.store->down_ack(std::string(kGateway), 99, centre.now().ms);  // never past the queue
    CHECK(centre.store->down_position(std::string(kGateway)).second == 2);

    SUBCASE("a report at the centre is the centre's own: no gateway, nothing queued") {
        workflow::ReportCommand report;
        report.area = "stamping";
        report.hazard_type = "spill";
        report.risk = workflow::Risk::low;
        report.description = "oil on the floor by the office door";
        const auto reported = centre.act("sam", report);
        REQUIRE_MESSAGE(reported, reported.error());
        CHECK_FALSE(reported->gateway);
        CHECK(reported->down.empty());
        const auto row = centre.store->find_order(reported->outcome.state.id);
        REQUIRE(row);
        CHECK_FALSE(row->gateway);
        CHECK(row->number == "PRS-20261129-0001");
        const auto again = centre.act("sam", report);
        REQUIRE(again);
        CHECK(again->outcome.state.number == "PRS-20261129-0002");
    }

    SUBCASE("seed: every event of the gateway's orders, the centre's included") {
        const auto page = centre.store->seed_page(std::string(kGateway), "", 1000);
        CHECK(page.done);
        CHECK(page.events.size() == centre.gateway.log.size() + 2);
        CHECK(page.events.back().id.origin == kCentre);
        CHECK(page.origin_sequence == centre.gateway.log.size());
        CHECK(page.down_last == 2);
    }
}

TEST_CASE_TEMPLATE(
    "central store: an attachment named by a gateway's event is asked for and "
    "assembled",
    Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    std::string photo(150'000, '\0');
    for (std::size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<char>(i * 7 % 251);
    const workflow::Attachment meta{workflow::sha256_hex(photo), "image/jpeg", photo.size(),
                                    "before.jpg"};
    workflow::ReportCommand report;
    report.equipment = "press-2";
    report.area = "stamping";
    report.hazard_type = "guarding";
    report.description = "guard missing";
    report.attachments = {meta};
    report.local_date = std::chrono::year_month_day{std::chrono::year(2026), std::chrono::November,
                                                    std::chrono::day(29)};
    REQUIRE(centre.gateway.act("rita", report));

    const auto ingested =
        centre.store->ingest(std::string(kGateway), centre.everything(), centre.now());
    REQUIRE(ingested.needs.size() == 1);
    CHECK(ingested.needs[0].sha256 == meta.sha256);
    CHECK(ingested.needs[0].offset == 0);
    CHECK(centre.store->gateway(std::string(kGateway))->wanted_attachments == 1);

    const auto chunk = [&](std::uint64_t offset, std::size_t size, const std::string& data = {}) {
        sync::AttachmentChunk piece;
        piece.sha256 = meta.sha256;
        piece.media_type = meta.media_type;
        piece.size = meta.size;
        piece.name = meta.name;
        piece.offset = offset;
        piece.data = data.empty() ? photo.substr(static_cast<std::size_t>(offset), size) : data;
        piece.last = offset + piece.data.size() >= photo.size();
        return centre.store->receive_chunk(std::string(kGateway), piece, centre.now().ms);
    };

    SUBCASE("in order: stored once whole") {
        CHECK(chunk(0, 65536).kind == ChunkOutcome::Kind::appended);
        const auto wrong = chunk(0, 65536);
        CHECK(wrong.kind == ChunkOutcome::Kind::out_of_order);
        CHECK(wrong.ask->offset == 65536);
        CHECK(chunk(65536, 65536).kind == ChunkOutcome::Kind::appended);
        CHECK(chunk(131072, 65536).kind == ChunkOutcome::Kind::stored);
        const auto stored = centre.store->attachment(meta.sha256);
        REQUIRE(stored);
        CHECK(stored->data == photo);
        CHECK(stored->attachment.name == "before.jpg");
        CHECK(centre.store->gateway(std::string(kGateway))->wanted_attachments == 0);
        CHECK(chunk(0, 65536).kind == ChunkOutcome::Kind::not_wanted);
        CHECK(centre.store->attachments({meta.sha256, std::string(64, '0')}).size() == 1);
    }

    SUBCASE("corrupt: discarded and asked again from the start") {
        CHECK(chunk(0, 65536).kind == ChunkOutcome::Kind::appended);
        CHECK(chunk(65536, 65536).kind == ChunkOutcome::Kind::appended);
        std::string damaged = photo.substr(131072);
        damaged[10] = static_cast<char>(damaged[10] ^ 1);
        const auto corrupt = chunk(131072, 0, damaged);
        CHECK(corrupt.kind == ChunkOutcome::Kind::corrupt);
        CHECK(corrupt.ask->offset == 0);
        CHECK_FALSE(centre.store->attachment(meta.sha256));
        CHECK(chunk(0, 150'000).kind == ChunkOutcome::Kind::stored);
    }

    SUBCASE("a need unanswered is due again") {
        CHECK(centre.store->due_needs(centre.now().ms - 10'000, centre.now().ms).empty());
        const auto due = centre.store->due_needs(centre.now().ms + 1, centre.now().ms + 1);
        REQUIRE(due.size() == 1);
        CHECK(due[0].gateway == kGateway);
        CHECK(due[0].need.sha256 == meta.sha256);
        CHECK(centre.store->needs_of(std::string(kGateway), centre.now().ms).size() == 1);
    }
}

TEST_CASE_TEMPLATE(
    "central store: two connections ingesting one gateway's overlapping batches "
    "store every event once",
    Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    for (int i = 0; i < 20; ++i) reviewed_order(centre);
    const std::size_t total = centre.gateway.log.size();
    auto second = centre.another_connection();

    std::atomic<std::uint64_t> highest{0};
    const auto feed = [&](CentralStore& store, bool backwards) {
        for (std::size_t step = 0; step < total; step += 5) {
            const std::size_t to = backwards ? total - step : std::min(total, step + 10);
            const std::size_t from = backwards ? (to > 10 ? to - 9 : 1) : step + 1;
            const auto outcome =
                store.ingest(std::string(kGateway), centre.batch(from, to), centre.now());
            std::uint64_t seen = highest.load();
            while (outcome.received > seen &&
                   !highest.compare_exchange_weak(seen, outcome.received)) {
            }
        }
    };
    std::thread other([&] { feed(*second, true); });
    feed(*centre.store, false);
    other.join();

    CHECK(highest.load() == total);
    CHECK(count_events(*centre.store, kGateway) == total);
    CHECK(centre.store->gateway(std::string(kGateway))->received == total);
    CHECK(centre.store->orders().size() == 20);
    for (const auto& order : centre.store->orders()) CHECK(order.status == "in_review");
}

TEST_CASE_TEMPLATE("central store: the CLI's reads", Backend, SqliteBackend, PostgresBackend) {
    Centre<Backend> centre;
    const std::string id = reviewed_order(centre);
    REQUIRE(
        centre.store->ingest(std::string(kGateway), centre.everything(), centre.now()).received ==
        centre.gateway.log.size());
    REQUIRE(centre.act("lea", workflow::AssignCommand{"tom", std::nullopt}, id));

    const auto stored = centre.store->load_orders();
    CHECK(stored.events.size() == centre.gateway.log.size() + 1);
    CHECK(stored.unreadable.empty());
    REQUIRE(stored.cursors.size() == 1);
    CHECK(stored.cursors[0].next_sequence == 2);
    CHECK(stored.anonymity_key.size() == 64);
    const auto orders = centre.store->orders();
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].gateway == std::string(kGateway));
    const auto chains = workflow::verify_events(stored.events, std::nullopt);
    CHECK(chains.empty());

    // A read-only connection (the CLI's) sees the same.
    auto reader = CentralStore::open(centre.backend.location(), true);
    CHECK(reader->orders().size() == 1);
    CHECK(reader->gateways().size() == 1);
    CHECK(reader->incarnation() == centre.store->incarnation());
}
