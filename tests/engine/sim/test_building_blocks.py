"""Behaviour of the simulator's building blocks: queue, network, devices, faults, language."""

from __future__ import annotations

import random

import pytest

from engine.sim import faults
from engine.sim.clock import EventQueue
from engine.sim.devices import FenceDeviceModel, ResourceAction, ResourceAgentModel
from engine.sim.durations import DurationError, parse_duration_ms
from engine.sim.network import DirectedLink, LinkFaults, Network
from engine.sim.node_journal import JournalRecord, MemoryJournal
from engine.sim.scenario_language import (
    Admin,
    AdminScope,
    ApplyFault,
    ClusterSetup,
    ExpectHolder,
    ScenarioError,
    parse_script,
)
from engine.sim.world import World


def test_queue_orders_by_time_then_by_scheduling_order() -> None:
    queue: EventQueue[str] = EventQueue()
    queue.schedule(20, "late")
    queue.schedule(10, "first")
    queue.schedule(10, "second")
    assert [queue.pop() for _ in range(3)] == ["first", "second", "late"]
    assert queue.now_ms == 20


def test_queue_refuses_the_past() -> None:
    queue: EventQueue[str] = EventQueue()
    queue.schedule(5, "x")
    queue.pop()
    with pytest.raises(AssertionError):
        queue.schedule(4, "y")


def _network(seed: int = 1) -> Network:
    return Network(("a", "b", "c"), ("eth0", "eth1"), random.Random(seed))


def test_cut_link_drops_only_that_direction_and_medium() -> None:
    network = _network()
    forward = DirectedLink(source="a", destination="b", link="eth0")
    network.cut([forward])
    assert network.transmit(forward) == ()
    assert network.transmit(DirectedLink(source="b", destination="a", link="eth0")) == (1,)
    assert network.transmit(DirectedLink(source="a", destination="b", link="eth1")) == (1,)
    assert network.can_reach("a", "b")


def test_partition_cuts_across_sides_only() -> None:
    network = _network()
    network.partition([("a",), ("b", "c")])
    assert not network.can_reach("a", "b") and not network.can_reach("c", "a")
    assert network.can_reach("b", "c")
    network.heal()
    assert network.is_healthy() and network.can_reach("a", "b")


def test_faulty_link_loses_duplicates_and_delays_by_seed() -> None:
    link = DirectedLink(source="a", destination="b", link="eth0")
    bad = LinkFaults(loss_ratio=0.3, delay_ms_min=1, delay_ms_max=40, duplicate_ratio=0.2)

    def sample(seed: int) -> list[tuple[int, ...]]:
        network = _network(seed)
        network.set_faults([link], bad)
        return [network.transmit(link) for _ in range(500)]

    runs = sample(7)
    assert runs == sample(7), "the same seed gives the same packet fates"
    assert any(fate == () for fate in runs)
    assert any(len(fate) == 2 for fate in runs)
    assert max(max(fate, default=0) for fate in runs) > 1


def test_fence_device_fails_then_works_and_hang_times_out() -> None:
    device = FenceDeviceModel(duration_ms=100, timeout_ms=3000)
    device.fail_next(2)
    outcomes = [device.attempt() for _ in range(3)]
    assert [outcome.is_success for outcome in outcomes] == [False, False, True]
    device.hang()
    hung = device.attempt()
    assert not hung.is_success and hung.duration_ms == 3000


def test_resource_failures_count_down() -> None:
    agents = ResourceAgentModel()
    agents.fail("n1", "r", ResourceAction.START, 1)
    assert not agents.attempt("n1", "r", ResourceAction.START).is_success
    assert agents.attempt("n1", "r", ResourceAction.START).is_success
    assert agents.attempt("n2", "r", ResourceAction.START).is_success


def test_world_power_off_drops_resources_but_daemon_crash_keeps_them() -> None:
    world = World(("a", "b"), {"ip": "g", "svc": "g"})
    world.start("a", "ip")
    world.start("a", "svc")
    world.crash_daemon("a")
    assert world.group_holders("g") == {"a"} and not world.is_live("a")
    world.power_off("a")
    assert world.group_holders("g") == set()
    assert world.boot("a") == 2 and world.is_live("a")


def test_memory_journal_crash_keeps_committed_records_only() -> None:
    journal = MemoryJournal()
    record = JournalRecord(kind=100, payload=[1], monotonic_ns=1, wall_ns=1)
    journal.append(record)
    journal.commit()
    journal.append(record)
    journal.crash()
    assert journal.committed() == (record,)


def test_random_plans_are_seeded_and_end_repaired() -> None:
    shape = faults.PlanShape(
        nodes=("a", "b", "c"),
        link_names=("eth0",),
        start_ms=1000,
        stop_ms=60_000,
        mean_gap_ms=3000,
        is_fencing=True,
    )
    first = faults.random_plan(random.Random(3), faults.FaultKinds.ALL, shape)
    assert first == faults.random_plan(random.Random(3), faults.FaultKinds.ALL, shape)
    assert all(1000 <= scheduled.at_ms <= 60_000 for scheduled in first)
    assert faults.ScheduledFault(at_ms=60_000, fault=faults.Heal()) in first
    assert faults.random_plan(random.Random(3), faults.FaultKinds.NONE, shape) == ()


def test_durations() -> None:
    assert parse_duration_ms("200ms") == 200
    assert parse_duration_ms("1.5s") == 1500
    assert parse_duration_ms("10m") == 600_000
    assert parse_duration_ms("3") == 3000
    with pytest.raises(DurationError):
        parse_duration_ms("5 s")


def test_script_parses_to_steps() -> None:
    script = parse_script(
        "cluster nodes=master,backup groups=1\n# a comment\nrun 5s\ncrash master\n"
        "cut link master backup eth1\nadmin backup standby local\nexpect holder g1 backup\n",
        file="t.txt",
    )
    assert isinstance(script[0].step, ClusterSetup)
    assert script[0].step.node_names == ("master", "backup")
    assert script[2].step == ApplyFault(fault=faults.Crash(node="master"))
    cut = script[3].step
    assert isinstance(cut, ApplyFault) and isinstance(cut.fault, faults.CutLinks)
    assert len(cut.fault.links) == 2
    admin = script[4].step
    assert isinstance(admin, Admin) and admin.scope is AdminScope.LOCAL
    assert script[5].step == ExpectHolder(group="g1", node="backup")
    assert script[2].number == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("run 5s\n", "t.txt:1: run 5s: a script starts with exactly one `cluster` line"),
        ("cluster nodes=a,b\ncrash c\n", "t.txt:2: crash c: unknown node 'c'"),
        ("cluster nodes=a,b\nrun 5 s\n", "t.txt:2: run 5 s: unknown command"),
        ("cluster nodes=a,b\ncut link a b eth7\n", "t.txt:2: cut link a b eth7: unknown link"),
        ("cluster nodes=a,b colour=red\n", "t.txt:1: cluster nodes=a,b colour=red: unknown"),
    ],
)
def test_script_errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_script(text, file="t.txt")
    assert str(raised.value).startswith(message)
