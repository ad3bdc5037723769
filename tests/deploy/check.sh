# Sourced by the deploy tests: `check WHAT COMMAND...` runs one check, prints ok/FAIL and counts
# failures, so a test reports every problem before it exits with `finish NAME`.
failures=0
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what" >&2
        failures=$((failures + 1))
    fi
}
finish() {
    echo "$1: $failures failure(s)"
    [ "$failures" -eq 0 ]
}
