"""Simulator benchmark: the engine's step cost and how fast whole clusters simulate.

Prints two figures (speed is measured here, never asserted in tests):
1. the median wall time of one `engine.core.step` in a two-node cluster, over the exact
   (state, event) pairs a simulated node saw in steady state with faults on
   (target: <= 20 us);
2. simulated seconds per wall second for a 32-node cluster holding 1000 resources
   (500 groups of 2) with every fault kind on (target: >= 10x real time), measured over
   a wall-clock budget (60 s; 20 s with `--quick`) in 100 ms simulated slices, because a
   slow engine would otherwise make the bench run for hours.
Each figure is printed with its ratio to the target. Run: `.venv/bin/python bench/sim.py`
(`--quick` for a shorter second run).
"""

from __future__ import annotations

import statistics
import sys
import time

from engine.config.model import AutoFailback
from engine.core import NodeState, step
from engine.sim import core_bridge
from engine.sim.bridge import Stepped
from engine.sim.faults import FaultKinds
from engine.sim.generated_config import ClusterShape, generate_config
from engine.sim.seed_run import SeedRun, prepare_seed
from engine.sim.settings import build_cluster

STEP_TARGET_US = 20.0
SPEED_TARGET = 10.0


class RecordingBridge(core_bridge.CoreBridge):
    """The real bridge, remembering every (state, event) node1 was stepped with."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[tuple[NodeState, object]] = []

    def step(self, state: object, event: object) -> Stepped:
        assert isinstance(state, NodeState)
        if state.config is not None and state.config.local_node == "node1":
            self.samples.append((state, event))
        return super().step(state, event)


def median_step_us() -> tuple[float, int]:
    config = generate_config(ClusterShape(node_count=2, group_count=2))
    recorder = RecordingBridge()
    cluster = build_cluster(config, seed=1, bridge=recorder, is_tracing_views=False)
    for node in config.nodes:
        cluster.boot(node)
    cluster.run_until(60_000)
    samples = recorder.samples[len(recorder.samples) // 10 :]  # past the boot
    timings_ns: list[int] = []
    for _ in range(5):
        for state, event in samples:
            started_ns = time.perf_counter_ns()
            step(state, event)  # type: ignore[arg-type]
            timings_ns.append(time.perf_counter_ns() - started_ns)
    return statistics.median(timings_ns) / 1000, len(samples)


def large_cluster_speed(budget_s: float) -> tuple[float, float, float, int]:
    """Run the 32-node cluster in 100 ms simulated slices until the wall budget is spent.

    Returns (simulated seconds per wall second, simulated s, wall s, packets). The fault
    plan covers 10 simulated minutes, so faults are on throughout whatever the budget.
    """
    shape = ClusterShape(
        node_count=32,
        group_count=500,
        resources_per_group=2,
        link_count=2,
        keepalive_ms=1000,  # Heartbeat's default keepalive, with a 10 s deadtime
        deadtime_ms=10_000,
        warntime_ms=5000,
        initdead_ms=20_000,
        auto_failback=AutoFailback.ON,
    )
    run = SeedRun(seed=1, shape=shape, duration_ms=600_000, kinds=FaultKinds.ALL)
    cluster, _ = prepare_seed(run, is_tracing_views=False)
    started = time.perf_counter()
    simulated_ms = 0
    while time.perf_counter() - started < budget_s and simulated_ms < run.duration_ms:
        simulated_ms += 100
        cluster.run_until(simulated_ms)
    wall_s = time.perf_counter() - started
    simulated_s = simulated_ms / 1000
    return simulated_s / wall_s, simulated_s, wall_s, cluster.network.counters.sent


def main() -> None:
    is_quick = "--quick" in sys.argv
    step_us, sample_count = median_step_us()
    print(
        f"engine step, 2-node cluster: median {step_us:.1f} us over {sample_count} recorded "
        f"events x5 (target <= {STEP_TARGET_US:.0f} us: {step_us / STEP_TARGET_US:.2f}x target)"
    )
    speed, simulated_s, wall_s, packets = large_cluster_speed(20.0 if is_quick else 60.0)
    print(
        f"32 nodes, 1000 resources, all faults: {simulated_s:.1f} s simulated in "
        f"{wall_s:.1f} s wall = {speed:.3f}x real time, {packets} packets "
        f"(target >= {SPEED_TARGET:.0f}x: {speed / SPEED_TARGET:.3f} of target)"
    )


if __name__ == "__main__":
    main()
