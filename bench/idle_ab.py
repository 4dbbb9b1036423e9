"""Bench: an A/B of an idle node's CPU, two checkouts' clusters measured in the same windows.

Idle CPU on the test VM moves by ±10 % between runs minutes apart (the machine's own
speed varies), more than most single changes to the daemon gain. So this runs two
two-node clusters side by side, each in its own namespaces (hactl/daemon/lab.py), one
running checkout A's code and one checkout B's (the daemons get PYTHONPATH=<checkout>),
at keepalive 100 ms, and measures all four daemons over the same --windows windows of
--window-seconds: each window prints every daemon's CPU (% of one core, all threads,
from schedstat), and the end prints each daemon's median and B's median as a ratio of
A's, the reference measured in the same run.

Needs root (namespaces); without it, prints why and exits 0.
Usage: sudo .venv/bin/python bench/idle_ab.py CHECKOUT_A CHECKOUT_B [--windows 8]
       [--window-seconds 10]
(A checkout of another commit: `git worktree add --detach /tmp/before COMMIT`.)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.idle_footprint import SETTINGS, cpu_window_percents, start_steady_cluster
from hactl.testbed.netns import topology

SETTLE_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout_a", type=Path)
    parser.add_argument("checkout_b", type=Path)
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--window-seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/idle_ab.py needs root and network namespaces; skipped.")
        return
    timings = dict(SETTINGS)["keepalive 100ms"]
    with contextlib.ExitStack() as stack:
        pids: dict[str, int] = {}
        for label, checkout in (("A", arguments.checkout_a), ("B", arguments.checkout_b)):
            net = stack.enter_context(topology(("master", "backup")))
            base = stack.enter_context(tempfile.TemporaryDirectory(prefix="hactl-bench-"))
            _, side_pids = start_steady_cluster(net, Path(base), timings, "on",
                                                checkout_environment(checkout))  # fmt: skip
            pids.update({f"{label} {role}": pid for role, pid in side_pids.items()})
        time.sleep(SETTLE_S)
        print(f"A = {arguments.checkout_a}, B = {arguments.checkout_b}, keepalive 100 ms")
        found: dict[str, list[float]] = {name: [] for name in pids}
        for _ in range(arguments.windows):
            for name, percent in cpu_window_percents(pids, arguments.window_seconds).items():
                found[name].append(percent)
            print("  " + "  ".join(f"{name} {values[-1]:.2f} %" for name, values in found.items())
                  + f"  (load {os.getloadavg()[0]:.2f})")  # fmt: skip
    medians = {name: statistics.median(values) for name, values in found.items()}
    for role in ("master", "backup"):
        a, b = medians[f"A {role}"], medians[f"B {role}"]
        print(f"median {role}: A {a:.3f} %  B {b:.3f} %  B/A {b / a:.3f}")


def checkout_environment(checkout: Path) -> dict[str, str]:
    """The environment under which `python -m hactl` runs `checkout`'s code, and checked to.

    `-m` puts the working directory first on sys.path, ahead of PYTHONPATH: run from a
    checkout, both sides would run that checkout's code and the A/B would compare A with
    itself. PYTHONSAFEPATH (Python 3.11) leaves the working directory out.
    """
    environment = {"PYTHONPATH": str(checkout.resolve()), "PYTHONSAFEPATH": "1"}
    found = subprocess.run(
        [sys.executable, "-c", "import hactl; print(hactl.__file__)"],
        env={**os.environ, **environment}, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(found).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{checkout}: its daemons would import hactl from {found}")
    return environment


if __name__ == "__main__":
    main()
