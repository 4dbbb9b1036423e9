"""One seeded random run of a generated cluster: boot, faults, repair, settle, verdicts.

The seed decides everything: boot stagger, which faults strike when, packet fates. Faults
stop early enough for the cluster to settle (a fenced node reboots and waits initdead,
fencing retries every 5 s, groups start resource by resource) before liveness is judged
at the end; safety is judged throughout and the journals are replayed at the end. A
failing run carries the exact `hactl sim` line that reproduces it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from engine.config.model import ClusterConfig
from engine.sim import faults
from engine.sim.checkers import Violation, restart_bound_ms
from engine.sim.cluster import SimulatedCluster
from engine.sim.durations import format_time_ms
from engine.sim.generated_config import ClusterShape, generate_config, link_names
from engine.sim.node_journal import NodeJournal
from engine.sim.replay_check import check_replay
from engine.sim.settings import (
    FENCE_RETRY_MS,
    FENCE_TIMEOUT_MS,
    REBOOT_AFTER_FENCE_MS,
    build_cluster,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedRun:
    seed: int
    shape: ClusterShape
    duration_ms: int
    kinds: faults.FaultKinds
    config: ClusterConfig | None = None  # None: generated from `shape`
    config_dir: str | None = None  # where `config` came from, for the reproduce line

    def cluster_config(self) -> ClusterConfig:
        return self.config if self.config is not None else generate_config(self.shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedResult:
    run: SeedRun
    violations: tuple[Violation, ...]
    timeline: str
    fault_count: int
    packet_count: int

    @property
    def is_ok(self) -> bool:
        return not self.violations

    def reproduce_line(self) -> str:
        return reproduce_line(self.run)


def reproduce_line(run: SeedRun) -> str:
    cluster = (
        f"--config-dir {run.config_dir}"
        if run.config_dir is not None
        else f"--nodes {run.shape.node_count} --groups {run.shape.group_count}"
        f" --links {run.shape.link_count}"
    )
    return (
        f"reproduce with: hactl sim {cluster} --seed {run.seed}"
        f" --duration {_duration_text(run.duration_ms)} --faults {run.kinds.value}"
    )


def _duration_text(duration_ms: int) -> str:
    if duration_ms % 60_000 == 0:
        return f"{duration_ms // 60_000}m"
    if duration_ms % 1000 == 0:
        return f"{duration_ms // 1000}s"
    return f"{duration_ms}ms"


def settle_ms(config: ClusterConfig) -> int:
    """Quiet time after the last fault before liveness is judged.

    The worst case after the final repair: a node fenced just before it reboots, waits
    initdead, and its groups fail back; a fence that hung until the repair is retried
    5 s later; a dead peer is declared after deadtime; every group then starts resource
    by resource (status + start, 120 ms each in the simulator's agents).
    """
    timings = config.timings
    largest_group = max((len(group.resources) for group in config.groups), default=0)
    return (
        REBOOT_AFTER_FENCE_MS
        + timings.initdead.value_ms
        + 2 * timings.deadtime.value_ms
        + FENCE_RETRY_MS
        + FENCE_TIMEOUT_MS
        + 2 * 250 * largest_group
    )


def prepare_seed(
    run: SeedRun,
    *,
    journal_factory: Callable[[str], NodeJournal] | None = None,
    is_tracing_views: bool = True,
) -> tuple[SimulatedCluster, int]:
    """A cluster with its boots and fault plan scheduled; returns it and the fault count."""
    config = run.cluster_config()
    cluster = build_cluster(
        config, seed=run.seed, journal_factory=journal_factory, is_tracing_views=is_tracing_views
    )
    plan_source = random.Random(f"plan-{run.seed}")
    for node in config.nodes:  # nodes power on within one keepalive of each other
        boot_ms = plan_source.randint(0, config.timings.keepalive.value_ms)
        cluster.schedule_fault(boot_ms, faults.Boot(node=node))
    shape = faults.PlanShape(
        nodes=config.nodes,
        link_names=link_names(config),
        start_ms=config.timings.initdead.value_ms + 1000,
        stop_ms=run.duration_ms - settle_ms(config),
        mean_gap_ms=max(3 * config.timings.deadtime.value_ms, 2000),
        is_fencing=config.is_fencing_configured,
    )
    if run.kinds in (faults.FaultKinds.CRASH, faults.FaultKinds.DAEMON_CRASH):
        # No network fault: a restarted daemon's duplicate must end within the bound.
        cluster.checker.restart_bound_ms = restart_bound_ms(config, cluster.agents)
    plan = faults.random_plan(plan_source, run.kinds, shape)
    for scheduled in plan:
        cluster.schedule_fault(scheduled.at_ms, scheduled.fault)
    return cluster, len(plan)


def run_seed(
    run: SeedRun,
    *,
    journal_factory: Callable[[str], NodeJournal] | None = None,
    is_tracing_views: bool = True,
) -> SeedResult:
    cluster, fault_count = prepare_seed(
        run, journal_factory=journal_factory, is_tracing_views=is_tracing_views
    )
    cluster.run_until(run.duration_ms)
    _judge(cluster)
    return SeedResult(
        run=run,
        violations=tuple(cluster.checker.violations),
        timeline=cluster.timeline.render(),
        fault_count=fault_count,
        packet_count=cluster.network.counters.sent,
    )


def _judge(cluster: SimulatedCluster) -> None:
    views = {name: view for name in cluster.nodes if (view := cluster.view(name)) is not None}
    cluster.checker.check_liveness(cluster.now_ms, cluster.world, views)
    check_replay(cluster)


def summary_line(result: SeedResult) -> str:
    verdict = "ok" if result.is_ok else f"FAILED ({len(result.violations)} violations)"
    return (
        f"seed {result.run.seed}: {verdict}; {result.fault_count} faults, "
        f"{result.packet_count} packets, {format_time_ms(result.run.duration_ms).strip()} simulated"
    )
