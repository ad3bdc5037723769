// BusPoller against a real libmodbus TCP server on 127.0.0.1, run by the test in its own thread.

#include "drivers/modbus/bus_poller.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "drivers/modbus/codec.hpp"
#include "tests/support/stderr_capture.hpp"

namespace fw::modbus {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Asks the kernel for a free loopback port. Another process may take it before the server
// binds, so the server retries with a fresh one.
std::uint16_t free_loopback_port() {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(probe >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    ::close(probe);
    return ntohs(address.sin_port);
}

// A Modbus TCP server with 16 coils, 16 discrete inputs, 64 input and 64 holding registers from
// address 0; anything beyond gets libmodbus's illegal_data_address exception. Unit ids in
// `silent_units` are never answered, like a device that is switched off behind a gateway.
class TestServer {
  public:
    explicit TestServer(std::set<int> silent_units = {}, std::uint16_t port = 0)
        : silent_units_(std::move(silent_units)) {
        mapping_ = modbus_mapping_new_start_address(0, 16, 0, 16, 0, 64, 0, 64);
        REQUIRE(mapping_ != nullptr);
        for (int attempt = 0; attempt < 10 && listener_ < 0; ++attempt) {
            port_ = port != 0 ? port : free_loopback_port();
            context_ = modbus_new_tcp("127.0.0.1", port_);
            REQUIRE(context_ != nullptr);
            listener_ = modbus_tcp_listen(context_, 4);
            if (listener_ < 0) {
                modbus_free(context_);
                context_ = nullptr;
                if (port != 0) std::this_thread::sleep_for(100ms);  // the same port: let it free
            }
        }
        REQUIRE_MESSAGE(listener_ >= 0, "cannot listen on 127.0.0.1");
    }

    ~TestServer() {
        stop();
        modbus_mapping_free(mapping_);
    }

    std::uint16_t port() const { return port_; }

    void set_holding(std::uint16_t address, const EncodedRegisters& value) {
        std::copy(value.view().begin(), value.view().end(), mapping_->tab_registers + address);
    }
    void set_input(std::uint16_t address, const EncodedRegisters& value) {
        std::copy(value.view().begin(), value.view().end(),
                  mapping_->tab_input_registers + address);
    }
    void set_coil(std::uint16_t address, bool on) { mapping_->tab_bits[address] = on ? 1 : 0; }
    void set_discrete_input(std::uint16_t address, bool on) {
        mapping_->tab_input_bits[address] = on ? 1 : 0;
    }

    // Set values before start(): the server thread reads the mapping without a lock.
    void start() {
        thread_ = std::thread([this] { serve(); });
    }

    // Closes the listener and every connection, as a device that is powered off.
    void stop() {
        stopping_ = true;
        if (thread_.joinable()) thread_.join();
        // The listener first: a client that sees its connection reset must find nobody to
        // reconnect to.
        if (listener_ >= 0) ::close(listener_);
        listener_ = -1;
        for (const int client : clients_) ::close(client);
        clients_.clear();
        if (context_ != nullptr) modbus_free(context_);
        context_ = nullptr;
    }

  private:
    void serve() {
        std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
        while (!stopping_) {
            fd_set readable;
            FD_ZERO(&readable);
            FD_SET(listener_, &readable);
            int highest = listener_;
            for (const int client : clients_) {
                FD_SET(client, &readable);
                highest = std::max(highest, client);
            }
            timeval tick{0, 20000};
            if (::select(highest + 1, &readable, nullptr, nullptr, &tick) <= 0) continue;
            if (FD_ISSET(listener_, &readable)) {
                int listener = listener_;
                const int client = modbus_tcp_accept(context_, &listener);
                if (client >= 0) clients_.push_back(client);
            }
            for (auto it = clients_.begin(); it != clients_.end();) {
                if (!FD_ISSET(*it, &readable)) {
                    ++it;
                    continue;
                }
                modbus_set_socket(context_, *it);
                const int length = modbus_receive(context_, query.data());
                if (length < 0) {
                    ::close(*it);
                    it = clients_.erase(it);
                    continue;
                }
                // MBAP header: the unit id is its 7th byte.
                const int unit = query[6];
                if (length > 0 && !silent_units_.contains(unit)) {
                    modbus_reply(context_, query.data(), length, mapping_);
                }
                ++it;
            }
        }
    }

    std::set<int> silent_units_;
    modbus_mapping_t* mapping_ = nullptr;
    modbus_t* context_ = nullptr;
    std::uint16_t port_ = 0;
    int listener_ = -1;
    std::vector<int> clients_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// Collects what the poller reports, for the test thread to wait on.
class Recorder {
  public:
    SampleSink sample_sink() {
        return [this](SampleBatch&& batch) {
            std::lock_guard lock(mutex_);
            batches_.push_back({Clock::now(), std::move(batch)});
            changed_.notify_all();
        };
    }
    HealthSink health_sink() {
        return [this](const DeviceHealth& health) {
            std::lock_guard lock(mutex_);
            health_[health.device] = health;
            changed_.notify_all();
        };
    }

    struct Arrival {
        Clock::time_point at;
        SampleBatch batch;
    };

    // Waits until `done` holds over what arrived; false after `limit` (the test then fails).
    template <typename Predicate>
    bool wait_for(Predicate done, Clock::duration limit = 8s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return done(batches_, health_); });
    }

    std::vector<Arrival> batches() {
        std::lock_guard lock(mutex_);
        return batches_;
    }
    std::optional<DeviceHealth> health_of(const std::string& device) {
        std::lock_guard lock(mutex_);
        const auto found = health_.find(device);
        if (found == health_.end()) return std::nullopt;
        return found->second;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Arrival> batches_;
    std::map<std::string, DeviceHealth> health_;
};

using Batches = std::vector<Recorder::Arrival>;
using HealthMap = std::map<std::string, DeviceHealth>;

const Sample* find_sample(const SampleBatch& batch, const std::string& channel) {
    for (const Sample& sample : batch) {
        if (sample.channel == channel) return &sample;
    }
    return nullptr;
}

bool all_good(const SampleBatch& batch) {
    return !batch.empty() && std::all_of(batch.begin(), batch.end(), [](const Sample& sample) {
        return sample.quality == Quality::good;
    });
}

bool batch_is_device(const SampleBatch& batch, const std::string& channel_prefix) {
    return !batch.empty() && batch.front().channel.starts_with(channel_prefix);
}

PointConfig point(std::string channel, Table table, std::uint16_t address, ValueType type,
                  ByteOrder order = ByteOrder::abcd, double scale = 1.0, double offset = 0.0) {
    PointConfig config;
    config.channel = std::move(channel);
    config.equipment = "press-1";
    config.table = table;
    config.address = address;
    config.type = type;
    config.order = order;
    config.scale = scale;
    config.offset = offset;
    return config;
}

DeviceConfig device(std::string name, int unit_id, Millis interval, Millis timeout,
                    std::vector<PointConfig> points) {
    DeviceConfig config;
    config.name = std::move(name);
    config.unit_id = unit_id;
    config.poll_interval = interval;
    config.timeout = timeout;
    config.points = std::move(points);
    return config;
}

BusConfig tcp_bus(std::uint16_t port, std::vector<DeviceConfig> devices) {
    BusConfig bus;
    bus.name = "line1";
    bus.transport = TcpTransport{"127.0.0.1", port};
    bus.max_gap = 4;
    bus.reconnect_min = 100ms;
    bus.reconnect_max = 400ms;
    bus.failing_poll_max = 1000ms;
    bus.devices = std::move(devices);
    return bus;
}

TEST_CASE("bus poller: decoded values arrive exactly, every type, order, table and scale") {
    TestServer server;
    server.set_holding(0, encode_registers(123.456, ValueType::float32, ByteOrder::cdab));
    server.set_holding(2, encode_registers(-12345, ValueType::int16, ByteOrder::abcd));
    server.set_holding(4, encode_registers(287454020, ValueType::uint32, ByteOrder::dcba));
    server.set_holding(10, encode_registers(123.456, ValueType::float64, ByteOrder::abcd));
    server.set_holding(20,
                       encode_registers(-1234567890123456.0, ValueType::int64, ByteOrder::badc));
    server.set_input(3, encode_registers(250, ValueType::uint16, ByteOrder::abcd));
    server.set_coil(5, true);
    server.set_discrete_input(2, false);
    server.set_discrete_input(3, true);
    server.start();

    const std::vector<PointConfig> points{
        point("press1.vibration", Table::holding_register, 0, ValueType::float32, ByteOrder::cdab,
              0.5, 1.0),
        point("press1.position", Table::holding_register, 2, ValueType::int16),
        point("press1.strokes", Table::holding_register, 4, ValueType::uint32, ByteOrder::dcba),
        point("press1.energy", Table::holding_register, 10, ValueType::float64),
        point("press1.counter", Table::holding_register, 20, ValueType::int64, ByteOrder::badc),
        point("press1.temperature", Table::input_register, 3, ValueType::uint16, ByteOrder::abcd,
              0.1, -20.0),
        point("press1.running", Table::coil, 5, ValueType::boolean),
        point("press1.door_open", Table::discrete_input, 2, ValueType::boolean),
        point("press1.guard_closed", Table::discrete_input, 3, ValueType::boolean),
        // Shares register 0 with the float: overlapping points are both read.
        point("press1.flag", Table::holding_register, 0, ValueType::boolean),
    };
    Recorder recorder;
    const std::int64_t before_ms = wall_now_ms();
    BusPoller poller(tcp_bus(server.port(), {device("press-1-sensors", 1, 100ms, 500ms, points)}),
                     recorder.sample_sink(), recorder.health_sink());
    poller.start();
    REQUIRE(recorder.wait_for([](const Batches& batches, const HealthMap&) {
        return !batches.empty() && all_good(batches.back().batch);
    }));
    poller.stop();

    const SampleBatch batch = recorder.batches().back().batch;
    REQUIRE(batch.size() == points.size());
    // One sample per point, in the order of the config.
    for (std::size_t i = 0; i < points.size(); ++i) CHECK(batch[i].channel == points[i].channel);
    const auto value_of = [&](const std::string& channel) {
        const Sample* sample = find_sample(batch, channel);
        REQUIRE(sample != nullptr);
        CHECK(sample->quality == Quality::good);
        CHECK(sample->time_ms >= before_ms);
        CHECK(sample->time_ms <= wall_now_ms());
        return sample->value;
    };
    CHECK(value_of("press1.vibration") == static_cast<double>(123.456f) * 0.5 + 1.0);
    CHECK(value_of("press1.position") == -12345.0);
    CHECK(value_of("press1.strokes") == 287454020.0);
    CHECK(value_of("press1.energy") == 123.456);
    CHECK(value_of("press1.counter") == -1234567890123456.0);
    CHECK(value_of("press1.temperature") == 250.0 * 0.1 - 20.0);
    CHECK(value_of("press1.running") == 1.0);
    CHECK(value_of("press1.door_open") == 0.0);
    CHECK(value_of("press1.guard_closed") == 1.0);
    CHECK(value_of("press1.flag") == 1.0);

    const auto health = recorder.health_of("press-1-sensors");
    REQUIRE(health.has_value());
    CHECK(health->driver == "modbus");
    CHECK(health->bus == "line1");
    CHECK(health->online);
    CHECK(health->last_error.empty());
    CHECK(health->poll_interval_ms == 100);
}

TEST_CASE("bus poller: a silent unit times out while another unit keeps its poll rate") {
    TestServer server({7});
    server.set_holding(0, encode_registers(42, ValueType::uint16, ByteOrder::abcd));
    server.start();

    constexpr auto kGoodInterval = 100ms;
    BusConfig bus =
        tcp_bus(server.port(),
                {device("good", 1, kGoodInterval, 500ms,
                        {point("good.level", Table::holding_register, 0, ValueType::uint16)}),
                 // Two requests (far apart): after the first times out the second is not even sent.
                 device("silent", 7, 200ms, 150ms,
                        {point("silent.a", Table::holding_register, 0, ValueType::uint16),
                         point("silent.b", Table::holding_register, 50, ValueType::uint16)})});
    Recorder recorder;
    BusPoller poller(std::move(bus), recorder.sample_sink(), recorder.health_sink());
    poller.start();
    REQUIRE(recorder.wait_for([](const Batches& batches, const HealthMap&) {
        return std::any_of(batches.begin(), batches.end(), [](const auto& arrival) {
            return batch_is_device(arrival.batch, "silent.");
        });
    }));
    const auto window_start = Clock::now();
    std::this_thread::sleep_for(2s);
    const auto window_end = Clock::now();
    poller.stop();

    std::size_t good_cycles = 0;
    std::size_t silent_cycles = 0;
    for (const auto& arrival : recorder.batches()) {
        if (batch_is_device(arrival.batch, "good.")) {
            CHECK(all_good(arrival.batch));
            CHECK(arrival.batch.front().value == 42.0);
            if (arrival.at >= window_start && arrival.at <= window_end) ++good_cycles;
        } else {
            REQUIRE(batch_is_device(arrival.batch, "silent."));
            REQUIRE(arrival.batch.size() == 2);
            for (const Sample& sample : arrival.batch) {
                CHECK(sample.quality == Quality::timeout);
                CHECK(std::isnan(sample.value));
            }
            ++silent_cycles;
        }
    }
    const double expected_cycles = std::chrono::duration<double>(window_end - window_start) /
                                   std::chrono::duration<double>(kGoodInterval);
    INFO("good device cycles in the window: " << good_cycles << " of " << expected_cycles);
    if (std::getenv("FW_TEST_VERBOSE")) MESSAGE(good_cycles << " of " << expected_cycles);
    CHECK(static_cast<double>(good_cycles) >= 0.6 * expected_cycles);

    const auto silent = recorder.health_of("silent");
    REQUIRE(silent.has_value());
    CHECK_FALSE(silent->online);
    CHECK(silent->last_error == "timeout after 150 ms");
    CHECK(silent->timeouts >= 1);
    // One request per cycle: the second request of a timed-out cycle is skipped.
    CHECK(silent->requests == silent->timeouts);
    // A failing device is polled less often: the interval doubled from its configured 200 ms.
    CHECK(silent->poll_interval_ms > 200);
    CHECK(silent->poll_interval_ms <= 1000);
    CHECK(silent_cycles >= 1);
    const auto good = recorder.health_of("good");
    REQUIRE(good.has_value());
    CHECK(good->online);
    CHECK(good->poll_interval_ms == 100);
}

TEST_CASE("bus poller: exception replies become their quality, the device's other reads go on") {
    TestServer server;
    server.set_holding(0, encode_registers(7, ValueType::uint16, ByteOrder::abcd));
    server.start();

    Recorder recorder;
    BusPoller poller(
        tcp_bus(server.port(),
                {device("press-2", 1, 100ms, 500ms,
                        {point("press2.beyond", Table::holding_register, 1000, ValueType::uint16),
                         point("press2.level", Table::holding_register, 0, ValueType::uint16),
                         point("press2.also_beyond", Table::input_register, 500,
                               ValueType::float32)})}),
        recorder.sample_sink(), recorder.health_sink());
    poller.start();
    REQUIRE(recorder.wait_for(
        [](const Batches& batches, const HealthMap&) { return !batches.empty(); }));
    poller.stop();

    const SampleBatch batch = recorder.batches().front().batch;
    REQUIRE(batch.size() == 3);
    const Sample* level = find_sample(batch, "press2.level");
    REQUIRE(level != nullptr);
    CHECK(level->quality == Quality::good);
    CHECK(level->value == 7.0);
    for (const std::string channel : {"press2.beyond", "press2.also_beyond"}) {
        const Sample* beyond = find_sample(batch, channel);
        REQUIRE(beyond != nullptr);
        CHECK(beyond->quality == Quality::illegal_data_address);
        CHECK(std::isnan(beyond->value));
    }
    const auto health = recorder.health_of("press-2");
    REQUIRE(health.has_value());
    // An exception is a reply: the device is there, it is the config that asks too much.
    CHECK(health->online);
    CHECK(health->exceptions >= 2);
    CHECK(health->poll_interval_ms == 100);
    CHECK(health->last_error.find("exception 0x02") != std::string::npos);
}

TEST_CASE("bus poller: server gone gives disconnected samples, then it reconnects and recovers") {
    auto server = std::make_unique<TestServer>();
    const std::uint16_t port = server->port();
    server->set_holding(0, encode_registers(11, ValueType::uint16, ByteOrder::abcd));
    server->start();

    Recorder recorder;
    BusPoller poller(
        tcp_bus(port,
                {device("press-3", 1, 100ms, 300ms,
                        {point("press3.level", Table::holding_register, 0, ValueType::uint16)})}),
        recorder.sample_sink(), recorder.health_sink());
    poller.start();
    REQUIRE(recorder.wait_for([](const Batches& batches, const HealthMap&) {
        return !batches.empty() && all_good(batches.back().batch);
    }));

    server->stop();
    // Several cycles while down, so reconnect attempts are refused in between.
    REQUIRE(recorder.wait_for([](const Batches& batches, const HealthMap&) {
        return std::count_if(batches.begin(), batches.end(), [](const auto& arrival) {
                   return arrival.batch.front().quality == Quality::disconnected;
               }) >= 4;
    }));
    const auto offline = recorder.health_of("press-3");
    REQUIRE(offline.has_value());
    CHECK_FALSE(offline->online);
    CHECK(offline->last_error.starts_with("disconnected: "));
    // While the bus is down the device keeps its configured interval: samples at normal times.
    CHECK(offline->poll_interval_ms == 100);
    const std::size_t batches_before_restart = recorder.batches().size();

    server = std::make_unique<TestServer>(std::set<int>{}, port);
    server->set_holding(0, encode_registers(12, ValueType::uint16, ByteOrder::abcd));
    server->start();
    REQUIRE(recorder.wait_for([](const Batches& batches, const HealthMap& health) {
        const auto found = health.find("press-3");
        return !batches.empty() && all_good(batches.back().batch) &&
               batches.back().batch.front().value == 12.0 && found != health.end() &&
               found->second.online && found->second.reconnects >= 1;
    }));
    poller.stop();

    const auto arrivals = recorder.batches();
    std::size_t disconnected_cycles = 0;
    for (const auto& arrival : arrivals) {
        if (arrival.batch.front().quality == Quality::disconnected) ++disconnected_cycles;
    }
    CHECK(disconnected_cycles >= 4);
    CHECK(arrivals.size() > batches_before_restart);
    const auto health = recorder.health_of("press-3");
    REQUIRE(health.has_value());
    CHECK(health->reconnects == 1);
    CHECK(health->online);
    CHECK(health->last_error.empty());
}

TEST_CASE("bus poller: stop() interrupts a long reconnect backoff") {
    const std::uint16_t closed_port = free_loopback_port();
    BusConfig bus =
        tcp_bus(closed_port,
                {device("nobody", 1, 100ms, 200ms,
                        {point("nobody.level", Table::holding_register, 0, ValueType::uint16)})});
    bus.reconnect_min = 60s;
    bus.reconnect_max = 60s;
    Recorder recorder;
    BusPoller poller(std::move(bus), recorder.sample_sink(), recorder.health_sink());
    poller.start();
    // The first attempt is refused; the next is a minute away.
    REQUIRE(recorder.wait_for(
        [](const Batches& batches, const HealthMap&) { return batches.size() >= 3; }));
    const auto stop_began = Clock::now();
    poller.stop();
    // Not a speed bound: a stop that slept through the backoff would take the whole minute.
    CHECK(Clock::now() - stop_began < 60s);
    for (const auto& arrival : recorder.batches()) {
        CHECK(arrival.batch.front().quality == Quality::disconnected);
    }
    const auto health = recorder.health_of("nobody");
    REQUIRE(health.has_value());
    CHECK_FALSE(health->online);
    CHECK(health->last_error == "disconnected: Connection refused");
    CHECK(health->reconnects == 0);
}

TEST_CASE(
    "bus poller: a throw on the bus thread marks its devices offline, is logged, and polling "
    "resumes") {
    TestServer server;
    server.set_holding(0, encode_registers(7, ValueType::uint16, ByteOrder::abcd));
    server.start();

    Recorder recorder;
    const SampleSink record_samples = recorder.sample_sink();
    const HealthSink record_health = recorder.health_sink();
    std::atomic<int> batches_seen{0};
    std::mutex history_mutex;
    std::vector<DeviceHealth> history;
    test::StderrCapture log;
    BusPoller poller(
        tcp_bus(server.port(),
                {device("press-5", 1, 100ms, 300ms,
                        {point("press5.level", Table::holding_register, 0, ValueType::uint16)})}),
        [&](SampleBatch&& batch) {
            if (++batches_seen == 2) throw std::runtime_error("sink refused the batch");
            record_samples(std::move(batch));
        },
        [&](const DeviceHealth& health) {
            {
                std::lock_guard lock(history_mutex);
                history.push_back(health);
            }
            record_health(health);
        });
    poller.start();
    REQUIRE(recorder.wait_for([&](const Batches& batches, const HealthMap& health) {
        const auto found = health.find("press-5");
        return batches_seen > 3 && all_good(batches.back().batch) && found != health.end() &&
               found->second.online;
    }));
    poller.stop();

    std::lock_guard lock(history_mutex);
    CHECK(std::any_of(history.begin(), history.end(), [](const DeviceHealth& health) {
        return !health.online && health.last_error == "bus thread failed: sink refused the batch";
    }));
    CHECK(history.back().online);
    CHECK(history.back().last_error.empty());
    CHECK(log.text().find(
              "[modbus:line1] bus thread failed: sink refused the batch; restarting it in 100ms") !=
          std::string::npos);
    CHECK(log.text().find("[modbus:line1/press-5] online again after") != std::string::npos);
}

// A pair of connected pseudo-terminals made by socat, standing in for an RS-485 line.
class PtyPair {
  public:
    PtyPair() {
        folder_ = std::filesystem::temp_directory_path() /
                  ("fw-modbus-pty-" + std::to_string(::getpid()));
        std::filesystem::create_directories(folder_);
        const std::string poller_end = "pty,raw,echo=0,link=" + poller_end_path();
        const std::string device_end = "pty,raw,echo=0,link=" + device_end_path();
        child_ = ::fork();
        REQUIRE(child_ >= 0);
        if (child_ == 0) {
            ::execlp("socat", "socat", poller_end.c_str(), device_end.c_str(), nullptr);
            ::_exit(127);
        }
        const auto deadline = Clock::now() + 5s;
        while (Clock::now() < deadline && !(std::filesystem::exists(poller_end_path()) &&
                                            std::filesystem::exists(device_end_path()))) {
            std::this_thread::sleep_for(20ms);
        }
        if (!std::filesystem::exists(device_end_path())) {
            stop_socat();
            FAIL("socat made no pty pair (is socat installed?)");
        }
    }
    ~PtyPair() { stop_socat(); }
    std::string poller_end_path() const { return (folder_ / "poller").string(); }
    std::string device_end_path() const { return (folder_ / "device").string(); }

  private:
    void stop_socat() {
        if (child_ > 0) {
            ::kill(child_, SIGTERM);
            ::waitpid(child_, nullptr, 0);
            child_ = -1;
        }
        std::filesystem::remove_all(folder_);
    }

    std::filesystem::path folder_;
    pid_t child_ = -1;
};

TEST_CASE("bus poller: RTU over a serial line, RS-485 mode refused by the port") {
    PtyPair line;
    modbus_mapping_t* mapping = modbus_mapping_new(0, 0, 16, 0);
    REQUIRE(mapping != nullptr);
    const auto value = encode_registers(-40.5 / 0.5, ValueType::int32, ByteOrder::cdab);
    std::copy(value.view().begin(), value.view().end(), mapping->tab_registers + 4);
    modbus_t* server = modbus_new_rtu(line.device_end_path().c_str(), 19200, 'E', 8, 1);
    REQUIRE(server != nullptr);
    modbus_set_slave(server, 3);
    REQUIRE(modbus_connect(server) == 0);
    modbus_set_indication_timeout(server, 0, 50000);
    std::atomic<bool> device_stopping{false};
    std::thread device_thread([&] {
        std::vector<std::uint8_t> query(MODBUS_RTU_MAX_ADU_LENGTH);
        while (!device_stopping) {
            const int length = modbus_receive(server, query.data());
            if (length > 0) modbus_reply(server, query.data(), length, mapping);
        }
    });

    BusConfig bus;
    bus.name = "assembly-rs485";
    bus.transport = RtuTransport{line.poller_end_path(), 19200, Parity::even, 8, 1, true};
    bus.devices = {device("conveyor-3-temp", 3, 100ms, 500ms,
                          {point("conveyor3.motor_temp", Table::holding_register, 4,
                                 ValueType::int32, ByteOrder::cdab, 0.5)})};
    Recorder recorder;
    BusPoller poller(std::move(bus), recorder.sample_sink(), recorder.health_sink());
    poller.start();
    const bool arrived = recorder.wait_for([](const Batches& batches, const HealthMap&) {
        return !batches.empty() && all_good(batches.back().batch);
    });
    poller.stop();
    device_stopping = true;
    device_thread.join();
    modbus_close(server);
    modbus_free(server);
    modbus_mapping_free(mapping);

    REQUIRE(arrived);
    CHECK(recorder.batches().back().batch.front().value == -40.5);
    const auto health = recorder.health_of("conveyor-3-temp");
    REQUIRE(health.has_value());
    CHECK(health->online);
}

}  // namespace
}  // namespace fw::modbus
