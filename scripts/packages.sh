# Every Debian 12 package floorwatch needs, each named once. Sourced (not run) by
# scripts/install-deps.sh, which installs this machine's, and cross/prepare.sh, which fetches the
# ARM targets' into their sysroots.
#
#   libraries   the code includes or links them: this machine and every target
#   host        this machine only: toolchain, tests, demo
#   sysroot     targets only
# shellcheck shell=bash disable=SC2034  # the sourcing scripts use the lists

# DESIGN.md "Conventions". A library added here reaches both scripts. libpq (the client library
# only) is for the central store on PostgreSQL (daemon/store/pg); CLI11 (header-only) for the
# command lines of floorwatch, floorwatchd and floorwatch-sim; libsodium for the web page's
# Argon2id password hashes and session tokens (daemon/http).
fw_library_packages=(
    libmodbus-dev libsqlite3-dev libboost1.81-dev libboost-json1.81-dev libyaml-cpp-dev libfmt-dev
    libsystemd-dev libssl-dev libpaho-mqttpp-dev libpaho-mqtt-dev doctest-dev libpq-dev libcli11-dev
    libsodium-dev
)

fw_host_packages=(
    # toolchain
    build-essential cmake pkg-config ninja-build ccache clang-format
    # scripts/tidy.sh: clang-tidy 14 cannot parse all of our C++20
    clang-tidy-16
    # the store's shell, for looking into floorwatch.db by hand
    sqlite3
    # tests: RTU over a pty pair, schema validation of example configs
    socat python3-jsonschema python3-yaml
    # tests: systemd-analyze verify/security on the unit (tests/deploy)
    systemd
    # rule schedules: the plant's time zone is read from /usr/share/zoneinfo
    tzdata
    # MQTT driver tests, demo and bench: a real broker, its clients, certificates for the TLS tests
    mosquitto mosquitto-clients openssl
    # tests: a gateway whose wall clock starts at 1970 (libfaketime; sync_security_test.cpp)
    faketime
    # PostgreSQL tests: a throwaway server per test binary (tests/support/postgres.hpp)
    postgresql-15
    # the web page's charts, embedded in the daemon at build time (web/README.md)
    libjs-chart.js
    # browser tests of the page (tests/browser): a real headless Chromium driven by Selenium, and
    # CJK fonts so the Chinese screenshots are legible
    chromium chromium-driver python3-selenium fonts-wqy-zenhei
)

# The sysroot replaces the cross compiler's own target C and C++ libraries.
fw_sysroot_packages=(libc6-dev libstdc++-12-dev)

# Installs those of the named packages that are missing, as root, with one `apt-get update` and
# only when something is missing; says so with `label` first. Returns 1 (after saying which are
# missing) when not root. Both installing scripts use it, so they behave the same.
fw_install_missing() {
    local label=$1
    shift
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "$label: all $# packages present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "$label: missing packages: ${missing[*]}; run as root (or with sudo) to install them" >&2
        return 1
    fi
    echo "$label: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
