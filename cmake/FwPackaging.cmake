# Debian packages with CPack: `cpack -G DEB` in a build folder gives floorwatch_<version>_<arch>.deb
# for the architecture the folder was built for (amd64 natively; arm64 or armhf with a toolchain
# file from cross/). What goes in it, and where the unit expects it:
#   /usr/bin/floorwatchd, /usr/bin/floorwatch
#   /lib/systemd/system/floorwatch.service
#   /usr/lib/sysusers.d/floorwatch.conf, /usr/lib/tmpfiles.d/floorwatch.conf
#   /etc/floorwatch/floorwatch.yaml             (a conffile: upgrades keep local changes)
#   /usr/share/doc/floorwatch/                  (README, the Modbus README, serial.conf drop-in)
# The maintainer scripts (systemd/deb/) create the user and the state folder and enable nothing.
# tests/deploy/package_test.sh unpacks the package and checks all of this.

set(FW_SYSTEMD_SOURCE_DIR ${PROJECT_SOURCE_DIR}/systemd)

install(FILES ${FW_SYSTEMD_SOURCE_DIR}/floorwatch.service DESTINATION /lib/systemd/system)
install(FILES ${FW_SYSTEMD_SOURCE_DIR}/floorwatch.sysusers
    DESTINATION /usr/lib/sysusers.d RENAME floorwatch.conf)
install(FILES ${FW_SYSTEMD_SOURCE_DIR}/floorwatch.tmpfiles
    DESTINATION /usr/lib/tmpfiles.d RENAME floorwatch.conf)
install(FILES ${FW_SYSTEMD_SOURCE_DIR}/floorwatch.yaml DESTINATION /etc/floorwatch)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${FW_SYSTEMD_SOURCE_DIR}/serial.conf
    DESTINATION share/doc/floorwatch)
install(FILES ${PROJECT_SOURCE_DIR}/drivers/modbus/README.md
    DESTINATION share/doc/floorwatch RENAME README.modbus.md)

# The Debian architecture of what this folder builds.
if(CMAKE_CROSSCOMPILING)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
        set(FW_DEB_ARCHITECTURE arm64)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
        set(FW_DEB_ARCHITECTURE armhf)
    else()
        message(FATAL_ERROR "FwPackaging: no Debian architecture known for "
            "CMAKE_SYSTEM_PROCESSOR '${CMAKE_SYSTEM_PROCESSOR}'")
    endif()
else()
    execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE FW_DEB_ARCHITECTURE
        OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE dpkg_result)
    if(NOT dpkg_result EQUAL 0)
        set(FW_DEB_ARCHITECTURE amd64)
    endif()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME floorwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "floorwatch maintainers <floorwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge gateway daemon for plant-floor safety")
set(CPACK_PACKAGE_DESCRIPTION
    "floorwatchd polls vibration and temperature sensors over Modbus TCP and RTU and keeps every
reading, good or not and why not, in SQLite. It runs as the systemd service floorwatch.service
(not enabled on installation); the floorwatch command reads the store.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${FW_DEB_ARCHITECTURE})
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# systemd for the unit, systemd-sysusers and systemd-tmpfiles in the postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")

# Maintainer scripts, and the config file marked as a conffile.
set(fw_deb_control_dir ${PROJECT_BINARY_DIR}/deb-control)
file(MAKE_DIRECTORY ${fw_deb_control_dir})
file(WRITE ${fw_deb_control_dir}/conffiles "/etc/floorwatch/floorwatch.yaml\n")
foreach(script postinst prerm postrm)
    file(COPY ${FW_SYSTEMD_SOURCE_DIR}/deb/${script} DESTINATION ${fw_deb_control_dir}
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
            WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${fw_deb_control_dir}/conffiles
    ${fw_deb_control_dir}/postinst ${fw_deb_control_dir}/prerm ${fw_deb_control_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Library dependencies. Natively dpkg-shlibdeps finds them from the installed packages. A cross
# build's libraries come from the sysroot cross/prepare.sh unpacked, which dpkg does not know; it
# kept the packages' shlibs files there, and FwPackagingCross.cmake maps each library the binaries
# need (objdump -p: NEEDED) to its package at cpack time.
if(CMAKE_CROSSCOMPILING)
    set(CPACK_FW_OBJDUMP ${CMAKE_OBJDUMP})
    set(CPACK_FW_SHLIBS_FILE ${CMAKE_SYSROOT}/.floorwatch-shlibs)
    set(CPACK_FW_BINARIES ${PROJECT_BINARY_DIR}/daemon/floorwatchd
        ${PROJECT_BINARY_DIR}/daemon/floorwatch)
    set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/FwPackagingCross.cmake)
else()
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()

include(CPack)
