#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs what is needed, builds with warnings as
# errors, runs the unit tests under ASan/UBSan, then every test (unit and integration) in a normal
# build. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFW_SANITIZE=ON \
    -DFW_WARNINGS_AS_ERRORS=ON -DFW_BUILD_BENCH=OFF
cmake --build build/asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan -L unit --output-on-failure -j2

echo "== every test, release build"
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFW_WARNINGS_AS_ERRORS=ON
cmake --build build/ci -j2
ctest --test-dir build/ci --output-on-failure
