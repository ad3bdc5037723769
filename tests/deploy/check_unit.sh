#!/usr/bin/env bash
# Checks systemd/floorwatch.service with systemd's own tools and prints its exposure score:
#   - `systemd-analyze verify` on the unit, alone and with the serial drop-in (systemd/serial.conf);
#   - `systemd-analyze security --offline=true`: exposure must stay <= 2.0 (printed either way).
# verify needs ExecStart's program to exist, so the unit is checked from a copy whose ExecStart
# names the freshly built floorwatchd; every other line is the shipped one (package_test.sh checks
# that the package puts floorwatchd where the real ExecStart expects it).
#
# Usage: check_unit.sh SOURCE_DIR FLOORWATCHD_BINARY
set -euo pipefail
source_dir=${1:?usage: check_unit.sh SOURCE_DIR FLOORWATCHD_BINARY}
daemon=${2:?usage: check_unit.sh SOURCE_DIR FLOORWATCHD_BINARY}
max_exposure=2.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unit="$work/floorwatch.service"
sed "s|^ExecStart=/usr/bin/floorwatchd |ExecStart=$daemon |" \
    "$source_dir/systemd/floorwatch.service" >"$unit"
grep -q "^ExecStart=$daemon --config /etc/floorwatch/floorwatch.yaml$" "$unit" || {
    echo "FAIL: the unit's ExecStart is not /usr/bin/floorwatchd --config /etc/floorwatch/floorwatch.yaml" >&2
    exit 1
}

# shellcheck source=tests/deploy/check.sh
source "$(dirname "$0")/check.sh"

exposure_of() {
    systemd-analyze security --offline=true --no-pager "$1" 2>&1 |
        sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p'
}

check "systemd-analyze verify floorwatch.service" systemd-analyze verify "$unit"
score=$(exposure_of "$unit")
echo "systemd-analyze security floorwatch.service: exposure $score (target <= $max_exposure)"
check "exposure $score <= $max_exposure" awk -v s="$score" -v m="$max_exposure" \
    'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'

# The serial drop-in, as plant IT installs it (floorwatch.service.d/serial.conf).
mkdir "$work/floorwatch.service.d"
cp "$source_dir/systemd/serial.conf" "$work/floorwatch.service.d/serial.conf"
check "systemd-analyze verify floorwatch.service + serial.conf" systemd-analyze verify "$unit"
serial_score=$(exposure_of "$unit")
echo "with the serial drop-in (PrivateDevices=no, DeviceAllow serial ports): exposure $serial_score"

# What the unit promises, which the daemon and the package rely on.
for line in Type=notify WatchdogSec= 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
    User=floorwatch StateDirectory=floorwatch StateDirectoryMode=0750 \
    ConfigurationDirectory=floorwatch CapabilityBoundingSet= NoNewPrivileges=yes \
    ProtectSystem=strict 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    SystemCallFilter=@system-service; do
    check "unit has $line" grep -qxF -e "$line" -e "${line}30s" "$source_dir/systemd/floorwatch.service"
done

finish check_unit
