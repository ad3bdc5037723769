#!/usr/bin/env bash
# clang-tidy with the repo's .clang-tidy over the project's own sources, using a build's
# compile_commands.json (default build/dev, configured here if it has none). Every finding is an
# error; the run ends with the number of findings per check and exits 1 if there are any.
#
#   bash scripts/tidy.sh                      every source file of build/dev
#   bash scripts/tidy.sh build/ci             another build folder
#   bash scripts/tidy.sh build/dev rules/engine.cpp daemon/cli/main.cpp   only these files
#
# clang-tidy 16 (Debian 12's clang-tidy-16): clang-tidy 14 cannot parse all of our C++20 (it
# refuses lambdas that capture structured bindings). CLANG_TIDY=/path/to/clang-tidy picks another
# binary; TIDY_JOBS sets the parallel runs (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=${1:-build/dev}
shift || true
clang_tidy=${CLANG_TIDY:-clang-tidy-16}
jobs=${TIDY_JOBS:-2}
if ! command -v "$clang_tidy" >/dev/null; then
    echo "tidy: $clang_tidy not found; bash scripts/install-deps.sh installs it" >&2
    exit 2
fi
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# A built tree: the generated headers (embedded schemas and migrations) must exist.
cmake --build "$build" -j"$jobs" >/dev/null

if [ $# -gt 0 ]; then
    files=("$@")
else
    # Every translation unit of the build that lives in the repository's own folders.
    mapfile -t files < <(/usr/bin/python3 - "$build/compile_commands.json" "$root" <<'PY'
import json, os, sys
root = sys.argv[2] + "/"
mine = ("bench/", "daemon/", "drivers/", "rules/", "tests/")
seen = []
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root) and path[len(root):].startswith(mine) and path not in seen:
        seen.append(path)
        print(path[len(root):])
PY
    )
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$SECONDS
# One file per run. The compile commands are GCC's, and compiler warnings are GCC's job in our
# builds (-Werror there): clang's are silenced (-w), so only the checks of .clang-tidy speak. A run that clang-tidy cannot finish is reported, and never stops the others
# (xargs gives up on a child killed by a signal or exiting 255).
tidy_one() {
    local status=0 errors
    errors=$(mktemp)
    "$clang_tidy" -p "$build" --quiet --extra-arg=-w "$1" 2>"$errors" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "tidy: clang-tidy failed on $1 (exit status $status):"
        grep -v "warnings generated" "$errors" | head -20
        echo "$1: tidy-failure [clang-tidy-did-not-finish]"
    fi
    rm -f "$errors"
}
export -f tidy_one
export clang_tidy build
printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$jobs" bash -c 'tidy_one "$1"' tidy | tee "$log"
elapsed=$((SECONDS - started))

# One finding per "file:line:col: error: message [check]" line; a header included by several
# files is reported once.
counts=$(grep -E '(^/.*:[0-9]+:[0-9]+: (error|warning): .*|: tidy-failure) \[[a-z0-9.,-]+\]$' "$log" |
    sort -u |
    sed -E 's/.*\[([a-z0-9.-]+)(,-warnings-as-errors)?\]$/\1/' | sort | uniq -c | sort -rn || true)
echo "== tidy: ${#files[@]} file(s) in ${elapsed} s with $jobs job(s)"
if [ -z "$counts" ]; then
    echo "tidy: no findings"
    exit 0
fi
echo "findings per check:"
echo "$counts"
echo "total: $(echo "$counts" | awk '{ sum += $1 } END { print sum }')"
exit 1
