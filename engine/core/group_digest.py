"""What every step asks of all the group runs at once, computed once per groups mapping.

Each step asks the same questions of every group run: is a timer due, which groups does
the status report as running, starting, stopping or probing, what does this node hold or
occupy, is any group still probing. With hundreds of groups those scans cost more than the
rest of the step, yet the answers change only when a run does, and most events (a routine
heartbeat, a timer with nothing due) change none. State mappings are never changed in
place (a module that changes a run copies the mapping first), so the answers can be
computed once per mapping and kept with it: `GroupRuns` is that mapping, and `digest`
answers for any mapping (a plain dict, as a test or a decoded snapshot builds, is
digested afresh each time; `step` hands back its groups as `GroupRuns`). A change of one
run, the common case, goes through `with_run`, which derives the new digest from the old
one in time proportional to the lists that change, not to the number of groups.

`GroupRuns` is a dict so that it compares, encodes and copies as one; like every mapping
in the state it must not be changed after it is built (its digest would go stale).
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.core.evolve import evolver
from engine.core.state import GroupPhase, GroupRun

HOLDING_PHASES = frozenset(
    {GroupPhase.CLAIMING, GroupPhase.STARTING, GroupPhase.RUNNING, GroupPhase.RESTARTING}
)
OCCUPYING_PHASES = HOLDING_PHASES | {
    GroupPhase.STOPPING,
    GroupPhase.STOP_FAILED,
    GroupPhase.PROBING,
}
_HOLDING_LISTS = ("running", "starting")  # the payload lists of HOLDING_PHASES


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDigest:
    running: tuple[str, ...]  # the payload's lists, in the mapping's order
    starting: tuple[str, ...]
    stopping: tuple[str, ...]
    probing: tuple[str, ...]
    holding: frozenset[str]  # HOLDING_PHASES
    occupied: frozenset[str]  # OCCUPYING_PHASES
    stopped_count: int
    timer_due_ms: int | None  # the earliest stop retry or monitor due, if any
    order: Mapping[str, int]  # each group's place in the mapping, shared by derived digests

    @property
    def is_probing(self) -> bool:
        return bool(self.probing)


# A derived digest changes a field or a few of the base's: copied, not rebuilt field by field.
_evolve_digest: Callable[..., GroupDigest] = evolver(GroupDigest)


class GroupRuns(dict[str, GroupRun]):
    """A groups mapping that keeps its digest; never changed after it is built."""

    __slots__ = ("_digest",)

    def __init__(self, runs: Mapping[str, GroupRun]) -> None:
        super().__init__(runs)
        self._digest: GroupDigest | None = None


def digest(groups: Mapping[str, GroupRun]) -> GroupDigest:
    if type(groups) is GroupRuns:
        kept = groups._digest
        if kept is None:
            kept = groups._digest = _digest_of(groups)
        return kept
    return _digest_of(groups)


def frozen_runs(groups: Mapping[str, GroupRun]) -> GroupRuns:
    """`groups` as a `GroupRuns` (itself when it already is one)."""
    return groups if type(groups) is GroupRuns else GroupRuns(groups)


def with_run(groups: Mapping[str, GroupRun], run: GroupRun) -> GroupRuns:
    """`groups` with `run` in place of the run of the same name, digest derived in step."""
    previous = groups[run.name]
    base = digest(groups)
    runs = GroupRuns(groups)
    runs[run.name] = run
    runs._digest = base if previous is run else _derived(base, previous, run, runs)
    return runs


def group_timer_due_ms(run: GroupRun) -> int | None:
    """The earliest timer of one run: its stop retry, or a monitor when it runs idle."""
    times = [] if run.stop_retry_ms is None else [run.stop_retry_ms]
    if run.phase is GroupPhase.RUNNING and run.pending is None:
        times.extend(due for due in run.monitor_due_ms if due is not None)
    return min(times, default=None)


def _category(phase: GroupPhase) -> str:
    """Which payload list a phase is reported in ("stopped": none)."""
    if phase is GroupPhase.STOPPED:
        return "stopped"
    if phase is GroupPhase.RUNNING:
        return "running"
    if phase is GroupPhase.PROBING:
        return "probing"
    if phase is GroupPhase.STOPPING or phase is GroupPhase.STOP_FAILED:
        return "stopping"
    return "starting"  # CLAIMING, STARTING, RESTARTING


def _derived(
    base: GroupDigest, previous: GroupRun, run: GroupRun, runs: Mapping[str, GroupRun]
) -> GroupDigest:
    """The digest of `runs`, which is `base`'s mapping with `previous` replaced by `run`."""
    was, now = _category(previous.phase), _category(run.phase)
    derived = base
    if was != now:
        derived = _moved(base, run.name, was, now)
    was_due_ms, due_ms = group_timer_due_ms(previous), group_timer_due_ms(run)
    if was_due_ms == due_ms:
        return derived
    if was_due_ms is not None and was_due_ms == base.timer_due_ms:
        # it set the minimum
        return _evolve_digest(derived, timer_due_ms=_earliest_timer_ms(runs))
    if due_ms is not None and (base.timer_due_ms is None or due_ms < base.timer_due_ms):
        return _evolve_digest(derived, timer_due_ms=due_ms)
    return derived


def _moved(base: GroupDigest, name: str, was: str, now: str) -> GroupDigest:
    """`base` with group `name` moved from payload list `was` to `now` (they differ).

    At boot every probe result moves one group out of a list of hundreds, so each list
    is cut and spliced at the group's place (a name is in one list at most, once) and the
    two sets gain or lose the one name, rather than being built again from the lists.
    """
    lists = {
        "running": base.running,
        "starting": base.starting,
        "stopping": base.stopping,
        "probing": base.probing,
    }
    if was != "stopped":
        left = lists[was]
        index = left.index(name)
        lists[was] = left[:index] + left[index + 1 :]
    if now != "stopped":
        joined = lists[now]
        index = bisect(joined, base.order[name], key=base.order.__getitem__)  # mapping order
        lists[now] = (*joined[:index], name, *joined[index:])
    holding, occupied = base.holding, base.occupied
    was_holding, is_holding = was in _HOLDING_LISTS, now in _HOLDING_LISTS
    if was_holding != is_holding:
        holding = holding | {name} if is_holding else holding - {name}
    if was == "stopped":
        occupied = occupied | {name}
    elif now == "stopped":
        occupied = occupied - {name}
    return _evolve_digest(
        base,
        running=lists["running"],
        starting=lists["starting"],
        stopping=lists["stopping"],
        probing=lists["probing"],
        holding=holding,
        occupied=occupied,
        stopped_count=base.stopped_count + (now == "stopped") - (was == "stopped"),
    )


def _earliest_timer_ms(runs: Mapping[str, GroupRun]) -> int | None:
    earliest_ms: int | None = None
    for run in runs.values():
        if run.stop_retry_ms is not None or run.phase is GroupPhase.RUNNING:
            due_ms = group_timer_due_ms(run)
            if due_ms is not None and (earliest_ms is None or due_ms < earliest_ms):
                earliest_ms = due_ms
    return earliest_ms


def _digest_of(groups: Mapping[str, GroupRun]) -> GroupDigest:
    # Identity tests, not a dict keyed by phase: an Enum hashes in Python, and this loop
    # runs over every group each time one changes.
    running: list[str] = []
    starting: list[str] = []
    stopping: list[str] = []
    probing: list[str] = []
    stopped_count = 0
    timer_due_ms: int | None = None
    for name, run in groups.items():
        phase = run.phase
        if phase is GroupPhase.STOPPED:
            stopped_count += 1
        elif phase is GroupPhase.RUNNING:
            running.append(name)
        elif phase is GroupPhase.PROBING:
            probing.append(name)
        elif phase is GroupPhase.STOPPING or phase is GroupPhase.STOP_FAILED:
            stopping.append(name)
        else:  # CLAIMING, STARTING, RESTARTING
            starting.append(name)
        if run.stop_retry_ms is not None or phase is GroupPhase.RUNNING:
            due_ms = group_timer_due_ms(run)
            if due_ms is not None and (timer_due_ms is None or due_ms < timer_due_ms):
                timer_due_ms = due_ms
    holding = frozenset(running).union(starting)
    return GroupDigest(
        running=tuple(running),
        starting=tuple(starting),
        stopping=tuple(stopping),
        probing=tuple(probing),
        holding=holding,
        occupied=holding.union(stopping, probing),
        stopped_count=stopped_count,
        timer_due_ms=timer_due_ms,
        order={name: index for index, name in enumerate(groups)},
    )
