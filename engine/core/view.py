"""A read-only summary of one node's state for `hactl status`, `hactl replay` and checkers.

Plain frozen dataclasses of strings and ints: the daemon serialises it, the simulator
compares it, humans read it. It is this node's belief; another node may believe otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.state import GroupPhase, NodeState, PeerStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberSummary:
    name: str
    status: str  # init / up / dead / left; the local node reports its phase
    phase: str | None  # the node's own phase, from its last status (booting/active/leaving)
    generation: int | None
    links: tuple[tuple[str, str], ...]  # (link, up|dead)
    last_heard_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSummary:
    name: str
    preferred_node: str
    holder: str | None  # who holds it as far as this node knows
    local_phase: str  # this node's GroupPhase
    resources: tuple[tuple[str, str], ...]  # (resource id, this node's ResourceStatus)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterView:
    local_node: str
    phase: str
    generation: int
    now_ms: int
    is_quorate: bool
    members: tuple[MemberSummary, ...]
    groups: tuple[GroupSummary, ...]
    declined_groups: tuple[str, ...]
    failed_groups: tuple[str, ...]
    ignored_event_count: int
    incidents: tuple[str, ...] = ()  # start-up probe findings, until acknowledged


def cluster_view(state: NodeState) -> ClusterView:
    config = state.require_config()
    members = [
        MemberSummary(
            name=state.local_node,
            status=state.phase.value,
            phase=state.phase.value,
            generation=state.generation,
            links=(),
        )
    ]
    for peer in state.peers.values():
        members.append(
            MemberSummary(
                name=peer.name,
                status=peer.status.value,
                phase=None if peer.phase is None else peer.phase.value,
                generation=peer.generation,
                links=tuple((link, ls.status.value) for link, ls in sorted(peer.links.items())),
                last_heard_ms=peer.last_heard_ms,
            )
        )
    groups = []
    for name, run in state.groups.items():
        preferred = next((g.preferred_node for g in config.groups if g.name == name), "")
        groups.append(
            GroupSummary(
                name=name,
                preferred_node=preferred,
                holder=group_holder(state, name),
                local_phase=run.phase.value,
                resources=tuple(
                    (rid, status.value)
                    for rid, status in zip(run.resource_ids, run.resources, strict=True)
                ),
            )
        )
    return ClusterView(
        local_node=state.local_node,
        phase=state.phase.value,
        generation=state.generation,
        now_ms=state.now_ms,
        is_quorate=state.is_quorate,
        members=tuple(members),
        groups=tuple(groups),
        declined_groups=tuple(sorted(state.declined_groups)),
        failed_groups=tuple(sorted(state.failed_groups)),
        ignored_event_count=state.ignored_event_count,
        incidents=state.incidents,
    )


def group_holder(state: NodeState, name: str) -> str | None:
    """This node if it runs (or starts) the group, else a live peer reporting it, else None."""
    run = state.groups.get(name)
    if run is not None and run.phase in (
        GroupPhase.STARTING,
        GroupPhase.RUNNING,
        GroupPhase.RESTARTING,
    ):
        return state.local_node
    for peer in state.peers.values():
        if peer.status is PeerStatus.UP and peer.payload is not None:
            payload = peer.payload
            if name in payload.running_groups or name in payload.starting_groups:
                return peer.name
    return None
