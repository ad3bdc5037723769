# Shared part of cross/aarch64.cmake and cross/armhf.cmake: Debian's cross compiler for
# FW_CROSS_TRIPLET, compiling and linking against the sysroot cross/prepare.sh unpacked for
# FW_CROSS_DEBIAN_ARCH, and qemu-user as the emulator CTest wraps every test binary with.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${FW_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${FW_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${FW_CROSS_TRIPLET})

# The sysroot's location: -DFW_CROSS_ROOT=..., else $FW_CROSS_ROOT, else cross/prepare.sh's default.
# Cached so that try_compile and re-runs of CMake see the same folder.
if(NOT FW_CROSS_ROOT)
    if(DEFINED ENV{FW_CROSS_ROOT})
        set(FW_CROSS_ROOT $ENV{FW_CROSS_ROOT})
    else()
        set(FW_CROSS_ROOT /var/cache/floorwatch-cross)
    endif()
endif()
set(FW_CROSS_ROOT ${FW_CROSS_ROOT} CACHE PATH "Where cross/prepare.sh put the target sysroots")
set(FW_CROSS_SYSROOT ${FW_CROSS_ROOT}/sysroot-${FW_CROSS_DEBIAN_ARCH})
if(NOT EXISTS ${FW_CROSS_SYSROOT}/.floorwatch-packages)
    message(FATAL_ERROR "No ${FW_CROSS_DEBIAN_ARCH} sysroot in ${FW_CROSS_SYSROOT}: run "
        "`bash cross/prepare.sh` (as root) first, or point FW_CROSS_ROOT at its folder")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FW_CROSS_ROOT)

set(CMAKE_SYSROOT ${FW_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH ${FW_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the target's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${FW_CROSS_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    "${FW_CROSS_SYSROOT}/usr/lib/${FW_CROSS_TRIPLET}/pkgconfig:${FW_CROSS_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Test binaries run under qemu-user with the sysroot as the target's library root (-L): the
# dynamic loader and every shared library then come from the target's packages.
set(CMAKE_CROSSCOMPILING_EMULATOR ${FW_CROSS_QEMU} -L ${FW_CROSS_SYSROOT})
