# Cross-compiling floorwatch for 64-bit ARM (Debian arm64) gateways:
#   bash cross/prepare.sh aarch64 && bash cross/build.sh aarch64
# or by hand: cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cross/aarch64.cmake
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(FW_CROSS_TRIPLET aarch64-linux-gnu)
set(FW_CROSS_DEBIAN_ARCH arm64)
set(FW_CROSS_QEMU /usr/bin/qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
