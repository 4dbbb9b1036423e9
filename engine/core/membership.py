"""Membership: who is alive, per node and per link, from heartbeats and silence.

Heartbeat v1's rules: a peer silent for `deadtime` is dead; silent for `warntime` earns one
"late heartbeat" warning per silence; until a peer is first heard the limit is `initdead`
from this node's start. A link silent for deadtime is a dead link, not a dead node. A higher
generation means the peer restarted; hearing a dead peer again in the same generation means
it was cut off, not down ("returning after partition").

When a peer is declared dead the engine records which groups it may still hold
(`suspect_groups`): what it last reported occupying, plus every group no live member
occupies, since it may have started one after its last heartbeat reached us. Those groups
are not started here until the peer is fenced (or, without fencing, when one is started,
with a "shared data unprotected" alert; see reconcile.py). A peer that left cleanly, or
that only ever could have held groups that live members hold, needs no fencing.
"""

from __future__ import annotations

from dataclasses import replace

from engine.core.commands import AlertKind, LogLevel
from engine.core.effects import Effects
from engine.core.events import HeartbeatReceived
from engine.core.evolve import evolve_node_state, evolve_peer_state
from engine.core.members import local_occupied, report_changes
from engine.core.peer_digest import PeerTable, peer_timers, with_peer
from engine.core.state import LinkState, LinkStatus, NodeState, PeerState, PeerStatus


def new_peer(name: str, *, init_deadline_ms: int, all_groups: frozenset[str]) -> PeerState:
    # Never heard: it may hold anything, as far as this node knows.
    return PeerState(
        name=name,
        status=PeerStatus.INIT,
        init_deadline_ms=init_deadline_ms,
        suspect_groups=all_groups,
    )


def receive_heartbeat(state: NodeState, event: HeartbeatReceived, fx: Effects) -> NodeState:
    peer = state.peers.get(event.from_node)
    if peer is None or _is_stale(peer, event):
        return replace(state, ignored_event_count=state.ignored_event_count + 1)
    now_ms = state.now_ms
    links = _heard_on_links(peer, (event.link, *event.also_links), now_ms, fx)
    if (
        peer.status is PeerStatus.UP
        and peer.generation == event.generation
        and peer.payload is not None
        and event.status.status_version <= peer.payload.status_version
    ):
        # The common case, a routine heartbeat: only freshness changes.
        updated = replace(
            peer, last_heard_ms=now_ms, last_seq=event.seq, is_late_warned=False, links=links
        )
        return _with_peer(state, updated)
    updated = _peer_heard_news(peer, event, links, now_ms, fx)
    changed = report_changes(peer, updated, state.require_config())
    if changed is None:
        fx.is_dirty = True
    else:
        fx.mark_groups(changed)
    return _with_peer(state, updated)


def routine_heartbeat(state: NodeState, event: HeartbeatReceived) -> NodeState | None:
    """The common case in one construction: a live peer's unchanged status on a live link.

    Returns the new state (time and freshness updated) or None when the heartbeat carries
    news, which `receive_heartbeat` then handles in full.
    """
    peer = state.peers.get(event.from_node)
    if (
        peer is None
        or peer.status is not PeerStatus.UP
        or peer.generation != event.generation
        or peer.payload is None
        or event.status.status_version > peer.payload.status_version
    ):
        return None
    link = peer.links.get(event.link)
    if link is None or link.status is not LinkStatus.UP:
        return None
    now_ms = max(state.now_ms, event.now_ms)
    links = dict(peer.links)
    heard = LinkState(status=LinkStatus.UP, last_heard_ms=now_ms)
    links[event.link] = heard
    for other in event.also_links:
        link = peer.links.get(other)
        if link is None or link.status is not LinkStatus.UP:
            return None
        links[other] = heard
    renewed = evolve_peer_state(
        peer, last_heard_ms=now_ms, last_seq=event.seq, is_late_warned=False, links=links
    )
    return evolve_node_state(state, now_ms=now_ms, peers=_peers_with(state, renewed))


def _is_stale(peer: PeerState, event: HeartbeatReceived) -> bool:
    if peer.generation is None:
        return False
    if event.generation < peer.generation:
        return True  # the shell refuses replays; a late packet of an old run is ignored
    return peer.status is PeerStatus.LEFT and event.generation == peer.generation


def _heard_on_links(
    peer: PeerState, names: tuple[str, ...], now_ms: int, fx: Effects
) -> dict[str, LinkState]:
    links = dict(peer.links)
    for link in names:
        previous = links.get(link)
        if previous is not None and previous.status is LinkStatus.DEAD and peer.is_live:
            fx.log(LogLevel.INFO, f"link {link} to {peer.name} is up again")
        links[link] = LinkState(status=LinkStatus.UP, last_heard_ms=now_ms)
    return links


def _peer_heard_news(
    peer: PeerState,
    event: HeartbeatReceived,
    links: dict[str, LinkState],
    now_ms: int,
    fx: Effects,
) -> PeerState:
    has_restarted = peer.generation is not None and event.generation > peer.generation
    _announce_arrival(peer, has_restarted, event.generation, fx)
    payload = peer.payload
    if (
        has_restarted
        or payload is None
        or peer.status is not PeerStatus.UP
        or event.status.status_version > payload.status_version
    ):
        payload = event.status
    return replace(
        peer,
        status=PeerStatus.UP,
        generation=event.generation,
        last_seq=event.seq,
        last_heard_ms=now_ms,
        is_late_warned=False,
        links=links,
        payload=payload,
        suspect_groups=frozenset(),  # a live peer speaks for itself
        fence_retry_ms=None,
        init_deadline_ms=None,
        processed_control_ids=frozenset() if has_restarted else peer.processed_control_ids,
    )


def _announce_arrival(peer: PeerState, has_restarted: bool, generation: int, fx: Effects) -> None:
    if has_restarted:
        fx.alert(
            AlertKind.PEER_RESTARTED,
            f"node {peer.name} restarted (generation {peer.generation} -> {generation})",
        )
    elif peer.status is PeerStatus.DEAD and peer.generation is not None:
        fx.alert(
            AlertKind.RETURNING_AFTER_PARTITION,
            f"node {peer.name} is returning after partition (heard again after being "
            f"declared dead, same generation {generation})",
        )
    elif peer.status is not PeerStatus.UP:
        fx.log(LogLevel.INFO, f"node {peer.name} is up (generation {generation})")


def expire_peers(state: NodeState, fx: Effects) -> NodeState:
    """Apply warntime, deadtime, link deadtime and initdead for the current time.

    Called on every step, so the common case (nothing due) builds no new objects.
    """
    timings = state.require_config().timings
    warntime_ms = timings.warntime.value_ms
    deadtime_ms = timings.deadtime.value_ms
    now_ms = state.now_ms
    due_ms = peer_timers(
        state.peers, warntime_ms=warntime_ms, deadtime_ms=deadtime_ms
    ).membership_due_ms
    if due_ms is None or due_ms > now_ms:
        return state
    for peer in state.peers.values():
        if peer.status is PeerStatus.UP:
            assert peer.last_heard_ms is not None
            silence_ms = now_ms - peer.last_heard_ms
            is_due = silence_ms >= deadtime_ms or (
                silence_ms >= warntime_ms and not peer.is_late_warned
            )
            if not is_due:
                is_due = any(
                    link.status is LinkStatus.UP and now_ms - link.last_heard_ms >= deadtime_ms
                    for link in peer.links.values()
                )
            if is_due:
                return expire_peers(_expire_live_peer(state, peer, fx), fx)
        elif peer.status is PeerStatus.INIT:
            assert peer.init_deadline_ms is not None
            if peer.init_deadline_ms <= now_ms:
                dead = declare_dead(state, peer, fx, reason="never heard within initdead")
                return expire_peers(dead, fx)
    return state


def _expire_live_peer(state: NodeState, peer: PeerState, fx: Effects) -> NodeState:
    config = state.require_config()
    assert peer.last_heard_ms is not None
    silence_ms = state.now_ms - peer.last_heard_ms
    if silence_ms >= config.timings.deadtime.value_ms:
        return declare_dead(state, peer, fx, reason=f"silent for {silence_ms} ms")
    if silence_ms >= config.timings.warntime.value_ms and not peer.is_late_warned:
        fx.log(LogLevel.WARNING, f"late heartbeat: node {peer.name} silent for {silence_ms} ms")
        peer = replace(peer, is_late_warned=True)
    links = _expire_links(peer, state.now_ms, config.timings.deadtime.value_ms, fx)
    if links is not None:
        peer = replace(peer, links=links)
    return _with_peer(state, peer)


def _expire_links(
    peer: PeerState, now_ms: int, deadtime_ms: int, fx: Effects
) -> dict[str, LinkState] | None:
    links: dict[str, LinkState] | None = None
    for link, link_state in peer.links.items():
        if link_state.status is LinkStatus.UP and now_ms - link_state.last_heard_ms >= deadtime_ms:
            links = dict(peer.links) if links is None else links
            links[link] = replace(link_state, status=LinkStatus.DEAD)
            fx.log(LogLevel.WARNING, f"link {link} to {peer.name} is dead")
    return links


def declare_dead(state: NodeState, peer: PeerState, fx: Effects, *, reason: str) -> NodeState:
    assert peer.status in (PeerStatus.UP, PeerStatus.INIT)
    suspects = _suspect_groups(state, peer)
    fx.alert(AlertKind.NODE_DEAD, f"node {peer.name} is dead: {reason}")
    links = {link: replace(ls, status=LinkStatus.DEAD) for link, ls in peer.links.items()}
    dead = replace(
        peer,
        status=PeerStatus.DEAD,
        links=links,
        is_late_warned=False,
        suspect_groups=suspects,
        init_deadline_ms=None,
    )
    fx.is_dirty = True
    return _with_peer(state, dead)


def _suspect_groups(state: NodeState, peer: PeerState) -> frozenset[str]:
    if peer.status is PeerStatus.INIT:
        return peer.suspect_groups
    assert peer.payload is not None
    occupied_by_live = set(local_occupied(state))
    for other in state.peers.values():
        if other.name != peer.name and other.is_live and other.payload is not None:
            occupied_by_live |= other.payload.occupied_groups()
    all_groups = frozenset(group.name for group in state.require_config().groups)
    return peer.payload.occupied_groups() | (all_groups - occupied_by_live)


def mark_left(state: NodeState, peer: PeerState, fx: Effects) -> NodeState:
    """The peer stopped its groups and announced a clean shutdown: no deadtime, no fence."""
    if peer.status is PeerStatus.LEFT:
        return state
    fx.log(LogLevel.INFO, f"node {peer.name} left the cluster cleanly")
    fx.is_dirty = True
    links = {link: replace(ls, status=LinkStatus.DEAD) for link, ls in peer.links.items()}
    left = replace(
        peer,
        status=PeerStatus.LEFT,
        links=links,
        suspect_groups=frozenset(),
        fence_retry_ms=None,
        init_deadline_ms=None,
    )
    return _with_peer(state, left)


def _with_peer(state: NodeState, peer: PeerState) -> NodeState:
    return with_changed_peer(state, peer)


def with_changed_peer(state: NodeState, peer: PeerState) -> NodeState:
    """`state` with `peer` in place of the peer of its name (its timers derived, not rescanned)."""
    return evolve_node_state(state, peers=_peers_with(state, peer))


def _peers_with(state: NodeState, peer: PeerState) -> PeerTable:
    timings = state.require_config().timings
    return with_peer(
        state.peers,
        peer,
        warntime_ms=timings.warntime.value_ms,
        deadtime_ms=timings.deadtime.value_ms,
    )
