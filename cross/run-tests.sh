#!/usr/bin/env bash
# Runs the unit tests of a cross build (cross/build.sh) on this machine under qemu-user: the
# toolchain file set CMAKE_CROSSCOMPILING_EMULATOR to `qemu-<arch>-static -L <target sysroot>`, and
# CTest puts it in front of every test binary (FW_SOURCE_DIR and FW_BUILD_DIR set as usual). Tests
# that are scripts (the JSON Schema check) run on the host's python3.
#
# Usage: cross/run-tests.sh BUILD_DIR [extra ctest arguments]
set -euo pipefail
build_dir=${1:?usage: cross/run-tests.sh BUILD_DIR [ctest arguments]}
shift
toolchain=$(sed -n 's/^CMAKE_TOOLCHAIN_FILE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [ -z "$toolchain" ]; then
    echo "cross/run-tests.sh: $build_dir is not a cross build (run cross/build.sh first)" >&2
    exit 1
fi
qemu=$(sed -n 's/^set(FW_CROSS_QEMU \(.*\))$/\1/p' "$toolchain")
if [ ! -x "$qemu" ]; then
    echo "cross/run-tests.sh: $qemu is missing; run cross/prepare.sh" >&2
    exit 1
fi
echo "cross/run-tests.sh: unit tests of $build_dir under $qemu"
ctest --test-dir "$build_dir" -L unit --output-on-failure -j2 "$@"
