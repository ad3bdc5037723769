#!/usr/bin/env bash
# Installs every Debian 12 package that building, running the demo and testing floorwatch need.
# Idempotent: packages already present are left alone, and apt-get update runs only when something
# is missing (so a second run on a prepared machine takes a second, not a minute).
set -euo pipefail

# The lists, shared with cross/prepare.sh.
# shellcheck source=scripts/packages.sh
source "$(dirname "$0")/packages.sh"
packages=("${fw_host_packages[@]}" "${fw_library_packages[@]}")

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
