#!/usr/bin/env bash
# Prepares this Debian 12 (amd64) machine to cross-build floorwatch for ARM gateways, from Debian's
# own packages only:
#   - the cross compiler of each target (g++-aarch64-linux-gnu, g++-arm-linux-gnueabihf) and
#     qemu-user-static, installed on the host with apt-get;
#   - a sysroot per target: the target's -dev packages and everything they depend on, resolved by
#     apt for the target architecture, fetched as .debs and unpacked with dpkg -x into
#     $FW_CROSS_ROOT/sysroot-<arch> (default /var/cache/floorwatch-cross). The toolchain files
#     (cross/*.cmake) compile against it and cross/run-tests.sh runs binaries with it as qemu's -L.
#
# Why a sysroot rather than dpkg multiarch (dpkg --add-architecture + apt-get install pkg:arm64):
# multiarch needs every Multi-Arch: same library at exactly the host's version for each target,
# which breaks whenever the host has a security update that the target's index does not have yet
# (libssl3, liblzma5, ...), and libyaml-cpp-dev cannot be co-installed at all on Debian 12. A
# failing foreign index also makes the host's own `apt-get update` fail. The target's apt runs here
# with its own state folder, so the host's package set and apt lists are never touched.
#
# Usage: cross/prepare.sh [aarch64|armhf]...   (no argument: both)
# Idempotent: a sysroot is rebuilt only when its package list changes.
set -euo pipefail
cd "$(dirname "$0")/.."

# What floorwatch builds against, as the target's packages: the libraries of scripts/packages.sh
# (the one list, shared with scripts/install-deps.sh) and the sysroot's C and C++ libraries.
# shellcheck source=scripts/packages.sh
source scripts/packages.sh
target_packages=("${fw_sysroot_packages[@]}" "${fw_library_packages[@]}")
cross_root=${FW_CROSS_ROOT:-/var/cache/floorwatch-cross}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(aarch64 armhf); fi

host_packages=(qemu-user-static)
for target in "${targets[@]}"; do
    case "$target" in
        aarch64) host_packages+=(g++-aarch64-linux-gnu) ;;
        armhf) host_packages+=(g++-arm-linux-gnueabihf) ;;
        *)
            echo "cross/prepare.sh: unknown target '$target' (expected aarch64 or armhf)" >&2
            exit 2
            ;;
    esac
done

fw_install_missing cross/prepare.sh "${host_packages[@]}"

# Debian's own archive entries of the host (the files signed with Debian's archive key): the target
# fetches from the same mirrors, never from third-party repositories the host may also use.
debian_sources() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        if grep -q 'debian-archive-keyring' "$file" ||
            grep -qE '^deb .*/debian(-security)? ' "$file"; then
            echo "$file"
        fi
    done
}

# Rewrites absolute symlinks inside the sysroot (/lib/ld-linux-aarch64.so.1 -> /lib/...) to
# relative ones, so they resolve inside the sysroot for the linker and for qemu -L.
relativize_links() {
    local sysroot=$1 link target
    while IFS= read -r -d '' link; do
        target=$(readlink "$link")
        case "$target" in
            /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$target")" "$link" ;;
        esac
    done < <(find "$sysroot" -type l -print0)
}

prepare_sysroot() {
    local arch=$1
    local sysroot="$cross_root/sysroot-$arch"
    local apt_root="$cross_root/apt-$arch"
    # The stamp names the package list and the layout version: a change to either rebuilds.
    local wanted="layout 2: ${target_packages[*]}"
    if [ -f "$sysroot/.floorwatch-packages" ] &&
        [ "$(cat "$sysroot/.floorwatch-packages")" = "$wanted" ]; then
        echo "cross/prepare.sh: $sysroot is ready"
        return
    fi

    rm -rf "$apt_root" "$sysroot"
    mkdir -p "$apt_root"/{lists/partial,archives/partial,sources.list.d,preferences.d} "$sysroot"
    : >"$apt_root/status"
    local file
    while IFS= read -r file; do cp "$file" "$apt_root/sources.list.d/"; done < <(debian_sources)
    if [ -z "$(ls "$apt_root/sources.list.d")" ]; then
        echo "cross/prepare.sh: no Debian archive in /etc/apt/sources.list*; cannot fetch $arch" >&2
        exit 1
    fi
    local -a apt_options=(
        -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
        -o "Dir::State=$apt_root" -o "Dir::State::status=$apt_root/status"
        -o "Dir::Cache=$apt_root" -o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::Etc::SourceParts=$apt_root/sources.list.d"
        -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_root/preferences.d"
        -o "APT::Install-Recommends=false" -o "Debug::NoLocking=true"
    )
    echo "cross/prepare.sh: fetching the $arch packages into $sysroot"
    # A mirror in the middle of a sync can fail one index (seen: bookworm-security armhf); the
    # others still give a consistent set to build against, so go on and let the install step
    # fail clearly if a package cannot be had.
    if ! apt-get "${apt_options[@]}" update -qq; then
        echo "cross/prepare.sh: apt-get update for $arch reported errors; going on with" \
            "the indexes it fetched" >&2
    fi
    # With an empty status file apt resolves the whole dependency closure for the target.
    apt-get "${apt_options[@]}" install -y -qq --download-only "${target_packages[@]}" >/dev/null
    # Each package's shlibs file says which package provides a library (cmake/FwPackagingCross.cmake
    # turns the binaries' NEEDED entries into the .deb's Depends with it).
    local deb control
    control=$(mktemp -d)
    for deb in "$apt_root"/archives/*.deb; do
        dpkg -x "$deb" "$sysroot"
        rm -rf "${control:?}"/*
        dpkg-deb -e "$deb" "$control"
        if [ -f "$control/shlibs" ]; then
            grep -vE '^\s*(#|$)' "$control/shlibs" >>"$sysroot/.floorwatch-shlibs" || true
        fi
    done
    rm -rf "$control"
    relativize_links "$sysroot"
    rm -rf "$apt_root"
    echo "$wanted" >"$sysroot/.floorwatch-packages"
    echo "cross/prepare.sh: $sysroot ready ($(du -sh "$sysroot" | cut -f1))"
}

mkdir -p "$cross_root"
for target in "${targets[@]}"; do
    case "$target" in
        aarch64) prepare_sysroot arm64 ;;
        armhf) prepare_sysroot armhf ;;
    esac
done
