// The work-order tables on a real store: the read transaction of load_orders is checked,
// attachments keep their bytes, and OrderIndexCache gives what a full replay gives after every
// kind of change.

#include "daemon/orders/order_store.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/workflow/test_harness.hpp"
#include "daemon/workflow/views.hpp"
#include "tests/support/process.hpp"

namespace {

// A migrated store and a read-write connection of the test's own.
struct OrderStore {
    fw::test::TempDir dir{"fw-order-store"};
    std::string path = (dir / "fw.db").string();
    fw::store::Connection connection;

    OrderStore() {
        fw::store::Writer::open({.path = path})->close();
        connection = fw::store::Connection::open(path, fw::store::OpenMode::read_write_create);
    }

    sqlite3* db() const { return connection.get(); }
};

// Stores what `plant` wrote since `written` events of its log, as the order service does.
void store_new_events(const OrderStore& store, const fw::workflow::testing::Plant& plant,
                      std::size_t& written) {
    fw::orders::EventBatch batch;
    batch.events.assign(plant.log.begin() + static_cast<std::ptrdiff_t>(written), plant.log.end());
    batch.cursor = {plant.writer.origin(), plant.writer.next_sequence(), plant.writer.last_hlc()};
    fw::store::execute(store.db(), "BEGIN", "test batch");
    fw::orders::write_event_batch(store.db(), batch);
    fw::store::execute(store.db(), "COMMIT", "test batch");
    written = plant.log.size();
}

std::vector<std::string> hashes(const std::vector<fw::workflow::Event>& events) {
    std::vector<std::string> result;
    result.reserve(events.size());
    for (const auto& event : events) result.push_back(event.hash);
    return result;
}

// The cache's index against index_orders over a full load_orders, field by field as the API
// shows them.
void check_same_as_replay(fw::orders::OrderIndexCache& cache, sqlite3* db) {
    const auto& cached = cache.refresh(db);
    const auto full = fw::orders::index_orders(fw::orders::load_orders(db).events);
    REQUIRE(cached.states.size() == full.states.size());
    for (const auto& [id, state] : full.states) {
        REQUIRE(cached.states.contains(id));
        const auto& mine = cached.states.at(id);
        CHECK(fw::workflow::order_view(mine) == fw::workflow::order_view(state));
        CHECK(mine.superseded.size() == state.superseded.size());
        CHECK(mine.last_hlc == state.last_hlc);
    }
    REQUIRE(cached.events_by_order.size() == full.events_by_order.size());
    for (const auto& [id, events] : full.events_by_order) {
        REQUIRE(cached.events_by_order.contains(id));
        CHECK(hashes(cached.events_by_order.at(id)) == hashes(events));
    }
    CHECK(cached.id_by_number == full.id_by_number);
}

}  // namespace

TEST_CASE(
    "OrderIndexCache: what a full replay gives, after reports, actions and events synced in") {
    using fw::workflow::Risk;
    using fw::workflow::testing::Plant;
    OrderStore store;
    fw::orders::OrderIndexCache cache;
    CHECK(cache.refresh(store.db()).states.empty());

    Plant gateway;
    std::size_t written = 0;
    const std::string first = gateway.report(Risk::medium);
    const std::string second = gateway.report(Risk::high);
    gateway.approve_all(first);
    store_new_events(store, gateway, written);
    check_same_as_replay(cache, store.db());
    CHECK(cache.refresh(store.db()).states.size() == 2);

    // Later actions on orders the cache has folded, and a new order, in one batch.
    gateway.clock.advance(std::chrono::minutes(5));
    gateway.approve_all(second);
    REQUIRE(gateway.act("lea", fw::workflow::AssignCommand{"tom", std::nullopt}, first));
    const std::string third = gateway.report(Risk::low);
    store_new_events(store, gateway, written);
    check_same_as_replay(cache, store.db());
    CHECK(fw::workflow::order_status_name(cache.refresh(store.db()).states.at(first).status) ==
          "rectifying");
    CHECK(cache.refresh(store.db()).find(gateway.state(third).number) != nullptr);

    // Events of another node about an order folded here, with hybrid-clock times before the
    // latest ones already folded: the order is folded again in HLC order, not appended to.
    Plant other("demo-plant.gw-2", fw::workflow::testing::kStartMs);
    other.states[second] = gateway.states[second];
    other.events[second] = gateway.events[second];
    REQUIRE(other.act("lea", fw::workflow::AssignCommand{"tina", std::nullopt}, second));
    std::size_t other_written = 0;
    store_new_events(store, other, other_written);
    check_same_as_replay(cache, store.db());

    // Nothing new: the same index; a cache made now agrees with the one kept up to date.
    fw::orders::OrderIndexCache fresh;
    CHECK(fresh.refresh(store.db()).states.size() == cache.refresh(store.db()).states.size());
    check_same_as_replay(fresh, store.db());

    // Another file with fewer rows: the cache starts again rather than keep orders it lacks.
    OrderStore smaller;
    Plant lone;
    std::size_t lone_written = 0;
    lone.report(Risk::low);
    store_new_events(smaller, lone, lone_written);
    check_same_as_replay(cache, smaller.db());
    CHECK(cache.refresh(smaller.db()).states.size() == 1);
}

TEST_CASE("load_orders inside a transaction of the caller's refuses, and leaves it open") {
    OrderStore store;
    const std::string key = fw::orders::load_orders(store.db()).anonymity_key;
    fw::store::execute(store.db(), "BEGIN", "the caller's transaction");
    fw::store::execute(store.db(), "UPDATE order_keys SET value = 'not committed'",
                       "changing the key");
    // Its BEGIN fails; unchecked, its COMMIT would then have committed the caller's change.
    CHECK_THROWS_WITH_AS(fw::orders::load_orders(store.db()),
                         doctest::Contains("cannot start a transaction within a transaction"),
                         fw::store::SqliteError);
    REQUIRE(sqlite3_get_autocommit(store.db()) == 0);
    fw::store::execute(store.db(), "ROLLBACK", "the caller's transaction");
    CHECK(fw::orders::load_orders(store.db()).anonymity_key == key);
}

TEST_CASE("an attachment keeps every byte, and the first upload of the same bytes wins") {
    OrderStore store;
    const std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    fw::orders::AttachmentUpload upload{
        {"ab12", "image/png", bytes.size(), "before.png"}, bytes, "tom", 1795939200000};
    fw::orders::write_attachment(store.db(), upload);
    upload.attachment.name = "again.png";
    fw::orders::write_attachment(store.db(), upload);
    CHECK(fw::orders::read_attachment_data(store.db(), "ab12") == bytes);
    CHECK_FALSE(fw::orders::read_attachment_data(store.db(), "cd34").has_value());
    const auto stored = fw::orders::load_orders(store.db());
    REQUIRE(stored.attachments.contains("ab12"));
    CHECK(stored.attachments.at("ab12").name == "before.png");
    CHECK(stored.attachments.at("ab12").size == bytes.size());
}
