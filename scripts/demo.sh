#!/usr/bin/env bash
# The demo plant: installs what is needed, builds, and runs floorwatchd against simulated sensors
# (examples/demo/): three presses on Modbus TCP and two pumps on Modbus RTU over a pty pair.
# Prints the latest readings every 15 s and injects a device fault so the health handling shows.
# Runs until Ctrl-C, or for DEMO_SECONDS seconds when that is set.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFW_BUILD_TESTS=OFF \
    -DFW_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j2

bin=build/release
demo=build/demo
mkdir -p "$demo"
rm -f "$demo"/line1.ready "$demo"/pumps.ready "$demo"/mqtt-sim.ready
pids=()

cleanup() {
    trap - EXIT INT TERM
    echo
    echo "demo: stopping"
    # floorwatchd first, so it flushes to the store while the simulators still answer.
    [ -n "${daemon_pid:-}" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" || true
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo: the readings stay in $demo/floorwatch.db; try:"
    echo "  $bin/daemon/floorwatch samples --db $demo/floorwatch.db --channel press2.vibration --since 5m"
}
trap cleanup EXIT INT TERM

wait_for() {  # wait_for FILE SECONDS
    for _ in $(seq 1 $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
    echo "demo: $1 did not appear" >&2
    return 1
}

# The RS-485 line: a pty pair, the simulator on one end, floorwatchd on the other.
socat pty,raw,echo=0,link="$demo/pumps-sim" pty,raw,echo=0,link="$demo/pumps" &
pids+=($!)
wait_for "$demo/pumps-sim" 5
wait_for "$demo/pumps" 5

$bin/tests/sim/floorwatch-sim --config examples/demo/line1-sim.yaml \
    --ready-file "$demo/line1.ready" --control "$demo/line1.sock" &
pids+=($!)
$bin/tests/sim/floorwatch-sim --config examples/demo/pumps-sim.yaml \
    --ready-file "$demo/pumps.ready" --control "$demo/pumps.sock" &
pids+=($!)
wait_for "$demo/line1.ready" 10
wait_for "$demo/pumps.ready" 10

# The MQTT side: a Mosquitto on loopback port 18830 and a simulated vibration puck and logistics
# system publishing to it (examples/demo/mqtt-sim.yaml).
cat > "$demo/mosquitto.conf" <<EOF_CONF
listener 18830 127.0.0.1
allow_anonymous true
persistence false
log_dest file $PWD/$demo/mosquitto.log
EOF_CONF
if [ "$(id -u)" -eq 0 ]; then echo "user root" >> "$demo/mosquitto.conf"; fi
/usr/sbin/mosquitto -c "$demo/mosquitto.conf" &
pids+=($!)
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/18830) 2>/dev/null && break; sleep 0.1; done
$bin/tests/sim/floorwatch-mqtt-sim --config examples/demo/mqtt-sim.yaml \
    --ready-file "$demo/mqtt-sim.ready" &
pids+=($!)
wait_for "$demo/mqtt-sim.ready" 10

$bin/daemon/floorwatchd --check-config examples/demo/floorwatch.yaml
$bin/daemon/floorwatchd --config examples/demo/floorwatch.yaml &
daemon_pid=$!

cli() { $bin/daemon/floorwatch "$@" --db "$demo/floorwatch.db"; }
show() {
    echo
    echo "---- $(date -u +%H:%M:%S) latest readings (floorwatch channels) ----"
    cli channels || true
    echo "---- device health (floorwatch devices) ----"
    cli devices || true
    echo "---- MQTT inputs (floorwatch mqtt) and the latest plant events (floorwatch events) ----"
    cli mqtt || true
    cli events --since 2m || true
    echo
}

started=$SECONDS
fault_on=45
fault_off=90
while true; do
    sleep 15
    kill -0 "$daemon_pid" 2>/dev/null || { echo "demo: floorwatchd exited" >&2; exit 1; }
    elapsed=$((SECONDS - started))
    if [ "$elapsed" -ge "$fault_on" ] && [ "$elapsed" -lt $((fault_on + 15)) ]; then
        echo "demo: press-3's sensor module stops answering (fault no_reply) — watch it go offline"
        $bin/tests/sim/floorwatch-sim ctl --control "$demo/line1.sock" fault press-3 no_reply
    fi
    if [ "$elapsed" -ge "$fault_off" ] && [ "$elapsed" -lt $((fault_off + 15)) ]; then
        echo "demo: press-3 answers again (fault none)"
        $bin/tests/sim/floorwatch-sim ctl --control "$demo/line1.sock" fault press-3 none
    fi
    show
    if [ -n "${DEMO_SECONDS:-}" ] && [ "$elapsed" -ge "$DEMO_SECONDS" ]; then break; fi
done
