"""`make demo`: the article's two-node cluster, its master killed, the backup taking over.

As root, on a machine with network namespaces: build master, backup and a client in
namespaces (hactl.testbed.netns), write the article's ha.cf, haresources and authkeys
(docs/examples/article-cluster/, with timings shortened so the story takes well under a
minute), start a real `hactl daemon` per node, show `hactl status`, kill the master
(kill -9 and its links cut, as a power loss), print what the client sees at the cluster
IP while the backup takes over, show the backup's `hactl status`, print the takeover from
the backup's `hactl journal show`, and remove everything.

Without root it says what it needs and tells the same story in the simulator: the same
engine, on a virtual clock.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import tempfile
import time
from pathlib import Path

DEMO_TIMINGS = {"keepalive": "500ms", "deadtime": "3", "warntime": "1", "initdead": "6"}

SIMULATED_STORY = (
    "# The article's cluster (keepalive 1s, deadtime 30s) in the simulator.\n"
    "cluster nodes=master,backup groups=1 resources=3 keepalive=1s deadtime=30s "
    "initdead=60s fencing=no auto_failback=on\n"
) + """\
run 70s
expect holder g1 master
crash master
run 40s
expect holder g1 backup
boot master
run 20s
expect holder g1 master
"""


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"=== {text} ===")


def root_obstacle() -> str | None:
    """Why the namespace demo cannot run here, or None."""
    if os.geteuid() != 0:
        return "it must run as root (network namespaces, addresses, a bridge)"
    probe = f"hactl-demo-probe-{os.getpid()}"
    try:
        created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    except FileNotFoundError:
        return "the `ip` command (iproute2) is not installed"
    if created.returncode != 0:
        return f"cannot create a network namespace: {created.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def main() -> None:
    obstacle = root_obstacle()
    if obstacle is None:
        run_namespace_demo()
        return
    say(f"make demo: the real two-node demo needs root and network namespaces; {obstacle}.")
    say("Run `sudo make demo` on a Linux host with iproute2 to see real daemons fail over.")
    say("Meanwhile, the same story in the simulator (same engine, virtual clock):")
    run_simulated_demo()


def run_simulated_demo() -> None:
    from engine.sim.scenario_language import parse_script
    from engine.sim.scenario_runner import run_scenario

    result = run_scenario(parse_script(SIMULATED_STORY, file="demo"))
    say(result.transcript)
    say("Try more: `hactl sim --seeds 1..50 --faults all`.")
    if result.failures:
        raise SystemExit(1)


def run_namespace_demo() -> None:
    from hactl.daemon.lab import CLUSTER_IP, ClusterLab, Timings, group_holder, wait_for
    from hactl.testbed.netns import topology

    started = time.monotonic()
    with topology(("master", "backup")) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-demo-") as base:  # fmt: skip
        heading("1. Three namespaces: master, backup and a client on one switch")
        for role in ("master", "backup", "client"):
            say(f"  {net.namespace(role):<24} {net.address(role)}")
        lab = ClusterLab(net=net, base_dir=Path(base), timings=Timings(**DEMO_TIMINGS))
        lab.write_configs()
        heading("2. The article's configuration (timings shortened), identical on both nodes")
        for name in ("ha.cf", "haresources", "authkeys"):
            say(f"--- {name}")
            say((lab.config_dir("master") / name).read_text().rstrip())

        heading("3. Both daemons start: `hactl daemon --config-dir ... --node NAME`")
        lab.start_all()
        wait_for(lambda: all(group_holder(lab.status(role)) == "master"
                             for role in ("master", "backup")),
                 timeout_s=30, what="both nodes to see the master holding the group")  # fmt: skip
        wait_for(lambda: lab.fetch() == "master", timeout_s=20, what="the client served")
        say(lab.hactl("master", "status", "--run-dir", str(lab.run_dir("master"))).stdout)
        say(f"The client fetches http://{CLUSTER_IP}/ and is served by: {lab.fetch()}")

        heading("4. The master dies: its daemon killed (kill -9) and its links cut")
        probe_file = Path(base) / "client-probe.txt"
        lab.start_client_probe(probe_file, 0.05)
        wait_for(lambda: probe_file.exists() and probe_file.stat().st_size > 0, timeout_s=10,
                 what="the client probe")  # fmt: skip
        killed_wall = datetime.datetime.now(datetime.UTC)
        killed_ns = time.monotonic_ns()
        lab.power_off("master")
        show_client_view(lab, probe_file, killed_ns)
        lab.stop_client_probe()

        heading("5. The backup's view: `hactl status` on backup")
        say(lab.hactl("backup", "status", "--run-dir", str(lab.run_dir("backup"))).stdout)

        heading("6. The takeover in the backup's journal: `hactl journal show --since KILL`")
        shown = lab.hactl("backup", "journal", "show", "--state-dir", str(lab.state_dir("backup")),
                          "--since", killed_wall.isoformat())  # fmt: skip
        for line in takeover_lines(shown.stdout.splitlines()):
            say(line)
        heading("7. Cleaning up: daemons stopped, namespaces deleted")
    say(f"Demo finished in {time.monotonic() - started:.0f} s.")


def takeover_lines(lines: list[str]) -> list[str]:
    """The decision and the resource actions, without the steady heartbeat records."""
    actions = [index for index, line in enumerate(lines) if "ResourceActionCompleted" in line]
    if not actions:
        return lines[-20:]
    decision = max((index for index in range(actions[0]) if "TimeAdvanced" in lines[index]),
                   default=None)  # fmt: skip
    shown = []
    if decision is not None:
        shown.append(lines[decision] + "   <- deadtime expired: master declared dead")
    shown += [line for line in lines[actions[0]:actions[-1] + 1]
              if "TimeAdvanced" not in line and "HeartbeatReceived" not in line
              and "peer seal" not in line]  # fmt: skip
    return shown


def show_client_view(lab: object, probe_file: Path, killed_ns: int) -> None:
    """Print each change of who answers the client, with the time since the kill."""
    from hactl.daemon.lab import ClusterLab, read_probe, wait_for

    assert isinstance(lab, ClusterLab)
    wait_for(lambda: any(stamp > killed_ns and answer == "backup"
                         for stamp, answer in read_probe(probe_file)),
             timeout_s=60, what="the backup to serve the client")  # fmt: skip
    previous = None
    for stamp, answer in read_probe(probe_file):
        if stamp < killed_ns - 200_000_000 or answer == previous:
            continue
        seconds = (stamp - killed_ns) / 1e9
        what = "no answer" if answer == "-" else f"served by {answer}"
        say(f"  client at kill {seconds:+6.2f} s: {what}")
        previous = answer
        if answer == "backup":
            break
    say(f"  (deadtime is {DEMO_TIMINGS['deadtime']} s: the outage is deadtime plus takeover)")


if __name__ == "__main__":
    main()
