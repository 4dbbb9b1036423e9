"""Bench: what an idle node's daemon keeps resident, and where it goes (issue 5).

In namespaces (hactl/testbed/netns.py, hactl/daemon/lab.py: master and backup running the
article's configuration), for keepalive 1 s and 100 ms, once the master holds the group
and the cluster is steady for --idle-seconds: the master's VmRSS, VmLck and thread count
(/proc/PID/status), smaps_rollup's split (anonymous vs file-backed, locked), and the
mappings that hold most of the RSS (smaps, grouped by file; `[anon]` is the heap, thread
stacks and Python's arenas), and each daemon's CPU over the idle window (% of one core,
all its threads; the commit worker threads count). Targets: idle RSS <= 60 MB, idle CPU
<= 1 % of a core per daemon at keepalive 100 ms. With `--realtime off` the
daemon runs without SCHED_RR and mlockall, to see what locking costs. At 100 ms, the
daemons are then stopped and the same window is measured for two references in the same
topology (bench/idle_reference.py): a bare Python loop exchanging signed heartbeats, the
floor of any Python daemon here, and keepalived at advert_int 0.1 where it is installed;
hactl's median is printed as a ratio of each. Prints only.

Needs root (namespaces); without it, prints why and exits 0.
Usage: sudo .venv/bin/python bench/idle_footprint.py [--idle-seconds 10] [--realtime off]
       [--windows N] [--only 1s|100ms] [--no-references]
An A/B against another checkout: bench/idle_ab.py measures both in the same windows.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.idle_reference import descendants, keepalived_pair, python_loops
from hactl.daemon.lab import ClusterLab, Timings, group_holder, wait_for
from hactl.testbed.netns import Topology, topology

SETTINGS = (
    ("keepalive 1s", Timings(keepalive="1", deadtime="3", warntime="2", initdead="6")),
    ("keepalive 100ms", Timings(keepalive="100ms", deadtime="500ms", warntime="300ms",
                                initdead="1")),
)  # fmt: skip
TOP_MAPPINGS = 10
REFERENCE_SETTLE_S = 3.0


def status_fields(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def rollup_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        found[key] = int(value.split()[0])
    return found


def rss_by_mapping_kb(pid: int) -> collections.Counter[str]:
    """Rss per mapped file (anonymous mappings together as `[anon]`)."""
    totals: collections.Counter[str] = collections.Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        words = line.split()
        if words and "-" in words[0] and not words[0].endswith(":"):
            name = words[5] if len(words) > 5 else "[anon]"
            name = name if name.startswith("[") else Path(name).name
            if name in ("[heap]",):
                name = "[anon]"
        elif words[:1] == ["Rss:"]:
            totals[name] += int(words[1])
    return totals


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of `pid` so far (schedstat: ns, finer than stat's ticks)."""
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total_ns += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker thread that ended while we looked: its time is lost
    return total_ns


def start_steady_cluster(net: Topology, base_dir: Path, timings: Timings, realtime: str,
                         extra_environment: dict[str, str] | None = None,
                         ) -> tuple[ClusterLab, dict[str, int]]:  # fmt: skip
    """Start the article's master and backup; return once both see the master hold the
    group, with each daemon's PID by role."""
    lab = ClusterLab(net=net, base_dir=base_dir, timings=timings,
                     extra_ha_cf_lines=(f"realtime {realtime}",),
                     extra_environment=extra_environment or {})  # fmt: skip
    lab.write_configs()
    lab.start_all()
    for role in net.node_names:

        def sees_master_hold(role: str = role) -> bool:
            return group_holder(lab.status(role)) == "master"

        wait_for(sees_master_hold, timeout_s=60, what=f"{role} to see master holding the group")
    pids = {role: int((lab.run_dir(role) / "hactl.pid").read_text()) for role in net.node_names}
    return lab, pids


def cpu_window_percents(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over the next `seconds` (% of one core, all its threads)."""
    before_ns = {name: cpu_ns(pid) for name, pid in pids.items()}
    started_ns = time.monotonic_ns()
    time.sleep(seconds)  # the idle window itself
    elapsed_ns = time.monotonic_ns() - started_ns
    return {name: (cpu_ns(pid) - before_ns[name]) / elapsed_ns * 100 for name, pid in pids.items()}


def measure(label: str, timings: Timings, idle_seconds: float, realtime: str,
            windows: int = 1, with_references: bool = False) -> None:  # fmt: skip
    with topology(("master", "backup")) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-bench-") as base:  # fmt: skip
        lab, pids = start_steady_cluster(net, Path(base), timings, realtime)
        window_percents: list[dict[str, float]] = []
        window_loads: list[float] = []
        for _ in range(windows):
            window_percents.append(cpu_window_percents(pids, idle_seconds))
            window_loads.append(os.getloadavg()[0])
        pid = pids["master"]
        status = status_fields(pid)
        rollup = rollup_kb(pid)
        mappings = rss_by_mapping_kb(pid)
        references = measure_references(lab, idle_seconds) if with_references else {}
    print(f"\n{label}, realtime {realtime}, after {idle_seconds:g} s idle (master daemon)")
    print(f"  VmRSS {status['VmRSS']}  VmLck {status['VmLck']}  VmSize {status['VmSize']}  "
          f"threads {status['Threads']}  (target RSS <= 60 MB)")
    for window, (percents, load) in enumerate(zip(window_percents, window_loads, strict=True),
                                              start=1):  # fmt: skip
        print(f"  idle CPU, window {window} of {idle_seconds:g} s (% of one core, target <= 1 at "
              "keepalive 100 ms): "
              + "  ".join(f"{role} {percent:.2f} %" for role, percent in percents.items())
              + f"  (load {load:.2f})")  # fmt: skip
    print(f"  smaps_rollup: Rss {rollup['Rss']} kB = anonymous {rollup['Anonymous']} kB + "
          f"file {rollup['Rss'] - rollup['Anonymous']} kB; Pss {rollup['Pss']} kB; "
          f"Locked {rollup['Locked']} kB")
    for name, kb in mappings.most_common(TOP_MAPPINGS):
        print(f"    {kb:8d} kB  {name}")
    hactl_percents = {role: statistics.median(window[role] for window in window_percents)
                      for role in pids}  # fmt: skip
    for name, reference_percents in references.items():
        if reference_percents is None:
            print(f"  reference {name}: not installed, skipped")
            continue
        print(f"  reference {name}, same topology, {idle_seconds:g} s: "
              + "  ".join(f"{role} {percent:.2f} % (hactl's median {hactl_percents[role]:.2f} % "
                          f"= {hactl_percents[role] / percent:.1f}x)"
                          for role, percent in reference_percents.items()))  # fmt: skip


def measure_references(lab: ClusterLab, idle_seconds: float) -> dict[str, dict[str, float] | None]:
    """Stop hactl, then the same window for the references of bench/idle_reference.py."""
    for role in lab.net.node_names:
        lab.kill_daemon(role)
        lab.stop_service_leftovers(role)
    found: dict[str, dict[str, float] | None] = {}
    for name, start in (("python loop", python_loops), ("keepalived", keepalived_pair)):
        with start(lab.net) as pids:
            if pids is None:
                found[name] = None
                continue
            time.sleep(REFERENCE_SETTLE_S)  # keepalived: the backup state, the VIP up
            trees = {role: descendants(pid) for role, pid in pids.items()}
            before_ns = {role: sum(map(cpu_ns, tree)) for role, tree in trees.items()}
            started_ns = time.monotonic_ns()
            time.sleep(idle_seconds)
            elapsed_ns = time.monotonic_ns() - started_ns
            found[name] = {role: (sum(map(cpu_ns, tree)) - before_ns[role]) / elapsed_ns * 100
                           for role, tree in trees.items()}  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--realtime", choices=("on", "off"), default="on")
    parser.add_argument("--windows", type=int, default=1, help="idle windows in a row")
    parser.add_argument("--only", choices=("1s", "100ms"), help="one keepalive setting")
    parser.add_argument("--no-references", action="store_true",
                        help="no python-loop and keepalived references at 100 ms")  # fmt: skip
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/idle_footprint.py needs root and network namespaces; skipped.")
        return
    for label, timings in SETTINGS:
        if arguments.only is None or label == f"keepalive {arguments.only}":
            measure(label, timings, arguments.idle_seconds, arguments.realtime,
                    arguments.windows, with_references=label == "keepalive 100ms"
                    and not arguments.no_references)  # fmt: skip


if __name__ == "__main__":
    main()
