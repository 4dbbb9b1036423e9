"""Ping nodes (ipfail): pseudo-members that show whether this node still reaches the network.

Each `ping IP` and each `ping_group NAME IP...` is one target; a group is up while any of
its addresses answers. A target is up until `deadping` passes without an answer (counted
from this node's start at first, so a booting node is not judged before it could ask). The
count of reachable targets travels in the heartbeat; placement prefers the best-connected.
"""

from __future__ import annotations

from dataclasses import replace

from engine.config.model import ClusterConfig
from engine.core.commands import LogLevel, SendPing
from engine.core.constants import PING_SETTLE_KEEPALIVES
from engine.core.effects import Effects
from engine.core.events import PingResultReceived
from engine.core.members import best_peer_ping_count, ping_reachable_count
from engine.core.state import NodeState, PingTarget


def ping_targets(
    config: ClusterConfig, previous: tuple[PingTarget, ...] = ()
) -> tuple[PingTarget, ...]:
    kept = {target.name: target for target in previous}
    targets = [
        PingTarget(name=address, addresses=(address,), is_up=True) for address in config.ping_nodes
    ]
    targets += [
        PingTarget(name=group.name, addresses=group.addresses, is_up=True)
        for group in config.ping_groups
    ]
    return tuple(kept.get(target.name, target) for target in targets)


def ping_answered(state: NodeState, event: PingResultReceived, fx: Effects) -> NodeState:
    if not event.is_reachable:
        return state  # silence is judged by deadping, not by one lost reply
    targets: list[PingTarget] = []
    for target in state.ping_targets:
        if event.address in target.addresses:
            if not target.is_up:
                fx.log(LogLevel.INFO, f"ping node {target.name} is reachable again")
                fx.is_dirty = True
            target = replace(target, is_up=True, last_reply_ms=state.now_ms)
        targets.append(target)
    return replace(state, ping_targets=tuple(targets))


def target_deadline_ms(state: NodeState, target: PingTarget) -> int:
    since_ms = state.started_ms if target.last_reply_ms is None else target.last_reply_ms
    return since_ms + state.require_config().timings.deadping.value_ms


def expire_ping_targets(state: NodeState, fx: Effects) -> NodeState:
    targets: list[PingTarget] = []
    for target in state.ping_targets:
        if target.is_up and target_deadline_ms(state, target) <= state.now_ms:
            fx.log(LogLevel.WARNING, f"ping node {target.name} is unreachable")
            fx.is_dirty = True
            target = replace(target, is_up=False)
        targets.append(target)
    return replace(state, ping_targets=tuple(targets))


def send_pings_due(state: NodeState, fx: Effects) -> NodeState:
    if state.next_ping_ms is None or state.next_ping_ms > state.now_ms:
        return state
    for target in state.ping_targets:
        for address in target.addresses:
            fx.emit(SendPing(address=address))
    keepalive_ms = state.require_config().timings.keepalive.value_ms
    return replace(state, next_ping_ms=_next_period(state.next_ping_ms, keepalive_ms, state.now_ms))


def _next_period(previous_ms: int, period_ms: int, now_ms: int) -> int:
    following_ms = previous_ms + period_ms
    return following_ms if following_ms > now_ms else now_ms + period_ms


def ping_settle_ms(state: NodeState) -> int:
    return PING_SETTLE_KEEPALIVES * state.require_config().timings.keepalive.value_ms


def track_ping_disparity(state: NodeState) -> NodeState:
    """Note when this node starts reaching fewer ping nodes than a live peer (reconcile)."""
    if not state.ping_targets:
        return state
    best_peer = best_peer_ping_count(state)
    is_behind = best_peer is not None and ping_reachable_count(state) < best_peer
    if is_behind and state.ping_disparity_since_ms is None:
        return replace(state, ping_disparity_since_ms=state.now_ms, is_ping_disparity_settled=False)
    if not is_behind and state.ping_disparity_since_ms is not None:
        return replace(state, ping_disparity_since_ms=None, is_ping_disparity_settled=False)
    return state


def ping_disparity_deadline_ms(state: NodeState) -> int | None:
    if state.ping_disparity_since_ms is None or state.is_ping_disparity_settled:
        return None
    return state.ping_disparity_since_ms + ping_settle_ms(state)


def settle_ping_disparity(state: NodeState, fx: Effects) -> NodeState:
    deadline_ms = ping_disparity_deadline_ms(state)
    if deadline_ms is None or deadline_ms > state.now_ms:
        return state
    fx.log(LogLevel.WARNING, "this node reaches fewer ping nodes than a peer: giving way")
    fx.is_dirty = True
    return replace(state, is_ping_disparity_settled=True)
