"""A small test plant for the browser tests: floorwatch-sim serving press-2 over Modbus TCP, a real
floorwatchd polling it with its HTTP server on a free loopback port, and the floorwatch CLI. For
the centre's page, a Mosquitto and a central floorwatchd (`role: central`) the gateway syncs to.

Everything lives in one temporary folder (config, SQLite store, control socket, logs); the people
of the plant sign in to the page with passwords the test sets through `floorwatch user passwd`.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

PASSWORD = "correct horse battery staple"

# The people of the test plant: name -> (uid for the CLI, roles in workflow.users).
USERS = {
    "rita": (0, "reporter"),
    "sam": (1001, "team_lead"),
    "sara": (1002, "safety"),
    "max": (1003, "manager"),
    "tom": (1004, "technician"),
}

SIM_CONFIG = """tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-2
    unit_id: 2
    values:
      - {table: input_register, address: 0, type: float32, profile: {kind: constant, value: 2.0}}
      - {table: input_register, address: 10, type: int16, scale: 0.1,
         profile: {kind: constant, value: 61.0}}
      - {table: coil, address: 0, type: bool, profile: {kind: constant, value: 1}}
"""

# Zone D of ISO 10816-3 group 2 starts at 4.5 mm/s: the rule's alarm limit.
VIBRATION_NORMAL = "2.0"
VIBRATION_ALARM = "5.2"


def workflow_users():
    return "\n".join(
        f"    - {{name: {name}, uid: {uid}, roles: '{roles}'}}"
        for name, (uid, roles) in USERS.items())


def sync_section(broker_uri):
    # Short reconnect and ack times: the test waits for the link, it does not time it.
    return f"""sync:
  broker: {{uri: '{broker_uri}', reconnect_min: 100ms, reconnect_max: 1s}}
  ack_timeout: 2s
"""


def daemon_config(folder, http_port, modbus_port, broker_uri=None):
    users = workflow_users()
    return f"""gateway: {{site: test-plant, node: gw-1, log_level: debug}}
store:
  path: {folder}/fw.db
  commit_interval: 100ms
control: {{socket: {folder}/control.sock, mode: '0666'}}
http:
  listen: ['127.0.0.1:{http_port}']
  language: en
equipment:
  - {{id: press-2, area: stamping, description: 400 t hydraulic press}}
modbus:
  buses:
    - name: line1
      tcp: {{host: 127.0.0.1, port: {modbus_port}}}
      devices:
        - name: press-2-sensors
          unit_id: 2
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {{channel: press2.vibration, equipment: press-2, table: input_register, address: 0,
               type: float32, unit: mm/s}}
            - {{channel: press2.bearing_temp, equipment: press-2, table: input_register,
               address: 10, type: int16, scale: 0.1, unit: degC}}
            - {{channel: press2.running, equipment: press-2, table: coil, address: 0}}
rules:
  - id: press2-vibration
    kind: threshold
    channel: press2.vibration
    limits: [{{above: 4.5, severity: alarm}}]
    deadband: 0.2
    on_delay: 500ms
    off_delay: 500ms
    hazard: {{type: vibration, risk: high, title: Press 2 vibration in ISO 10816-3 zone D}}
workflow:
  prefixes: [{{area: stamping, prefix: PRS}}]
  users:
{users}
""" + (sync_section(broker_uri) if broker_uri else "")


def central_config(folder, http_port, broker_uri):
    """The centre of the plant's site: the same people with the same roles as on the floor, its
    own SQLite store, its page on a free loopback port (daemon/central/README.md)."""
    return f"""role: central
gateway: {{site: test-plant, node: central-1, log_level: debug}}
store:
  path: {folder}/central.db
  commit_interval: 100ms
control: {{socket: {folder}/central.sock, mode: '0666'}}
http:
  listen: ['127.0.0.1:{http_port}']
  language: en
workflow:
  users:
{workflow_users()}
""" + sync_section(broker_uri)


MOSQUITTO = "/usr/sbin/mosquitto"


def mosquitto_config(port):
    # As tests/support/mosquitto.cpp writes it: as root Mosquitto would switch to user mosquitto,
    # who cannot read the test's folder.
    config = "# written by tests/browser/plant.py\n"
    if os.geteuid() == 0:
        config += "user root\n"
    return config + f"""persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
max_queued_messages 0
per_listener_settings false
allow_anonymous true
listener {port} 127.0.0.1
"""


def accepts_connections(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def free_port():
    # The kernel's choice, released at once: a daemon started a moment later binds it. Another
    # process taking it in between would make the daemon fail to start, loudly.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout} s")


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def run_cli(binary, config, uid, args, stdin=None):
    command = [binary] + args + ["--config", config]
    if uid != 0:
        command = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                   "--clear-groups"] + command
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)


def set_password(node, name):
    # The control socket may answer a moment after the HTTP listener: ask again briefly.
    deadline = time.monotonic() + 15
    while True:
        result = node.cli(0, ["user", "passwd", name, "--stdin"], stdin=PASSWORD + "\n")
        if result.returncode == 0:
            return
        if time.monotonic() > deadline or node.daemon.poll() is not None:
            raise RuntimeError(f"floorwatch user passwd {name}: exit {result.returncode}: "
                               f"{result.stderr.strip()}")
        time.sleep(0.3)


class Plant:
    def __init__(self, daemon, cli, sim, log_folder):
        self.daemon_binary = daemon
        self.cli_binary = cli
        self.sim_binary = sim
        self.log_folder = log_folder
        self.folder = tempfile.mkdtemp(prefix="fw-browser-")
        os.chmod(self.folder, 0o755)  # the CLI runs under other uids and reaches the socket
        self.config = os.path.join(self.folder, "fw.yaml")
        self.sim_control = os.path.join(self.folder, "sim.sock")
        self.processes = []
        self.daemon = None
        self.http_port = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def _spawn(self, args, log_name):
        log = open(os.path.join(self.folder, log_name), "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        log.close()
        self.processes.append(process)
        return process

    def log_text(self, log_name):
        try:
            with open(os.path.join(self.folder, log_name), encoding="utf-8",
                      errors="replace") as log:
                return log.read()
        except FileNotFoundError:
            return ""

    def start(self):
        sim_config = os.path.join(self.folder, "sim.yaml")
        ready = os.path.join(self.folder, "sim.ready")
        with open(sim_config, "w", encoding="utf-8") as out:
            out.write(SIM_CONFIG)
        sim = self._spawn([self.sim_binary, "--config", sim_config, "--ready-file", ready,
                           "--control", self.sim_control], "sim.log")
        wait_until(lambda: os.path.exists(ready) and os.path.getsize(ready) > 0, 15,
                   "floorwatch-sim ready", sim)
        with open(ready, encoding="utf-8") as text:
            self.modbus_port = int(text.read().split()[0])

        self.http_port = free_port()
        self._start_daemon()
        for name in USERS:
            self.set_password(name)

    def _start_daemon(self, broker_uri=None):
        with open(self.config, "w", encoding="utf-8") as out:
            out.write(daemon_config(self.folder, self.http_port, self.modbus_port, broker_uri))
        # The log is appended to across restarts: "ready" counts only after this start.
        start = len(self.log_text("floorwatchd.log"))
        self.daemon = self._spawn([self.daemon_binary, "--config", self.config],
                                  "floorwatchd.log")
        wait_until(lambda: "ready" in self.log_text("floorwatchd.log")[start:], 20,
                   "floorwatchd ready", self.daemon)
        wait_until(lambda: self.http_status("/healthz") == 200, 20, "GET /healthz answers 200",
                   self.daemon)

    def sync_to(self, broker_uri):
        """Restarts the gateway daemon with a `sync:` section (its broker, store, site and node
        need a restart): same store, same HTTP port, so sessions and orders stay."""
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise RuntimeError("floorwatchd did not stop within 15 s of SIGTERM")
        self._start_daemon(broker_uri)

    def sync_state(self):
        """`floorwatch sync --json`: the gateway's one link, to the centre."""
        shown = self.cli(0, ["sync", "--json"])
        if shown.returncode != 0:
            raise RuntimeError(f"floorwatch sync: {shown.stderr.strip()}")
        return json.loads(shown.stdout)[0]

    def set_password(self, name):
        set_password(self, name)

    def http_status(self, path):
        return http_status(self.base_url + path)

    def cli(self, uid, args, stdin=None):
        """The floorwatch CLI as one person: uid 0 directly, anyone else through setpriv."""
        return run_cli(self.cli_binary, self.config, uid, args, stdin)

    def cli_as(self, user, args):
        return self.cli(USERS[user][0], args)

    def orders(self):
        listed = self.cli(0, ["orders", "list", "--all", "--json"])
        if listed.returncode != 0:
            raise RuntimeError(f"floorwatch orders list: {listed.stderr.strip()}")
        return json.loads(listed.stdout)

    def order(self, number):
        shown = self.cli(0, ["orders", "show", number, "--json"])
        if shown.returncode != 0:
            raise RuntimeError(f"floorwatch orders show {number}: {shown.stderr.strip()}")
        return json.loads(shown.stdout)

    def set_vibration(self, value):
        result = subprocess.run([self.sim_binary, "ctl", "--control", self.sim_control, "value",
                                 "press-2", "input_register", "0", value],
                                capture_output=True, text=True, timeout=15)
        if result.returncode != 0:
            raise RuntimeError(f"floorwatch-sim ctl value: {result.stdout}{result.stderr}")

    def stop(self):
        # The daemon first, so it stops polling a simulator that is still there.
        for process in ([self.daemon] if self.daemon else []) + self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        os.makedirs(self.log_folder, exist_ok=True)
        for log_name in ("floorwatchd.log", "sim.log", "central.log", "mosquitto.log"):
            source = os.path.join(self.folder, log_name)
            if os.path.exists(source):
                shutil.copy(source, os.path.join(self.log_folder, log_name))
        shutil.rmtree(self.folder, ignore_errors=True)


class Centre:
    """A Mosquitto and a central floorwatchd (`role: central`) with its page, in the plant's
    folder; the plant's gateway syncs to it once `Plant.sync_to(centre.broker_uri)` ran."""

    def __init__(self, plant):
        self.plant = plant
        self.folder = plant.folder
        self.config = os.path.join(self.folder, "central.yaml")
        self.broker_port = None
        self.http_port = None
        self.broker = None
        self.daemon = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def broker_uri(self):
        return f"tcp://127.0.0.1:{self.broker_port}"

    def start(self):
        self.broker_port = free_port()
        broker_config = os.path.join(self.folder, "mosquitto.conf")
        with open(broker_config, "w", encoding="utf-8") as out:
            out.write(mosquitto_config(self.broker_port))
        self.broker = self.plant._spawn([MOSQUITTO, "-c", broker_config], "mosquitto.log")
        wait_until(lambda: accepts_connections(self.broker_port), 10, "mosquitto listens",
                   self.broker)

        self.http_port = free_port()
        with open(self.config, "w", encoding="utf-8") as out:
            out.write(central_config(self.folder, self.http_port, self.broker_uri))
        self.daemon = self.plant._spawn([self.plant.daemon_binary, "--config", self.config],
                                        "central.log")
        wait_until(lambda: self.http_status("/healthz") == 200, 20,
                   "the centre's GET /healthz answers 200", self.daemon)
        for name in USERS:
            set_password(self, name)

    def log_text(self):
        return self.plant.log_text("central.log")

    def http_status(self, path):
        return http_status(self.base_url + path)

    def cli(self, uid, args, stdin=None):
        """The floorwatch CLI against the centre (`--config central.yaml`)."""
        return run_cli(self.plant.cli_binary, self.config, uid, args, stdin)

    def orders(self):
        listed = self.cli(0, ["orders", "list", "--all", "--json"])
        if listed.returncode != 0:
            raise RuntimeError(f"floorwatch orders list (centre): {listed.stderr.strip()}")
        return json.loads(listed.stdout)

    def stop(self):
        """The centre, then its broker (the gateway keeps running and its link goes down)."""
        for process in (self.daemon, self.broker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
