# Cross-compiling floorwatch for 32-bit ARM with hardware floating point (Debian armhf, ARMv7)
# gateways: bash cross/prepare.sh armhf && bash cross/build.sh armhf
# or by hand: cmake -S . -B build/armhf -DCMAKE_TOOLCHAIN_FILE=cross/armhf.cmake
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(FW_CROSS_TRIPLET arm-linux-gnueabihf)
set(FW_CROSS_DEBIAN_ARCH armhf)
set(FW_CROSS_QEMU /usr/bin/qemu-arm-static)
# GCC notes on every std::vector iterator passed by value that its ARM ABI changed in GCC 7.1;
# everything here is built with GCC 12, so the notes only bury real warnings.
set(CMAKE_CXX_FLAGS_INIT -Wno-psabi)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
