"""Real journals from the simulator, for postmortem tests: one directory per node.

The simulator runs the real engine on a virtual clock and writes each node's journal
through the real `journal` package. Its monotonic time is the true (shared) time, so tests
can check the merge's order against the truth, while each node's wall clock may be skewed
(`ClockJump`). A script is a list of (time_ms, action) pairs: a fault to apply, or
("boot", node) to start a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.config.model import ClusterConfig
from engine.sim import faults
from engine.sim.disk_journal import DiskJournal
from engine.sim.generated_config import ClusterShape, generate_config
from engine.sim.settings import build_cluster

Action = faults.Fault | tuple[str, str]


def simulate(out: Path, *, script: Sequence[tuple[int, Action]], end_ms: int,
             shape: ClusterShape | None = None) -> ClusterConfig:
    """Boot every node at 0 (after any action scheduled at time 0), run, close journals."""
    config = generate_config(shape or ClusterShape(node_count=2, group_count=1))
    journals: list[DiskJournal] = []

    def factory(node: str) -> DiskJournal:
        journal = DiskJournal(out / node, node=node)
        journals.append(journal)
        return journal

    cluster = build_cluster(config, seed=0, journal_factory=factory)
    for at_ms, action in sorted(script, key=lambda item: item[0]):
        if at_ms == 0 and not isinstance(action, tuple):
            cluster.apply(action)
    for node in config.nodes:
        cluster.boot(node)
    for at_ms, action in sorted(script, key=lambda item: item[0]):
        if at_ms == 0 and not isinstance(action, tuple):
            continue
        cluster.run_until(at_ms)
        if isinstance(action, tuple):
            cluster.boot(action[1])
        else:
            cluster.apply(action)
    cluster.run_until(end_ms)
    for journal in journals:
        journal.close()
    return config


def partition_for(out: Path, *, gap_ms: int, is_fencing: bool = False) -> ClusterConfig:
    """Two nodes; every link between them silent for `gap_ms` at 10 s, then healed."""
    shape = ClusterShape(node_count=2, group_count=1, is_fencing=is_fencing)
    return simulate(out, shape=shape, end_ms=30_000, script=[
        (10_000, faults.Partition(sides=(("node1",), ("node2",)))),
        (10_000 + gap_ms, faults.Heal()),
    ])  # fmt: skip
