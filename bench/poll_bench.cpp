// poll_bench — Modbus polling against floorwatch-sim on loopback. Prints figures, asserts nothing.
//
//   poll_bench [devices] [points per device] [seconds]      defaults: 20 60 8
//
// 1. baseline: one libmodbus client reading one register in a loop — the loopback round trips/s
//    one request at a time can reach on this machine;
// 2. the planner: requests per poll cycle against the naive one-request-per-point count;
// 3. sustained: every device polled every 100 ms for `seconds`: points/s delivered against the
//    configured rate, and this process's CPU% (the bus thread, decoding, sample batches) per
//    1,000 points/s;
// 4. saturated: the same devices polled back to back: requests/s against the baseline's round
//    trips/s (the ratio says what the poller's own overhead costs).

#include <fmt/format.h>
#include <modbus/modbus.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "daemon/core/log.hpp"
#include "drivers/modbus/bus_poller.hpp"
#include "drivers/modbus/planner.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Point j of every device: float32 and int16 alternating, one unused register between values.
std::vector<fw::modbus::PointConfig> make_points(int device, int points) {
    std::vector<fw::modbus::PointConfig> result;
    std::uint16_t address = 0;
    for (int j = 0; j < points; ++j) {
        fw::modbus::PointConfig point;
        point.channel = fmt::format("d{}.p{}", device, j);
        point.equipment = "eq";
        point.table = fw::modbus::Table::input_register;
        point.address = address;
        point.type = j % 2 == 0 ? fw::modbus::ValueType::float32 : fw::modbus::ValueType::int16;
        result.push_back(point);
        address =
            static_cast<std::uint16_t>(address + fw::modbus::width_of(point.type, point.table) + 1);
    }
    return result;
}

std::string sim_config(int devices, int points) {
    std::string yaml = "tcp: {host: 127.0.0.1, port: 0}\ndevices:\n";
    for (int d = 1; d <= devices; ++d) {
        yaml += "  - name: dev" + std::to_string(d) + "\n    unit_id: " + std::to_string(d) +
                "\n    values:\n";
        for (const auto& point : make_points(d, points)) {
            yaml += "      - {table: input_register, address: " + std::to_string(point.address) +
                    ", type: " + std::string(fw::modbus::type_name(point.type)) +
                    ", profile: {kind: sine, mean: 10, amplitude: 2, period: 10s}}\n";
        }
    }
    return yaml;
}

struct PollRun {
    double seconds;
    std::uint64_t samples;
    std::uint64_t requests;
    double cpu_seconds;
};

PollRun poll_for(std::uint16_t port, int devices, int points, std::chrono::milliseconds interval,
                 std::chrono::seconds duration) {
    fw::modbus::BusConfig bus;
    bus.name = "bench";
    bus.transport = fw::modbus::TcpTransport{"127.0.0.1", port};
    for (int d = 1; d <= devices; ++d) {
        fw::modbus::DeviceConfig device;
        device.name = "dev" + std::to_string(d);
        device.unit_id = d;
        device.poll_interval = interval;
        device.timeout = 1000ms;
        device.points = make_points(d, points);
        bus.devices.push_back(device);
    }
    std::atomic<std::uint64_t> samples{0};
    fw::modbus::BusPoller poller(
        bus, [&](fw::SampleBatch&& batch) { samples += batch.size(); },
        [](const fw::DeviceHealth&) {});
    // Warm up: connect and let every device answer once before measuring.
    poller.start();
    std::this_thread::sleep_for(500ms);
    const std::uint64_t samples_before = samples.load();
    const double cpu_before = cpu_seconds();
    const auto start = Clock::now();
    std::this_thread::sleep_for(duration);
    const double elapsed = seconds_since(start);
    const std::uint64_t samples_after = samples.load();
    const double cpu_after = cpu_seconds();
    poller.stop();
    // Every device cycle sends the planned requests and yields one sample per point (health
    // counters would do too, but they are reported only every 5 s).
    const std::uint64_t cycles =
        (samples_after - samples_before) / static_cast<std::uint64_t>(points);
    const std::uint64_t requests =
        cycles * fw::modbus::plan_requests(bus.devices.front().points, bus.max_gap).size();
    return {elapsed, samples_after - samples_before, requests, cpu_after - cpu_before};
}

double baseline_round_trips(std::uint16_t port, std::chrono::seconds duration) {
    modbus_t* context = modbus_new_tcp("127.0.0.1", port);
    modbus_set_slave(context, 1);
    if (modbus_connect(context) != 0) {
        std::fprintf(stderr, "baseline: connect failed: %s\n", modbus_strerror(errno));
        modbus_free(context);
        return 0;
    }
    std::uint16_t value = 0;
    std::uint64_t trips = 0;
    const auto start = Clock::now();
    while (Clock::now() - start < duration) {
        if (modbus_read_input_registers(context, 0, 1, &value) == 1) ++trips;
    }
    const double rate = static_cast<double>(trips) / seconds_since(start);
    modbus_close(context);
    modbus_free(context);
    return rate;
}

// The whole benchmark; main() turns an exception (the simulator or the store failing) into exit
// status 1.
int run(int argc, char** argv) {
    const int devices = argc > 1 ? std::atoi(argv[1]) : 20;
    const int points = argc > 2 ? std::atoi(argv[2]) : 60;
    const auto seconds = std::chrono::seconds(argc > 3 ? std::atoi(argv[3]) : 8);
    if (devices < 1 || devices > 247 || points < 1 || points > 2000) {
        std::fprintf(stderr, "usage: poll_bench [devices 1..247] [points 1..2000] [seconds]\n");
        return 2;
    }

    fw::set_log_level(fw::LogLevel::warning);
    fw::test::TempDir dir("fw-poll-bench");
    fw::test::write_text_file(dir / "sim.yaml", sim_config(devices, points));
    auto sim = fw::test::ChildProcess::spawn(
        FW_SIM_BINARY, {"--config", (dir / "sim.yaml").string(), "--ready-file",
                        (dir / "ready").string(), "--log-level", "warning"});
    if (!fw::test::wait_for_file(dir / "ready", 10s, &sim)) {
        std::fprintf(stderr, "floorwatch-sim did not start\n");
        return 1;
    }
    const auto port =
        static_cast<std::uint16_t>(std::stoi(fw::test::read_text_file(dir / "ready")));

    std::printf(
        "poll_bench: %d devices x %d points on one Modbus TCP bus (floorwatch-sim, "
        "127.0.0.1)\n\n",
        devices, points);

    const double round_trips = baseline_round_trips(port, 2s);
    std::printf("baseline   raw libmodbus loop, 1 register per request: %.0f round trips/s\n",
                round_trips);

    const auto planned = fw::modbus::plan_requests(make_points(1, points), 16).size();
    std::printf(
        "planner    requests per device cycle: %zu (naive one per point: %d, %.1fx fewer)\n",
        planned, points, static_cast<double>(points) / static_cast<double>(planned));

    const auto interval = 100ms;
    const PollRun sustained = poll_for(port, devices, points, interval, seconds);
    const double configured = devices * points * (1000.0 / static_cast<double>(interval.count()));
    const double points_per_second = static_cast<double>(sustained.samples) / sustained.seconds;
    const double cpu_percent = 100.0 * sustained.cpu_seconds / sustained.seconds;
    std::printf(
        "sustained  poll every %lld ms: %.0f points/s delivered of %.0f configured "
        "(%.1f%%), %.0f requests/s\n",
        static_cast<long long>(interval.count()), points_per_second, configured,
        100.0 * points_per_second / configured,
        static_cast<double>(sustained.requests) / sustained.seconds);
    std::printf(
        "           CPU of the polling process: %.2f%% of one core = %.3f%% per 1,000 "
        "points/s\n",
        cpu_percent, cpu_percent / (points_per_second / 1000.0));

    const PollRun saturated = poll_for(port, devices, points, 1ms, seconds / 2);
    const double requests_per_second = static_cast<double>(saturated.requests) / saturated.seconds;
    std::printf(
        "saturated  back-to-back polling: %.0f requests/s = %.2f of the baseline's round "
        "trips/s, %.0f points/s\n",
        requests_per_second, requests_per_second / round_trips,
        static_cast<double>(saturated.samples) / saturated.seconds);
    sim.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "poll_bench: %s\n", error.what());
        return 1;
    }
}
