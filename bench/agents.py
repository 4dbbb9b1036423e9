"""Bench: how fast a takeover puts the cluster IP up, and how fast clients follow it.

Measured in namespaces (hactl/testbed/netns.py: master, backup, client on one bridge), per
run: the address is on the master and the client's ARP entry names the master's MAC; the
master releases it; then, from the takeover decision (the moment the backup calls its
agent), we time
  - address up: until the agent's netlink add is acknowledged (the kernel holds it then;
    the agent returns right after, leaving the remaining ARP pairs to a background task),
  - client follows: until the client's neighbour entry names the backup's MAC (the client
    polls its own neighbour table through netlink every 0.2 ms).
Reference, same run and same method: Debian's OCF IPaddr2 shell agent driven through the
same runner. Prints p50/p99 for both and the ratio reference/ours. Target: address up
within 10 ms p99.

Needs root (namespaces); without it, prints why and exits 0 so `make bench` can run anywhere.
Usage: sudo .venv/bin/python bench/agents.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_FILE = Path(__file__).resolve()
CLUSTER_ADDRESS = "198.18.0.60"
OURS_SPEC = f"IPaddr2::{CLUSTER_ADDRESS}/24/eth0"


# ---- inside a namespace: one worker process per role, JSON commands on stdin -------------


def _resource(kind: str) -> Any:
    from engine.config.model import OcfResource
    from engine.config.resources import parse_resource_spec

    if kind == "ours":
        return parse_resource_spec(OURS_SPEC)
    parameters = (("ip", CLUSTER_ADDRESS), ("cidr_netmask", "24"), ("nic", "eth0"))
    return OcfResource(
        provider="heartbeat",
        agent_type="IPaddr2",
        instance="bench",
        parameters=parameters,
        spec="OCF::IPaddr2::bench",
    )


async def _agent(action_name: str, kind: str, reply: Any) -> None:
    import trio

    from hactl.agents import AgentAction, AgentContext, run_agent_action

    action = AgentAction(action_name)
    resource = _resource(kind)
    async with trio.open_nursery() as nursery:
        context = AgentContext(announcement_nursery=nursery)
        started_s = time.monotonic()
        result = await run_agent_action(resource, action, timeout_ms=20_000, context=context)
        returned_s = time.monotonic()
        outcome, detail = result.outcome.value, result.detail
        reply(
            {"started_s": started_s, "returned_s": returned_s, "outcome": outcome, "detail": detail}
        )
    # the nursery holds the rest of the ARP burst; the next command waits for it to end


def _neighbour_mac(ipr: Any, address: str) -> str | None:
    for entry in ipr.get_neighbours(family=socket.AF_INET):
        if entry.get("NDA_DST") == address:
            mac = entry.get("NDA_LLADDR")
            return str(mac) if mac else None
    return None


def _resolve(address: str, mac: str, reply: Any) -> None:
    """Make the client talk to `address` until its ARP entry names `mac`."""
    from pyroute2 import IPRoute

    deadline_s = time.monotonic() + 10
    with IPRoute() as ipr, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        while _neighbour_mac(ipr, address) != mac and time.monotonic() < deadline_s:
            probe.sendto(b"x", (address, 9))  # discard port; it is the ARP we want
            time.sleep(0.01)
        reply({"mac": _neighbour_mac(ipr, address)})


def _watch(address: str, mac: str, reply: Any) -> None:
    from pyroute2 import IPRoute

    deadline_s = time.monotonic() + 10
    with IPRoute() as ipr:
        reply({"armed": True})
        while time.monotonic() < deadline_s:
            if _neighbour_mac(ipr, address) == mac:
                reply({"seen_s": time.monotonic()})
                return
            time.sleep(0.0002)
        reply({"seen_s": None})


def worker(*, is_realtime: bool) -> None:
    import trio

    if is_realtime:  # what ha.cf `realtime on` (Heartbeat's default) gives the daemon
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))

    def reply(message: dict[str, Any]) -> None:
        print(json.dumps(message), flush=True)

    for line in sys.stdin:
        command = json.loads(line)
        match command["op"]:
            case "start" | "stop":
                trio.run(_agent, command["op"], command["kind"], reply)
            case "resolve":
                _resolve(command["address"], command["mac"], reply)
            case "watch":
                _watch(command["address"], command["mac"], reply)
            case "mac":
                from hactl.agents.announce import interface_mac

                reply({"mac": interface_mac("eth0").hex(":")})


# ---- outside: the bench itself -------------------------------------------------------


class Worker:
    """A worker process in one role's namespace, driven line by line."""

    def __init__(self, net: Any, role: str, *, is_realtime: bool = False) -> None:
        environment = dict(os.environ, PYTHONPATH=str(BENCH_FILE.parent.parent))
        argv = [sys.executable, str(BENCH_FILE), "--worker"]
        argv += ["--realtime"] if is_realtime else []
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        self.process = net.start(role, argv, env=environment, **pipes)

    def send(self, **command: Any) -> None:
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("a bench worker died; run it by hand to see why")
        return dict(json.loads(line))

    def ask(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.read()


def one_takeover(
    master: Worker, backup: Worker, client: Worker, kind: str, macs: dict[str, str]
) -> tuple[float, float]:
    """One move master -> backup; (decision -> agent returned, decision -> client moved) ms."""
    assert master.ask(op="start", kind="ours")["outcome"] == "success"
    resolved = client.ask(op="resolve", address=CLUSTER_ADDRESS, mac=macs["master"])
    assert resolved["mac"] == macs["master"], resolved
    assert master.ask(op="stop", kind="ours")["outcome"] == "success"
    client.send(op="watch", address=CLUSTER_ADDRESS, mac=macs["backup"])
    assert client.read()["armed"]
    started = backup.ask(op="start", kind=kind)
    assert started["outcome"] == "success", started
    seen_s = client.read()["seen_s"]
    assert seen_s is not None, "the client never followed the address"
    assert backup.ask(op="stop", kind=kind)["outcome"] == "success"
    up_ms = (started["returned_s"] - started["started_s"]) * 1000
    return up_ms, (seen_s - started["started_s"]) * 1000


def percentile(values_ms: list[float], fraction: float) -> float:
    ordered = sorted(values_ms)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, values_ms: list[float]) -> tuple[float, float]:
    p50, p99 = statistics.median(values_ms), percentile(values_ms, 0.99)
    print(f"  {name:<40} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   (n={len(values_ms)})")
    return p50, p99


def measure(
    net: Any, kind: str, runs: int, *, is_realtime: bool
) -> tuple[list[float], list[float]]:
    master, client = Worker(net, "master"), Worker(net, "client")
    backup = Worker(net, "backup", is_realtime=is_realtime)
    macs = {"master": master.ask(op="mac")["mac"], "backup": backup.ask(op="mac")["mac"]}
    one_takeover(master, backup, client, kind, macs)  # warm-up: imports, sockets, caches
    results = [one_takeover(master, backup, client, kind, macs) for _ in range(runs)]
    for worker in (master, backup, client):
        net.kill(worker.process)
    return [up for up, _ in results], [seen for _, seen in results]


SERIES = (
    ("ours", False, "hactl native IPaddr2 (netlink + AF_PACKET gratuitous ARP)"),
    ("ours", True, "hactl native IPaddr2, daemon at SCHED_FIFO (ha.cf realtime on)"),
    ("reference", False, "reference: Debian OCF IPaddr2 (shell, ip, send_arp), same runner"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--realtime", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        worker(is_realtime=arguments.realtime)
        return 0
    sys.path.insert(0, str(BENCH_FILE.parent.parent))
    from tests.conftest import root_test_obstacle

    obstacle = root_test_obstacle()
    if obstacle is not None:
        print(f"bench/agents.py: skipped, needs root and network namespaces ({obstacle})")
        return 0
    from hactl.testbed.netns import topology

    has_reference = Path("/usr/lib/ocf/resource.d/heartbeat/IPaddr2").is_file()
    if not has_reference:
        print("bench/agents.py: no reference (install Debian's resource-agents); ours only")
    load = os.getloadavg()[0]
    print(
        f"Takeover of {CLUSTER_ADDRESS} in namespaces, {arguments.runs} runs per series, "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    up_figures: dict[tuple[str, bool], tuple[float, float]] = {}  # (p50, p99)
    with topology(("master", "backup"), networks=("main",), has_client=True) as net:
        for kind, is_realtime, title in SERIES:
            if kind == "reference" and not has_reference:
                continue
            up_ms, seen_ms = measure(net, kind, arguments.runs, is_realtime=is_realtime)
            print(title + ":")
            up_figures[kind, is_realtime] = report("decision -> address up (agent returned)", up_ms)
            report("decision -> client ARP entry moved", seen_ms)
    ours_p99 = up_figures["ours", False][1]
    if has_reference:
        ratio_up = up_figures["reference", False][0] / up_figures["ours", False][0]
        print(f"ratio reference/ours, address up p50: {ratio_up:.1f}x")
    verdict = "met" if ours_p99 <= 10 else "NOT met"
    realtime_p99 = up_figures["ours", True][1]
    print(
        f"target: address up within 10 ms p99: {verdict} "
        f"({ours_p99:.2f} ms at normal priority; {realtime_p99:.2f} ms at SCHED_FIFO)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
