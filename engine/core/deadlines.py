"""`next_deadline`: the earliest time at which this node's engine must be stepped again.

Every timer the engine keeps is listed here and nowhere else, so that after any step the
answer is never in the past (each expiry handler moves or clears its timer). The shell
sleeps until this time or until a packet or result arrives, then feeds `TimeAdvanced`.
"""

from __future__ import annotations

from engine.core.group_digest import digest
from engine.core.messages import NodePhase
from engine.core.pings import ping_disparity_deadline_ms, target_deadline_ms
from engine.core.state import NodeState, PeerStatus


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
    for peer in state.peers.values():
        if peer.status is PeerStatus.UP:
            assert peer.last_heard_ms is not None
            times.append(peer.last_heard_ms + timings.deadtime.value_ms)
            if not peer.is_late_warned:
                times.append(peer.last_heard_ms + timings.warntime.value_ms)
            for link in peer.links.values():
                if link.status.value == "up":
                    times.append(link.last_heard_ms + timings.deadtime.value_ms)
        elif peer.status is PeerStatus.INIT:
            assert peer.init_deadline_ms is not None
            times.append(peer.init_deadline_ms)
        if peer.fence_retry_ms is not None:
            times.append(peer.fence_retry_ms)
    for target in state.ping_targets:
        if target.is_up:
            times.append(target_deadline_ms(state, target))
    disparity_ms = ping_disparity_deadline_ms(state)
    if disparity_ms is not None:
        times.append(disparity_ms)
    times.extend(item.next_send_ms for item in state.outgoing)
    group_due_ms = digest(state.groups).timer_due_ms  # stop retries and monitors
    if group_due_ms is not None:
        times.append(group_due_ms)
    if state.shutdown_deadline_ms is not None:
        times.append(state.shutdown_deadline_ms)
    return min(times)
