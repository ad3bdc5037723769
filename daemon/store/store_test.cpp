// Store tests on real SQLite files in a temporary folder under /tmp.

#include "daemon/store/store.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"

namespace fs = std::filesystem;
using fw::Quality;
using fw::Sample;
using fw::SampleBatch;
using fw::store::Millis;
using fw::store::Reader;
using fw::store::StoreError;
using fw::store::Writer;
using fw::store::WriterOptions;

namespace {

class TempDir {
  public:
    TempDir() {
        std::string pattern = "/tmp/fw-store-test-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    fs::path path_;
};

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

// A connection of the test's own, without the store's checks, to set up and inspect files.
class RawDb {
  public:
    explicit RawDb(const std::string& path)
        : connection_(fw::store::Connection::open(path, fw::store::OpenMode::read_write_create)) {
        sqlite3_busy_timeout(connection_.get(), 5000);
    }

    void exec(const std::string& sql) { fw::store::execute(connection_.get(), sql, sql); }
    std::int64_t integer(const std::string& sql) {
        fw::store::Statement query(connection_.get(), sql);
        REQUIRE(query.next_row(sql));
        const std::int64_t value = query.column_int64(0);
        query.reset();
        return value;
    }
    sqlite3* get() const { return connection_.get(); }

  private:
    fw::store::Connection connection_;
};

WriterOptions options_for(const std::string& path) {
    WriterOptions options;
    options.path = path;
    options.commit_interval = Millis(20);
    // Test samples are stamped near 1970: keep them. Tests prune through set_retention.
    options.sample_max_age = Millis(std::numeric_limits<std::int64_t>::max() / 2);
    options.prune_interval = Millis(3600 * 1000);
    return options;
}

Sample good(const std::string& channel, std::int64_t time_ms, double value) {
    return Sample{channel, time_ms, value, Quality::good};
}

SampleBatch batch_of(const std::string& channel, std::int64_t first_time_ms, int count) {
    SampleBatch batch;
    batch.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        batch.push_back(good(channel, first_time_ms + i, static_cast<double>(first_time_ms + i)));
    }
    return batch;
}

std::string open_error(const std::string& path) {
    try {
        Writer::open(options_for(path));
    } catch (const StoreError& error) {
        return error.what();
    }
    FAIL("Writer::open(", path, ") succeeded");
    return {};
}

std::string reader_error(const std::string& path) {
    try {
        Reader::open(path);
    } catch (const StoreError& error) {
        return error.what();
    }
    FAIL("Reader::open(", path, ") succeeded");
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Waits for a condition the writer thread brings about; the deadline only bounds a broken run.
template <typename Condition>
bool eventually(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
}

std::vector<std::string> files_in(const std::string& directory) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory)) {
        names.push_back(entry.path().filename().string());
    }
    return names;
}

constexpr std::int64_t kAllTime = std::numeric_limits<std::int64_t>::max();

}  // namespace

TEST_CASE("a new file gets every migration and the latest schema version") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    Writer::open(options_for(path))->close();

    RawDb db(path);
    CHECK(db.integer("PRAGMA user_version") == fw::store::latest_schema_version());
    CHECK(db.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                     "('channels', 'samples', 'device_health')") == 3);
    CHECK(db.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                     "name = 'samples_by_channel_time'") == 1);
    CHECK(Reader::open(path)->schema_version() == fw::store::latest_schema_version());
}

TEST_CASE("re-opening a current file changes nothing and makes no backup") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    {
        auto writer = Writer::open(options_for(path));
        writer->enqueue_samples(batch_of("press1.vibration", 1000, 5));
        writer->flush();
    }
    Writer::open(options_for(path))->close();
    for (const auto& name : files_in(dir.file(""))) CHECK_FALSE(contains(name, ".bak"));
    auto reader = Reader::open(path);
    CHECK(reader->schema_version() == fw::store::latest_schema_version());
    CHECK(reader->samples("press1.vibration", 0, kAllTime, 100).size() == 5);
}

TEST_CASE("a file from a newer floorwatch is refused and left as it was") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    {
        RawDb db(path);
        db.exec("CREATE TABLE future (x); PRAGMA user_version = 99;");
    }
    const auto before = read_bytes(path);
    const auto message = open_error(path);
    CHECK(contains(message, path));
    CHECK(contains(message, "written by a newer floorwatch"));
    CHECK(contains(message, "nothing was changed"));
    CHECK(read_bytes(path) == before);
    CHECK(contains(reader_error(path), "newer floorwatch"));
}

TEST_CASE("migrating a file that has data backs it up first, with the online backup API") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    {
        auto writer = Writer::open(options_for(path));
        writer->enqueue_samples(batch_of("press1.vibration", 1000, 7));
    }
    // One migration past this build's latest, so the test holds whatever schemas/ contains.
    const auto embedded = fw::store::embedded_migrations();
    const int latest = fw::store::latest_schema_version();
    const int next = latest + 1;
    std::vector<fw::store::Migration> upgraded(embedded.begin(), embedded.end());
    upgraded.push_back(
        fw::store::Migration{next, "9999_test_extra.sql", "CREATE TABLE extra (x);"});
    const std::string backup_path = path + ".pre-v" + std::to_string(next) + ".bak";

    {
        RawDb db(path);
        const auto outcome = fw::store::migrate(db.get(), path, upgraded);
        CHECK(outcome.from_version == latest);
        CHECK(outcome.to_version == next);
        REQUIRE(outcome.backup_path.has_value());
        CHECK(*outcome.backup_path == backup_path);
        CHECK(db.integer("PRAGMA user_version") == next);
        CHECK(db.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'") == 1);

        SUBCASE("a second backup never overwrites the first") {
            CHECK(fw::store::backup_before_migration(db.get(), path, next) ==
                  path + ".pre-v" + std::to_string(next) + ".2.bak");
        }
    }
    RawDb backup(backup_path);
    CHECK(backup.integer("PRAGMA user_version") == latest);
    CHECK(backup.integer("SELECT count(*) FROM samples") == 7);
    CHECK(backup.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'") == 0);

    // This build only knows up to `latest`: the migrated file is now "newer".
    CHECK(contains(open_error(path), "schema v" + std::to_string(next) +
                                         ", this build knows up to v" + std::to_string(latest)));
}

TEST_CASE("a failing migration is rolled back and leaves the version as it was") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    Writer::open(options_for(path))->close();
    const auto embedded = fw::store::embedded_migrations();
    const int latest = fw::store::latest_schema_version();
    std::vector<fw::store::Migration> broken(embedded.begin(), embedded.end());
    broken.push_back(fw::store::Migration{latest + 1, "9998_good.sql", "CREATE TABLE good (x);"});
    broken.push_back(
        fw::store::Migration{latest + 2, "9999_bad.sql", "CREATE TABLE channels (x);"});
    RawDb db(path);
    try {
        fw::store::migrate(db.get(), path, broken);
        FAIL("the migration succeeded");
    } catch (const StoreError& error) {
        CHECK(contains(error.what(), "9999_bad.sql"));
        CHECK(contains(error.what(), "rolled back"));
    }
    CHECK(db.integer("PRAGMA user_version") == latest);
    CHECK(db.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'good'") == 0);
}

TEST_CASE("a file that is not a database is refused, named and left untouched") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    std::string garbage;
    for (int i = 0; i < 1000; ++i) garbage += "this is not an sqlite file ";
    write_bytes(path, garbage);

    const auto message = open_error(path);
    CHECK(contains(message, path));
    CHECK(contains(message, "not an SQLite database"));
    CHECK(contains(message, "Nothing was deleted"));
    CHECK(contains(message, "mv " + path + " " + path + ".corrupt"));
    CHECK(read_bytes(path) == garbage);
    CHECK(contains(reader_error(path), path));
    CHECK(read_bytes(path) == garbage);
}

TEST_CASE("a damaged database is refused, named and left untouched") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    {
        auto writer = Writer::open(options_for(path));
        for (int i = 0; i < 40; ++i)
            writer->enqueue_samples(batch_of("ch", std::int64_t{i} * 1000, 1000));
    }
    auto bytes = read_bytes(path);
    REQUIRE(bytes.size() > std::size_t{100} * 1024);

    SUBCASE("truncated") {
        bytes.resize(bytes.size() / 2);
    }
    SUBCASE("pages overwritten") {
        for (std::size_t i = 8192; i < 8192 + 3 * 4096; ++i) bytes[i] = '\x5a';
    }
    write_bytes(path, bytes);

    const auto message = open_error(path);
    CHECK(contains(message, path));
    CHECK((contains(message, "damaged") || contains(message, "malformed")));
    CHECK(contains(message, "Nothing was deleted"));
    CHECK(read_bytes(path) == bytes);
}

TEST_CASE("a store in a missing directory is refused, naming the directory") {
    TempDir dir;
    const auto missing = dir.file("no-such-dir");
    const auto message = open_error(missing + "/fw.db");
    CHECK(contains(message, "the directory " + missing + " does not exist"));
    CHECK_FALSE(fs::exists(missing));
}

TEST_CASE("samples, qualities and channel descriptions read back exactly") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto writer = Writer::open(options_for(path));
    writer->enqueue_channels(
        {{"press1.vibration", "press-1", "stamping", "mm/s", "modbus:l1/p1"},
         {"press1.temperature", "press-1", "stamping", "degC", "modbus:l1/p1"}});
    writer->enqueue_samples({good("press1.vibration", 1000, 1.25),
                             {"press1.vibration", 2000, nan, Quality::timeout},
                             {"press1.vibration", 3000, nan, Quality::good},
                             {"press1.vibration", 4000, -0.1, Quality::illegal_data_address},
                             good("press1.vibration", 5000, 1e300),
                             good("press1.temperature", 1500, 85.5),
                             good("undeclared.channel", 42, 7.0)});
    writer->flush();
    CHECK(writer->stats().samples_committed == 7);

    auto reader = Reader::open(path);
    const auto samples = reader->samples("press1.vibration", 0, kAllTime, 100);
    REQUIRE(samples.size() == 5);
    CHECK(samples[0].time_ms == 1000);
    CHECK(samples[0].value == std::optional<double>(1.25));
    CHECK(samples[0].quality == Quality::good);
    CHECK(samples[1].time_ms == 2000);
    CHECK_FALSE(samples[1].value.has_value());
    CHECK(samples[1].quality == Quality::timeout);
    CHECK_FALSE(samples[2].value.has_value());  // NaN is stored as NULL
    CHECK(samples[2].quality == Quality::good);
    CHECK_FALSE(samples[3].value.has_value());  // a value with a bad quality is not kept
    CHECK(samples[3].quality == Quality::illegal_data_address);
    CHECK(samples[4].value == std::optional<double>(1e300));

    SUBCASE("time range is since <= time < until") {
        const auto range = reader->samples("press1.vibration", 2000, 4000, 100);
        REQUIRE(range.size() == 2);
        CHECK(range[0].time_ms == 2000);
        CHECK(range[1].time_ms == 3000);
    }
    SUBCASE("a limit keeps the newest, oldest first") {
        const auto newest = reader->samples("press1.vibration", 0, kAllTime, 2);
        REQUIRE(newest.size() == 2);
        CHECK(newest[0].time_ms == 4000);
        CHECK(newest[1].time_ms == 5000);
    }
    SUBCASE("channels") {
        CHECK(reader->has_channel("press1.temperature"));
        CHECK(reader->has_channel("undeclared.channel"));  // created on first use
        CHECK_FALSE(reader->has_channel("press2.vibration"));
        CHECK(reader->samples("press2.vibration", 0, kAllTime, 100).empty());
        const auto channels = reader->channels();
        REQUIRE(channels.size() == 3);
        CHECK(channels[0].info.name == "press1.temperature");
        CHECK(channels[0].info.unit == "degC");
        CHECK(channels[1].info.name == "press1.vibration");
        CHECK(channels[1].info.equipment == "press-1");
        CHECK(channels[1].info.area == "stamping");
        CHECK(channels[1].info.source == "modbus:l1/p1");
        CHECK(channels[1].sample_count == 5);
        CHECK(channels[1].last_time_ms == std::optional<std::int64_t>(5000));
        CHECK(channels[2].info.name == "undeclared.channel");
        CHECK(channels[2].info.unit.empty());
    }
    SUBCASE("a later description updates the channel and keeps its samples") {
        writer->enqueue_channels({{"press1.vibration", "press-1", "stamping", "in/s", "x"}});
        writer->flush();
        const auto channels = reader->channels();
        CHECK(channels[1].info.unit == "in/s");
        CHECK(channels[1].sample_count == 5);
    }
}

TEST_CASE("many enqueues are written in few group commits") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    options.commit_interval = Millis(200);
    auto writer = Writer::open(options);
    for (int i = 0; i < 1000; ++i) writer->enqueue_samples({good("ch", i, i)});
    writer->flush();
    const auto stats = writer->stats();
    CHECK(stats.samples_committed == 1000);
    CHECK(stats.commits >= 1);
    CHECK(stats.commits < 100);
}

TEST_CASE("a full queue drops the oldest batches, counts them and keeps the newest") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    options.commit_interval = Millis(3600 * 1000);  // nothing is written until flush()
    options.queue_capacity = 100;
    auto writer = Writer::open(options);
    for (int i = 0; i < 10; ++i) writer->enqueue_samples(batch_of("ch", std::int64_t{i} * 20, 20));
    CHECK(writer->stats().samples_dropped == 100);
    SUBCASE("a batch larger than the queue keeps its newest samples") {
        writer->enqueue_samples(batch_of("ch", 1000, 150));
        CHECK(writer->stats().samples_dropped == 250);
        writer->flush();
        const auto kept = Reader::open(options.path)->samples("ch", 0, kAllTime, 1000);
        REQUIRE(kept.size() == 100);
        CHECK(kept.front().time_ms == 1050);
        return;
    }
    writer->flush();
    CHECK(writer->stats().samples_committed == 100);
    const auto kept = Reader::open(options.path)->samples("ch", 0, kAllTime, 1000);
    REQUIRE(kept.size() == 100);
    CHECK(kept.front().time_ms == 100);
    CHECK(kept.back().time_ms == 199);
}

TEST_CASE("retention deletes samples older than the maximum age") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    auto writer = Writer::open(options);
    const auto now = fw::wall_now_ms();
    const std::int64_t hour = 3600LL * 1000;
    writer->enqueue_channels({{"kept.channel", "", "", "", ""}});
    writer->enqueue_samples(batch_of("a", now - 3 * hour, 6000));  // more than one delete chunk
    writer->enqueue_samples(batch_of("b", now - 2 * hour, 10));
    writer->enqueue_samples(batch_of("a", now - 10, 5));
    writer->enqueue_samples(batch_of("b", now - 10, 5));
    writer->flush();
    writer->set_retention(Millis(hour), 1ULL << 40, Millis(1));
    REQUIRE(eventually([&] { return writer->stats().samples_pruned > 0; }));
    CHECK(writer->stats().samples_pruned == 6010);

    auto reader = Reader::open(options.path);
    const auto a = reader->samples("a", 0, kAllTime, 100000);
    REQUIRE(a.size() == 5);
    CHECK(a.front().time_ms == now - 10);
    CHECK(reader->samples("b", 0, kAllTime, 100000).size() == 5);
    CHECK(reader->channels().size() == 3);  // channels are never pruned
}

TEST_CASE("retention deletes the oldest samples while the file is over its size cap") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    auto writer = Writer::open(options);
    const auto now = fw::wall_now_ms();
    constexpr int kSamples = 60000;
    for (int i = 0; i < kSamples; i += 100) writer->enqueue_samples(batch_of("ch", now + i, 100));
    writer->enqueue_health({"modbus", "line1", "press-1", true, "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    writer->flush();
    const std::uint64_t cap = 1024ULL * 1024;
    {
        RawDb db(options.path);
        REQUIRE(static_cast<std::uint64_t>(db.integer("PRAGMA page_count") *
                                           db.integer("PRAGMA page_size")) > 2 * cap);
    }
    writer->set_retention(Millis(3600LL * 1000 * 24 * 365), cap, Millis(1));
    REQUIRE(eventually([&] { return writer->stats().samples_pruned > 0; }));
    writer->set_retention(Millis(3600LL * 1000 * 24 * 365), cap, Millis(3600 * 1000));

    RawDb db(options.path);
    const auto used = db.integer(
        "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, "
        "pragma_freelist_count, pragma_page_size");
    CHECK(static_cast<std::uint64_t>(used) <= cap);
    const auto remaining = db.integer("SELECT count(*) FROM samples");
    CHECK(remaining > 0);
    CHECK(writer->stats().samples_pruned == static_cast<std::uint64_t>(kSamples - remaining));
    CHECK(db.integer("SELECT max(time_ms) FROM samples") == now + kSamples - 1);
    CHECK(db.integer("SELECT min(time_ms) FROM samples") == now + kSamples - remaining);
    CHECK(db.integer("SELECT count(*) FROM device_health") == 1);

    SUBCASE("later inserts reuse the freed pages") {
        const auto pages_before = db.integer("PRAGMA page_count");
        for (int i = 0; i < 1000; i += 100) {
            writer->enqueue_samples(batch_of("ch", now + kSamples + i, 100));
        }
        writer->flush();
        CHECK(db.integer("PRAGMA page_count") == pages_before);
    }
}

TEST_CASE("device health is upserted, one row per driver, bus and device") {
    TempDir dir;
    const auto path = dir.file("fw.db");
    auto writer = Writer::open(options_for(path));
    fw::DeviceHealth press{"modbus", "line1", "press-1", false, "timeout after 500 ms",
                           111,      0,       2000,      10,    10,
                           20,       20,      0,         3,     40};
    writer->enqueue_health(press);
    writer->flush();
    press.online = true;
    press.last_error.clear();
    press.last_success_ms = 222;
    press.polls = 11;
    press.samples = (1ULL << 40) + 1;
    writer->enqueue_health(press);
    writer->enqueue_health({"modbus", "line2", "oven", true, "", 5, 6, 1000, 1, 0, 2, 0, 1, 0, 4});
    writer->flush();

    const auto rows = Reader::open(path)->device_health();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].bus == "line1");
    CHECK(rows[0].online);
    CHECK(rows[0].last_error.empty());
    CHECK(rows[0].last_change_ms == 111);
    CHECK(rows[0].last_success_ms == 222);
    CHECK(rows[0].poll_interval_ms == 2000);
    CHECK(rows[0].polls == 11);
    CHECK(rows[0].polls_failed == 10);
    CHECK(rows[0].requests == 20);
    CHECK(rows[0].timeouts == 20);
    CHECK(rows[0].exceptions == 0);
    CHECK(rows[0].reconnects == 3);
    CHECK(rows[0].samples == (1ULL << 40) + 1);
    CHECK(rows[1].device == "oven");
    CHECK(rows[1].exceptions == 1);
    RawDb db(path);
    CHECK(db.integer("SELECT min(updated_ms) FROM device_health") > 0);
}

TEST_CASE("the reader refuses a missing file and a database that is not a store") {
    TempDir dir;
    const auto missing = dir.file("missing.db");
    const auto message = reader_error(missing);
    CHECK(contains(message, "no floorwatch store at " + missing));
    CHECK(contains(message, "floorwatchd creates it when it first starts"));
    CHECK_FALSE(fs::exists(missing));

    const auto other = dir.file("other.db");
    RawDb(other).exec("CREATE TABLE notes (x)");
    CHECK(contains(reader_error(other), "not a floorwatch store"));
    RawDb(other).exec("PRAGMA user_version = 1");
    CHECK(contains(reader_error(other), "tables are missing"));
}

TEST_CASE("a reader sees committed data while the writer keeps writing") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    options.commit_interval = Millis(5);
    auto writer = Writer::open(options);
    writer->enqueue_samples(batch_of("ch", 0, 10));
    writer->flush();

    std::atomic<bool> stop{false};
    std::thread producer([&] {
        for (int i = 1; !stop; ++i) {
            writer->enqueue_samples(batch_of("ch", std::int64_t{i} * 10, 10));
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    auto reader = Reader::open(options.path);
    std::uint64_t last_count = 0;
    bool grew = eventually([&] {
        const auto channels = reader->channels();
        const auto count = channels.empty() ? 0 : channels[0].sample_count;
        CHECK(count >= last_count);
        CHECK(count % 10 == 0);  // whole batches only: a commit is atomic
        const bool more = last_count >= 10 && count > last_count;
        last_count = count;
        return more;
    });
    stop = true;
    producer.join();
    CHECK(grew);
    writer->close();
    CHECK(reader->channels()[0].sample_count == writer->stats().samples_committed);
}

TEST_CASE("a failed transaction is counted and its samples are written on a later attempt") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    auto writer = Writer::open(options);
    RawDb blocker(options.path);
    blocker.exec("BEGIN IMMEDIATE");  // holds the write lock: the writer gets SQLITE_BUSY
    writer->enqueue_samples(batch_of("ch", 0, 50));
    REQUIRE(eventually([&] { return writer->stats().write_errors > 0; }));
    writer->enqueue_samples(batch_of("ch", 50, 50));
    CHECK(writer->stats().samples_committed == 0);
    blocker.exec("ROLLBACK");
    writer->flush();
    CHECK(writer->stats().samples_committed == 100);
    CHECK(writer->stats().samples_dropped == 0);
    const auto samples = Reader::open(options.path)->samples("ch", 0, kAllTime, 1000);
    REQUIRE(samples.size() == 100);
    CHECK(samples.front().time_ms == 0);
    CHECK(samples.back().time_ms == 99);
}

TEST_CASE("close is idempotent and later samples are counted as dropped") {
    TempDir dir;
    auto writer = Writer::open(options_for(dir.file("fw.db")));
    writer->enqueue_samples(batch_of("ch", 0, 3));
    writer->close();
    writer->close();
    CHECK(writer->stats().samples_committed == 3);
    writer->enqueue_samples(batch_of("ch", 3, 2));
    writer->flush();
    CHECK(writer->stats().samples_dropped == 2);
}

namespace {

// A job that inserts one plant event row, so the test can see what committed.
fw::store::WriteJob event_job(const std::string& name, std::atomic<int>& done_count,
                              std::string& error_seen, std::mutex& mutex) {
    fw::store::WriteJob job;
    job.write = [name](sqlite3* db) {
        fw::store::execute(db,
                           "INSERT INTO plant_events (name, time_ms) VALUES ('" + name + "', 1)",
                           "inserting a plant event");
        if (name == "refused") throw std::runtime_error("refused by the job itself");
    };
    job.done = [&done_count, &error_seen, &mutex](const fw::Status& written) {
        std::lock_guard lock(mutex);
        if (!written) error_seen = written.error();
        ++done_count;
    };
    return job;
}

}  // namespace

TEST_CASE("jobs: durable before done, a failing job alone is rolled back, ahead of samples") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    options.commit_interval = Millis(60000);  // samples alone would wait a minute
    auto writer = Writer::open(options);
    std::atomic<int> done{0};
    std::string error;
    std::mutex mutex;
    writer->enqueue_samples(batch_of("ch", 0, 10));
    writer->enqueue_job(event_job("first", done, error, mutex));
    writer->enqueue_job(event_job("refused", done, error, mutex));
    writer->enqueue_job(event_job("second", done, error, mutex));
    // A job wakes the writer at once, without waiting for the commit interval.
    REQUIRE(eventually([&] { return done.load() == 3; }));
    {
        std::lock_guard lock(mutex);
        CHECK(error == "refused by the job itself");
    }
    RawDb check(options.path);
    CHECK(check.integer("SELECT count(*) FROM plant_events WHERE name IN ('first', 'second')") ==
          2);
    CHECK(check.integer("SELECT count(*) FROM plant_events WHERE name = 'refused'") == 0);
    // Jobs went first, in a transaction of their own; the samples keep their group commit.
    CHECK(writer->stats().samples_committed == 0);
    writer->flush();
    CHECK(writer->stats().samples_committed == 10);
}

TEST_CASE("jobs: a failed transaction retries them, and after close they are refused") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    auto writer = Writer::open(options);
    std::atomic<int> done{0};
    std::string error;
    std::mutex mutex;
    RawDb blocker(options.path);
    blocker.exec("BEGIN IMMEDIATE");
    writer->enqueue_job(event_job("kept", done, error, mutex));
    REQUIRE(eventually([&] { return writer->stats().write_errors > 0; }));
    CHECK(done.load() == 0);  // not durable, so not reported
    blocker.exec("ROLLBACK");
    REQUIRE(eventually([&] { return done.load() == 1; }));
    CHECK(error.empty());
    CHECK(RawDb(options.path).integer("SELECT count(*) FROM plant_events") == 1);
    writer->close();
    writer->enqueue_job(event_job("late", done, error, mutex));
    CHECK(done.load() == 2);
    CHECK(error.find("closed") != std::string::npos);
}

TEST_CASE("a stream of jobs never starves the samples, and both are written in order") {
    TempDir dir;
    auto writer = Writer::open(options_for(dir.file("fw.db")));
    std::atomic<int> done{0};
    std::string error;
    std::mutex mutex;
    // An alarm flood: a job every few milliseconds while 12,000 samples arrive.
    for (int i = 0; i < 120; ++i) {
        writer->enqueue_samples(batch_of("ch", std::int64_t{i} * 100, 100));
        writer->enqueue_job(event_job("job-" + std::to_string(i), done, error, mutex));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    writer->flush();
    CHECK(done.load() == 120);
    CHECK(error.empty());
    CHECK(writer->stats().samples_committed == 12000);
    CHECK(writer->stats().samples_dropped == 0);
    const auto samples = Reader::open(dir.file("fw.db"))->samples("ch", 0, kAllTime, 20000);
    REQUIRE(samples.size() == 12000);
    CHECK(samples.back().time_ms == 11999);
    CHECK(RawDb(dir.file("fw.db")).integer("SELECT count(*) FROM plant_events") == 120);
}

TEST_CASE("jobs: a disk-full failure inside a job is retried with the transaction, never lost") {
    TempDir dir;
    auto options = options_for(dir.file("fw.db"));
    auto writer = Writer::open(options);
    std::atomic<int> attempts{0};
    std::atomic<int> done{0};
    std::string error = "not called";
    std::mutex mutex;
    fw::store::WriteJob job;
    job.write = [&attempts](sqlite3* db) {
        // The first attempt finds the disk full: the database may not grow by another page.
        const bool disk_full = attempts.fetch_add(1) == 0;
        const std::string limit =
            disk_full ? "PRAGMA max_page_count = 1" : "PRAGMA max_page_count = 1073741823";
        fw::store::execute(db, limit, "limiting the file's size");
        fw::store::execute(db,
                           "INSERT INTO plant_events (name, time_ms, attributes) VALUES "
                           "('kept', 1, '" +
                               std::string(100000, 'x') + "')",
                           "inserting a large plant event");
    };
    job.done = [&](const fw::Status& written) {
        std::lock_guard lock(mutex);
        error = written ? std::string() : written.error();
        ++done;
    };
    writer->enqueue_job(std::move(job));
    REQUIRE(eventually([&] { return done.load() == 1; }));
    CHECK(attempts.load() >= 2);
    CHECK(writer->stats().write_errors >= 1);
    {
        std::lock_guard lock(mutex);
        CHECK(error.empty());
    }
    CHECK(RawDb(options.path).integer("SELECT count(*) FROM plant_events WHERE name = 'kept'") ==
          1);
}
