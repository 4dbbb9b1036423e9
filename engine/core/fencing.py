"""Fencing (STONITH) of dead peers: fence first, then take over; retry every 5 s.

Fencing is lazy: a dead peer is fenced when this node wants to start a group the peer may
still hold (its `suspect_groups`). Only then does the risk exist, and only the node that
would take over needs the certainty. A fence success clears the peer's suspicion; a failure
is retried after FENCE_RETRY_INTERVAL_MS for as long as the group is wanted here.
"""

from __future__ import annotations

from dataclasses import replace

from engine.core.commands import AlertKind, FenceNode, LogLevel
from engine.core.constants import FENCE_RETRY_INTERVAL_MS
from engine.core.effects import Effects
from engine.core.events import FenceCompleted
from engine.core.peer_digest import peer_timers
from engine.core.state import NodeState, PeerStatus


def request_fence(state: NodeState, target: str, groups: list[str], fx: Effects) -> NodeState:
    peer = state.peers[target]
    assert peer.status is PeerStatus.DEAD and peer.suspect_groups
    if peer.is_fence_in_flight or peer.fence_retry_ms is not None:
        return state
    reason = f"node {target} is dead and may still hold {', '.join(sorted(groups))}"
    fx.emit(FenceNode(target=target, reason=reason))
    peers = dict(state.peers)
    peers[target] = replace(peer, is_fence_in_flight=True)
    return replace(state, peers=peers)


def fence_completed(state: NodeState, event: FenceCompleted, fx: Effects) -> NodeState:
    peer = state.peers.get(event.target)
    if peer is None or not peer.is_fence_in_flight:
        return replace(state, ignored_event_count=state.ignored_event_count + 1)
    peer = replace(peer, is_fence_in_flight=False)
    fx.is_dirty = True
    if peer.status is not PeerStatus.DEAD:
        fx.log(LogLevel.INFO, f"fencing of {peer.name} finished after it came back; ignored")
    elif event.is_success:
        fx.alert(
            AlertKind.NODE_FENCED,
            f"node {peer.name} fenced by {event.device} in {event.duration_ms} ms",
        )
        peer = replace(peer, suspect_groups=frozenset(), fence_retry_ms=None)
    else:
        fx.alert(
            AlertKind.FENCE_FAILED,
            f"fencing {peer.name} with {event.device} failed: {event.detail}; "
            f"retrying in {FENCE_RETRY_INTERVAL_MS} ms",
        )
        peer = replace(peer, fence_retry_ms=state.now_ms + FENCE_RETRY_INTERVAL_MS)
    peers = dict(state.peers)
    peers[peer.name] = peer
    return replace(state, peers=peers)


def expire_fence_retries(state: NodeState, fx: Effects) -> NodeState:
    now_ms = state.now_ms
    timings = state.require_config().timings
    due_ms = peer_timers(
        state.peers, warntime_ms=timings.warntime.value_ms, deadtime_ms=timings.deadtime.value_ms
    ).fence_retry_due_ms
    if due_ms is None or due_ms > now_ms:
        return state  # the common case: nothing waits, nothing built
    due = [
        name
        for name, peer in state.peers.items()
        if peer.fence_retry_ms is not None and peer.fence_retry_ms <= state.now_ms
    ]
    if not due:
        return state
    peers = dict(state.peers)
    for name in due:
        peers[name] = replace(peers[name], fence_retry_ms=None)
    fx.is_dirty = True
    return replace(state, peers=peers)
