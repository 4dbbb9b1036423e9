"""Issue 9's safety bound: after a crashed daemon restarts, no resource keeps two live
holders longer than the probes plus one stop (checkers.restart_bound_ms)."""

from __future__ import annotations

import pytest

from engine.sim.checkers import Checker, restart_bound_ms
from engine.sim.devices import ResourceAgentModel
from engine.sim.faults import FaultKinds
from engine.sim.generated_config import ClusterShape, generate_config
from engine.sim.seed_run import SeedRun, prepare_seed
from engine.sim.world import World

BOUND_MS = 500


def _two_node_world() -> World:
    return World(("master", "backup"), {"ip": "g1", "web": "g1"})


def _restart_history(world: World, checker: Checker) -> None:
    """The master holds both resources; its daemon dies; the backup takes over (no fence);
    the master's daemon restarts at 10 s: from here on both holders are live."""
    world.start("master", "ip")
    world.start("master", "web")
    checker.observe(0, world)
    world.crash_daemon("master")
    checker.observe(6000, world)
    world.start("backup", "ip")
    world.start("backup", "web")
    checker.observe(8000, world)  # a duplicate, but the master's daemon is dead: not judged
    world.boot("master")
    checker.observe(10_000, world)


def test_the_checker_fails_a_duplicate_that_outlasts_the_bound() -> None:
    world, checker = _two_node_world(), Checker(generate_config(ClusterShape()))
    checker.restart_bound_ms = BOUND_MS
    _restart_history(world, checker)
    checker.observe(10_000 + BOUND_MS, world)
    assert checker.violations == []  # exactly the bound: still allowed
    checker.observe(10_000 + BOUND_MS + 1, world)
    assert [v.kind for v in checker.violations] == ["safety", "safety"]  # ip and web
    assert "after a daemon restart" in checker.violations[0].message
    checker.observe(20_000, world)
    assert len(checker.violations) == 2  # reported once per duplicate


def test_the_checker_accepts_a_duplicate_ended_within_the_bound() -> None:
    world, checker = _two_node_world(), Checker(generate_config(ClusterShape()))
    checker.restart_bound_ms = BOUND_MS
    _restart_history(world, checker)
    world.stop("backup", "web")
    world.stop("backup", "ip")
    checker.observe(10_000 + BOUND_MS - 100, world)
    checker.observe(30_000, world)
    assert checker.violations == []
    assert checker.longest_restart_duplicate_ms == 0  # the first judged look was 10 s


def test_a_power_off_leaves_nothing_behind_to_judge() -> None:
    world, checker = _two_node_world(), Checker(generate_config(ClusterShape()))
    checker.restart_bound_ms = BOUND_MS
    world.start("master", "ip")
    checker.observe(0, world)
    world.power_off("master")  # a power-off: its address vanishes (unlike a daemon crash)
    assert not world.is_running("master", "ip")
    checker.observe(1000, world)
    world.start("backup", "ip")
    world.boot("master")
    world.start("master", "ip")  # a later duplicate is not a restart's leftover
    checker.observe(2000, world)
    checker.observe(9000, world)
    assert checker.violations == []


def test_the_checker_judges_nothing_when_disabled() -> None:
    world, checker = _two_node_world(), Checker(generate_config(ClusterShape()))
    _restart_history(world, checker)
    checker.observe(60_000, world)
    assert checker.violations == []


def test_the_bound_is_probes_plus_one_stop_plus_a_keepalive_and_an_action() -> None:
    config = generate_config(ClusterShape(resources_per_group=3, keepalive_ms=200))
    agents = ResourceAgentModel(start_ms=100, stop_ms=100, status_ms=20)
    assert restart_bound_ms(config, agents) == 3 * 20 + 3 * 100 + 200 + 100


@pytest.mark.parametrize("is_fencing", [False, True], ids=["no-fencing", "fencing"])
@pytest.mark.parametrize("node_count", [2, 3])
def test_seeded_daemon_crash_runs_keep_the_restart_bound(is_fencing: bool, node_count: int) -> None:
    longest = 0
    for seed in range(1, 31):
        run = SeedRun(
            seed=seed,
            shape=ClusterShape(
                node_count=node_count, group_count=node_count, is_fencing=is_fencing
            ),
            duration_ms=45_000,
            kinds=FaultKinds.DAEMON_CRASH,
        )
        cluster, _ = prepare_seed(run, is_tracing_views=False)
        assert cluster.checker.restart_bound_ms is not None
        cluster.run_until(run.duration_ms)
        safety = [str(v) for v in cluster.checker.violations if v.kind == "safety"]
        assert safety == [], f"seed {seed}: {safety}"
        longest = max(longest, cluster.checker.longest_restart_duplicate_ms)
    if not is_fencing:
        assert longest > 0  # the runs did put a restarted daemon next to a second holder
