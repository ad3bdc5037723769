#!/usr/bin/env bash
# Builds the .deb of a build folder with cpack, unpacks it into a throwaway root (dpkg -x) and
# checks that every file lands where the unit, the sysusers/tmpfiles files and the default config
# expect it, that the config is a conffile, the maintainer scripts enable nothing, and the packaged
# floorwatchd accepts the packaged config.
#
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build_dir=${1:?usage: package_test.sh BUILD_DIR}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/deploy/check.sh
source "$(dirname "$0")/check.sh"

cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 || {
    cat "$work/cpack.log" >&2
    echo "FAIL: cpack" >&2
    exit 1
}
package=$(find "$work/out" -maxdepth 1 -name 'floorwatch_*.deb' | head -n 1)
[ -n "$package" ] || { echo "FAIL: cpack made no floorwatch_*.deb" >&2; exit 1; }
arch=$(dpkg --print-architecture)
echo "package: $(basename "$package") ($(stat -c %s "$package") bytes)"
check "package is for $arch" test "$(dpkg-deb -f "$package" Architecture)" = "$arch"
check "file name says $arch" test "$(basename "$package" | sed 's/.*_\(.*\)\.deb/\1/')" = "$arch"

root="$work/root"
dpkg -x "$package" "$root"
control="$work/control"
dpkg-deb -e "$package" "$control"

for path in usr/bin/floorwatchd usr/bin/floorwatch; do
    check "/$path is an executable" test -x "$root/$path"
    check "/$path is stripped" sh -c "! objdump -h '$root/$path' | grep -q '\.debug_info'"
done
for path in lib/systemd/system/floorwatch.service usr/lib/sysusers.d/floorwatch.conf \
    usr/lib/tmpfiles.d/floorwatch.conf etc/floorwatch/floorwatch.yaml \
    usr/share/doc/floorwatch/README.md usr/share/doc/floorwatch/serial.conf; do
    check "/$path is in the package" test -f "$root/$path"
done
check "no test or simulator binaries" sh -c "! find '$root' -name '*_tests' -o -name 'floorwatch-sim' | grep -q ."

# Where the unit expects things.
unit="$root/lib/systemd/system/floorwatch.service"
value_of() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
exec_start=$(value_of ExecStart)
program=${exec_start%% *}
config=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")
check "ExecStart's program $program is in the package" test -x "$root$program"
check "ExecStart's config $config is in the package" test -f "$root$config"
check "ConfigurationDirectory is the config's folder" \
    test "/etc/$(value_of ConfigurationDirectory)" = "$(dirname "$config")"
user=$(value_of User)
check "sysusers creates the unit's User=$user" \
    grep -qE "^u $user " "$root/usr/lib/sysusers.d/floorwatch.conf"
state_dir=/var/lib/$(value_of StateDirectory)
check "tmpfiles creates $state_dir for $user, mode $(value_of StateDirectoryMode)" \
    grep -qE "^d $state_dir $(value_of StateDirectoryMode) $user $user" \
    "$root/usr/lib/tmpfiles.d/floorwatch.conf"
check "the default store is in $state_dir" \
    grep -qE "^ +path: $state_dir/[a-z.]+\.db" "$root$config"
check "the packaged floorwatchd accepts the packaged config" \
    "$root$program" --check-config "$root$config"

# Control data.
check "$config is a conffile" grep -qx "$config" "$control/conffiles"
check "postinst runs systemd-sysusers" grep -q '^ *systemd-sysusers floorwatch.conf' "$control/postinst"
check "no maintainer script enables or starts the service" \
    sh -c "! grep -hE '^[^#]*systemctl +(enable|start|restart|reenable)' '$control'/postinst '$control'/prerm '$control'/postrm"
for script in postinst prerm postrm; do
    check "$script is valid sh" sh -n "$control/$script"
done
depends=$(dpkg-deb -f "$package" Depends)
echo "Depends: $depends"
for library in libmodbus5 libsqlite3-0 libyaml-cpp0.7 libsystemd0 systemd; do
    check "Depends names $library" grep -q "$library" <<<"$depends"
done

finish package_test
