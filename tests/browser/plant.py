"""A small test plant for the browser tests: floorwatch-sim serving press-2 over Modbus TCP, a real
floorwatchd polling it with its HTTP server on a free loopback port, and the floorwatch CLI.

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


def daemon_config(folder, http_port, modbus_port):
    users = "\n".join(
        f"    - {{name: {name}, uid: {uid}, roles: '{roles}'}}"
        for name, (uid, roles) in USERS.items())
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
"""


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
            modbus_port = int(text.read().split()[0])

        self.http_port = free_port()
        with open(self.config, "w", encoding="utf-8") as out:
            out.write(daemon_config(self.folder, self.http_port, modbus_port))
        self.daemon = self._spawn([self.daemon_binary, "--config", self.config],
                                  "floorwatchd.log")
        wait_until(lambda: "ready" in self.log_text("floorwatchd.log"), 20, "floorwatchd ready",
                   self.daemon)
        wait_until(lambda: self.http_status("/healthz") == 200, 20, "GET /healthz answers 200",
                   self.daemon)
        for name in USERS:
            self.set_password(name)

    def set_password(self, name):
        # The control socket may answer a moment after the HTTP listener: ask again briefly.
        deadline = time.monotonic() + 15
        while True:
            result = self.cli(0, ["user", "passwd", name, "--stdin"], stdin=PASSWORD + "\n")
            if result.returncode == 0:
                return
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError(f"floorwatch user passwd {name}: exit {result.returncode}: "
                                   f"{result.stderr.strip()}")
            time.sleep(0.3)

    def http_status(self, path):
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            return None

    def cli(self, uid, args, stdin=None):
        """The floorwatch CLI as one person: uid 0 directly, anyone else through setpriv."""
        command = [self.cli_binary] + args + ["--config", self.config]
        if uid != 0:
            command = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                       "--clear-groups"] + command
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)

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
        for log_name in ("floorwatchd.log", "sim.log"):
            source = os.path.join(self.folder, log_name)
            if os.path.exists(source):
                shutil.copy(source, os.path.join(self.log_folder, log_name))
        shutil.rmtree(self.folder, ignore_errors=True)
