"""Faults as data: what can go wrong in a simulated cluster, and seeded plans of them.

A scenario line (`crash master`, `partition node1 | node2 node3`) and the random fault
injector of a seed sweep produce the same `Fault` values, which the harness applies at
their scheduled time; keeping them as plain data keeps the harness free of fault logic and
lets a failing seed print exactly what happened to it. A random plan only schedules faults
inside [start, stop); at `stop` everything is repaired (network healed, nodes booted,
device fixed) so liveness can be checked afterwards.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

from engine.sim.devices import ResourceAction
from engine.sim.network import DirectedLink, LinkFaults


class FaultKinds(enum.Enum):
    """The `--faults` choice of `hactl sim`."""

    NONE = "none"
    LOSS = "loss"
    PARTITION = "partition"
    CRASH = "crash"
    ALL = "all"
    # Only daemon deaths (node and resources run on) and power losses: the issue-9 mix,
    # where a restarted daemon must probe what still runs before it claims anything.
    DAEMON_CRASH = "daemon-crash"


@dataclass(frozen=True, slots=True, kw_only=True)
class Crash:
    """Power off: the node and everything it held vanish."""

    node: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashDaemon:
    """The daemon dies; the machine and its resources stay up."""

    node: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Boot:
    """Power on (if off) and start the daemon with a new generation."""

    node: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CutLinks:
    links: tuple[DirectedLink, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreLinks:
    links: tuple[DirectedLink, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Partition:
    sides: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Heal:
    """Every link connected and healthy again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DegradeLinks:
    links: tuple[DirectedLink, ...]
    faults: LinkFaults


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceDeviceFails:
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceDeviceHangs:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceDeviceLies:
    """The device says "done" but powers nothing off: the checkers must notice."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceDeviceRepaired:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockJump:
    """The node's wall clock jumps (or is skewed) by delta_ms; monotonic time is untouched."""

    node: str
    delta_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceFails:
    node: str
    resource_id: str
    action: ResourceAction
    count: int  # negative: fails until repaired


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourcesRepaired:
    pass


Fault = (
    Crash
    | CrashDaemon
    | Boot
    | CutLinks
    | RestoreLinks
    | Partition
    | Heal
    | DegradeLinks
    | FenceDeviceFails
    | FenceDeviceHangs
    | FenceDeviceLies
    | FenceDeviceRepaired
    | ClockJump
    | ResourceFails
    | ResourcesRepaired
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledFault:
    at_ms: int
    fault: Fault


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShape:
    nodes: tuple[str, ...]
    link_names: tuple[str, ...]
    start_ms: int
    stop_ms: int
    mean_gap_ms: int  # average quiet time between two faults
    is_fencing: bool


def random_plan(
    random_source: random.Random, kinds: FaultKinds, shape: PlanShape
) -> tuple[ScheduledFault, ...]:
    """A seeded list of faults in [start, stop), ending with a full repair at `stop`."""
    if kinds is FaultKinds.NONE or shape.stop_ms <= shape.start_ms:
        return ()
    makers = _makers(kinds)
    plan: list[ScheduledFault] = []
    at_ms = shape.start_ms + random_source.randint(0, shape.mean_gap_ms)
    while at_ms < shape.stop_ms:
        maker = random_source.choice(makers)
        for offset_ms, fault in maker(random_source, shape):
            if at_ms + offset_ms < shape.stop_ms:
                plan.append(ScheduledFault(at_ms=at_ms + offset_ms, fault=fault))
        at_ms += random_source.randint(shape.mean_gap_ms // 2, shape.mean_gap_ms * 3 // 2)
    plan.extend(_repairs(shape))
    return tuple(sorted(plan, key=lambda scheduled: scheduled.at_ms))


def _repairs(shape: PlanShape) -> list[ScheduledFault]:
    repairs: list[Fault] = [Heal(), FenceDeviceRepaired(), ResourcesRepaired()]
    repairs.extend(Boot(node=node) for node in shape.nodes)  # booting a live node is a no-op
    return [ScheduledFault(at_ms=shape.stop_ms, fault=fault) for fault in repairs]


Timed = list[tuple[int, Fault]]
Maker = Callable[[random.Random, PlanShape], Timed]


def _makers(kinds: FaultKinds) -> list[Maker]:
    loss: list[Maker] = [_lossy_links]
    partition: list[Maker] = [_partition, _swizzle_clog, _cut_one_link]
    crash: list[Maker] = [
        _crash_and_boot,
        _daemon_crash_and_boot,
        _clock_jump,
        _fence_device_trouble,
    ]
    match kinds:
        case FaultKinds.NONE:
            return []
        case FaultKinds.LOSS:
            return list(loss)
        case FaultKinds.PARTITION:
            return list(partition)
        case FaultKinds.CRASH:
            return list(crash)
        case FaultKinds.ALL:
            return [*loss, *partition, *crash]
        case FaultKinds.DAEMON_CRASH:
            return [_daemon_crash_and_boot, _crash_and_boot]


def _pair(random_source: random.Random, shape: PlanShape) -> tuple[str, str]:
    first, second = random_source.sample(shape.nodes, 2)
    return first, second


def _both_ways(first: str, second: str, link_names: tuple[str, ...]) -> tuple[DirectedLink, ...]:
    return tuple(
        DirectedLink(source=source, destination=destination, link=name)
        for name in link_names
        for source, destination in ((first, second), (second, first))
    )


def _lossy_links(random_source: random.Random, shape: PlanShape) -> Timed:
    first, second = _pair(random_source, shape)
    faults = LinkFaults(
        loss_ratio=random_source.choice((0.1, 0.3, 0.6)),
        delay_ms_min=1,
        delay_ms_max=random_source.choice((5, 50, 300)),
        duplicate_ratio=random_source.choice((0.0, 0.05, 0.2)),
        reorder_ratio=random_source.choice((0.0, 0.1)),
    )
    links = _both_ways(first, second, shape.link_names)
    healthy = LinkFaults()
    return [
        (0, DegradeLinks(links=links, faults=faults)),
        (random_source.randint(1000, 8000), DegradeLinks(links=links, faults=healthy)),
    ]


def _partition(random_source: random.Random, shape: PlanShape) -> Timed:
    nodes = list(shape.nodes)
    random_source.shuffle(nodes)
    split = random_source.randint(1, len(nodes) - 1)
    sides = (tuple(sorted(nodes[:split])), tuple(sorted(nodes[split:])))
    return [(0, Partition(sides=sides)), (random_source.randint(1000, 10_000), Heal())]


def _swizzle_clog(random_source: random.Random, shape: PlanShape) -> Timed:
    """FoundationDB's swizzle-clogging: stop links one by one, restore them in random order."""
    first, second = _pair(random_source, shape)
    links = list(_both_ways(first, second, shape.link_names))
    random_source.shuffle(links)
    timed: Timed = []
    at_ms = 0
    for link in links:
        timed.append((at_ms, CutLinks(links=(link,))))
        at_ms += random_source.randint(100, 1500)
    random_source.shuffle(links)
    for link in links:
        timed.append((at_ms, RestoreLinks(links=(link,))))
        at_ms += random_source.randint(100, 1500)
    return timed


def _cut_one_link(random_source: random.Random, shape: PlanShape) -> Timed:
    first, second = _pair(random_source, shape)
    name = random_source.choice(shape.link_names)
    links = _both_ways(first, second, (name,))
    restore_ms = random_source.randint(1000, 10_000)
    return [(0, CutLinks(links=links)), (restore_ms, RestoreLinks(links=links))]


def _crash_and_boot(random_source: random.Random, shape: PlanShape) -> Timed:
    node = random_source.choice(shape.nodes)
    return [(0, Crash(node=node)), (random_source.randint(500, 10_000), Boot(node=node))]


def _daemon_crash_and_boot(random_source: random.Random, shape: PlanShape) -> Timed:
    node = random_source.choice(shape.nodes)
    return [(0, CrashDaemon(node=node)), (random_source.randint(500, 10_000), Boot(node=node))]


def _clock_jump(random_source: random.Random, shape: PlanShape) -> Timed:
    node = random_source.choice(shape.nodes)
    delta_ms = random_source.choice((-3_600_000, -1500, 250, 90_000, 86_400_000))
    return [(0, ClockJump(node=node, delta_ms=delta_ms))]


def _fence_device_trouble(random_source: random.Random, shape: PlanShape) -> Timed:
    if not shape.is_fencing:
        return []
    if random_source.random() < 0.3:
        repair_ms = random_source.randint(2000, 12_000)
        return [(0, FenceDeviceHangs()), (repair_ms, FenceDeviceRepaired())]
    return [(0, FenceDeviceFails(count=random_source.randint(1, 3)))]
