// Integration tests: the real floorwatch-sim binary, read by a libmodbus client over loopback TCP
// and over a socat pty pair (RTU).

#include <doctest/doctest.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "drivers/modbus/codec.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using fw::test::ChildProcess;
using fw::test::TempDir;
namespace modbus = fw::modbus;

namespace {

constexpr const char* kSimBinary = FW_SIM_BINARY;

struct ContextDeleter {
    void operator()(modbus_t* context) const {
        modbus_close(context);
        modbus_free(context);
    }
};
using Client = std::unique_ptr<modbus_t, ContextDeleter>;

// A running simulator on a free port with a control socket, stopped (SIGTERM) at the end.
class RunningSim {
  public:
    explicit RunningSim(const std::string& config_yaml) {
        fw::test::write_text_file(dir_ / "sim.yaml", config_yaml);
        process_ = ChildProcess::spawn(
            kSimBinary,
            {"--config", (dir_ / "sim.yaml").string(), "--ready-file", (dir_ / "ready").string(),
             "--control", control_path()},
            {.stdout_path = {}, .stderr_path = dir_ / "sim.log", .environment = {}});
        REQUIRE_MESSAGE(fw::test::wait_for_file(dir_ / "ready", 20s, &process_), log());
        ready_ = fw::test::read_text_file(dir_ / "ready");
    }

    ~RunningSim() {
        const int code = process_.stop();
        CHECK_MESSAGE(code == 0, log());
    }

    int port() const { return std::stoi(ready_); }
    const std::string& ready() const { return ready_; }
    std::string control_path() const { return (dir_ / "control.sock").string(); }
    std::string log() const { return fw::test::read_text_file(dir_ / "sim.log"); }
    const TempDir& dir() const { return dir_; }

    // Runs `floorwatch-sim ctl` like a person would and returns its exit code.
    int ctl(const std::vector<std::string>& command) {
        std::vector<std::string> args{"ctl", "--control", control_path()};
        args.insert(args.end(), command.begin(), command.end());
        auto client = ChildProcess::spawn(
            kSimBinary, args,
            {.stdout_path = dir_ / "ctl.out", .stderr_path = {}, .environment = {}});
        return client.wait_exit(20s).value_or(-1);
    }
    std::string ctl_output() const { return fw::test::read_text_file(dir_ / "ctl.out"); }

    Client connect(int unit_id, std::chrono::milliseconds timeout = 2s) const {
        Client client(modbus_new_tcp("127.0.0.1", port()));
        REQUIRE(client);
        modbus_set_slave(client.get(), unit_id);
        set_timeout(client.get(), timeout);
        REQUIRE(modbus_connect(client.get()) == 0);
        return client;
    }

    static void set_timeout(modbus_t* client, std::chrono::milliseconds timeout) {
        modbus_set_response_timeout(client, static_cast<std::uint32_t>(timeout.count() / 1000),
                                    static_cast<std::uint32_t>(timeout.count() % 1000 * 1000));
    }

  private:
    TempDir dir_{"fw-sim-test"};
    ChildProcess process_;
    std::string ready_;
};

struct Expected {
    modbus::ValueType type;
    modbus::ByteOrder order;
    double value;
};

std::string number_text(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    return buffer;
}

std::vector<Expected> every_type_and_order() {
    using modbus::ByteOrder;
    using modbus::ValueType;
    const std::vector<std::pair<ValueType, double>> samples{
        {ValueType::int16, -1234},
        {ValueType::uint16, 54321},
        {ValueType::int32, -123456789},
        {ValueType::uint32, 3000000000.0},
        {ValueType::float32, 2.5},
        {ValueType::int64, -1234567890123.0},
        {ValueType::uint64, 123456789012345.0},
        {ValueType::float64, 3.141592653589793},
    };
    std::vector<Expected> out;
    for (const auto& [type, value] : samples) {
        for (const auto order :
             {ByteOrder::abcd, ByteOrder::cdab, ByteOrder::badc, ByteOrder::dcba}) {
            out.push_back({type, order, value});
        }
    }
    return out;
}

// Holding registers from address 100 on, each value at the next free address.
std::string values_yaml(const std::vector<Expected>& values) {
    std::string yaml;
    int address = 100;
    for (const auto& item : values) {
        yaml += "      - {table: holding_register, address: " + std::to_string(address) +
                ", type: " + std::string(modbus::type_name(item.type)) +
                ", order: " + std::string(modbus::order_name(item.order)) +
                ", profile: {kind: constant, value: " + number_text(item.value) + "}}\n";
        address += modbus::width_of(item.type, modbus::Table::holding_register);
    }
    return yaml;
}

const std::string kTwoDevices = R"(
devices:
  - name: press-1
    unit_id: 1
    values:
      - {table: input_register, address: 0, type: float32, order: CDAB, profile: {kind: constant, value: 2.5}}
      - {table: input_register, address: 2, type: int16, scale: 0.1, profile: {kind: constant, value: 71.3}}
      - {table: coil, address: 5, profile: {kind: constant, value: 1}}
      - {table: discrete_input, address: 7, profile: {kind: constant, value: 1}}
      - {table: holding_register, address: 0, type: uint16, profile: {kind: constant, value: 11}}
  - name: pump-1
    unit_id: 2
    values:
      - {table: holding_register, address: 0, type: uint32, order: DCBA, profile: {kind: constant, value: 1480}}
)";

double read_float32_cdab(modbus_t* client) {
    std::array<std::uint16_t, 2> registers{};
    if (modbus_read_input_registers(client, 0, 2, registers.data()) != 2) return NAN;
    return modbus::decode_registers(registers, modbus::ValueType::float32, modbus::ByteOrder::cdab)
        .value_or(NAN);
}

bool readable_now(int fd) {
    pollfd item{fd, POLLIN, 0};
    return ::poll(&item, 1, 0) > 0;
}

}  // namespace

TEST_CASE("constant values of every type and byte order decode exactly") {
    const auto expected = every_type_and_order();
    RunningSim sim(
        "tcp: {host: 127.0.0.1, port: 0}\ndevices:\n  - name: lab\n    unit_id: 1\n"
        "    values:\n" +
        values_yaml(expected) +
        "      - {table: input_register, address: 0, type: int16, scale: 0.1, "
        "profile: {kind: constant, value: 71.3}}\n"
        "      - {table: coil, address: 3, profile: {kind: constant, value: 1}}\n");
    CHECK(sim.port() > 0);
    auto client = sim.connect(1);
    int address = 100;
    for (const auto& item : expected) {
        CAPTURE(modbus::type_name(item.type));
        CAPTURE(modbus::order_name(item.order));
        const auto width = modbus::width_of(item.type, modbus::Table::holding_register);
        std::array<std::uint16_t, 4> registers{};
        REQUIRE(modbus_read_registers(client.get(), address, width, registers.data()) == width);
        const auto decoded = modbus::decode_registers(
            std::span<const std::uint16_t>(registers.data(), width), item.type, item.order);
        REQUIRE(decoded);
        CHECK(*decoded == item.value);
        address += width;
    }
    std::uint16_t temperature = 0;
    REQUIRE(modbus_read_input_registers(client.get(), 0, 1, &temperature) == 1);
    CHECK(temperature == 713);
    std::array<std::uint8_t, 4> coils{};
    REQUIRE(modbus_read_bits(client.get(), 2, 3, coils.data()) == 3);
    CHECK(coils == std::array<std::uint8_t, 4>{0, 1, 0, 0});
    std::uint16_t unwritten = 99;
    REQUIRE(modbus_read_input_registers(client.get(), 5000, 1, &unwritten) == 1);
    CHECK(unwritten == 0);
}

TEST_CASE("several units on one server; an unknown unit id gets no reply") {
    RunningSim sim("tcp: {port: 0}\n" + kTwoDevices);
    auto press = sim.connect(1);
    CHECK(read_float32_cdab(press.get()) == 2.5);
    std::array<std::uint8_t, 1> bit{};
    REQUIRE(modbus_read_input_bits(press.get(), 7, 1, bit.data()) == 1);
    CHECK(bit[0] == 1);

    auto pump = sim.connect(2);
    std::array<std::uint16_t, 2> speed{};
    REQUIRE(modbus_read_registers(pump.get(), 0, 2, speed.data()) == 2);
    CHECK(modbus::decode_registers(speed, modbus::ValueType::uint32, modbus::ByteOrder::dcba) ==
          1480.0);

    auto nobody = sim.connect(9, 300ms);
    std::uint16_t value = 0;
    CHECK(modbus_read_registers(nobody.get(), 0, 1, &value) == -1);
    CHECK(errno == ETIMEDOUT);
}

TEST_CASE("run-time faults: exception, no_reply, pinned values, back to normal") {
    RunningSim sim("tcp: {port: 0}\n" + kTwoDevices);
    auto press = sim.connect(1, 400ms);
    std::uint16_t value = 0;

    REQUIRE(sim.ctl({"fault", "press-1", "exception", "2"}) == 0);
    CHECK(sim.ctl_output() == "ok\n");
    CHECK(modbus_read_registers(press.get(), 0, 1, &value) == -1);
    CHECK(errno == EMBXILADD);

    REQUIRE(sim.ctl({"fault", "press-1", "no_reply"}) == 0);
    CHECK(modbus_read_registers(press.get(), 0, 1, &value) == -1);
    CHECK(errno == ETIMEDOUT);
    modbus_flush(press.get());

    REQUIRE(sim.ctl({"fault", "press-1", "none"}) == 0);
    REQUIRE(modbus_read_registers(press.get(), 0, 1, &value) == 1);
    CHECK(value == 11);

    REQUIRE(sim.ctl({"value", "press-1", "input_register", "0", "4.75"}) == 0);
    CHECK(read_float32_cdab(press.get()) == 4.75);
    REQUIRE(sim.ctl({"fault", "press-1", "value", "input_register", "0", "profile"}) == 0);
    CHECK(read_float32_cdab(press.get()) == 2.5);

    REQUIRE(sim.ctl({"fault", "press-1", "delay", "800ms"}) == 0);
    REQUIRE(sim.ctl({"status"}) == 0);
    CHECK(sim.ctl_output().find("press-1 unit 1 fault delay 800ms\npump-1 unit 2 fault none\n") !=
          std::string::npos);

    CHECK(sim.ctl({"fault", "press-9", "none"}) == 1);
    CHECK(sim.ctl_output().find("error: unknown device 'press-9'") != std::string::npos);
    CHECK(sim.ctl({"value", "press-1", "input_register", "1", "3"}) == 1);
    CHECK(sim.ctl({"fault", "press-1", "exception", "99"}) == 1);
    CHECK(sim.log().find("[sim/press-1]") != std::string::npos);
}

TEST_CASE("a delayed unit does not hold up another unit on a second connection") {
    RunningSim sim("tcp: {port: 0}\n" + kTwoDevices);
    // Long enough that the other unit's answer, sent at once, surely comes first.
    REQUIRE(sim.ctl({"fault", "press-1", "delay", "2s"}) == 0);

    // A raw client asks the delayed unit and does not wait: read 1 holding register at 0.
    const int slow = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(slow >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(sim.port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(slow, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    const std::array<std::uint8_t, 12> request{0x00, 0x2A, 0, 0, 0, 6, 1, 0x03, 0, 0, 0, 1};
    REQUIRE(::send(slow, request.data(), request.size(), 0) == 12);

    auto pump = sim.connect(2);
    std::array<std::uint16_t, 2> speed{};
    REQUIRE(modbus_read_registers(pump.get(), 0, 2, speed.data()) == 2);
    CHECK(modbus::decode_registers(speed, modbus::ValueType::uint32, modbus::ByteOrder::dcba) ==
          1480.0);
    CHECK_FALSE(readable_now(slow));  // the delayed answer is still queued

    pollfd item{slow, POLLIN, 0};
    REQUIRE(::poll(&item, 1, 20000) == 1);
    std::array<std::uint8_t, 32> reply{};
    const auto received = ::recv(slow, reply.data(), reply.size(), 0);
    ::close(slow);
    REQUIRE(received == 11);
    CHECK(reply[1] == 0x2A);  // same transaction id
    CHECK(reply[7] == 0x03);  // a normal answer, not an exception
    CHECK(((reply[9] << 8) | reply[10]) == 11);
}

TEST_CASE("disconnect drops every client and new connections work") {
    RunningSim sim("tcp: {port: 0}\n" + kTwoDevices);
    auto first = sim.connect(1);
    std::uint16_t value = 0;
    REQUIRE(modbus_read_registers(first.get(), 0, 1, &value) == 1);
    REQUIRE(sim.ctl({"disconnect"}) == 0);
    CHECK(modbus_read_registers(first.get(), 0, 1, &value) == -1);

    auto second = sim.connect(1);
    REQUIRE(modbus_read_registers(second.get(), 0, 1, &value) == 1);
    CHECK(value == 11);
    const auto log = sim.log();
    CHECK(log.find("connected") != std::string::npos);
    CHECK(log.find("disconnected: fault disconnect") != std::string::npos);
}

TEST_CASE("RTU over a socat pty pair serves every configured unit") {
    TempDir ptys("fw-sim-pty");
    auto socat = ChildProcess::spawn(
        "/usr/bin/socat",
        {"-d", "-d", "pty,raw,echo=0,link=" + (ptys / "sim").string(),
         "pty,raw,echo=0,link=" + (ptys / "client").string()},
        {.stdout_path = {}, .stderr_path = ptys / "socat.log", .environment = {}});
    REQUIRE(fw::test::wait_for_path(ptys / "sim", 20s, &socat));
    REQUIRE(fw::test::wait_for_path(ptys / "client", 20s, &socat));
    {
        RunningSim sim("rtu: {device: " + (ptys / "sim").string() +
                       ", baud: 19200, parity: none, data_bits: 8, stop_bits: 1}\n" + kTwoDevices);
        CHECK(sim.ready() == (ptys / "sim").string() + "\n");
        Client client(modbus_new_rtu((ptys / "client").c_str(), 19200, 'N', 8, 1));
        REQUIRE(client);
        REQUIRE(modbus_connect(client.get()) == 0);
        RunningSim::set_timeout(client.get(), 2s);

        modbus_set_slave(client.get(), 1);
        CHECK(read_float32_cdab(client.get()) == 2.5);
        std::uint16_t temperature = 0;
        REQUIRE(modbus_read_input_registers(client.get(), 2, 1, &temperature) == 1);
        CHECK(temperature == 713);

        modbus_set_slave(client.get(), 2);
        std::array<std::uint16_t, 2> speed{};
        REQUIRE(modbus_read_registers(client.get(), 0, 2, speed.data()) == 2);
        CHECK(modbus::decode_registers(speed, modbus::ValueType::uint32, modbus::ByteOrder::dcba) ==
              1480.0);

        REQUIRE(modbus_write_register(client.get(), 10, 4321) == 1);
        std::uint16_t written = 0;
        REQUIRE(modbus_read_registers(client.get(), 10, 1, &written) == 1);
        CHECK(written == 4321);

        modbus_set_slave(client.get(), 9);
        RunningSim::set_timeout(client.get(), 300ms);
        std::uint16_t value = 0;
        CHECK(modbus_read_registers(client.get(), 0, 1, &value) == -1);
        CHECK(errno == ETIMEDOUT);
    }
    socat.stop();
}

TEST_CASE("a bad config is refused with file:line:col and exit code 2") {
    TempDir dir("fw-sim-bad");
    fw::test::write_text_file(dir / "bad.yaml", R"(tcp: {port: 0}
devices:
  - name: press-1
    unit_id: 1
    values:
      - {table: input_register, address: 0, type: flaot32, profile: {kind: constant, value: 1}}
)");
    auto sim =
        ChildProcess::spawn(kSimBinary, {"--config", (dir / "bad.yaml").string()},
                            {.stdout_path = {}, .stderr_path = dir / "err", .environment = {}});
    CHECK(sim.wait_exit(20s) == 2);
    const auto errors = fw::test::read_text_file(dir / "err");
    CHECK(errors.find((dir / "bad.yaml").string() +
                      ":6:51: devices[0].values[0].type: unknown type 'flaot32'") !=
          std::string::npos);
}
