#include <doctest/doctest.h>

#include <cmath>
#include <thread>

#include "daemon/core/bounded_queue.hpp"
#include "daemon/core/log.hpp"
#include "daemon/core/sample.hpp"
#include "daemon/core/units.hpp"

using namespace std::chrono_literals;

TEST_CASE("durations parse in every unit and reject what is not a duration") {
    CHECK(fw::parse_duration("250ms") == fw::Millis(250));
    CHECK(fw::parse_duration("30s") == fw::Millis(30000));
    CHECK(fw::parse_duration("1.5s") == fw::Millis(1500));
    CHECK(fw::parse_duration("10m") == fw::Millis(600000));
    CHECK(fw::parse_duration("12h") == fw::Millis(12LL * 3600 * 1000));
    CHECK(fw::parse_duration("7d") == fw::Millis(7LL * 86400 * 1000));
    CHECK(fw::parse_duration("0s") == fw::Millis(0));
    CHECK_FALSE(fw::parse_duration("30"));
    CHECK_FALSE(fw::parse_duration("-5s"));
    CHECK_FALSE(fw::parse_duration("5 weeks"));
    CHECK_FALSE(fw::parse_duration("s"));
    CHECK_FALSE(fw::parse_duration(""));
    CHECK_FALSE(fw::parse_duration("99999999999d"));
}

TEST_CASE("durations format to their shortest exact form") {
    CHECK(fw::format_duration(fw::Millis(1500)) == "1500ms");
    CHECK(fw::format_duration(fw::Millis(30000)) == "30s");
    CHECK(fw::format_duration(fw::Millis(7LL * 86400 * 1000)) == "7d");
    CHECK(fw::format_duration(fw::Millis(0)) == "0s");
}

TEST_CASE("sizes parse binary and decimal units") {
    CHECK(fw::parse_size("512MiB") == 512ULL * 1024 * 1024);
    CHECK(fw::parse_size("64KiB") == 65536ULL);
    CHECK(fw::parse_size("1GB") == 1000000000ULL);
    CHECK(fw::parse_size("4096") == 4096ULL);
    CHECK(fw::parse_size("10B") == 10ULL);
    CHECK_FALSE(fw::parse_size("12 parsecs"));
    CHECK_FALSE(fw::parse_size("MiB"));
    CHECK(fw::format_size(512ULL * 1024 * 1024) == "512MiB");
    CHECK(fw::format_size(1000) == "1000B");
}

TEST_CASE("qualities round-trip through names and codes") {
    for (int code = 0; code < 200; ++code) {
        const auto quality = fw::quality_from_code(code);
        if (!quality) continue;
        CHECK(fw::quality_from_name(fw::quality_name(*quality)) == quality);
    }
    CHECK(fw::quality_from_code(0x02) == fw::Quality::illegal_data_address);
    CHECK(fw::quality_name(fw::Quality::gateway_target_failed) == "gateway_target_failed");
    CHECK_FALSE(fw::quality_from_code(55));
}

TEST_CASE("drop_oldest queue evicts the oldest item and counts it") {
    fw::BoundedQueue<int> queue(3, fw::OverflowPolicy::drop_oldest);
    CHECK_FALSE(queue.push(1));
    CHECK_FALSE(queue.push(2));
    CHECK_FALSE(queue.push(3));
    const auto evicted = queue.push(4);
    REQUIRE(evicted);
    CHECK(*evicted == 1);
    CHECK(queue.dropped() == 1);
    CHECK(queue.drain() == std::vector<int>{2, 3, 4});
}

TEST_CASE("block queue makes the producer wait instead of dropping") {
    fw::BoundedQueue<int> queue(1, fw::OverflowPolicy::block);
    CHECK_FALSE(queue.push(1));
    std::thread producer([&] { CHECK_FALSE(queue.push(2)); });
    std::vector<int> received;
    while (received.size() < 2) {
        for (int item : queue.pop_all(50ms)) received.push_back(item);
    }
    producer.join();
    CHECK(received == std::vector<int>{1, 2});
    CHECK(queue.dropped() == 0);
}

TEST_CASE("closing a queue wakes a waiting consumer and refuses later pushes") {
    fw::BoundedQueue<int> queue(4, fw::OverflowPolicy::block);
    std::thread closer([&] {
        std::this_thread::sleep_for(20ms);
        queue.close();
    });
    CHECK(queue.pop_all(10s).empty());
    closer.join();
    const auto refused = queue.push(7);
    REQUIRE(refused);
    CHECK(*refused == 7);
}

TEST_CASE("log rate limiter lets one line per key per interval through and counts the rest") {
    fw::LogRateLimiter limiter(60s);
    const auto start = std::chrono::steady_clock::time_point{} + 1h;
    CHECK(limiter.admit("a", start) == 0u);
    CHECK_FALSE(limiter.admit("a", start + 1s));
    CHECK_FALSE(limiter.admit("a", start + 2s));
    CHECK(limiter.admit("b", start + 2s) == 0u);
    CHECK(limiter.admit("a", start + 61s) == 2u);
}

TEST_CASE("log levels parse by name") {
    CHECK(fw::log_level_from_name("warning") == fw::LogLevel::warning);
    CHECK_FALSE(fw::log_level_from_name("loud"));
}
