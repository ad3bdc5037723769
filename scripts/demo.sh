#!/usr/bin/env bash
# The demo plant: installs what is needed, builds, and runs floorwatchd against simulated sensors
# (examples/demo/): three presses on Modbus TCP and two pumps on Modbus RTU over a pty pair, and a
# central floorwatch beside it (examples/demo/central.yaml) that the gateway syncs its work orders
# with. Prints the latest readings every 15 s, injects a device fault so the health handling shows,
# gives one approval from the office (the centre) and takes the broker down for a while so the
# sync backlog builds and drains; the floor's web page at http://127.0.0.1:8080/ and the office's
# (the centre's) at http://127.0.0.1:8081/ show the same plant live (logins printed at start).
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
    [ -n "${central_pid:-}" ] && kill -TERM "$central_pid" 2>/dev/null && wait "$central_pid" || true
    [ -n "${broker_pid:-}" ] && kill -TERM "$broker_pid" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo: the readings and orders stay in $demo/floorwatch.db; try:"
    echo "  $bin/daemon/floorwatch samples --db $demo/floorwatch.db --channel press2.vibration --since 5m"
    echo "and the centre's copy of every order in $demo/central.db:"
    echo "  $bin/daemon/floorwatch orders list --all --config examples/demo/central.yaml"
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
set_tcp_nodelay true
log_dest file $PWD/$demo/mosquitto.log
EOF_CONF
if [ "$(id -u)" -eq 0 ]; then echo "user root" >> "$demo/mosquitto.conf"; fi
start_broker() {
    /usr/sbin/mosquitto -c "$demo/mosquitto.conf" &
    broker_pid=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/18830) 2>/dev/null && break; sleep 0.1; done
}
start_broker
$bin/tests/sim/floorwatch-mqtt-sim --config examples/demo/mqtt-sim.yaml \
    --ready-file "$demo/mqtt-sim.ready" &
pids+=($!)
wait_for "$demo/mqtt-sim.ready" 10

# The centre first (role: central, examples/demo/central.yaml): the office's copy of every order.
$bin/daemon/floorwatchd --check-config examples/demo/central.yaml
$bin/daemon/floorwatchd --config examples/demo/central.yaml &
central_pid=$!
$bin/daemon/floorwatchd --check-config examples/demo/floorwatch.yaml
$bin/daemon/floorwatchd --config examples/demo/floorwatch.yaml &
daemon_pid=$!

cli() { $bin/daemon/floorwatch "$@" --db "$demo/floorwatch.db"; }
# Actions go to the daemon over its control socket (control.socket in the config).
act() { $bin/daemon/floorwatch "$@" --config examples/demo/floorwatch.yaml; }
# The same CLI against the centre: its store and its control socket (examples/demo/central.yaml).
centre() { $bin/daemon/floorwatch "$@" --config examples/demo/central.yaml; }

# The web pages (http: in both configs): every demo user gets the password <name>-demo on the
# gateway and on the centre, set the way plant IT would (`floorwatch user passwd NAME`; --stdin
# for a script).
for user in operator anna max tom; do
    for where in act centre; do
        for attempt in $(seq 1 50); do  # until the daemon answers on its control socket
            echo "$user-demo" | $where user passwd "$user" --stdin >/dev/null 2>&1 && break
            [ "$attempt" -eq 50 ] && { echo "demo: could not set $user's password" >&2; exit 1; }
            sleep 0.2
        done
    done
done
cat <<EOF_WEB

  The floor's page (this gateway):  http://127.0.0.1:8080/   (Prometheus: /metrics)
  The office's page (the centre):   http://127.0.0.1:8081/   every gateway's orders, Gateways view
  Sign in on either as   operator / operator-demo   (reporter, team lead)
                         anna / anna-demo           (safety)
                         max / max-demo             (manager)
                         tom / tom-demo             (technician: open it on a phone-sized window)
  The order walk below shows up on both pages as it happens; max's approval from the office
  reaches the floor's page within seconds.

EOF_WEB
show() {
    echo
    echo "---- $(date -u +%H:%M:%S) latest readings (floorwatch channels) ----"
    cli channels || true
    echo "---- device health (floorwatch devices) ----"
    cli devices || true
    echo "---- MQTT inputs (floorwatch mqtt) and the latest plant events (floorwatch events) ----"
    cli mqtt || true
    cli events --since 2m || true
    echo "---- alarms that are not normal (floorwatch alarms) and the last 15 s of changes ----"
    cli alarms || true
    cli alarms history --since 15s || true
    echo
}

# Alarms: an operator acknowledges what is unacknowledged once a minute (press-2's vibration
# alarm, pump-1's bearing), and shelves press-4's puck alarm for 10 minutes while a technician
# looks at it; the rest of the alarm life (raise, clear, suppress, stale) comes from the plant.
operate_alarms() {
    local elapsed=$1
    if [ $((elapsed % 60)) -lt 15 ]; then
        cli alarms --json | /usr/bin/python3 -c '
import json, sys
for alarm in json.load(sys.stdin):
    if alarm["state"] in ("unack_active", "rtn_unack") and alarm["rule"] != "press4-vibration":
        print(alarm["rule"], alarm["equipment"])' | while read -r rule equipment; do
            echo "demo: the operator acknowledges $rule on $equipment"
            act alarm ack "$rule" "$equipment" || true
        done
    fi
    if [ "$elapsed" -ge 120 ] && [ "$elapsed" -lt 135 ]; then
        echo "demo: press-4's puck alarm is shelved for 10 minutes while a technician checks the puck"
        act alarm shelve press4-vibration press-4 --for 10m --reason "technician checking the puck mounting" || true
    fi
}

# --- hazard work orders ---
# press2-vibration and pump1-bearing carry a `hazard:` block, so their alarms open orders. Every
# 15 s the demo walks press-2's order one step on: the operator (root, team_lead) and anna (safety)
# and max (manager) approve the three levels of a high-risk order, the operator assigns it to tom
# (technician), tom submits with a photo, anna rejects, tom resubmits, max accepts. Max gives his
# approval from the office, on the centre; it reaches the floor through sync. While tom submits,
# the broker is down: the floor keeps working and the backlog drains when it returns. The others
# act under their own uids (setpriv), as workflow.users in the demo configs maps them; group root
# lets them reach the 0660 control sockets.
as_user() {  # as_user UID floorwatch-args...   (on the gateway; CONFIG=central.yaml: the centre)
    local uid=$1; shift
    local config=${CONFIG:-examples/demo/floorwatch.yaml}
    if [ "$uid" -eq 0 ]; then $bin/daemon/floorwatch "$@" --config "$config"; else
        setpriv --reuid="$uid" --regid=0 --clear-groups $bin/daemon/floorwatch "$@" \
            --config "$config"
    fi
}
printf '\x89PNG\r\n\x1a\ndemo evidence photo' > "$demo/evidence.png"
order_step=0
walk_orders() {
    local order
    order=$(cli orders list --all --json | /usr/bin/python3 -c '
import json, sys
orders = [o for o in json.load(sys.stdin) if o["source"].get("rule_id") == "press2-vibration"]
print(orders[0]["number"] if orders else "")')
    [ -n "$order" ] || return 0
    local photo="$demo/evidence.png"
    case $order_step in
        0) echo "demo: press-2's vibration alarm opened $order; the operator (team lead) approves level 1"
           as_user 0 orders act "$order" approve ;;
        1) echo "demo: anna (safety) approves level 2"; as_user 64002 orders act "$order" approve
           echo "---- the centre has the order too (floorwatch orders list --config central.yaml) ----"
           centre orders list || true ;;
        2) echo "demo: max (manager) approves level 3 from the office, on the centre"
           CONFIG=examples/demo/central.yaml as_user 64003 orders act "$order" approve ;;
        3) echo "demo: the centre's approval reached the floor; the operator assigns $order to tom, due in 2 h"
           as_user 0 orders act "$order" assign --assignee tom --deadline 2h ;;
        4) echo "demo: the broker goes down for 30 s; tom submits the rectification with a photo anyway"
           kill -TERM "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null || true
           as_user 64004 orders act "$order" submit --note "mounting bolts replaced" --photo "$photo"
           sleep 2
           echo "---- floorwatch sync on the gateway: the backlog waits for the broker ----"
           cli sync || true ;;
        5) echo "demo: anna rejects: the bolts are not torqued (the broker is still down)"
           as_user 64002 orders act "$order" reject --reason "bolts not torqued to spec" ;;
        6) echo "demo: the broker is back; the backlog drains to the centre"
           start_broker
           for _ in $(seq 1 30); do  # the agent reconnects within reconnect_max (5 s), then drains
               [ "$(cli sync --json 2>/dev/null | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["backlog"])' 2>/dev/null)" = 0 ] && break
               sleep 1
           done
           echo "---- floorwatch sync on the gateway ----"; cli sync || true
           echo "---- floorwatch sync on the centre ----"; centre sync || true ;;
        7) echo "demo: tom resubmits"
           as_user 64004 orders act "$order" submit --note "torqued to 80 Nm" --photo "$photo" ;;
        8) echo "demo: max accepts; $order is closed"
           as_user 64003 orders act "$order" accept --note "checked on site" ;;
        9) echo "demo: tom reports a hazard himself, anonymously: the light curtain of press-1 is bridged"
           as_user 64004 report --equipment press-1 --type guarding --risk high \
               --description "light curtain bridged with a jumper" \
               --measures "press locked out, tagged" --anonymous
           echo "demo: anna records an incident and the hours worked in the last 7 days"
           as_user 64002 incidents record --description "cut finger at the coil cart" --area stamping
           as_user 64002 incidents hours --since 7d --until 0s --hours 2900 ;;
        10) echo "---- floorwatch kpi (last 30 days) ----"; cli kpi --since 30d || true
           echo "---- floorwatch verify (every order's hash chain) ----"; cli verify || true
           echo "---- floorwatch report weekly ----"; cli report weekly || true
           echo "---- the same order on the centre: the same timeline, hashes verified ----"
           centre orders show "$order" || true
           centre verify || true ;;
        *) return 0 ;;
    esac && order_step=$((order_step + 1))
    echo "---- floorwatch orders show $order ----"
    cli orders show "$order" || true
    echo "---- floorwatch orders list (open orders) ----"
    cli orders list || true
}
# --- end of hazard work orders ---

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
    operate_alarms "$elapsed"
    walk_orders || true
    show
    if [ -n "${DEMO_SECONDS:-}" ] && [ "$elapsed" -ge "$DEMO_SECONDS" ]; then break; fi
done
