#include "drivers/modbus/modbus_errors.hpp"

#include <modbus/modbus.h>

#include <cerrno>
#include <system_error>

namespace fw::modbus {

RequestFailure classify_request_error(int error_number, bool serial) {
    if (error_number == ETIMEDOUT) return {FailureKind::timeout, Quality::timeout};
    if (error_number >= EMBXILFUN && error_number <= EMBXGTAR) {
        // Quality keeps the protocol's exception code (0x01-0x0B) as its value.
        return {FailureKind::exception, static_cast<Quality>(error_number - MODBUS_ENOBASE)};
    }
    switch (error_number) {
        case ECONNRESET:
        case ECONNREFUSED:
        case ECONNABORTED:
        case EPIPE:
        case EBADF:
        case ENOTCONN:
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ENXIO:
        case ENODEV:
            return {FailureKind::connection_lost, Quality::disconnected};
        case EIO:
            if (serial) return {FailureKind::connection_lost, Quality::disconnected};
            return {FailureKind::bad_reply, Quality::io_error};
        default:
            // EMBBADCRC, EMBBADDATA, EMBBADEXC, EMBUNKEXC, EMBMDATA, EMBBADSLAVE and anything
            // unforeseen: the link still works, this reply was unusable.
            return {FailureKind::bad_reply, Quality::io_error};
    }
}

std::string describe_error(int error_number) {
    if (error_number >= MODBUS_ENOBASE) return modbus_strerror(error_number);
    return std::error_code(error_number, std::generic_category()).message();
}

}  // namespace fw::modbus
