"""Who is in the cluster right now, and what each member holds: the input of placement.

The local node describes itself from its own group runs; a peer is described by the latest
status payload it sent. The same description, turned around, is the payload this node sends.
"""

from __future__ import annotations

from engine.config.model import ClusterConfig
from engine.core.group_digest import digest
from engine.core.identity_memo import IdentityMemo
from engine.core.messages import NodePhase, StatusPayload
from engine.core.placement import MemberView
from engine.core.state import NodeState, PeerState, PeerStatus

_CANDIDATE_PHASES = frozenset({NodePhase.BOOTING, NodePhase.ACTIVE})  # as in placement.py


def local_holding(state: NodeState) -> frozenset[str]:
    return digest(state.groups).holding


def local_occupied(state: NodeState) -> frozenset[str]:
    return digest(state.groups).occupied


def ping_reachable_count(state: NodeState) -> int:
    return sum(1 for target in state.ping_targets if target.is_up)


def live_peer_names(state: NodeState) -> tuple[str, ...]:
    return tuple(name for name, peer in state.peers.items() if peer.status is PeerStatus.UP)


def live_count(state: NodeState) -> int:
    return 1 + len(live_peer_names(state))


def best_peer_ping_count(state: NodeState) -> int | None:
    counts = [
        peer.payload.ping_reachable_count
        for peer in state.peers.values()
        if peer.status is PeerStatus.UP and peer.payload is not None
    ]
    return max(counts) if counts else None


def placement_ping_count(state: NodeState) -> int:
    """This node's ping count as placement sees it: a loss that the peers may share (their
    news has not arrived yet) counts only once it has lasted PING_SETTLE_KEEPALIVES."""
    count = ping_reachable_count(state)
    if state.ping_disparity_since_ms is None or state.is_ping_disparity_settled:
        return count
    return max(count, best_peer_ping_count(state) or 0)


def member_views(state: NodeState) -> tuple[MemberView, ...]:
    """Every live member, this node first."""
    views = [
        MemberView(
            name=state.local_node,
            phase=state.phase,
            holding=local_holding(state),
            occupied=local_occupied(state),
            declined=state.declined_groups,
            failed=state.failed_groups,
            ping_reachable_count=placement_ping_count(state),
        )
    ]
    for peer in state.peers.values():
        if peer.status is PeerStatus.UP and peer.payload is not None:
            views.append(peer_view(peer.name, peer.payload))
    return tuple(views)


# A peer's view is a function of its name and status payload alone, and one payload is
# kept for many steps (every routine heartbeat) and by many nodes (the simulator), so the
# view is remembered per payload object (engine/core/identity_memo.py).
_PEER_VIEWS: IdentityMemo[StatusPayload, MemberView] = IdentityMemo()


def peer_view(name: str, payload: StatusPayload) -> MemberView:
    view = _PEER_VIEWS.get(payload)
    if view is None or view.name != name:
        view = MemberView(
            name=name,
            phase=payload.phase,
            holding=frozenset(payload.running_groups + payload.starting_groups),
            occupied=payload.occupied_groups(),
            declined=frozenset(payload.declined_groups),
            failed=frozenset(payload.failed_groups),
            ping_reachable_count=payload.ping_reachable_count,
        )
        _PEER_VIEWS.put(payload, view)
    return view


def build_payload(state: NodeState, *, status_version: int) -> StatusPayload:
    assert state.phase in (NodePhase.BOOTING, NodePhase.ACTIVE, NodePhase.LEAVING)
    groups = digest(state.groups)
    return StatusPayload(
        phase=state.phase,
        status_version=status_version,
        running_groups=groups.running,
        starting_groups=groups.starting,
        stopping_groups=groups.stopping,
        declined_groups=tuple(sorted(state.declined_groups)),
        failed_groups=tuple(sorted(state.failed_groups)),
        ping_reachable_count=ping_reachable_count(state),
        live_members=(state.local_node, *live_peer_names(state)),
        probing_groups=groups.probing,
    )


def report_changes(
    before: PeerState, after: PeerState, config: ClusterConfig
) -> frozenset[str] | None:
    """The groups whose placement inputs changed when a live peer's status moved on, or
    None when something every group depends on changed (liveness, restart, phase other
    than booting <-> active, ping count, suspicion): then every group is reconciled."""
    old, new = before.payload, after.payload
    if (
        old is None
        or new is None
        or before.status is not PeerStatus.UP
        or after.status is not PeerStatus.UP
        or before.generation != after.generation
        or before.suspect_groups != after.suspect_groups
        or before.fence_retry_ms != after.fence_retry_ms
        or (old.phase is not new.phase and {old.phase, new.phase} != _CANDIDATE_PHASES)
        or old.ping_reachable_count != new.ping_reachable_count
    ):
        return None
    if old is new:
        return frozenset()
    changed: frozenset[str] = frozenset()
    if old.phase is not new.phase:
        # Booting and active members are both candidates; only the failback rule asks
        # for ACTIVE, and only of the groups that prefer this member (placement.py).
        changed = frozenset(g.name for g in config.groups if g.preferred_node == after.name)
    changed |= frozenset(old.running_groups + old.starting_groups).symmetric_difference(
        new.running_groups + new.starting_groups
    )
    changed |= old.occupied_groups().symmetric_difference(new.occupied_groups())
    changed |= frozenset(old.declined_groups).symmetric_difference(new.declined_groups)
    return changed | frozenset(old.failed_groups).symmetric_difference(new.failed_groups)
