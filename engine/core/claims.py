"""Claims: a node starts a group only after every live peer agreed it does not hold it.

Placement alone is not enough for safety: two nodes whose views differ for a moment (a
status lost or late, a ping count in flux) may each believe it is the holder of a group
nobody holds. So a node about to start group G first claims it: G turns CLAIMING (reported
as starting, so it counts as occupied) and an ACQUIRE naming G goes to every live peer. A
peer answers with an ACK that lists G as refused when it occupies G itself (or is claiming it
and wins the tie-break: the keeper rule of placement.py); otherwise it records the claim
(as if the claimant's status said "starting G") and ACKs. When every live peer has ACKed
without refusing (or died meanwhile), the claimant starts G; a refusal withdraws the claim.

Why this cannot let two nodes start G: each node occupies G continuously from its claim
to its stop; a peer ACKs without refusing only while not occupying G. If A and B both got
clean ACKs, B acked A's claim before B claimed, and A acked B's claim before A claimed;
but each ACK came after the other's claim was sent: a cycle in time, impossible.

One ACQUIRE names every group a reconcile claims (a node boots and claims its share of
hundreds of groups at once: one message per peer, not one per group and peer). The
argument above is per group and unchanged: a peer answers for each named group on its
own, listing the ones it refuses. Withdrawing one group's claim takes that group out of
the messages still awaiting an answer and leaves the rest waiting: a message id covers
whatever groups it still names, and a peer that handled the longer first transmission
has recorded the withdrawn group as occupied by us, which only makes it more careful,
until our next status says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from engine.core.commands import LogLevel
from engine.core.effects import Effects
from engine.core.evolve import evolve_group_run, evolve_node_state
from engine.core.group_digest import with_run
from engine.core.membership import with_changed_peer
from engine.core.messages import ControlKind, ControlMessage
from engine.core.placement import keeper
from engine.core.state import GroupPhase, GroupRun, NodeState, OutgoingControl, PeerState


def is_awaiting_answers(state: NodeState, name: str) -> bool:
    return any(
        item.message.kind is ControlKind.ACQUIRE and name in item.message.groups
        for item in state.outgoing
    )


def withdraw_claim(state: NodeState, name: str) -> NodeState:
    """Stop claiming `name`: no answer about it is awaited any more; other groups' are."""
    run = state.groups[name]
    assert run.phase is GroupPhase.CLAIMING
    groups = with_run(state.groups, evolve_group_run(run, phase=GroupPhase.STOPPED))
    outgoing: list[OutgoingControl] = []
    for item in state.outgoing:
        message = item.message
        if message.kind is ControlKind.ACQUIRE and name in message.groups:
            rest = tuple(group for group in message.groups if group != name)
            if not rest:
                continue
            item = replace(item, message=replace(message, groups=rest))
        outgoing.append(item)
    return evolve_node_state(state, groups=groups, outgoing=tuple(outgoing))


def answer_acquire(
    state: NodeState, peer: PeerState, groups: tuple[str, ...], is_repeat: bool, fx: Effects
) -> tuple[NodeState, tuple[str, ...]]:
    """Handle a peer's claim; return the new state and the groups refused to it."""
    config = state.require_config()
    refused: list[str] = []
    for name in groups:
        run = state.groups.get(name)
        group = next((g for g in config.groups if g.name == name), None)
        if run is None or group is None:
            continue
        if run.phase is GroupPhase.CLAIMING:
            winner = keeper(group, [state.local_node, peer.name], config.nodes)
            if winner == state.local_node:
                refused.append(name)
                continue
            if not is_repeat:
                fx.log(LogLevel.INFO, f"node {peer.name} claims {name} too and wins: yielding")
                state = withdraw_claim(state, name)
                fx.mark_group(name)
        elif run.phase is not GroupPhase.STOPPED:
            refused.append(name)
            continue
        if not is_repeat:
            state = record_occupation(state, peer.name, name)
            fx.mark_group(name)
    return state, tuple(refused)


def claims_refused(
    state: NodeState, from_node: str, groups: tuple[str, ...], fx: Effects
) -> NodeState:
    for name in groups:
        run = state.groups.get(name)
        if run is None or run.phase is not GroupPhase.CLAIMING:
            continue
        fx.log(LogLevel.INFO, f"node {from_node} refused our claim on {name}: it holds it")
        state = withdraw_claim(state, name)
        state = record_occupation(state, from_node, name)
        fx.mark_group(name)
    return state


def record_occupation(state: NodeState, peer_name: str, name: str) -> NodeState:
    """Remember that a peer claims or holds a group until its next newer status says."""
    peer = state.peers.get(peer_name)
    if peer is None or peer.payload is None or peer.payload.occupies(name):
        return state
    payload = replace(peer.payload, starting_groups=(*peer.payload.starting_groups, name))
    return with_changed_peer(state, replace(peer, payload=payload))


def acquire_message(names: tuple[str, ...]) -> ControlMessage:
    assert names, "a claim names at least one group"
    return ControlMessage(kind=ControlKind.ACQUIRE, groups=names)


def begin_claim(run: GroupRun) -> GroupRun:
    assert run.phase is GroupPhase.STOPPED and run.pending is None
    return evolve_group_run(run, phase=GroupPhase.CLAIMING)
