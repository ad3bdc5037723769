#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs what is needed, checks that every C++
# file is formatted (scripts/format.sh --check), builds the release build with warnings as errors
# and runs clang-tidy over it (scripts/tidy.sh), runs the unit tests under ASan/UBSan, the ARM
# cross builds (aarch64 unit tests under qemu), then every test (unit and integration) in the
# release build. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# First, because it takes seconds and a formatting slip should not wait for a 20-minute run.
echo "== formatting (clang-format 14, .clang-format)"
bash scripts/format.sh --check

# ccache (CMakeLists.txt, FW_CCACHE): paths relative to the repository, so a fresh clone in another
# folder hits the cache the previous run left; the working directory is not hashed for the same
# reason (debug info names it, which only gdb reads).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

# The release build early, so that clang-tidy (a few minutes; every finding is an error) can use
# its compile_commands.json and a finding fails the run before the sanitizer and cross builds.
# Its tests run last.
echo "== release build"
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFW_WARNINGS_AS_ERRORS=ON \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
cmake --build build/ci -j2

echo "== clang-tidy (.clang-tidy) over the release build's sources"
bash scripts/tidy.sh build/ci

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFW_SANITIZE=ON \
    -DFW_WARNINGS_AS_ERRORS=ON -DFW_BUILD_BENCH=OFF
cmake --build build/asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan -L unit --output-on-failure -j2

# Cross builds for the ARM gateways (cross/, README "Cross builds and packages"): aarch64 is built
# and its unit tests run under qemu-aarch64-static; armhf is built. The prints at the end are the
# time this part took and the stripped binary sizes.
echo "== cross: aarch64 (unit tests under qemu) and armhf (build)"
cross_started=$SECONDS
bash cross/prepare.sh aarch64 armhf
bash cross/build.sh aarch64 build/aarch64
bash cross/run-tests.sh build/aarch64
bash cross/build.sh armhf build/armhf
echo "== cross part took $((SECONDS - cross_started)) s"

# Last, so the suite's summary is what a run ends with.
echo "== every test, release build"
ctest --test-dir build/ci --output-on-failure
