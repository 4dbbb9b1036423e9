"""References for an idle node's CPU, measured in the same topology right after hactl.

- `python loop`: the least a Python heartbeat daemon can do at keepalive 100 ms: one
  epoll with a timerfd and the link socket; the master broadcasts a msgpack packet with
  an HMAC-SHA256 every 100 ms, the backup checks it and answers at once, as hactl's
  nodes do. No journal, no engine, no trio. It is this machine's floor for any Python
  implementation of the same exchange (bench/idle_reference_loop.py).
- `keepalived`: a C HA daemon, VRRP v3 with advert_int 0.1 (adverts every 100 ms from
  the master, unicast to the backup so no packet leaves 198.18.0.0/15), both processes
  of each node counted. It shows what a compiled daemon pays here for the same period.

Both run in the node namespaces of the caller's topology; the topology stops them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hactl.testbed.netns import Topology

LOOP_SCRIPT = Path(__file__).resolve().parent / "idle_reference_loop.py"
KEEPALIVED_VIRTUAL_IP = "198.18.0.60/24"


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (keepalived forks its VRRP child)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
    return found


@contextmanager
def python_loops(net: Topology) -> Iterator[dict[str, int]]:
    """The reference loop on the first two nodes: master broadcasts, backup answers."""
    master, backup = net.node_names[:2]
    processes = {
        role: net.start(role, [sys.executable, str(LOOP_SCRIPT), mode, net.interface("main"),
                               net.address(other)])
        for role, mode, other in ((master, "send", backup), (backup, "answer", master))
    }  # fmt: skip
    yield {role: process.pid for role, process in processes.items()}
    for process in processes.values():
        net.kill(process)


@contextmanager
def keepalived_pair(net: Topology) -> Iterator[dict[str, int] | None]:
    """keepalived on the first two nodes, or None where it is not installed."""
    binary = shutil.which("keepalived")
    if binary is None:
        yield None
        return
    master, backup = net.node_names[:2]
    with tempfile.TemporaryDirectory(prefix="hactl-keepalived-") as base:
        processes = {}
        for role, other, priority in ((master, backup, 150), (backup, master, 100)):
            config = Path(base) / f"{role}.conf"
            config.write_text(_keepalived_config(net, role, other, priority))
            processes[role] = net.start(role, [
                binary, "--dont-fork", "--vrrp", "--use-file", str(config),
                "--pid", f"{base}/{role}.pid", "--vrrp_pid", f"{base}/{role}.vrrp.pid",
            ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        yield {role: process.pid for role, process in processes.items()}
        for process in processes.values():
            net.kill(process)


def _keepalived_config(net: Topology, role: str, other: str, priority: int) -> str:
    return f"""global_defs {{
    router_id hactl-{role}
    vrrp_version 3
    script_user root
}}
vrrp_instance hactl_bench {{
    state {"MASTER" if priority == 150 else "BACKUP"}
    interface {net.interface("main")}
    virtual_router_id 51
    priority {priority}
    advert_int 0.1
    unicast_src_ip {net.address(role)}
    unicast_peer {{
        {net.address(other)}
    }}
    virtual_ipaddress {{
        {KEEPALIVED_VIRTUAL_IP}
    }}
}}
"""
