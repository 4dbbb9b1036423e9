"""`next_deadline`: the earliest time at which this node's engine must be stepped again.

Every timer the engine keeps is listed here and nowhere else, so that after any step the
answer is never in the past (each expiry handler moves or clears its timer). The shell
sleeps until this time or until a packet or result arrives, then feeds `TimeAdvanced`.
"""

from __future__ import annotations

from engine.core.group_digest import digest
from engine.core.messages import NodePhase
from engine.core.outgoing import earliest_send_ms
from engine.core.peer_digest import peer_timers
from engine.core.pings import ping_disparity_deadline_ms, target_deadline_ms
from engine.core.state import NodeState


def next_deadline(state: NodeState) -> int | None:
    """Monotonic milliseconds of the next timer, or None when the engine waits for nothing."""
    if state.phase in (NodePhase.NOT_STARTED, NodePhase.STOPPED):
        return None
    config = state.require_config()
    timings = config.timings
    times: list[int] = [state.next_heartbeat_ms]
    if state.held_status_due_ms is not None:
        times.append(state.held_status_due_ms)
    if state.next_ping_ms is not None:
        times.append(state.next_ping_ms)
    peers = peer_timers(  # warntime, deadtime, link deadtime, initdead, fence retries
        state.peers, warntime_ms=timings.warntime.value_ms, deadtime_ms=timings.deadtime.value_ms
    )
    if peers.membership_due_ms is not None:
        times.append(peers.membership_due_ms)
    if peers.fence_retry_due_ms is not None:
        times.append(peers.fence_retry_due_ms)
    for target in state.ping_targets:
        if target.is_up:
            times.append(target_deadline_ms(state, target))
    disparity_ms = ping_disparity_deadline_ms(state)
    if disparity_ms is not None:
        times.append(disparity_ms)
    retransmit_ms = earliest_send_ms(state.outgoing)
    if retransmit_ms is not None:
        times.append(retransmit_ms)
    group_due_ms = digest(state.groups).timer_due_ms  # stop retries and monitors
    if group_due_ms is not None:
        times.append(group_due_ms)
    if state.shutdown_deadline_ms is not None:
        times.append(state.shutdown_deadline_ms)
    return min(times)
