// How close the store writer comes to SQLite's own insert speed, and what the channel count costs.
//
//   store_bench [samples] [directory]     (defaults: 1000000 samples, a new folder under /tmp)
//
// (1) baseline: one prepared INSERT in a loop, all samples in ONE transaction, WAL,
//     synchronous=FULL, the same schema (the embedded migrations);
// (2) Writer: the same samples enqueued in batches of 100 as drivers do, then flush(): timed until
//     everything is durable; with 10 channels and with 1000 channels.
// Prints samples/s and the ratio writer/baseline. Run it on the file system the store will use.

#include <stdlib.h>
#include <sys/statfs.h>
#include <time.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatchSize = 100;
constexpr std::int64_t kStartMs = 1'700'000'000'000;

std::string channel_name(std::size_t index) {
    return fmt::format("line1.ch{:04}", index);
}

// Round-robin over the channels, one sample per channel per 100 ms tick, as a poller produces.
std::vector<fw::SampleBatch> make_batches(std::size_t samples, std::size_t channels) {
    std::vector<std::string> names;
    names.reserve(channels);
    for (std::size_t i = 0; i < channels; ++i) names.push_back(channel_name(i));
    std::vector<fw::SampleBatch> batches;
    batches.reserve(samples / kBatchSize + 1);
    for (std::size_t i = 0; i < samples; ++i) {
        if (i % kBatchSize == 0) {
            batches.emplace_back();
            batches.back().reserve(kBatchSize);
        }
        const auto tick = static_cast<std::int64_t>(i / channels);
        batches.back().push_back({names[i % channels], kStartMs + tick * 100,
                                  20.0 + static_cast<double>(i % 1000) * 0.01, fw::Quality::good});
    }
    return batches;
}

// Process CPU time (all threads): less sensitive than wall time to other load on the machine,
// blind to fsync waits.
double cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Measurement {
    double samples_per_second = 0;
    double cpu_us_per_sample = 0;
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double file_bytes(const std::string& path) {
    std::error_code ignored;
    return static_cast<double>(std::filesystem::file_size(path, ignored));
}

// Raw SQLite: what the store cannot beat.
Measurement run_baseline(const std::string& path, std::size_t samples, std::size_t channels) {
    namespace store = fw::store;
    store::Connection connection =
        store::open_store_file(path, store::OpenMode::read_write_create, false);
    sqlite3* db = connection.get();
    store::execute(db, "PRAGMA journal_mode = WAL", "WAL");
    store::execute(db, "PRAGMA synchronous = FULL", "synchronous");
    store::execute(db, "PRAGMA foreign_keys = ON", "foreign keys");
    // The writer's cache size, so the comparison measures the writer and not a setting.
    store::execute(db, fmt::format("PRAGMA cache_size = -{}", store::kWriterCacheSizeKiB),
                   "cache size");
    store::migrate(db, path, store::embedded_migrations());
    for (std::size_t i = 0; i < channels; ++i) {
        store::execute(db,
                       fmt::format("INSERT INTO channels (id, name) VALUES ({}, '{}')", i + 1,
                                   channel_name(i)),
                       "channel");
    }
    store::Statement insert(db,
                            "INSERT INTO samples (channel_id, time_ms, value, quality) "
                            "VALUES (?1, ?2, ?3, ?4)");

    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    store::Transaction transaction(db, store::Transaction::Kind::immediate, "the baseline");
    for (std::size_t i = 0; i < samples; ++i) {
        const auto tick = static_cast<std::int64_t>(i / channels);
        insert.bind(1, static_cast<std::int64_t>(i % channels + 1));
        insert.bind(2, kStartMs + tick * 100);
        insert.bind(3, 20.0 + static_cast<double>(i % 1000) * 0.01);
        insert.bind(4, std::int64_t{0});
        const int rc = insert.step();
        if (rc != SQLITE_DONE) throw store::SqliteError::of(db, rc, "insert");
        insert.rewind();
    }
    transaction.commit();
    const double elapsed = seconds_since(start);
    const double cpu = cpu_seconds() - cpu_start;
    const auto count = static_cast<double>(samples);
    return {count / elapsed, cpu * 1e6 / count};
}

struct WriterRun {
    Measurement measurement;
    fw::store::WriterStats stats;
};

WriterRun run_writer(const std::string& path, std::size_t samples, std::size_t channels) {
    auto batches = make_batches(samples, channels);
    fw::store::WriterOptions options;
    options.path = path;
    options.queue_capacity = samples;  // measure the disk path, not the overflow policy
    auto writer = fw::store::Writer::open(options);

    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    for (auto& batch : batches) writer->enqueue_samples(std::move(batch));
    writer->flush();
    const double elapsed = seconds_since(start);
    const double cpu = cpu_seconds() - cpu_start;
    const auto count = static_cast<double>(samples);
    WriterRun run{{count / elapsed, cpu * 1e6 / count}, writer->stats()};
    writer->close();
    return run;
}

std::string file_system_of(const std::string& directory) {
    struct statfs info {};
    if (statfs(directory.c_str(), &info) != 0) return "unknown";
    constexpr long kTmpfsMagic = 0x01021994;
    return static_cast<long>(info.f_type) == kTmpfsMagic
               ? "tmpfs (fsync is free here: figures are optimistic)"
               : "disk-backed";
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t samples = 1'000'000;
    if (argc > 1) {
        const std::string_view text = argv[1];
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), samples);
        if (error != std::errc() || end != text.data() + text.size() || samples == 0) {
            std::fprintf(stderr, "usage: store_bench [samples] [directory]\n");
            return 2;
        }
    }
    std::string directory;
    bool remove_directory = false;
    if (argc > 2) {
        directory = argv[2];
    } else {
        std::string pattern = "/tmp/fw-store-bench-XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) {
            std::perror("mkdtemp");
            return 1;
        }
        directory = pattern;
        remove_directory = true;
    }
    fw::set_log_level(fw::LogLevel::warning);

    try {
        fmt::print("store_bench: {} samples, batches of {}, in {} ({})\n", samples, kBatchSize,
                   directory, file_system_of(directory));
        for (const std::size_t channels : {std::size_t{10}, std::size_t{1000}}) {
            const auto baseline_path = fmt::format("{}/baseline-{}.db", directory, channels);
            const auto baseline = run_baseline(baseline_path, samples, channels);
            fmt::print(
                "{:>4} channels  baseline (raw prepared insert, 1 transaction): {:>9.0f} "
                "samples/s, {:.2f} CPU us/sample, {:.1f} bytes/sample\n",
                channels, baseline.samples_per_second, baseline.cpu_us_per_sample,
                file_bytes(baseline_path) / static_cast<double>(samples));
            const auto path = fmt::format("{}/writer-{}.db", directory, channels);
            const auto run = run_writer(path, samples, channels);
            fmt::print(
                "{:>4} channels  writer (enqueue batches of {} + flush):      {:>9.0f} "
                "samples/s, {:.2f} CPU us/sample, {:.1f} bytes/sample, {} commits, {} "
                "dropped\n",
                channels, kBatchSize, run.measurement.samples_per_second,
                run.measurement.cpu_us_per_sample, file_bytes(path) / static_cast<double>(samples),
                run.stats.commits, run.stats.samples_dropped);
            fmt::print(
                "{:>4} channels  ratio writer / baseline: {:.2f} (target >= 0.70); CPU "
                "ratio {:.2f}\n",
                channels, run.measurement.samples_per_second / baseline.samples_per_second,
                baseline.cpu_us_per_sample / run.measurement.cpu_us_per_sample);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "store_bench: %s\n", error.what());
        if (remove_directory) std::filesystem::remove_all(directory);
        return 1;
    }
    if (remove_directory) std::filesystem::remove_all(directory);
    return 0;
}
