#!/usr/bin/env bash
# Formats every tracked C++ file (*.cpp, *.hpp) with the repo's .clang-format, or, with --check,
# changes nothing and fails listing the files that are not formatted (scripts/test.sh runs that
# first). clang-format 14 (Debian 12's) is the reference: other versions format some constructs
# differently. CLANG_FORMAT=/path/to/clang-format-14 picks another binary.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/format.sh [--check]" >&2; }
check=false
case "${1:-}" in
    --check) check=true ;;
    "") ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
esac

clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null; then
    echo "format: $clang_format not found; bash scripts/install-deps.sh installs it" >&2
    exit 2
fi
version=$("$clang_format" --version)
if [[ $version != *" version 14."* ]]; then
    echo "format: $version is not clang-format 14, which the tree is formatted with;" \
        "set CLANG_FORMAT to a clang-format 14 binary" >&2
    exit 2
fi

mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp')
if ! $check; then
    printf '%s\0' "${files[@]}" | xargs -0 -n 32 -P 2 "$clang_format" -i
    echo "format: ${#files[@]} files formatted"
    exit 0
fi
# --dry-run -Werror prints each difference as an error and fails the file.
if ! printf '%s\0' "${files[@]}" | xargs -0 -n 32 -P 2 "$clang_format" --dry-run -Werror; then
    echo "format: the files above are not formatted; run: bash scripts/format.sh" >&2
    exit 1
fi
echo "format: ${#files[@]} files checked, all formatted"
