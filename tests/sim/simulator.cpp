#include "tests/sim/simulator.hpp"

#include <fcntl.h>
#include <modbus/modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "daemon/core/log.hpp"
#include "drivers/modbus/codec.hpp"

namespace fw::sim {
namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

constexpr std::string_view kLog = "sim";
constexpr std::size_t kMbapHeaderLength = 7;
// A device answers from a full 64 Ki map per table: unwritten registers read as 0, like a
// permissive real device, and any address a config can name is served.
constexpr int kMapSize = 65536;
// Larger than any ADU, zero-filled: modbus_reply trusts byte counts inside the request, so a
// short malformed frame must never make it read past our buffer.
constexpr std::size_t kRequestBufferSize = 512;
constexpr std::size_t kMaxInbox = 4096;
// Silence that ends an RTU frame we cannot size from its function code. Longer than 3.5
// characters at any supported baud rate, because ptys and USB adapters deliver in bursts.
constexpr auto kRtuSilence = std::chrono::milliseconds(20);

std::string errno_text(int error) {
    return std::strerror(error);
}

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::runtime_error(fmt::format("{}: {}", what, errno_text(errno)));
}

void set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_errno("fcntl O_NONBLOCK");
}

class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

struct MappingDeleter {
    void operator()(modbus_mapping_t* mapping) const { modbus_mapping_free(mapping); }
};

struct ContextDeleter {
    void operator()(modbus_t* context) const { modbus_free(context); }
};
using ContextPtr = std::unique_ptr<modbus_t, ContextDeleter>;

struct Device {
    DeviceSpec spec;
    std::unique_ptr<modbus_mapping_t, MappingDeleter> mapping;
    DeviceFault fault;
    std::map<std::size_t, double> pins;  // value index -> pinned engineering value
};

struct TcpClient {
    FileDescriptor fd;
    std::string peer;
    Bytes inbox;
};

struct ControlClient {
    FileDescriptor fd;
    std::string inbox;
};

struct PendingReply {
    Clock::time_point due;
    std::uint64_t connection = 0;  // kRtuConnection for the serial line
    std::size_t device = 0;
    Bytes frame;
};

constexpr std::uint64_t kRtuConnection = 0;

std::string peer_name(const sockaddr_storage& address) {
    char host[NI_MAXHOST] = {};
    char port[NI_MAXSERV] = {};
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof(address), host,
                    sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return "unknown peer";
    }
    return fmt::format("{}:{}", host, port);
}

// Bytes an RTU request occupies, CRC included, from its function code: 0 while more bytes are
// needed to tell, nullopt for a function whose length we cannot know (ended by silence).
std::optional<std::size_t> rtu_request_length(const Bytes& buffer) {
    if (buffer.size() < 2) return 0;
    switch (buffer[1]) {
        case MODBUS_FC_READ_COILS:
        case MODBUS_FC_READ_DISCRETE_INPUTS:
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS:
        case MODBUS_FC_WRITE_SINGLE_COIL:
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
            return 8;
        case MODBUS_FC_READ_EXCEPTION_STATUS:
        case MODBUS_FC_REPORT_SLAVE_ID:
            return 4;
        case MODBUS_FC_MASK_WRITE_REGISTER:
            return 10;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
            if (buffer.size() < 7) return 0;
            return std::size_t{9} + buffer[6];
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
            if (buffer.size() < 11) return 0;
            return std::size_t{13} + buffer[10];
        default:
            return std::nullopt;
    }
}

bool rtu_crc_ok(const std::uint8_t* frame, std::size_t length) {
    if (length < 4) return false;
    const std::uint16_t crc = modbus_crc16(frame, length - 2);
    return frame[length - 2] == (crc & 0xFF) && frame[length - 1] == (crc >> 8);
}

void write_ready_file(const std::string& path, const std::string& content) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << content << '\n';
        if (!out.flush()) {
            throw std::runtime_error(fmt::format("cannot write ready file {}", temporary));
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw_errno(fmt::format("cannot rename {} to {}", temporary, path));
    }
}

}  // namespace

std::uint16_t modbus_crc16(const std::uint8_t* data, std::size_t length) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < length; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                            : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

struct Simulator::Impl {
    SimConfig config;
    SimulatorOptions options;
    Clock::time_point start = Clock::now();
    std::vector<Device> devices;

    FileDescriptor signal_fd;
    FileDescriptor listen_fd;
    ContextPtr tcp_context;  // only builds replies; its socket is set per client
    std::map<std::uint64_t, TcpClient> tcp_clients;
    std::uint64_t next_connection = 1;

    ContextPtr rtu_context;
    int rtu_fd = -1;  // owned by rtu_context
    Bytes rtu_inbox;
    Clock::time_point rtu_last_byte;

    FileDescriptor control_fd;
    std::map<std::uint64_t, ControlClient> control_clients;

    std::vector<PendingReply> pending;
    bool stopping = false;
    int exit_code = 0;

    Impl(SimConfig sim_config, SimulatorOptions sim_options)
        : config(std::move(sim_config)), options(std::move(sim_options)) {
        for (const auto& spec : config.devices) {
            Device device;
            device.spec = spec;
            device.fault = spec.fault;
            device.mapping.reset(modbus_mapping_new_start_address(0, kMapSize, 0, kMapSize, 0,
                                                                  kMapSize, 0, kMapSize));
            if (!device.mapping) throw_errno("cannot allocate the register map");
            devices.push_back(std::move(device));
        }
        open_signal_fd();
        if (config.tcp) open_tcp();
        if (config.rtu) open_rtu();
        if (!options.control_path.empty()) open_control();
        if (!options.ready_file.empty()) write_ready_file(options.ready_file, ready_text());
    }

    ~Impl() {
        if (rtu_context) modbus_close(rtu_context.get());
        if (control_fd) ::unlink(options.control_path.c_str());
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // ---- setup ----

    void open_signal_fd() {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        signal_fd = FileDescriptor(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
        if (!signal_fd) throw_errno("signalfd");
    }

    void open_tcp() {
        const auto& tcp = *config.tcp;
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        addrinfo* found = nullptr;
        const auto port_text = std::to_string(tcp.port);
        if (const int rc = getaddrinfo(tcp.host.c_str(), port_text.c_str(), &hints, &found);
            rc != 0) {
            throw std::runtime_error(
                fmt::format("cannot resolve tcp.host '{}': {}", tcp.host, gai_strerror(rc)));
        }
        std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
        listen_fd = FileDescriptor(
            ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
        if (!listen_fd) throw_errno("socket");
        const int enable = 1;
        setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
        if (::bind(listen_fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
            throw_errno(fmt::format("cannot listen on {}:{} (is another server using the port?)",
                                    tcp.host, tcp.port));
        }
        if (::listen(listen_fd.get(), 16) != 0) throw_errno("listen");
        set_nonblocking(listen_fd.get());

        // libmodbus only formats replies here; host and port are never used to connect.
        tcp_context.reset(modbus_new_tcp("127.0.0.1", MODBUS_TCP_DEFAULT_PORT));
        if (!tcp_context) throw_errno("modbus_new_tcp");
        prepare_reply_context(tcp_context.get());
        log_info(kLog, "serving {} device(s) on tcp {}:{}", devices.size(), tcp.host,
                 listening_port());
    }

    void open_rtu() {
        const auto& rtu = *config.rtu;
        rtu_context.reset(
            modbus_new_rtu(rtu.device.c_str(), rtu.baud, rtu.parity, rtu.data_bits, rtu.stop_bits));
        if (!rtu_context) throw_errno(fmt::format("invalid rtu settings for {}", rtu.device));
        if (modbus_connect(rtu_context.get()) != 0) {
            throw_errno(
                fmt::format("cannot open serial device {} (does it exist, and may this "
                            "user open it?)",
                            rtu.device));
        }
        rtu_fd = modbus_get_socket(rtu_context.get());
        set_nonblocking(rtu_fd);
        prepare_reply_context(rtu_context.get());
        log_info(kLog, "serving {} device(s) on rtu {} {} {}{}{}", devices.size(), rtu.device,
                 rtu.baud, rtu.data_bits, rtu.parity, rtu.stop_bits);
    }

    static void prepare_reply_context(modbus_t* context) {
        // modbus_reply sleeps this long before flushing after a malformed request; keep it short
        // so one bad client cannot stall the others.
        modbus_set_response_timeout(context, 0, 10000);
    }

    void open_control() {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (options.control_path.size() >= sizeof(address.sun_path)) {
            throw std::runtime_error(fmt::format("--control path is too long (max {} bytes): {}",
                                                 sizeof(address.sun_path) - 1,
                                                 options.control_path));
        }
        std::memcpy(address.sun_path, options.control_path.c_str(), options.control_path.size());
        struct stat existing {};
        if (::lstat(options.control_path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode)) {
            ::unlink(options.control_path.c_str());  // left behind by a killed simulator
        }
        control_fd = FileDescriptor(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!control_fd) throw_errno("socket(AF_UNIX)");
        if (::bind(control_fd.get(), reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address)) != 0) {
            throw_errno(fmt::format("cannot create control socket {}", options.control_path));
        }
        if (::listen(control_fd.get(), 8) != 0) throw_errno("listen(control)");
        set_nonblocking(control_fd.get());
    }

    int listening_port() const {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        if (::getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            return -1;
        }
        if (address.ss_family == AF_INET6) {
            return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
        }
        return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
    }

    std::string ready_text() const {
        return config.tcp ? std::to_string(listening_port()) : config.rtu->device;
    }

    // ---- values ----

    double profile_seconds(Clock::time_point now) const {
        return std::chrono::duration<double>(now - start).count() * config.time_scale;
    }

    void refresh_values(Device& device, Clock::time_point now) {
        const double seconds = profile_seconds(now);
        auto* map = device.mapping.get();
        for (std::size_t i = 0; i < device.spec.values.size(); ++i) {
            const auto& value = device.spec.values[i];
            const auto pin = device.pins.find(i);
            const double engineering =
                pin != device.pins.end()
                    ? pin->second
                    : profile_value(value.profile, seconds, config.seed,
                                    (std::uint64_t{device.spec.unit_id} << 32) | i);
            const double raw = modbus::to_raw(engineering, value.scale, value.offset);
            switch (value.table) {
                case modbus::Table::coil:
                    map->tab_bits[value.address] = raw != 0.0 ? 1 : 0;
                    break;
                case modbus::Table::discrete_input:
                    map->tab_input_bits[value.address] = raw != 0.0 ? 1 : 0;
                    break;
                case modbus::Table::input_register:
                case modbus::Table::holding_register: {
                    auto* registers = value.table == modbus::Table::input_register
                                          ? map->tab_input_registers
                                          : map->tab_registers;
                    const auto encoded = modbus::encode_registers(raw, value.type, value.order);
                    std::copy(encoded.view().begin(), encoded.view().end(),
                              registers + value.address);
                    break;
                }
            }
        }
    }

    // ---- requests ----

    Device* device_for_unit(std::uint8_t unit) {
        for (auto& device : devices) {
            if (device.spec.unit_id == unit) return &device;
        }
        return nullptr;
    }

    // Sends the device's answer to a request now, on the connection it came from.
    void reply(std::uint64_t connection, Device& device, const Bytes& frame, bool as_fault) {
        modbus_t* context = nullptr;
        if (connection == kRtuConnection) {
            context = rtu_context.get();
            modbus_set_slave(context, frame[0]);
        } else {
            const auto client = tcp_clients.find(connection);
            if (client == tcp_clients.end()) return;  // gone while the reply was delayed
            context = tcp_context.get();
            modbus_set_socket(context, client->second.fd.get());
        }
        std::array<std::uint8_t, kRequestBufferSize> request{};
        std::copy(frame.begin(), frame.end(), request.begin());
        refresh_values(device, Clock::now());
        const int rc =
            as_fault && device.fault.kind == DeviceFault::Kind::exception
                ? modbus_reply_exception(context, request.data(), device.fault.exception_code)
                : modbus_reply(context, request.data(), static_cast<int>(frame.size()),
                               device.mapping.get());
        if (rc < 0) {
            log_debug(kLog, "reply to unit {} failed: {}", device.spec.unit_id,
                      modbus_strerror(errno));
        }
        if (connection != kRtuConnection) modbus_set_socket(context, -1);
    }

    void on_request(std::uint64_t connection, Bytes frame) {
        const bool rtu = connection == kRtuConnection;
        const std::uint8_t unit = rtu ? frame[0] : frame[kMbapHeaderLength - 1];
        if (rtu && unit == MODBUS_BROADCAST_ADDRESS) {
            // Broadcast writes reach every device; libmodbus sends no answer to a broadcast.
            for (auto& device : devices) reply(connection, device, frame, false);
            return;
        }
        Device* device = device_for_unit(unit);
        if (device == nullptr) {
            log_debug(kLog, "request for unknown unit id {} ignored", unit);
            return;
        }
        switch (device->fault.kind) {
            case DeviceFault::Kind::no_reply:
                return;
            case DeviceFault::Kind::delay:
                pending.push_back(PendingReply{Clock::now() + device->fault.delay, connection,
                                               static_cast<std::size_t>(device - devices.data()),
                                               std::move(frame)});
                return;
            case DeviceFault::Kind::none:
            case DeviceFault::Kind::exception:
                reply(connection, *device, frame, true);
                return;
        }
    }

    void send_due_replies(Clock::time_point now) {
        std::vector<PendingReply> due;
        std::erase_if(pending, [&](PendingReply& reply_item) {
            if (reply_item.due > now) return false;
            due.push_back(std::move(reply_item));
            return true;
        });
        std::sort(due.begin(), due.end(),
                  [](const auto& a, const auto& b) { return a.due < b.due; });
        for (const auto& item : due)
            reply(item.connection, devices[item.device], item.frame, false);
    }

    // ---- TCP ----

    void accept_clients() {
        while (true) {
            sockaddr_storage address{};
            socklen_t length = sizeof(address);
            const int fd = ::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&address),
                                     &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    log_warning(kLog, "accept failed: {}", errno_text(errno));
                }
                return;
            }
            const auto id = next_connection++;
            TcpClient client{FileDescriptor(fd), peer_name(address), {}};
            log_info(kLog, "client {} connected ({} open)", client.peer, tcp_clients.size() + 1);
            tcp_clients.emplace(id, std::move(client));
        }
    }

    void close_client(std::uint64_t id, std::string_view why) {
        const auto client = tcp_clients.find(id);
        if (client == tcp_clients.end()) return;
        log_info(kLog, "client {} disconnected: {} ({} open)", client->second.peer, why,
                 tcp_clients.size() - 1);
        tcp_clients.erase(client);
        std::erase_if(pending, [&](const PendingReply& item) { return item.connection == id; });
    }

    void read_client(std::uint64_t id) {
        auto client = tcp_clients.find(id);
        if (client == tcp_clients.end()) return;
        std::array<std::uint8_t, 1024> buffer{};
        const ssize_t count = ::recv(client->second.fd.get(), buffer.data(), buffer.size(), 0);
        if (count == 0) return close_client(id, "closed by peer");
        if (count < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            return close_client(id, errno_text(errno));
        }
        auto& inbox = client->second.inbox;
        inbox.insert(inbox.end(), buffer.begin(), buffer.begin() + count);
        while (inbox.size() >= kMbapHeaderLength) {
            const std::size_t length = (std::size_t{inbox[4]} << 8) | inbox[5];
            const bool modbus_protocol = inbox[2] == 0 && inbox[3] == 0;
            if (!modbus_protocol || length < 2 || length > MODBUS_TCP_MAX_ADU_LENGTH - 6) {
                return close_client(id, "not a Modbus TCP request");
            }
            if (inbox.size() < 6 + length) break;
            Bytes frame(inbox.begin(), inbox.begin() + static_cast<std::ptrdiff_t>(6 + length));
            inbox.erase(inbox.begin(), inbox.begin() + static_cast<std::ptrdiff_t>(6 + length));
            on_request(id, std::move(frame));
            // A reply failure or a control command may have closed the client meanwhile.
            client = tcp_clients.find(id);
            if (client == tcp_clients.end()) return;
        }
    }

    void disconnect_all_clients() {
        log_info(kLog, "fault disconnect: closing {} client connection(s)", tcp_clients.size());
        while (!tcp_clients.empty()) close_client(tcp_clients.begin()->first, "fault disconnect");
    }

    // ---- RTU ----

    void read_rtu() {
        std::array<std::uint8_t, 512> buffer{};
        const ssize_t count = ::read(rtu_fd, buffer.data(), buffer.size());
        if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (count <= 0) {
            log_error(kLog, "serial line {} closed: {}", config.rtu->device,
                      count == 0 ? "end of file" : errno_text(errno));
            stopping = true;
            exit_code = 1;
            return;
        }
        rtu_inbox.insert(rtu_inbox.end(), buffer.begin(), buffer.begin() + count);
        rtu_last_byte = Clock::now();
        if (rtu_inbox.size() > kMaxInbox) rtu_inbox.clear();
        process_rtu_inbox();
    }

    void process_rtu_inbox() {
        while (!rtu_inbox.empty()) {
            const auto length = rtu_request_length(rtu_inbox);
            if (!length || *length == 0 || rtu_inbox.size() < *length) return;
            if (!rtu_crc_ok(rtu_inbox.data(), *length)) {
                log_debug(kLog, "rtu frame with bad CRC dropped ({} bytes)", rtu_inbox.size());
                rtu_inbox.clear();
                return;
            }
            Bytes frame(rtu_inbox.begin(),
                        rtu_inbox.begin() + static_cast<std::ptrdiff_t>(*length));
            rtu_inbox.erase(rtu_inbox.begin(),
                            rtu_inbox.begin() + static_cast<std::ptrdiff_t>(*length));
            on_request(kRtuConnection, std::move(frame));
        }
    }

    // After a silence the buffered bytes are one frame (a function we cannot size) or garbage.
    void end_rtu_frame_on_silence(Clock::time_point now) {
        if (rtu_inbox.empty() || now - rtu_last_byte < kRtuSilence) return;
        if (!rtu_request_length(rtu_inbox) && rtu_crc_ok(rtu_inbox.data(), rtu_inbox.size())) {
            on_request(kRtuConnection, std::move(rtu_inbox));
        } else {
            log_debug(kLog, "incomplete rtu frame dropped ({} bytes)", rtu_inbox.size());
        }
        rtu_inbox.clear();
    }

    // ---- control ----

    void accept_control() {
        while (true) {
            const int fd =
                ::accept4(control_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            control_clients.emplace(next_connection++, ControlClient{FileDescriptor(fd), {}});
        }
    }

    void read_control(std::uint64_t id) {
        const auto client = control_clients.find(id);
        if (client == control_clients.end()) return;
        std::array<char, 1024> buffer{};
        const ssize_t count = ::recv(client->second.fd.get(), buffer.data(), buffer.size(), 0);
        if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (count <= 0) {
            control_clients.erase(client);
            return;
        }
        auto& inbox = client->second.inbox;
        inbox.append(buffer.data(), static_cast<std::size_t>(count));
        std::size_t newline = 0;
        while ((newline = inbox.find('\n')) != std::string::npos) {
            const std::string line = inbox.substr(0, newline);
            inbox.erase(0, newline + 1);
            const std::string answer = execute(line);
            // Answers are a few hundred bytes at most and the socket buffer is empty: one send.
            if (::send(client->second.fd.get(), answer.data(), answer.size(), MSG_NOSIGNAL) < 0) {
                control_clients.erase(client);
                return;
            }
        }
        if (inbox.size() > kMaxInbox) control_clients.erase(client);
    }

    Device* find_device(const std::string& name) {
        for (auto& device : devices) {
            if (device.spec.name == name) return &device;
        }
        return nullptr;
    }

    std::string device_names() const {
        std::string names;
        for (const auto& device : devices) {
            if (!names.empty()) names += ", ";
            names += device.spec.name;
        }
        return names;
    }

    std::string apply(Device& device, const FaultAction& action) {
        if (const auto* fault = std::get_if<DeviceFault>(&action)) {
            if (device.fault != *fault) {
                log_info(fmt::format("sim/{}", device.spec.name), "fault {} (was {})",
                         describe(*fault), describe(device.fault));
            }
            device.fault = *fault;
            return "ok\n";
        }
        if (std::holds_alternative<DisconnectClients>(action)) {
            disconnect_all_clients();
            return "ok\n";
        }
        const auto& pin = std::get<PinValue>(action);
        const auto& values = device.spec.values;
        const auto found = std::find_if(values.begin(), values.end(), [&](const ValueSpec& v) {
            return v.table == pin.table && v.address == pin.address;
        });
        if (found == values.end()) {
            return fmt::format("error: {} has no configured value at {} {}\n", device.spec.name,
                               modbus::table_name(pin.table), pin.address);
        }
        const auto index = static_cast<std::size_t>(found - values.begin());
        const auto instance = fmt::format("sim/{}", device.spec.name);
        if (pin.value) {
            device.pins[index] = *pin.value;
            log_info(instance, "fault value {} {} pinned to {}", modbus::table_name(pin.table),
                     pin.address, *pin.value);
        } else if (device.pins.erase(index) > 0) {
            log_info(instance, "fault value {} {} back to its profile",
                     modbus::table_name(pin.table), pin.address);
        }
        return "ok\n";
    }

    std::string status() const {
        std::string out;
        for (const auto& device : devices) {
            out += fmt::format("{} unit {} fault {}", device.spec.name, device.spec.unit_id,
                               describe(device.fault));
            for (const auto& [index, value] : device.pins) {
                const auto& spec = device.spec.values[index];
                out += fmt::format(" pinned {} {} {}", modbus::table_name(spec.table), spec.address,
                                   value);
            }
            out += '\n';
        }
        out += fmt::format("clients {}\nok\n", tcp_clients.size());
        return out;
    }

    std::string execute(const std::string& line) {
        const auto words = split_words(line);
        if (words.empty()) return "error: empty command\n";
        const auto& command = words[0];
        if (command == "status" && words.size() == 1) return status();
        if (command == "disconnect" && words.size() == 1) {
            disconnect_all_clients();
            return "ok\n";
        }
        if (command == "fault" || command == "value") {
            if (words.size() < 3) {
                return command == "fault"
                           ? "error: usage: fault <device> none|no_reply|delay <duration>|"
                             "exception <code>|disconnect|value <table> <address> <number>\n"
                           : "error: usage: value <device> <table> <address> <number>|profile\n";
            }
            Device* device = find_device(words[1]);
            if (device == nullptr) {
                return fmt::format("error: unknown device '{}' (devices: {})\n", words[1],
                                   device_names());
            }
            std::vector<std::string> fault_words;
            if (command == "value") fault_words.emplace_back("value");
            fault_words.insert(fault_words.end(), words.begin() + 2, words.end());
            const auto parsed = parse_fault(fault_words);
            if (!parsed.action) return fmt::format("error: {}\n", parsed.error);
            return apply(*device, *parsed.action);
        }
        return fmt::format(
            "error: unknown command '{}' (expected fault, value, disconnect, "
            "status)\n",
            line);
    }

    // ---- loop ----

    int poll_timeout_ms(Clock::time_point now) const {
        auto wait = std::chrono::milliseconds(1000);
        for (const auto& item : pending) {
            wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(item.due - now));
        }
        if (!rtu_inbox.empty()) {
            wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(rtu_last_byte +
                                                                               kRtuSilence - now));
        }
        return static_cast<int>(std::max<std::int64_t>(wait.count(), 0));
    }

    int run() {
        enum class Source { signal, listen, tcp_client, rtu, control_listen, control_client };
        std::vector<pollfd> fds;
        std::vector<std::pair<Source, std::uint64_t>> sources;
        while (!stopping) {
            fds.clear();
            sources.clear();
            const auto watch = [&](int fd, Source source, std::uint64_t id) {
                fds.push_back(pollfd{fd, POLLIN, 0});
                sources.emplace_back(source, id);
            };
            watch(signal_fd.get(), Source::signal, 0);
            if (listen_fd) watch(listen_fd.get(), Source::listen, 0);
            for (const auto& [id, client] : tcp_clients) {
                watch(client.fd.get(), Source::tcp_client, id);
            }
            if (rtu_fd >= 0) watch(rtu_fd, Source::rtu, 0);
            if (control_fd) watch(control_fd.get(), Source::control_listen, 0);
            for (const auto& [id, client] : control_clients) {
                watch(client.fd.get(), Source::control_client, id);
            }
            const int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(Clock::now()));
            if (ready < 0 && errno != EINTR) throw_errno("poll");
            for (std::size_t i = 0; ready > 0 && i < fds.size() && !stopping; ++i) {
                if (fds[i].revents == 0) continue;
                const auto [source, id] = sources[i];
                switch (source) {
                    case Source::signal: {
                        signalfd_siginfo info{};
                        if (::read(signal_fd.get(), &info, sizeof(info)) > 0) {
                            log_info(kLog, "signal {} received, stopping", info.ssi_signo);
                            stopping = true;
                        }
                        break;
                    }
                    case Source::listen:
                        accept_clients();
                        break;
                    case Source::tcp_client:
                        read_client(id);
                        break;
                    case Source::rtu:
                        read_rtu();
                        break;
                    case Source::control_listen:
                        accept_control();
                        break;
                    case Source::control_client:
                        read_control(id);
                        break;
                }
            }
            const auto now = Clock::now();
            send_due_replies(now);
            end_rtu_frame_on_silence(now);
        }
        return exit_code;
    }
};

Simulator::Simulator(SimConfig config, SimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

Simulator::~Simulator() = default;

int Simulator::run() {
    return impl_->run();
}

bool send_control_command(const std::string& control_path, const std::string& command,
                          std::ostream& out) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (control_path.size() >= sizeof(address.sun_path)) {
        out << "error: control socket path too long: " << control_path << '\n';
        return false;
    }
    std::memcpy(address.sun_path, control_path.c_str(), control_path.size());
    FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        out << "error: cannot connect to control socket " << control_path << ": "
            << errno_text(errno) << " (is floorwatch-sim running with --control?)\n";
        return false;
    }
    const std::string line = command + "\n";
    if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) < 0) {
        out << "error: cannot send to " << control_path << ": " << errno_text(errno) << '\n';
        return false;
    }
    std::string received;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
        std::size_t newline = 0;
        while ((newline = received.find('\n')) != std::string::npos) {
            const std::string answer = received.substr(0, newline);
            received.erase(0, newline + 1);
            out << answer << '\n';
            if (answer == "ok") return true;
            if (answer.starts_with("error:")) return false;
        }
        pollfd readable{fd.get(), POLLIN, 0};
        if (::poll(&readable, 1, 200) <= 0) continue;
        std::array<char, 1024> buffer{};
        const ssize_t count = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (count <= 0) break;
        received.append(buffer.data(), static_cast<std::size_t>(count));
    }
    out << "error: no complete answer from " << control_path << '\n';
    return false;
}

}  // namespace fw::sim
