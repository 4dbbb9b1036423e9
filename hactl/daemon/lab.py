"""A throw-away cluster of real daemons in network namespaces: tests, `make demo`, benches.

On top of `hactl.testbed.netns` (which builds the namespaces and links), this writes each
node's /etc/ha.d equivalent in a temporary directory (the article's three files with
shortened timings), starts `hactl daemon` in each node's namespace, asks nodes for their
status over the control socket, and runs a client in the client namespace that fetches
the cluster IP's web page to see which node serves it.

The article's haresources line is kept as written (`master IPaddr::CLUSTER_IP httpd smb`):
`httpd` and `smb` are small Heartbeat-style resource.d scripts written here; `httpd`
runs a small real web server (hactl/testbed/web_service.c, or .py) on port 80 serving a page that
names its node, `smb` only keeps a state file. Nothing here runs outside the topology's
namespaces, and every process is started through the topology, which stops it by PID
when the topology is destroyed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hactl.control_client import ControlClientError, request
from hactl.testbed.netns import CLIENT_ROLE, Topology
from hactl.testbed.web_service_build import web_service_command

TESTBED_DIR = Path(__file__).resolve().parent.parent / "testbed"
HTTP_PROBE = TESTBED_DIR / "http_probe.py"

CLUSTER_IP = "198.18.0.50"
SERVICE_PORT = 80
AUTH_SECRET = "PutYourSecretHere"

HTTPD_SCRIPT = """#!/bin/sh
# Heartbeat resource.d script: a web server on port {port} naming the node that serves.
STATE="{state_dir}"
PIDFILE="$STATE/httpd.pid"
# Alive and not a zombie: a killed server's entry lingers until its parent reaps it.
alive() {{ [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }}
running() {{ [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }}
case "$1" in
  start)
    running && exit 0
    [ -d "$STATE" ] || mkdir -p "$STATE"
    # The server forks once it listens, so the port accepts when this returns.
    exec {web_service} {port} "$PIDFILE" "{node}" >"$STATE/httpd.log" 2>&1 </dev/null ;;
  stop)
    if running; then
        PID="$(cat "$PIDFILE")"
        kill "$PID"
        # Stopped means gone: the port must be free for the next start, here or there.
        for _ in $(seq 200); do alive "$PID" || break; sleep 0.01; done
        alive "$PID" && kill -9 "$PID"
    fi
    rm -f "$PIDFILE"; exit 0 ;;
  status)
    if running; then echo "running"; else echo "stopped"; fi; exit 0 ;;
esac
exit 1
"""

SMB_SCRIPT = """#!/bin/sh
# Heartbeat resource.d script standing in for Samba: it only remembers being started.
FLAG="{state_dir}/smb.running"
case "$1" in
  start) touch "$FLAG"; exit 0 ;;
  stop) rm -f "$FLAG"; exit 0 ;;
  status) if [ -f "$FLAG" ]; then echo "running"; else echo "stopped"; fi; exit 0 ;;
esac
exit 1
"""

@dataclass(frozen=True, slots=True, kw_only=True)
class Timings:
    keepalive: str = "200ms"
    deadtime: str = "2"
    warntime: str = "1"
    initdead: str = "4"


@dataclass(slots=True, kw_only=True)
class ClusterLab:
    """Per-node directories and daemons of one test cluster in `net`."""

    net: Topology
    base_dir: Path
    timings: Timings = field(default_factory=Timings)
    auto_failback: str = "on"
    heartbeat_networks: tuple[str, ...] = ("main",)
    with_fencing: bool = False
    auth_method: str = "sha1"
    extra_environment: dict[str, str] = field(default_factory=dict)
    media_lines: tuple[str, ...] | None = None  # None: `bcast` on each heartbeat network
    extra_ha_cf_lines: tuple[str, ...] = ()
    # How to run hactl: the source tree by default; the RPM test passes the installed
    # launcher (/usr/bin/hactl) to run the same failover on what admins install.
    hactl_command: tuple[str, ...] = (sys.executable, "-m", "hactl")
    daemons: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    client_probe: subprocess.Popen[bytes] | None = None

    # ---- directories -------------------------------------------------------------------

    def node_dir(self, role: str) -> Path:
        return self.base_dir / role

    def config_dir(self, role: str) -> Path:
        return self.node_dir(role) / "ha.d"

    def state_dir(self, role: str) -> Path:
        return self.node_dir(role) / "state"

    def run_dir(self, role: str) -> Path:
        return self.node_dir(role) / "run"

    def log_path(self, role: str) -> Path:
        return self.node_dir(role) / "daemon.log"

    # ---- configuration -----------------------------------------------------------------

    def write_configs(self, *, secrets: dict[str, str] | None = None) -> None:
        for role in self.net.node_names:
            secret = (secrets or {}).get(role, AUTH_SECRET)
            self.write_node_config(role, secret=secret)

    def write_node_config(self, role: str, *, secret: str = AUTH_SECRET) -> None:
        config_dir = self.config_dir(role)
        (config_dir / "resource.d").mkdir(parents=True, exist_ok=True)
        self.state_dir(role).mkdir(parents=True, exist_ok=True)
        self.run_dir(role).mkdir(parents=True, exist_ok=True)
        (config_dir / "ha.cf").write_text(self.ha_cf())
        (config_dir / "haresources").write_text(
            f"{self.net.node_names[0]} IPaddr::{CLUSTER_IP} httpd smb\n"
        )
        authkeys = config_dir / "authkeys"
        authkeys.write_text(f"auth 1\n1 {self.auth_method} {secret}\n")
        authkeys.chmod(0o600)
        service_state = self.node_dir(role) / "service"
        service_state.mkdir(parents=True, exist_ok=True)
        web_service = web_service_command()
        for name, template in (("httpd", HTTPD_SCRIPT), ("smb", SMB_SCRIPT)):
            script = config_dir / "resource.d" / name
            script.write_text(template.format(port=SERVICE_PORT, state_dir=service_state,
                                              node=role, web_service=web_service))  # fmt: skip
            script.chmod(0o755)

    def ha_cf(self) -> str:
        timings = self.timings
        lines = [f"node {name}" for name in self.net.node_names]
        lines += [
            f"keepalive {timings.keepalive}", f"deadtime {timings.deadtime}",
            f"warntime {timings.warntime}", f"initdead {timings.initdead}",
        ]  # fmt: skip
        lines += list(self.media_lines or (f"bcast {self.net.interface(network)}"
                                           for network in self.heartbeat_networks))  # fmt: skip
        lines.append(f"auto_failback {self.auto_failback}")
        lines += list(self.extra_ha_cf_lines)
        if self.with_fencing:
            lines.append(self._stonith_line())
        return "\n".join(lines) + "\n"

    def _stonith_line(self) -> str:
        links = " ".join(f"hactl-{self.net.tag}-{{node}}/{self.net.interface(network.name)}"
                         for network in self.net.networks)  # fmt: skip
        pid_file = self.base_dir / "{node}" / "run" / "hactl.pid"
        hosts = ",".join(self.net.node_names)
        # By position: ha.cf splits `links=A B` at the space, while the last positional
        # parameter takes every remaining word, so each of the node's links is cut.
        return f"stonith_host * netns_test {hosts} {pid_file} {links}"

    # ---- daemons -----------------------------------------------------------------------

    def start(self, role: str) -> subprocess.Popen[bytes]:
        argv = [
            *self.hactl_command, "daemon", "--node", role,
            "--config-dir", str(self.config_dir(role)), "--state-dir", str(self.state_dir(role)),
            "--run-dir", str(self.run_dir(role)),
        ]  # fmt: skip
        environment = {**os.environ, "HACTL_TEST_FORBID_REBOOT": "1", **self.extra_environment}
        log = open(self.log_path(role), "ab")  # noqa: SIM115 - the child owns it
        process = self.net.start(role, argv, stdout=log, stderr=subprocess.STDOUT,
                                 env=environment)  # fmt: skip
        log.close()
        self.daemons[role] = process
        return process

    def start_all(self) -> None:
        for role in self.net.node_names:
            self.start(role)

    def kill_daemon(self, role: str) -> None:
        """kill -9 the node's daemon (its resources stay up, like a crashed heartbeat)."""
        self.net.kill(self.daemons[role], signal.SIGKILL)

    def power_off(self, role: str) -> None:
        """The node dies: daemon killed, links cut, and what it ran is stopped."""
        self.kill_daemon(role)
        self.net.cut_links(role)
        self.stop_service_leftovers(role)

    def stop_service_leftovers(self, role: str) -> None:
        """What power loss does to a dead node's services: they are gone too."""
        for script in ("httpd", "smb"):
            self.net.run(role, [str(self.config_dir(role) / "resource.d" / script), "stop"])
        self.net.run(role, ["ip", "addr", "flush", "dev", "eth0", "to", f"{CLUSTER_IP}/32"])

    def holds_address(self, role: str) -> bool:
        """Whether the cluster IP is configured on the node's eth0 right now."""
        shown = self.net.run(role, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        return f" {CLUSTER_IP}/" in shown.stdout

    def log_text(self, role: str) -> str:
        try:
            return self.log_path(role).read_text(errors="replace")
        except OSError:
            return ""

    # ---- observing ---------------------------------------------------------------------

    def status(self, role: str) -> dict[str, object] | None:
        """The node's `hactl status --json` document, or None when it does not answer."""
        try:
            result = request(self.run_dir(role), "status", timeout_s=5)
        except ControlClientError:
            return None
        return result if isinstance(result, dict) else None

    def admin(self, role: str, command: str, scope: str | None = None) -> object:
        return request(self.run_dir(role), command, scope=scope, timeout_s=10)

    def hactl(self, role: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run the real `hactl` CLI in the node's namespace."""
        return self.net.run(role, [*self.hactl_command, *arguments], timeout_s=60)

    def fetch(self) -> str | None:
        """The client's view: which node's web server answers at the cluster IP."""
        code = ("import urllib.request;print(urllib.request.urlopen("
                f"'http://{CLUSTER_IP}:{SERVICE_PORT}/', timeout=1).read().decode().strip())")
        answer = self.net.run(CLIENT_ROLE, [sys.executable, "-c", code], timeout_s=10)
        return answer.stdout.strip() if answer.returncode == 0 else None

    def start_client_probe(self, output: Path, interval_s: float = 0.02) -> None:
        """Start a fetch every `interval_s` in the client namespace; one line per attempt.

        Attempts overlap (hactl/testbed/http_probe.py): one hanging on the dead node's
        address does not delay the next, so the end of an outage is seen within
        `interval_s` of the first answer being possible.
        """
        argv = [sys.executable, "-S", "-I", str(HTTP_PROBE), CLUSTER_IP, str(SERVICE_PORT),
                str(interval_s)]  # fmt: skip
        with open(output, "wb") as sink:
            self.client_probe = self.net.start(CLIENT_ROLE, argv, stdout=sink,
                                               stderr=subprocess.DEVNULL)  # fmt: skip

    def stop_client_probe(self) -> None:
        if self.client_probe is not None:
            self.net.kill(self.client_probe, signal.SIGTERM)
            self.client_probe = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeAttempt:
    """One fetch by the client probe: when it started, when it ended, what answered."""

    started_ns: int  # CLOCK_MONOTONIC, the clock of the daemons' journals
    ended_ns: int
    answer: str  # the serving node's name; "-" for a refusal, a reset or a timeout


def read_probe_attempts(output: Path) -> list[ProbeAttempt]:
    """The client probe's attempts, in the order they ended (the order the client saw)."""
    attempts = []
    for line in output.read_text().splitlines():
        fields = line.split(" ", 2)
        if len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit():
            attempts.append(ProbeAttempt(started_ns=int(fields[0]), ended_ns=int(fields[1]),
                                         answer=fields[2]))  # fmt: skip
    return sorted(attempts, key=lambda attempt: attempt.ended_ns)


def read_probe(output: Path) -> list[tuple[int, str]]:
    """(monotonic_ns the answer came, answer) per attempt, in order; "-" means no answer."""
    return [(attempt.ended_ns, attempt.answer) for attempt in read_probe_attempts(output)]


def wait_for(
    condition: Callable[[], object], *, timeout_s: float, what: str, poll_s: float = 0.05
) -> object:
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)


def group_holder(status: dict[str, object] | None, group: str | None = None) -> str | None:
    """The holder of `group` (default: the first group) in a status document."""
    if status is None:
        return None
    cluster = status.get("cluster")
    groups = cluster.get("groups") if isinstance(cluster, dict) else None
    if not isinstance(groups, list) or not groups:
        return None
    for entry in groups:
        if isinstance(entry, dict) and (group is None or entry.get("name") == group):
            holder = entry.get("holder")
            return holder if isinstance(holder, str) else None
    return None


def dump_logs(lab: ClusterLab, roles: Sequence[str] | None = None) -> str:
    """Every node's daemon log and status, for a failing test's report."""
    parts = []
    for role in roles or lab.net.node_names:
        parts.append(f"===== {role} status =====\n{json.dumps(lab.status(role), indent=1)}")
        parts.append(f"===== {role} log =====\n{lab.log_text(role)[-6000:]}")
    return "\n".join(parts)
