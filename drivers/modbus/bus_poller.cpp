#include "drivers/modbus/bus_poller.hpp"

#include <modbus/modbus.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/core/result.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/core/worker_thread.hpp"
#include "drivers/modbus/codec.hpp"
#include "drivers/modbus/modbus_errors.hpp"
#include "drivers/modbus/planner.hpp"

namespace fw::modbus {
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

constexpr auto kHealthReportInterval = std::chrono::seconds(5);
constexpr auto kRequestLogInterval = std::chrono::seconds(60);

struct DeviceState {
    DeviceConfig config;
    std::string instance;  // "modbus:line1/press-1-sensors"
    std::vector<ReadRequest> plan;
    TimePoint due{};
    Millis interval{};
    DeviceHealth health;
    std::optional<bool> online_logged;  // empty until the first cycle
    TimePoint offline_since{};
};

// What one device cycle amounted to, for health and scheduling.
struct CycleOutcome {
    bool any_reply = false;
    bool any_failure = false;
    bool disconnected = false;
    std::string first_error;

    void fail(std::string error) {
        if (!any_failure) first_error = std::move(error);
        any_failure = true;
    }
};

// As libmodbus and serial line notation ("8E1") write it.
char parity_letter(Parity parity) {
    constexpr std::array<char, 3> kParityLetters{'N', 'E', 'O'};
    return kParityLetters[static_cast<std::size_t>(parity)];
}

std::string transport_description(const BusConfig& bus) {
    if (const auto* tcp = std::get_if<TcpTransport>(&bus.transport)) {
        return fmt::format("{}:{}", tcp->host, tcp->port);
    }
    const auto& rtu = std::get<RtuTransport>(bus.transport);
    return fmt::format("{} ({} baud {}{}{})", rtu.device, rtu.baud, rtu.data_bits,
                       parity_letter(rtu.parity), rtu.stop_bits);
}

std::string format_seconds(Clock::duration duration) {
    return fmt::format("{:.1f} s", std::chrono::duration<double>(duration).count());
}

// Whether `host` resolves, and why not when it does not.
Status check_resolves(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int result = getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (result == 0) {
        freeaddrinfo(found);
        return {};
    }
    return Error{fmt::format("cannot resolve host name '{}': {}", host, gai_strerror(result))};
}

void set_timeout(modbus_t* context, Millis timeout) {
    const auto count = std::max<std::int64_t>(timeout.count(), 1);
    modbus_set_response_timeout(context, static_cast<std::uint32_t>(count / 1000),
                                static_cast<std::uint32_t>((count % 1000) * 1000));
}

}  // namespace

struct BusPoller::Impl {
    Impl(BusConfig bus_config, SampleSink sample_sink, HealthSink health_sink)
        : bus(std::move(bus_config)),
          samples(std::move(sample_sink)),
          health(std::move(health_sink)),
          instance("modbus:" + bus.name),
          endpoint(transport_description(bus)),
          serial(std::holds_alternative<RtuTransport>(bus.transport)),
          backoff(bus.reconnect_min),
          worker(instance) {
        for (const DeviceConfig& device : bus.devices) {
            DeviceState state;
            state.config = device;
            state.instance = instance + "/" + device.name;
            state.plan = plan_requests(device.points, bus.max_gap);
            state.interval = device.poll_interval;
            state.health.driver = "modbus";
            state.health.bus = bus.name;
            state.health.device = device.name;
            state.health.poll_interval_ms = device.poll_interval.count();
            connect_timeout = std::max(connect_timeout, device.timeout);
            if (state.plan.empty()) {
                log_warning(state.instance, "has no points; not polled");
                continue;
            }
            devices.push_back(std::move(state));
        }
    }

    ~Impl() {
        worker.stop();
        close_context();
    }

    // Returns when stopped (at once when there is nothing to poll).
    void run() {
        const TimePoint start = Clock::now();
        for (DeviceState& device : devices) device.due = start;
        next_health_report = start + kHealthReportInterval;
        next_connect = start;
        while (!devices.empty()) {
            DeviceState& device = *std::min_element(
                devices.begin(), devices.end(),
                [](const DeviceState& a, const DeviceState& b) { return a.due < b.due; });
            TimePoint wake = std::min(device.due, next_health_report);
            if (!connected) wake = std::min(wake, next_connect);
            if (!worker.sleep_until(wake)) return;
            const TimePoint now = Clock::now();
            if (!connected && now >= next_connect) connect();
            if (now >= next_health_report) report_all_health(now);
            if (Clock::now() >= device.due) poll(device);
        }
    }

    // After run() threw (a sink failed, out of memory): the request in flight may have left the
    // connection mid-frame, so it is closed, and every device is offline with the reason until
    // the restarted loop polls it again.
    void recover(const std::string& error, Millis pause) {
        log_error(instance, "bus thread failed: {}; restarting it in {}", error,
                  format_duration(pause));
        close_context();
        const TimePoint now = Clock::now();
        const std::int64_t now_ms = wall_now_ms();
        for (DeviceState& device : devices) {
            const bool already_offline = device.online_logged.has_value() && !*device.online_logged;
            if (!already_offline) {
                device.online_logged = false;
                device.offline_since = now;
                device.health.last_change_ms = now_ms;
            }
            device.health.online = false;
            device.health.last_error = "bus thread failed: " + error;
            health(device.health);
        }
    }

    // ---- connection ----

    bool make_context() {
        if (context != nullptr) return true;
        if (const auto* tcp = std::get_if<TcpTransport>(&bus.transport)) {
            const std::string service = std::to_string(tcp->port);
            context = modbus_new_tcp_pi(tcp->host.c_str(), service.c_str());
        } else {
            const auto& rtu = std::get<RtuTransport>(bus.transport);
            context = modbus_new_rtu(rtu.device.c_str(), rtu.baud, parity_letter(rtu.parity),
                                     rtu.data_bits, rtu.stop_bits);
        }
        if (context == nullptr) {
            connect_error = describe_error(errno);
            return false;
        }
        return true;
    }

    void connect() {
        if (!make_context()) {
            connect_failed();
            return;
        }
        set_timeout(context, connect_timeout);
        if (modbus_connect(context) != 0) {
            connect_error = describe_error(errno);
            modbus_close(context);
            // libmodbus reports an unknown host name as "Connection refused"; say what it is.
            if (const auto* tcp = std::get_if<TcpTransport>(&bus.transport)) {
                if (const auto resolved = check_resolves(tcp->host); !resolved) {
                    connect_error = resolved.error();
                }
            }
            connect_failed();
            return;
        }
        connected = true;
        backoff = bus.reconnect_min;
        failed_connects = 0;
        log_info(instance, "connected to {}", endpoint);
        if (ever_connected) {
            for (DeviceState& device : devices) ++device.health.reconnects;
        }
        ever_connected = true;
        if (const auto* rtu = std::get_if<RtuTransport>(&bus.transport); rtu && rtu->rs485) {
            if (modbus_rtu_set_serial_mode(context, MODBUS_RTU_RS485) != 0 && !rs485_warned) {
                rs485_warned = true;
                log_warning(instance,
                            "{} refuses RS-485 mode ({}); going on with the port as it is "
                            "(fine for adapters that switch direction themselves)",
                            rtu->device, describe_error(errno));
            }
        }
    }

    void connect_failed() {
        ++failed_connects;
        if (failed_connects == 1) {
            log_warning(instance, "cannot connect to {}: {} (retrying in {})", endpoint,
                        connect_error, format_duration(backoff));
        } else {
            log_debug(instance, "still cannot connect to {}: {} (attempt {}, retrying in {})",
                      endpoint, connect_error, failed_connects, format_duration(backoff));
        }
        next_connect = Clock::now() + backoff;
        backoff = std::min(backoff * 2, bus.reconnect_max);
    }

    void connection_lost(const std::string& error) {
        log_warning(instance, "connection lost: {}", error);
        modbus_close(context);
        connected = false;
        connect_error = "connection lost: " + error;
        // A device or gateway that drops idle connections is back at once: retry now, then back
        // off from reconnect_min.
        backoff = bus.reconnect_min;
        next_connect = Clock::now();
    }

    void close_context() {
        if (context == nullptr) return;
        if (connected) modbus_close(context);
        modbus_free(context);
        context = nullptr;
        connected = false;
    }

    // ---- polling ----

    void poll(DeviceState& device) {
        const auto& points = device.config.points;
        std::vector<std::optional<Sample>> by_point(points.size());
        CycleOutcome outcome;
        const auto mark = [&](const ReadRequest& request, Quality quality, std::int64_t time_ms) {
            for (const PlannedPoint& planned : request.points) {
                by_point[planned.point_index] =
                    Sample{points[planned.point_index].channel, time_ms,
                           std::numeric_limits<double>::quiet_NaN(), quality};
            }
        };
        if (!connected) {
            outcome.disconnected = true;
            outcome.fail("disconnected: " + connect_error);
            const std::int64_t now_ms = wall_now_ms();
            for (const ReadRequest& request : device.plan)
                mark(request, Quality::disconnected, now_ms);
        } else {
            modbus_set_slave(context, device.config.unit_id);
            set_timeout(context, device.config.timeout);
            std::optional<Quality> skip_rest;
            for (const ReadRequest& request : device.plan) {
                if (skip_rest) {
                    mark(request, *skip_rest, wall_now_ms());
                    continue;
                }
                ++device.health.requests;
                const int read = read_request(request);
                const int error_number = errno;
                const std::int64_t reply_ms = wall_now_ms();
                if (read == request.count) {
                    outcome.any_reply = true;
                    decode_reply(device, request, reply_ms, by_point, outcome);
                    continue;
                }
                const RequestFailure failure =
                    read < 0 ? classify_request_error(error_number, serial)
                             : RequestFailure{FailureKind::bad_reply, Quality::io_error};
                const std::string error =
                    read < 0 ? describe_error(error_number)
                             : fmt::format("short reply ({} of {})", read, request.count);
                mark(request, failure.quality, reply_ms);
                switch (failure.kind) {
                    case FailureKind::timeout:
                        ++device.health.timeouts;
                        modbus_flush(context);
                        outcome.fail(
                            fmt::format("timeout after {} ms", device.config.timeout.count()));
                        // A dead device must not hold the bus for one timeout per request.
                        skip_rest = Quality::timeout;
                        break;
                    case FailureKind::exception:
                        ++device.health.exceptions;
                        outcome.any_reply = true;
                        report_request_failure(device, outcome,
                                               fmt::format("exception 0x{:02X} ({}) reading {}",
                                                           static_cast<int>(failure.quality), error,
                                                           request_range(request)));
                        break;
                    case FailureKind::bad_reply:
                        modbus_flush(context);
                        report_request_failure(
                            device, outcome,
                            fmt::format("bad reply reading {}: {}", request_range(request), error));
                        break;
                    case FailureKind::connection_lost:
                        outcome.disconnected = true;
                        outcome.fail("disconnected: " + error);
                        connection_lost(error);
                        skip_rest = Quality::disconnected;
                        break;
                }
            }
        }

        SampleBatch batch;
        batch.reserve(by_point.size());
        for (auto& sample : by_point) {
            if (sample) batch.push_back(std::move(*sample));
        }
        device.health.samples += batch.size();
        samples(std::move(batch));
        finish_cycle(device, outcome);
    }

    int read_request(const ReadRequest& request) {
        switch (request.table) {
            case Table::coil:
                return modbus_read_bits(context, request.address, request.count, bits.data());
            case Table::discrete_input:
                return modbus_read_input_bits(context, request.address, request.count, bits.data());
            case Table::input_register:
                return modbus_read_input_registers(context, request.address, request.count,
                                                   registers.data());
            case Table::holding_register:
                return modbus_read_registers(context, request.address, request.count,
                                             registers.data());
        }
        return -1;
    }

    void decode_reply(DeviceState& device, const ReadRequest& request, std::int64_t reply_ms,
                      std::vector<std::optional<Sample>>& by_point, CycleOutcome& outcome) {
        for (const PlannedPoint& planned : request.points) {
            const PointConfig& point = device.config.points[planned.point_index];
            std::optional<double> raw;
            if (is_bit_table(request.table)) {
                raw = bits[planned.offset] != 0 ? 1.0 : 0.0;
            } else {
                const std::span<const std::uint16_t> words(registers.data() + planned.offset,
                                                           width_of(point.type, request.table));
                raw = decode_registers(words, point.type, point.order);
            }
            if (raw) {
                by_point[planned.point_index] =
                    Sample{point.channel, reply_ms, to_engineering(*raw, point.scale, point.offset),
                           Quality::good};
            } else {
                by_point[planned.point_index] =
                    Sample{point.channel, reply_ms, std::numeric_limits<double>::quiet_NaN(),
                           Quality::decode_error};
                report_request_failure(device, outcome,
                                       fmt::format("{} at {} {} is not a number", point.channel,
                                                   table_name(point.table), point.address));
            }
        }
    }

    static std::string request_range(const ReadRequest& request) {
        return fmt::format("{} {}..{}", table_name(request.table), request.address,
                           request.address + request.count - 1);
    }

    // Per-request failures of a device that stays online (exceptions, bad frames, NaN) would
    // repeat every cycle; one line per minute per kind says it without flooding the journal.
    void report_request_failure(const DeviceState& device, CycleOutcome& outcome,
                                const std::string& error) {
        outcome.fail(error);
        const auto admitted = request_log_limiter.admit(device.instance + error, Clock::now());
        if (!admitted) return;
        if (*admitted > 0) {
            log_warning(device.instance, "{} ({} more since last logged)", error, *admitted);
        } else {
            log_warning(device.instance, "{}", error);
        }
    }

    void finish_cycle(DeviceState& device, const CycleOutcome& outcome) {
        const TimePoint now = Clock::now();
        const std::int64_t now_ms = wall_now_ms();
        DeviceHealth& state = device.health;
        bool changed = false;

        ++state.polls;
        if (outcome.any_failure) ++state.polls_failed;
        if (!outcome.any_failure) state.last_success_ms = now_ms;
        if (state.last_error != outcome.first_error) {
            state.last_error = outcome.first_error;
            changed = true;
        }

        const bool online = outcome.any_reply;
        if (!device.online_logged || *device.online_logged != online) {
            if (online) {
                if (device.online_logged) {
                    log_info(device.instance, "online again after {} offline",
                             format_seconds(now - device.offline_since));
                } else {
                    log_info(device.instance, "online");
                }
            } else {
                log_warning(device.instance, "offline: {}", outcome.first_error);
                device.offline_since = now;
            }
            device.online_logged = online;
            state.online = online;
            state.last_change_ms = now_ms;
            changed = true;
        }

        const Millis configured = device.config.poll_interval;
        Millis next_interval = configured;
        if (!online && !outcome.disconnected) {
            // Doubling stops at failing_poll_max, but never polls faster than configured.
            next_interval =
                std::max(configured, std::min(device.interval * 2, bus.failing_poll_max));
        }
        if (next_interval != device.interval) {
            device.interval = next_interval;
            state.poll_interval_ms = next_interval.count();
            changed = true;
        }

        device.due += device.interval;
        // After an overrun (a slow bus) poll once now rather than firing every missed cycle.
        if (device.due < now) device.due = now;

        if (changed) health(state);
    }

    void report_all_health(TimePoint now) {
        for (const DeviceState& device : devices) health(device.health);
        next_health_report = now + kHealthReportInterval;
    }

    const BusConfig bus;
    const SampleSink samples;
    const HealthSink health;
    const std::string instance;  // "modbus:line1"
    const std::string endpoint;  // "127.0.0.1:1502", "/dev/ttyUSB0 (19200 baud 8E1)"
    const bool serial;

    std::vector<DeviceState> devices;
    modbus_t* context = nullptr;
    bool connected = false;
    bool ever_connected = false;
    bool rs485_warned = false;
    std::string connect_error;
    Millis connect_timeout{0};
    Millis backoff;
    std::uint64_t failed_connects = 0;
    TimePoint next_connect{};
    TimePoint next_health_report{};
    LogRateLimiter request_log_limiter{kRequestLogInterval};
    std::array<std::uint16_t, kMaxRegistersPerRead> registers{};
    std::array<std::uint8_t, kMaxBitsPerRead> bits{};
    WorkerThread worker;
};

BusPoller::BusPoller(BusConfig bus, SampleSink samples, HealthSink health)
    : impl_(std::make_unique<Impl>(std::move(bus), std::move(samples), std::move(health))) {}

BusPoller::~BusPoller() {
    stop();
}

void BusPoller::start() {
    Impl* impl = impl_.get();
    impl->worker.start([impl] { impl->run(); }, {impl->bus.reconnect_min, impl->bus.reconnect_max,
                                                 [impl](const std::string& error, Millis pause) {
                                                     impl->recover(error, pause);
                                                 }});
}

void BusPoller::stop() {
    impl_->worker.stop();
}

}  // namespace fw::modbus
