// The work-order tables on a real store: the read transaction of load_orders is checked, and
// attachments keep their bytes.

#include "daemon/orders/order_store.hpp"

#include <doctest/doctest.h>

#include <string>

#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
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

}  // namespace

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
