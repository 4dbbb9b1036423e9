"""Replay: a node's state is the fold of its journal's events through `step`.

This is how `hactl replay` and the simulator's replay check derive state offline: no state
is ever stored, so there is nothing to drift from. Commands produced while replaying are
discarded; they were carried out (or not) when the events were live.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.events import Event, TimeAdvanced
from engine.core.machine import initial_state, step
from engine.core.members import local_occupied
from engine.core.state import NodeState


def replay(events: Iterable[Event]) -> NodeState:
    state = initial_state()
    for event in events:
        state, _ = step(state, event)
    return state


def prior_belief(state: NodeState) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(believed_groups, incidents) for the next NodeStarted, from the replayed journal."""
    if state.config is None:
        return (), ()
    return tuple(sorted(local_occupied(state))), state.incidents


def replay_until(events: Iterable[Event], at_ms: int) -> NodeState:
    """The state as it was at time `at_ms` of the node's monotonic clock.

    Events are applied in order up to the first one later than `at_ms`; then time is
    advanced to `at_ms`, so timers due by then have fired, as they had on the live node.
    (After a reboot the monotonic clock starts again; pick the run first, then the time.)
    """
    state = initial_state()
    for event in events:
        if event.now_ms > at_ms:
            break
        state, _ = step(state, event)
    if state.config is not None and state.now_ms < at_ms:
        state, _ = step(state, TimeAdvanced(now_ms=at_ms))
    return state
