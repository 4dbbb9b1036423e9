"""The group digest: derived step by step (`with_run`) it equals the digest built afresh."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from engine.core.events import ResourceAction
from engine.core.group_digest import GroupRuns, digest, with_run
from engine.core.state import GroupPhase, GroupRun, PendingAction, ResourceStatus

NAMES = ("g1", "g2", "g3", "g4", "g5")
PENDING = PendingAction(action_id=1, resource_index=0, action=ResourceAction.MONITOR)


def run(name: str) -> GroupRun:
    return GroupRun(
        name=name,
        phase=GroupPhase.STOPPED,
        resource_ids=("r1", "r2"),
        resources=(ResourceStatus.UNKNOWN,) * 2,
        restart_counts=(0, 0),
        monitor_due_ms=(None, None),
    )


times = st.none() | st.integers(min_value=0, max_value=50)
changes = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(list(GroupPhase)),
    times,
    st.tuples(times, times),
    st.booleans(),
)


@given(st.lists(changes, max_size=40))
def test_a_derived_digest_equals_a_fresh_one(steps: list[tuple[object, ...]]) -> None:
    groups: GroupRuns = GroupRuns({name: run(name) for name in NAMES})
    for name, phase, stop_retry_ms, monitor_due_ms, is_pending in steps:
        assert isinstance(name, str) and isinstance(phase, GroupPhase)
        changed = replace(
            groups[name],
            phase=phase,
            stop_retry_ms=stop_retry_ms,
            monitor_due_ms=monitor_due_ms,
            pending=PENDING if is_pending else None,
        )
        groups = with_run(groups, changed)
        assert digest(groups) == digest(dict(groups))  # a plain dict is digested afresh


def test_the_payload_lists_keep_the_mapping_order() -> None:
    groups = GroupRuns({name: run(name) for name in NAMES})
    for name in ("g4", "g1", "g3"):
        groups = with_run(groups, replace(groups[name], phase=GroupPhase.RUNNING))
    assert digest(groups).running == ("g1", "g3", "g4")
    assert digest(groups).stopped_count == 2


def test_the_earliest_timer_moves_on_when_its_group_is_done_with_it() -> None:
    groups = GroupRuns({name: run(name) for name in NAMES})
    groups = with_run(groups, replace(groups["g2"], stop_retry_ms=10))
    groups = with_run(groups, replace(groups["g3"], stop_retry_ms=30))
    assert digest(groups).timer_due_ms == 10
    groups = with_run(groups, replace(groups["g2"], stop_retry_ms=None))
    assert digest(groups).timer_due_ms == 30
