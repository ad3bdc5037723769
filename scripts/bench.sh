#!/usr/bin/env bash
# Builds the benchmarks in a release build and runs them; each prints its figures next to a
# baseline measured in the same run (see bench/README.md). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFW_BUILD_TESTS=OFF \
    -DFW_BUILD_BENCH=ON >/dev/null
cmake --build build/release -j2 --target store_bench poll_bench floorwatch-sim mqtt_bench floorwatchd rules_bench alarm_latency_bench http_bench sync_bench
echo "== store_bench"
build/release/bench/store_bench "${STORE_BENCH_SAMPLES:-1000000}"
echo
echo "== poll_bench"
build/release/bench/poll_bench "${POLL_BENCH_DEVICES:-20}" "${POLL_BENCH_POINTS:-60}" 8
echo
echo "== mqtt_bench"
build/release/bench/mqtt_bench "${MQTT_BENCH_MESSAGES:-200000}" "${MQTT_BENCH_CHANNELS:-100}"
echo
echo "== rules_bench"
build/release/bench/rules_bench
echo
echo "== alarm_latency_bench"
build/release/bench/alarm_latency_bench "${ALARM_BENCH_CROSSINGS:-300}"

echo "== http_bench"
build/release/bench/http_bench "${HTTP_BENCH_ORDERS:-10000}" "${HTTP_BENCH_REQUESTS:-400}"

echo "== sync_bench"
build/release/bench/sync_bench "${SYNC_BENCH_EVENTS:-100000}" "${SYNC_BENCH_GATEWAYS:-1000}"
