"""Shared helpers for the agents' namespace tests: run the real agent, read the kernel's view.

The agent runs as `hactl resource debug ...` inside a node's namespace (a real process,
the same code path the daemon uses); what the kernel holds is read back with `ip -j`,
which is independent of our netlink code and so a fair judge of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hactl.testbed.netns import Topology

CAPTURE_SCRIPT = Path(__file__).with_name("neighbour_capture.py")
DRIVER_SCRIPT = Path(__file__).with_name("agent_driver.py")
REPOSITORY = Path(__file__).resolve().parents[3]


class AgentDriver:
    """A long-lived agent_driver.py in one namespace: `act` runs one action there."""

    def __init__(self, net: Topology, role: str) -> None:
        environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
        self.process = net.start(
            role,
            [sys.executable, str(DRIVER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the agent driver died (its stderr is in the test output)"
        return dict(json.loads(line))

    def act(self, action: str, spec: str, **context: int) -> dict[str, Any]:
        return self.ask(op="act", action=action, spec=spec, **context)


def debug(
    net: Topology, role: str, action: str, spec: str, *options: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "hactl.commands.resource", "debug", action, spec, *options]
    return net.run(role, argv)


def interface_addresses(net: Topology, role: str, interface: str = "eth0") -> list[dict[str, Any]]:
    """[{local, prefixlen, label, family, ...}] as `ip -j addr show dev IF` reports them."""
    shown = net.run(role, ["ip", "-j", "addr", "show", "dev", interface], check=True)
    links = json.loads(shown.stdout)
    assert len(links) == 1
    return [entry for entry in links[0]["addr_info"] if not entry["local"].startswith("fe80:")]


def address_entry(
    net: Topology, role: str, address: str, interface: str = "eth0"
) -> dict[str, Any] | None:
    for entry in interface_addresses(net, role, interface):
        if entry["local"] == address:
            return entry
    return None


def interface_mac(net: Topology, role: str, interface: str = "eth0") -> str:
    shown = net.run(role, ["ip", "-j", "link", "show", "dev", interface], check=True)
    return str(json.loads(shown.stdout)[0]["address"])


def neighbour_mac(net: Topology, role: str, address: str) -> str | None:
    shown = net.run(role, ["ip", "-j", "neigh", "show", address], check=True)
    entries = json.loads(shown.stdout or "[]")
    return str(entries[0]["lladdr"]) if entries and "lladdr" in entries[0] else None


def wait_neighbour_mac(
    net: Topology, role: str, address: str, mac: str, *, timeout_s: float = 10
) -> str | None:
    """Poll the neighbour table until `address` maps to `mac`; returns the last MAC seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = neighbour_mac(net, role, address)
        if seen == mac or time.monotonic() >= deadline:
            return seen
        time.sleep(0.05)


def start_capture(net: Topology, role: str, address: str, count: int) -> subprocess.Popen[bytes]:
    """Start the capture helper in `role` and return once its socket is listening."""
    process = net.start(
        role,
        [
            sys.executable,
            str(CAPTURE_SCRIPT),
            "--interface",
            "eth0",
            "--address",
            address,
            "--count",
            str(count),
            "--timeout-s",
            "20",
        ],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    return process


def capture_results(process: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
    assert process.stdout is not None
    output, _ = process.communicate(timeout=30)
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]


def add_ipv6(net: Topology, role: str, address: str) -> None:
    """Give `role` an fd00:: address without DAD, so it is usable at once."""
    net.run(role, ["ip", "addr", "add", address, "dev", "eth0", "nodad"], check=True)
