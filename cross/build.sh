#!/usr/bin/env bash
# Cross-builds floorwatch for one target with the toolchain file cross/<target>.cmake, against the
# sysroot cross/prepare.sh made: floorwatchd, floorwatch, floorwatch-sim and every test binary
# labelled `unit` (the ones cross/run-tests.sh runs under qemu). Integration tests and benchmarks
# are not built: they need the target's own machine.
#
# Usage: cross/build.sh aarch64|armhf [BUILD_DIR]     (default build/<target>)
# Env: FW_CROSS_BUILD_TYPE (default Release, at -O2), FW_CROSS_JOBS (default 2), FW_CROSS_ROOT.
# Then: cross/run-tests.sh BUILD_DIR, or cpack in BUILD_DIR for the .deb.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)

target=${1:-}
case "$target" in
    aarch64 | armhf) ;;
    *)
        echo "usage: cross/build.sh aarch64|armhf [BUILD_DIR]" >&2
        exit 2
        ;;
esac
build_dir=${2:-$source_dir/build/$target}

# Release at -O2, the optimisation level of the native CI build (RelWithDebInfo), without its debug
# info: GCC 12 at -O3 reports false -Wrestrict errors inside std::string (GCC bug 105651) that the
# native build, and so its authors, never see.
cmake -S "$source_dir" -B "$build_dir" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$source_dir/cross/$target.cmake" \
    -DCMAKE_BUILD_TYPE="${FW_CROSS_BUILD_TYPE:-Release}" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DFW_WARNINGS_AS_ERRORS=ON -DFW_BUILD_BENCH=OFF

# The unit test binaries, as CTest knows them: each command is "<qemu> -L <sysroot> <binary> ...".
mapfile -t unit_binaries < <(ctest --test-dir "$build_dir" -L unit --show-only=json-v1 |
    python3 -c '
import json, os, sys
for test in json.load(sys.stdin)["tests"]:
    command = test.get("command", [])
    if len(command) >= 4 and command[1] == "-L":
        print(os.path.basename(command[3]))
')
echo "cross/build.sh: building floorwatchd floorwatch floorwatch-sim ${unit_binaries[*]}"
cmake --build "$build_dir" -j "${FW_CROSS_JOBS:-2}" --target floorwatchd floorwatch floorwatch-sim \
    "${unit_binaries[@]}"

# Stripped sizes: what a gateway gets in the package (cpack strips the same way).
strip_tool=$(sed -n 's/^CMAKE_STRIP:FILEPATH=//p' "$build_dir/CMakeCache.txt")
for binary in daemon/floorwatchd daemon/floorwatch tests/sim/floorwatch-sim; do
    stripped=$(mktemp)
    "$strip_tool" -o "$stripped" "$build_dir/$binary"
    printf 'cross/build.sh: %s %s: %s bytes stripped (%s bytes as built)\n' "$target" \
        "$(basename "$binary")" "$(stat -c %s "$stripped")" "$(stat -c %s "$build_dir/$binary")"
    rm -f "$stripped"
done
