"""Bench: the client-visible outage when the master dies, and a node's idle cost.

In namespaces (hactl/testbed/netns.py: master, backup, client on one bridge), with real
daemons running the article's configuration (hactl/daemon/lab.py), for keepalive 1 s /
deadtime 3 s and keepalive 100 ms / deadtime 500 ms:
  - outage: the master holds the cluster IP and serves the client; the master's daemon is
    killed (kill -9) and its links cut; the client fetches the page at the cluster IP
    every 10 ms; the outage runs from the kill to the first answer served by the backup.
    Repeated --repetitions times (>= 10); p50, p99, and the part beyond deadtime (our own
    overhead: detection slack plus takeover), with the ratio outage / deadtime.
    Between repetitions the master comes back and auto_failback returns the group.
  - idle: RSS and CPU (% of one core over --idle-seconds) of the master's daemon in a
    steady two-node cluster.
Targets (issue 5): overhead beyond deadtime <= 50 ms p99; idle RSS <= 60 MB; idle CPU
<= 1% of a core at keepalive 100 ms. Prints figures only; nothing is asserted.

Needs root (namespaces); without it, prints why and exits 0 so `make bench` runs anywhere.
Usage: sudo .venv/bin/python bench/failover.py [--repetitions 10] [--idle-seconds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hactl.daemon.lab import ClusterLab, Timings, group_holder, read_probe, wait_for
from hactl.testbed.netns import topology

PROBE_INTERVAL_S = 0.01


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    name: str
    timings: Timings
    deadtime_ms: int


SETTINGS = (
    Setting(name="keepalive 1s / deadtime 3s", deadtime_ms=3000,
            timings=Timings(keepalive="1", deadtime="3", warntime="2", initdead="6")),
    Setting(name="keepalive 100ms / deadtime 500ms", deadtime_ms=500,
            timings=Timings(keepalive="100ms", deadtime="500ms", warntime="300ms",
                            initdead="1")),
)  # fmt: skip


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def wait_steady(lab: ClusterLab, holder: str) -> None:
    for role in lab.net.node_names:
        wait_for(lambda role=role: group_holder(lab.status(role)) == holder, timeout_s=60,
                 what=f"{role} to see {holder} holding the group")  # fmt: skip
    wait_for(lambda: lab.fetch() == holder, timeout_s=30, what=f"the client served by {holder}")


def one_outage_ms(lab: ClusterLab, probe_file: Path) -> float:
    """Kill the master, return ms from the kill to the backup's first answer; restore."""
    lab.start_client_probe(probe_file, PROBE_INTERVAL_S)
    wait_for(lambda: any(answer == "master" for _, answer in read_probe(probe_file)),
             timeout_s=10, what="the probe to reach the master")  # fmt: skip
    killed_ns = time.monotonic_ns()
    lab.power_off("master")
    wait_for(lambda: any(stamp > killed_ns and answer == "backup"
                         for stamp, answer in read_probe(probe_file)),
             timeout_s=60, what="the backup to answer the client")  # fmt: skip
    lab.stop_client_probe()
    served_ns = min(stamp for stamp, answer in read_probe(probe_file)
                    if stamp > killed_ns and answer == "backup")  # fmt: skip
    lab.net.restore_links("master")
    lab.start("master")
    wait_steady(lab, "master")
    return (served_ns - killed_ns) / 1e6


def idle_cost(lab: ClusterLab, seconds: float) -> tuple[float, float]:
    """(RSS MB, CPU % of one core) of the master's daemon over `seconds`."""
    pid = int((lab.run_dir("master") / "hactl.pid").read_text())
    ticks_per_s = os.sysconf("SC_CLK_TCK")

    def cpu_ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    start_ticks, started = cpu_ticks(), time.monotonic()
    time.sleep(seconds)  # the measurement window itself
    cpu_percent = (cpu_ticks() - start_ticks) / ticks_per_s / (time.monotonic() - started) * 100
    rss_kb = next(int(line.split()[1]) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines()
                  if line.startswith("VmRSS:"))  # fmt: skip
    return rss_kb / 1024, cpu_percent


def run_setting(setting: Setting, repetitions: int, idle_seconds: float) -> None:
    with topology(("master", "backup")) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-bench-") as base:  # fmt: skip
        lab = ClusterLab(net=net, base_dir=Path(base), timings=setting.timings)
        lab.write_configs()
        lab.start_all()
        wait_steady(lab, "master")
        rss_mb, cpu_percent = idle_cost(lab, idle_seconds)
        outages = [one_outage_ms(lab, Path(base) / f"probe-{n}.txt") for n in range(repetitions)]
    beyond = [outage - setting.deadtime_ms for outage in outages]
    print(f"\n{setting.name} ({repetitions} kills of the master, client probe every "
          f"{PROBE_INTERVAL_S * 1000:.0f} ms)")  # fmt: skip
    print(f"  outage      p50 {percentile(outages, 0.5):8.1f} ms   p99 "
          f"{percentile(outages, 0.99):8.1f} ms   min {min(outages):.1f}  max {max(outages):.1f}")
    print(f"  beyond deadtime p50 {percentile(beyond, 0.5):8.1f} ms   p99 "
          f"{percentile(beyond, 0.99):8.1f} ms   (target p99 <= 50 ms)")  # fmt: skip
    print(f"  ratio outage/deadtime p50 {percentile(outages, 0.5) / setting.deadtime_ms:.3f}  "
          f"mean {statistics.mean(outages) / setting.deadtime_ms:.3f}")  # fmt: skip
    print(f"  idle master daemon: RSS {rss_mb:.1f} MB (target <= 60), CPU {cpu_percent:.2f}% "
          f"of a core over {idle_seconds:g} s (target <= 1% at 100 ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/failover.py needs root and network namespaces; skipped.")
        return
    for setting in SETTINGS:
        run_setting(setting, arguments.repetitions, arguments.idle_seconds)


if __name__ == "__main__":
    main()
