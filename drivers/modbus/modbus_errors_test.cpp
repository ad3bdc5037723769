#include "drivers/modbus/modbus_errors.hpp"

#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <cerrno>

namespace fw::modbus {
namespace {

TEST_CASE("errors: a timeout is a timeout on every transport") {
    for (const bool serial : {false, true}) {
        const auto failure = classify_request_error(ETIMEDOUT, serial);
        CHECK(failure.kind == FailureKind::timeout);
        CHECK(failure.quality == Quality::timeout);
    }
}

TEST_CASE("errors: each exception reply keeps its protocol code") {
    CHECK(classify_request_error(EMBXILFUN, false).quality == Quality::illegal_function);
    CHECK(classify_request_error(EMBXILADD, false).quality == Quality::illegal_data_address);
    CHECK(classify_request_error(EMBXILVAL, true).quality == Quality::illegal_data_value);
    CHECK(classify_request_error(EMBXSFAIL, false).quality == Quality::server_device_failure);
    CHECK(classify_request_error(EMBXACK, false).quality == Quality::acknowledge);
    CHECK(classify_request_error(EMBXSBUSY, false).quality == Quality::server_device_busy);
    CHECK(classify_request_error(EMBXNACK, false).quality == Quality::negative_acknowledge);
    CHECK(classify_request_error(EMBXMEMPAR, false).quality == Quality::memory_parity_error);
    CHECK(classify_request_error(EMBXGPATH, false).quality == Quality::gateway_path_unavailable);
    CHECK(classify_request_error(EMBXGTAR, false).quality == Quality::gateway_target_failed);
    for (int code = EMBXILFUN; code <= EMBXGTAR; ++code) {
        CHECK(classify_request_error(code, false).kind == FailureKind::exception);
    }
}

TEST_CASE("errors: unusable replies are io errors, the link stays up") {
    for (const int code : {EMBBADCRC, EMBBADDATA, EMBBADEXC, EMBUNKEXC, EMBMDATA, EMBBADSLAVE}) {
        const auto failure = classify_request_error(code, true);
        CHECK(failure.kind == FailureKind::bad_reply);
        CHECK(failure.quality == Quality::io_error);
    }
}

TEST_CASE("errors: a lost link means reconnecting") {
    for (const int code : {ECONNRESET, EPIPE, ECONNREFUSED, EBADF, ENOTCONN}) {
        const auto failure = classify_request_error(code, false);
        CHECK(failure.kind == FailureKind::connection_lost);
        CHECK(failure.quality == Quality::disconnected);
    }
    CHECK(classify_request_error(EIO, true).kind == FailureKind::connection_lost);
    CHECK(classify_request_error(EIO, false).kind == FailureKind::bad_reply);
}

TEST_CASE("errors: descriptions read as text") {
    CHECK(describe_error(ECONNREFUSED) == "Connection refused");
    CHECK(describe_error(EMBXILADD) == "Illegal data address");
}

}  // namespace
}  // namespace fw::modbus
