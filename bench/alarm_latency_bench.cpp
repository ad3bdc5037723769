// Alarm latency: time from a sample entering the daemon's core (the pipeline's drain hands it to
// the alarm service) to its alarm event being durable in SQLite (the WriteJob's commit, reported
// back on the core), with 1,000 channels and 1,000 threshold rules while every sample is stored
// too. Baseline in the same run: a raw prepared INSERT + COMMIT of one row on the same kind of
// file (WAL, synchronous=FULL), the least any durable write can cost here. Prints figures;
// asserts nothing about speed. See bench/README.md.
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "daemon/alarms/alarm_service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/store/store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kChannels = 1000;
constexpr std::size_t kPointsPerDevice = 100;
constexpr auto kBatchInterval = 20ms;  // 1,000 channels every 20 ms: 50,000 samples/s

std::string bench_config(const fs::path& db) {
    std::string yaml = fmt::format(
        "gateway: {{site: bench, node: gw-1, log_level: error}}\n"
        "store: {{path: {}, commit_interval: 250ms}}\n"
        "control: {{socket: {}}}\n"
        "equipment:\n",
        db.string(), (db.parent_path() / "control.sock").string());
    for (std::size_t e = 0; e < kChannels / 10; ++e) {
        yaml += fmt::format("  - {{id: eq-{}, area: area-{}}}\n", e, e / 10);
    }
    // The bus is declared so that the channels exist; nothing polls it in this benchmark.
    yaml +=
        "modbus:\n  buses:\n    - name: bench\n      tcp: {host: 127.0.0.1, port: 1502}\n"
        "      devices:\n";
    for (std::size_t d = 0; d < kChannels / kPointsPerDevice; ++d) {
        yaml += fmt::format("        - name: dev-{}\n          unit_id: {}\n          points:\n", d,
                            d + 1);
        for (std::size_t p = 0; p < kPointsPerDevice; ++p) {
            const std::size_t c = d * kPointsPerDevice + p;
            yaml += fmt::format(
                "            - {{channel: ch{}, equipment: eq-{}, table: input_register, "
                "address: {}, type: float32}}\n",
                c, c / 10, p * 2);
        }
    }
    yaml += "rules:\n";
    for (std::size_t c = 0; c < kChannels; ++c) {
        yaml += fmt::format(
            "  - {{id: r{}, channel: ch{}, limits: [{{above: 2.8, severity: warning}}, "
            "{{above: 4.5, severity: alarm}}], deadband: 0.2}}\n",
            c, c);
    }
    return yaml;
}

struct Percentiles {
    std::size_t count = 0;
    double p50 = 0;
    double p99 = 0;
    double max = 0;
};

Percentiles percentiles(std::vector<double> values) {
    if (values.empty()) return {};
    std::sort(values.begin(), values.end());
    const auto at = [&](double q) {
        const auto rank =
            static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
        return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
    };
    return {values.size(), at(0.50), at(0.99), values.back()};
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One row per durable transaction, the way a minimal alarm logger would do it.
Percentiles raw_commit_baseline(const fs::path& path, std::size_t rounds) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id "
                 "INTEGER PRIMARY KEY, time_ms INTEGER, rule TEXT, value REAL)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO t (time_ms, rule, value) VALUES (?1, ?2, ?3)", -1, &insert,
                       nullptr);
    std::vector<double> latencies;
    for (std::size_t i = 0; i < rounds; ++i) {
        const auto start = Clock::now();
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(i));
        sqlite3_bind_text(insert, 2, "r1", -1, SQLITE_STATIC);
        sqlite3_bind_double(insert, 3, 3.5);
        sqlite3_step(insert);
        sqlite3_reset(insert);
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        latencies.push_back(ms_since(start));
        std::this_thread::sleep_for(kBatchInterval);
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return percentiles(std::move(latencies));
}

struct PhaseResult {
    Percentiles latency;
    std::size_t events = 0;
    double samples_per_second = 0;
};

// One run of the service on a fresh store; `store_samples`: every batch also goes to the store,
// as the pipeline does, so alarm jobs share the writer with 38-50k samples/s.
PhaseResult run_phase(const fs::path& dir, std::size_t crossings, bool store_samples) {
    fs::create_directories(dir);
    const fs::path config_path = dir / "bench.yaml";
    std::ofstream(config_path) << bench_config(dir / "bench.db");
    const fw::Config config = fw::load_config(config_path.string());
    fw::set_log_level(config.gateway.log_level);  // one log line per alarm would be the figure

    fw::store::WriterOptions options;
    options.path = config.store.path;
    options.commit_interval = config.store.commit_interval;
    auto writer = fw::store::Writer::open(options);
    boost::asio::io_context core;
    fw::alarms::AlarmService service(core, *writer, config, nullptr);
    // Crossing k moves channel (k / 2 % 1000) above 2.8 (even k) or back below the deadband (odd
    // k); the sample's entry time is kept, by rule and direction, until its event is durable.
    std::map<std::string, Clock::time_point> entered;
    std::vector<double> latencies;
    std::size_t events = 0;
    service.add_listener([&](const std::vector<fw::alarms::StoredAlarmEvent>& stored) {
        for (const auto& item : stored) {
            ++events;
            const bool activation = item.event.action == fw::rules::AlarmAction::activate;
            const bool clearing = item.event.action == fw::rules::AlarmAction::clear;
            if (!activation && !clearing) continue;
            const auto it = entered.find(item.event.rule_id + (activation ? "+" : "-"));
            if (it == entered.end()) continue;
            latencies.push_back(ms_since(it->second));
            entered.erase(it);
        }
    });
    service.start();

    std::vector<double> level(kChannels, 1.0);
    std::size_t sent = 0;
    std::size_t samples = 0;
    boost::asio::steady_timer timer(core);
    const auto bench_start = Clock::now();
    std::function<void()> send_batch = [&] {
        if (sent >= crossings * 2) {
            if (entered.empty() || ms_since(bench_start) > 600000) return;  // no new timer
        } else {
            const std::size_t channel = (sent / 2) % kChannels;
            level[channel] = sent % 2 == 0 ? 3.5 : 1.0;
            entered[fmt::format("r{}{}", channel, sent % 2 == 0 ? "+" : "-")] = Clock::now();
            ++sent;
        }
        fw::SampleBatch batch;
        batch.reserve(kChannels);
        const std::int64_t now_ms = fw::wall_now_ms();
        for (std::size_t c = 0; c < kChannels; ++c) {
            batch.push_back(
                fw::Sample{fmt::format("ch{}", c), now_ms, level[c], fw::Quality::good});
        }
        samples += batch.size();
        service.on_samples(batch);  // what Pipeline::drain_ingest does, then the store
        if (store_samples) writer->enqueue_samples(std::move(batch));
        timer.expires_after(kBatchInterval);
        timer.async_wait([&](const auto& error) {
            if (!error) send_batch();
        });
    };
    send_batch();
    // Runs until the last crossing's event is durable; the service's own timers keep the loop
    // busy, so stop at the moment the timer chain ends.
    while (!(sent >= crossings * 2 && (entered.empty() || ms_since(bench_start) > 600000))) {
        core.run_one_for(100ms);
    }
    const double seconds = ms_since(bench_start) / 1000.0;
    service.stop();
    while (service.writes_in_flight()) {
        if (core.stopped()) core.restart();  // out of work until the writer's answer is posted
        core.run_one_for(100ms);
    }
    writer->close();

    return {percentiles(std::move(latencies)), events, static_cast<double>(samples) / seconds};
}

// The whole benchmark; main() turns an exception (the simulator or the store failing) into exit
// status 1.
int run(int argc, char** argv) {
    const std::size_t crossings = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 500;
    const fs::path dir = fs::temp_directory_path() / fmt::format("fw-alarm-bench-{}", getpid());
    const auto loaded = run_phase(dir / "loaded", crossings, true);
    const auto quiet = run_phase(dir / "quiet", crossings, false);
    const auto baseline =
        raw_commit_baseline(dir / "baseline.db", std::min<std::size_t>(crossings, 500));
    fmt::print("alarm_latency_bench: {} channels, {} threshold rules, {} crossings each way\n",
               kChannels, kChannels, crossings);
    const auto print = [](std::string_view what, const PhaseResult& phase) {
        fmt::print("  {}: {} events, p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", what,
                   phase.latency.count, phase.latency.p50, phase.latency.p99, phase.latency.max);
    };
    print(fmt::format("sample -> alarm event durable, {:.0f} samples/s stored alongside",
                      loaded.samples_per_second),
          loaded);
    print("sample -> alarm event durable, samples not stored", quiet);
    fmt::print(
        "  baseline, raw INSERT + COMMIT of one row (WAL, synchronous=FULL): p50 {:.2f} ms, "
        "p99 {:.2f} ms, max {:.2f} ms\n",
        baseline.p50, baseline.p99, baseline.max);
    fmt::print("  ratio p99 alarm / p99 raw commit: {:.2f} loaded, {:.2f} quiet\n",
               baseline.p99 > 0 ? loaded.latency.p99 / baseline.p99 : 0.0,
               baseline.p99 > 0 ? quiet.latency.p99 / baseline.p99 : 0.0);
    fs::remove_all(dir);
    return loaded.latency.count == crossings * 2 && quiet.latency.count == crossings * 2 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "alarm_latency_bench: %s\n", error.what());
        return 1;
    }
}
