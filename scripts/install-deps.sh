#!/usr/bin/env bash
# Installs every Debian 12 package that building, running the demo and testing floorwatch need.
# Idempotent: packages already present are left alone, and apt-get update runs only when something
# is missing (so a second run on a prepared machine takes a second, not a minute).
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake pkg-config ninja-build ccache clang-format
    # libraries (DESIGN.md "Conventions")
    libmodbus-dev libsqlite3-dev sqlite3 libboost1.81-dev libboost-json1.81-dev
    libyaml-cpp-dev libfmt-dev doctest-dev libsystemd-dev libssl-dev
    libpaho-mqttpp-dev libpaho-mqtt-dev
    # command lines of floorwatch, floorwatchd and floorwatch-sim (header-only)
    libcli11-dev
    # the central store on PostgreSQL (daemon/store/pg): libpq, the client library only
    libpq-dev
    # tests: RTU over a pty pair, schema validation of example configs
    socat python3-jsonschema python3-yaml
    # tests: systemd-analyze verify/security on the unit (tests/deploy)
    systemd
    # rule schedules: the plant's time zone is read from /usr/share/zoneinfo
    tzdata
    # MQTT driver tests, demo and bench: a real broker, its clients, certificates for the TLS tests
    mosquitto mosquitto-clients openssl
    # PostgreSQL tests: a throwaway server per test binary (tests/support/postgres.hpp)
    postgresql-15
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root (or with sudo) to install them" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
