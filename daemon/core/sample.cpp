#include "daemon/core/sample.hpp"

#include "daemon/core/enum_names.hpp"

namespace fw {
namespace {

constexpr auto kQualityNames = enum_names<Quality>({
    {Quality::good, "good"},
    {Quality::illegal_function, "illegal_function"},
    {Quality::illegal_data_address, "illegal_data_address"},
    {Quality::illegal_data_value, "illegal_data_value"},
    {Quality::server_device_failure, "server_device_failure"},
    {Quality::acknowledge, "acknowledge"},
    {Quality::server_device_busy, "server_device_busy"},
    {Quality::negative_acknowledge, "negative_acknowledge"},
    {Quality::memory_parity_error, "memory_parity_error"},
    {Quality::exception_not_defined, "exception_not_defined"},
    {Quality::gateway_path_unavailable, "gateway_path_unavailable"},
    {Quality::gateway_target_failed, "gateway_target_failed"},
    {Quality::timeout, "timeout"},
    {Quality::disconnected, "disconnected"},
    {Quality::decode_error, "decode_error"},
    {Quality::stale, "stale"},
    {Quality::io_error, "io_error"},
});

}  // namespace

std::string_view quality_name(Quality quality) {
    return kQualityNames.name_of(quality);
}

std::optional<Quality> quality_from_name(std::string_view name) {
    return kQualityNames.from_name(name);
}

std::optional<Quality> quality_from_code(int code) {
    for (const Quality quality : kQualityNames.values()) {
        if (static_cast<int>(quality) == code) return quality;
    }
    return std::nullopt;
}

}  // namespace fw
