"""The harness and its checkers against the real engine: determinism, and that they can fail.

A checker that never fires proves nothing, so each one is shown catching a planted fault:
a fence device that lies (reports success, powers nothing off) must produce a safety
violation; a journal that lost a committed record must fail the replay check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.core.codec import EVENT_KINDS
from engine.core.events import ResourceActionCompleted
from engine.sim import faults
from engine.sim.core_bridge import CoreBridge
from engine.sim.disk_journal import DiskJournal
from engine.sim.faults import FaultKinds
from engine.sim.generated_config import ClusterShape, generate_config
from engine.sim.node_journal import JournalRecord, MemoryJournal
from engine.sim.replay_check import check_replay
from engine.sim.scenario_language import parse_script
from engine.sim.scenario_runner import run_scenario
from engine.sim.seed_run import SeedRun, reproduce_line, run_seed
from engine.sim.settings import build_cluster

SHORT_RUN = SeedRun(
    seed=11,
    shape=ClusterShape(node_count=3, group_count=3),
    duration_ms=40_000,
    kinds=FaultKinds.ALL,
)


def test_a_seed_is_a_pure_function_of_its_number() -> None:
    first, second = run_seed(SHORT_RUN), run_seed(SHORT_RUN)
    assert first.timeline == second.timeline
    assert first.packet_count == second.packet_count
    assert first.is_ok, [str(violation) for violation in first.violations]


def test_a_seed_does_not_depend_on_python_hash_randomisation() -> None:
    program = (
        "from engine.sim.seed_run import SeedRun, run_seed\n"
        "from engine.sim.generated_config import ClusterShape\n"
        "from engine.sim.faults import FaultKinds\n"
        "run = SeedRun(seed=5, shape=ClusterShape(node_count=3, group_count=3),"
        " duration_ms=30_000, kinds=FaultKinds.ALL)\n"
        "print(run_seed(run).timeline)\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_safety_checker_catches_a_takeover_behind_a_lying_fence_device() -> None:
    script = parse_script(
        "cluster nodes=master,backup groups=1 fencing=yes\n"
        "run 6s\n"
        "fence-device lie\n"
        "partition master | backup\n"
        "run 5s\n",
        file="lying-device.txt",
    )
    result = run_scenario(script)
    assert any("safety violation" in failure for failure in result.failures), result.transcript
    assert "backup started" in result.transcript


def test_replay_check_catches_a_lost_committed_record() -> None:
    config = generate_config(ClusterShape(node_count=2, group_count=2))
    journals: dict[str, MemoryJournal] = {}

    def factory(node: str) -> MemoryJournal:
        journals[node] = MemoryJournal()
        return journals[node]

    cluster = build_cluster(config, seed=1, journal_factory=factory)
    for node in config.nodes:
        cluster.boot(node)
    cluster.run_until(10_000)
    check_replay(cluster)
    assert cluster.checker.violations == []
    damaged = journals["node1"]
    completion_kind = EVENT_KINDS[ResourceActionCompleted]
    last_completion = max(
        index for index, record in enumerate(damaged.records) if record.kind == completion_kind
    )
    del damaged.records[last_completion]  # the node stepped it; its journal lost it
    damaged.committed_count -= 1
    check_replay(cluster)
    assert [violation.kind for violation in cluster.checker.violations] == ["replay"]


def test_liveness_checker_flags_a_group_nobody_holds() -> None:
    script_text = (
        "cluster nodes=master,backup groups=1 fencing=yes\n"
        "run 6s\n"
        "fence-device hang\n"
        "crash master\n"
        "run 10s\n"
    )
    result = run_scenario(parse_script(script_text, file="hang.txt"))
    assert not result.failures  # nobody holds g1, but safely: that is what liveness is for
    run = SeedRun(
        seed=1,
        shape=ClusterShape(node_count=2, group_count=1),
        duration_ms=20_000,
        kinds=FaultKinds.NONE,
    )
    assert run_seed(run).is_ok


def test_disk_journal_crash_loses_only_uncommitted_records(tmp_path: Path) -> None:
    journal = DiskJournal(tmp_path / "node1", node="node1")
    kept = JournalRecord(kind=101, payload=[1, "kept"], monotonic_ns=1, wall_ns=1)
    lost = JournalRecord(kind=101, payload=[2, "lost"], monotonic_ns=2, wall_ns=2)
    journal.append(kept)
    journal.commit()
    journal.append(lost)
    journal.crash()
    journal.close()
    assert journal.committed() == (kept,)


def test_seed_run_with_disk_journals_replays_from_disk(tmp_path: Path) -> None:
    def factory(node: str) -> DiskJournal:
        return DiskJournal(tmp_path / node, node=node)

    result = run_seed(SHORT_RUN, journal_factory=factory)
    assert result.is_ok, [str(violation) for violation in result.violations]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["node1", "node2", "node3"]


def test_reproduce_line_names_every_flag() -> None:
    assert reproduce_line(SHORT_RUN) == (
        "reproduce with: hactl sim --nodes 3 --groups 3 --links 2 --seed 11 --duration 40s"
        " --faults all"
    )


def test_faults_stop_in_time_for_liveness_to_be_judged() -> None:
    plan = faults.random_plan(
        __import__("random").Random(1),
        FaultKinds.ALL,
        faults.PlanShape(
            nodes=("a", "b"),
            link_names=("bcast eth0",),
            start_ms=5000,
            stop_ms=20_000,
            mean_gap_ms=3000,
            is_fencing=True,
        ),
    )
    assert max(scheduled.at_ms for scheduled in plan) == 20_000


class _QuorumlessBridge(CoreBridge):
    """The real engine, but the checker is told no node ever has quorum."""

    def is_quorate(self, state: object) -> bool:
        return False


def test_quorum_checker_flags_a_start_ordered_without_quorum() -> None:
    config = generate_config(ClusterShape(node_count=3, group_count=1))
    cluster = build_cluster(config, seed=1, bridge=_QuorumlessBridge())
    for node in config.nodes:
        cluster.boot(node)
    cluster.run_until(5000)
    violations = cluster.checker.violations
    assert violations, "g1's two resources were started without quorum"
    assert all(v.kind == "safety" and "without quorum" in v.message for v in violations)


def test_a_boot_folds_the_journal_on_from_the_previous_boot_to_the_full_replay() -> None:
    config = generate_config(ClusterShape(node_count=2, group_count=2))
    bridge = CoreBridge()
    cluster = build_cluster(config, seed=3, bridge=bridge)
    for node in config.nodes:
        cluster.boot(node)
    cluster.run_until(5000)
    cluster.apply(faults.CrashDaemon(node="node1"))
    cluster.boot("node1")  # folds the whole journal
    cluster.run_until(9000)
    journal = cluster.nodes["node1"].journal
    journal.commit()
    records = [(record.kind, record.payload) for record in journal.committed()]
    continued = bridge._fold_journal("node1", records)  # folds only what came since
    assert continued == bridge.replay(config, records)
    assert bridge._boot_folds["node1"][0] == len(records)
    copied = [(kind, list(payload)) for kind, payload in records]  # not the same objects
    assert bridge._fold_journal("node1", copied) == continued  # folded from the start
