#!/usr/bin/env bash
# Installs every Debian 12 package that building, running the demo and testing floorwatch need.
# Idempotent: packages already present are left alone, and apt-get update runs only when something
# is missing (so a second run on a prepared machine takes a second, not a minute).
set -euo pipefail

# The lists, shared with cross/prepare.sh.
# shellcheck source=scripts/packages.sh
source "$(dirname "$0")/packages.sh"
packages=("${fw_host_packages[@]}" "${fw_library_packages[@]}")

fw_install_missing install-deps "${packages[@]}"
