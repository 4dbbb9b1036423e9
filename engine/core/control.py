"""Control messages: sent at once, retransmitted every keepalive until acknowledged.

Heartbeats may be lost; control messages (standby requests, release and shutdown notices)
must arrive, so the engine keeps each in `state.outgoing` and sends it again each keepalive
until the peer's ACK, or until the peer is dead or gone (then nobody is left to tell).
Receipt is idempotent: a (generation, message id) already handled is only ACKed again.
"""

from __future__ import annotations

from dataclasses import replace

from engine.core.claims import answer_acquire, claims_refused
from engine.core.commands import LogLevel, SendControlMessage
from engine.core.effects import Effects
from engine.core.events import ControlMessageReceived
from engine.core.evolve import evolve_node_state
from engine.core.membership import mark_left, with_changed_peer
from engine.core.messages import ControlKind, ControlMessage
from engine.core.outgoing import earliest_send_ms, with_item, without_item
from engine.core.state import NodeState, OutgoingControl, PeerState, PeerStatus


def send_control(state: NodeState, to_node: str, message: ControlMessage, fx: Effects) -> NodeState:
    assert message.kind is not ControlKind.ACK, "ACKs are sent once, never queued"
    assert to_node in state.peers
    message_id = fx.new_message_id()
    fx.emit(SendControlMessage(to_node=to_node, message_id=message_id, message=message))
    keepalive_ms = state.require_config().timings.keepalive.value_ms
    queued = OutgoingControl(
        message_id=message_id,
        to_node=to_node,
        message=message,
        next_send_ms=state.now_ms + keepalive_ms,
    )
    return evolve_node_state(state, outgoing=with_item(state.outgoing, queued))


def send_to_live_peers(state: NodeState, message: ControlMessage, fx: Effects) -> NodeState:
    for name, peer in state.peers.items():
        if peer.status in (PeerStatus.UP, PeerStatus.INIT):
            state = send_control(state, name, message, fx)
    return state


def retransmit_due(state: NodeState, fx: Effects) -> NodeState:
    due_ms = earliest_send_ms(state.outgoing)
    if due_ms is None or due_ms > state.now_ms:
        return state
    keepalive_ms = state.require_config().timings.keepalive.value_ms
    kept: list[OutgoingControl] = []
    for item in state.outgoing:
        if item.next_send_ms > state.now_ms:
            kept.append(item)
            continue
        peer = state.peers.get(item.to_node)
        if peer is None or peer.status in (PeerStatus.DEAD, PeerStatus.LEFT):
            fx.is_dirty = True  # a shutdown may have been waiting on this one
            continue
        fx.emit(
            SendControlMessage(
                to_node=item.to_node, message_id=item.message_id, message=item.message
            )
        )
        kept.append(replace(item, next_send_ms=state.now_ms + keepalive_ms))
    return evolve_node_state(state, outgoing=tuple(kept))


def receive_control(state: NodeState, event: ControlMessageReceived, fx: Effects) -> NodeState:
    peer = state.peers.get(event.from_node)
    if peer is None or (peer.generation is not None and event.generation < peer.generation):
        return evolve_node_state(state, ignored_event_count=state.ignored_event_count + 1)
    message = event.message
    if message.kind is ControlKind.ACK:
        return _acknowledged(state, event.from_node, message, fx)
    key = _control_key(event.generation, event.message_id)
    is_repeat = key in peer.processed_control_ids
    refused: tuple[str, ...] = ()
    if message.kind is ControlKind.ACQUIRE:
        state, refused = answer_acquire(state, peer, message.groups, is_repeat, fx)
    acknowledgement = ControlMessage(
        kind=ControlKind.ACK, acked_message_id=event.message_id, groups=refused
    )
    fx.emit(
        SendControlMessage(
            to_node=event.from_node, message_id=fx.new_message_id(), message=acknowledgement
        )
    )
    if is_repeat:
        return state
    peer = replace(state.peers[peer.name], processed_control_ids=peer.processed_control_ids | {key})
    state = with_changed_peer(state, peer)
    if message.kind is ControlKind.ACQUIRE:
        return state
    return _apply(state, peer, message, fx)


def _control_key(generation: int, message_id: int) -> int:
    # One int per message: ids are far below 2**40 in any real run.
    return (generation << 40) | message_id


def _acknowledged(
    state: NodeState, from_node: str, message: ControlMessage, fx: Effects
) -> NodeState:
    for index, item in enumerate(state.outgoing):  # message ids are unique: one at most
        if item.to_node == from_node and item.message_id == message.acked_message_id:
            if item.message.kind is ControlKind.ACQUIRE:
                fx.mark_groups(item.message.groups)  # a claim of these got one more answer
            elif item.message.kind is ControlKind.SHUTDOWN_NOTICE:
                fx.is_dirty = True  # the shutdown waits for these answers
            # nothing waits for the answer to a RELEASE_DONE or STANDBY_REQUEST
            state = evolve_node_state(state, outgoing=without_item(state.outgoing, index))
            break
    if message.groups:
        state = claims_refused(state, from_node, message.groups, fx)
    return state


def _apply(state: NodeState, peer: PeerState, message: ControlMessage, fx: Effects) -> NodeState:
    config = state.require_config()
    known = {group.name for group in config.groups}
    match message.kind:
        case ControlKind.STANDBY_REQUEST:
            wanted = frozenset(message.groups) & known
            fx.log(
                LogLevel.INFO,
                f"node {peer.name} asked for {', '.join(sorted(wanted)) or 'no groups'}: "
                "standing by for them",
            )
            fx.is_dirty = True
            return evolve_node_state(state, declined_groups=state.declined_groups | wanted)
        case ControlKind.RELEASE_DONE:
            return _release_done(state, peer, frozenset(message.groups), fx)
        case ControlKind.SHUTDOWN_NOTICE:
            return mark_left(state, peer, fx)
        case ControlKind.ACK | ControlKind.ACQUIRE:
            raise AssertionError("handled by the caller")


def _release_done(
    state: NodeState, peer: PeerState, groups: frozenset[str], fx: Effects
) -> NodeState:
    payload = peer.payload
    if payload is None or not (payload.occupied_groups() & groups):
        return state
    # Same status_version: the peer's next heartbeat carries a higher one and replaces this.
    payload = replace(
        payload,
        running_groups=tuple(g for g in payload.running_groups if g not in groups),
        starting_groups=tuple(g for g in payload.starting_groups if g not in groups),
        stopping_groups=tuple(g for g in payload.stopping_groups if g not in groups),
    )
    fx.mark_groups(groups)  # only what it says of these groups changed
    return with_changed_peer(state, replace(peer, payload=payload))
