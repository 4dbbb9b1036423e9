"""Start, configuration reload, admin commands and clean shutdown of the local node.

`NodeStarted` resets the whole state: a restarted node knows nothing of its previous run
but its generation (peers learn it restarted from the higher generation). Before it goes
active it probes what really runs here and stops, right to left, every group it found
running that the cluster's state gives to another node or to nobody (issue 9): a restarted
daemon never announces itself active while it holds a peer's address. Admin moves follow
hb_standby / hb_takeover: standby makes this node decline the groups in scope; takeover
clears this node's declines and failed marks for the scope and asks every live peer to
decline those groups. Declines travel in heartbeats and last until a takeover or a restart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from engine.config.model import ClusterConfig, QuorumLossPolicy, ResourceGroup
from engine.core.commands import AlertKind, LogLevel, ReloadConfiguration
from engine.core.control import send_control, send_to_live_peers
from engine.core.effects import Effects
from engine.core.events import AdminAction, AdminCommandReceived, ConfigReloaded, NodeStarted
from engine.core.group_digest import HOLDING_PHASES, digest
from engine.core.groups import GroupSignal, drive, new_group_run, probe_step
from engine.core.members import live_count, member_views
from engine.core.membership import new_peer
from engine.core.messages import ControlKind, ControlMessage, NodePhase, Scope
from engine.core.pings import ping_targets
from engine.core.placement import MemberView, choose_holder, is_quorate
from engine.core.state import GroupPhase, GroupRun, NodeState, PeerState, PeerStatus


def boot(event: NodeStarted, fx: Effects) -> NodeState:
    """A fresh state for this run; the event says what the journal believed before it."""
    config = event.config
    assert config.local_node in config.nodes
    now_ms = event.now_ms
    initdead_ms = config.timings.initdead.value_ms
    all_groups = frozenset(group.name for group in config.groups)
    peers = {
        name: new_peer(name, init_deadline_ms=now_ms + initdead_ms, all_groups=all_groups)
        for name in config.nodes
        if name != config.local_node
    }
    targets = ping_targets(config)
    fx.log(
        LogLevel.INFO,
        f"node {config.local_node} starting, generation {event.generation}, "
        f"{len(config.nodes)} nodes, {len(config.groups)} groups",
    )
    fx.is_dirty = True
    state = NodeState(
        phase=NodePhase.BOOTING,
        config=config,
        generation=event.generation,
        now_ms=now_ms,
        wall_time_ms=event.wall_time_ms,
        started_ms=now_ms,
        next_heartbeat_ms=now_ms,
        next_ping_ms=now_ms if targets else None,
        peers=peers,
        groups={group.name: new_group_run(group, is_probing=True) for group in config.groups},
        ping_targets=targets,
        believed_groups=frozenset(event.believed_groups),
        incidents=event.incidents,
    )
    return start_probes(state, fx)


def start_probes(state: NodeState, fx: Effects) -> NodeState:
    """Before going active, learn what really runs here (a daemon restart leaves it up)."""
    config = state.require_config()
    groups = dict(state.groups)
    for name, run in state.groups.items():
        groups[name], _ = probe_step(run, config, state.now_ms, fx)
    return replace(state, groups=groups)


def finish_probes_if_done(state: NodeState, fx: Effects) -> NodeState:
    """Once every group is probed, compare with what the journal believed (issue 9)."""
    if digest(state.groups).is_probing:
        return state
    found = frozenset(
        name for name, run in state.groups.items() if run.phase is not GroupPhase.STOPPED
    )
    fx.log(LogLevel.INFO, f"start-up probes done; running here: {_names(found)}")
    incidents = list(state.incidents)
    for name in sorted(found - state.believed_groups):
        incidents.append(f"group {name} was found running here, though the journal says it was not")
    for name in sorted(state.believed_groups - found):
        incidents.append(f"group {name} was not found running here, though the journal says it was")
    for incident in incidents[len(state.incidents) :]:
        fx.alert(AlertKind.PROBE_MISMATCH, incident)
    return replace(state, incidents=tuple(incidents))


def finish_boot_if_ready(state: NodeState, fx: Effects) -> NodeState:
    """BOOTING ends once every group is probed, no peer is INIT (each was heard, or declared
    dead at initdead) and every group found running here that belongs elsewhere is stopped."""
    if state.phase is not NodePhase.BOOTING:
        return state
    if any(peer.status is PeerStatus.INIT for peer in state.peers.values()):
        return state
    if digest(state.groups).is_probing:
        return state
    state = _release_foreign_groups(state, fx)
    if any(run.phase is GroupPhase.STOPPING for run in state.groups.values()):
        return state  # still BOOTING: peers see the group stopping, so nobody starts it yet
    fx.log(LogLevel.INFO, "boot complete: probes done, every node heard from or declared dead")
    fx.is_dirty = True
    return replace(state, phase=NodePhase.ACTIVE)


def _release_foreign_groups(state: NodeState, fx: Effects) -> NodeState:
    """Stop what runs here but is not ours; what is ours stays as found (adopted).

    Only stops happen while BOOTING: completing a partly running group of ours is a start,
    which waits for ACTIVE and the claim handshake (reconcile.py).
    """
    members: tuple[MemberView, ...] | None = None
    groups: dict[str, GroupRun] | None = None
    config = state.require_config()
    for group in config.groups:
        run = state.groups[group.name]
        if run.phase is not GroupPhase.STOPPING:
            if run.phase not in HOLDING_PHASES:
                continue
            members = member_views(state) if members is None else members
            owner = _rightful_holder(state, group, members)
            if owner == state.local_node:
                continue
            _note_foreign(state, group.name, owner, members, fx)
        new_run, signal = drive(
            run, should_hold=False, may_start=False, config=config, now_ms=state.now_ms, fx=fx
        )
        if new_run is not run:
            groups = dict(state.groups) if groups is None else groups
            groups[group.name] = new_run
        if signal is GroupSignal.BECAME_STOPPED:
            fx.log(LogLevel.INFO, f"group {group.name} is stopped here")
            fx.is_dirty = True
            state = replace(state, groups=groups) if groups is not None else state
            groups = None
            release = ControlMessage(kind=ControlKind.RELEASE_DONE, groups=(group.name,))
            for peer_name, peer in state.peers.items():
                if peer.is_live:
                    state = send_control(state, peer_name, release, fx)
    return state if groups is None else replace(state, groups=groups)


def _note_foreign(
    state: NodeState, name: str, owner: str | None, members: tuple[MemberView, ...], fx: Effects
) -> None:
    text = (
        f"group {name} runs here but belongs to {owner or 'no node'}: "
        "stopping it before going active"
    )
    others = [m.name for m in members if m.name != state.local_node and name in m.holding]
    if others:
        fx.alert(AlertKind.PARTITION_CONFLICT, f"{text} (also held by {', '.join(others)})")
    else:
        fx.log(LogLevel.WARNING, text)


def _rightful_holder(
    state: NodeState, group: ResourceGroup, members: tuple[MemberView, ...]
) -> str | None:
    """Who should hold `group` by the cluster's state, as reconcile will decide it."""
    config = state.require_config()
    if not is_quorate(live_count(state), len(config.nodes)):
        if config.quorum_loss_policy is QuorumLossPolicy.FREEZE:
            return state.local_node  # freeze: keep what runs
        return None
    return choose_holder(group, members, config.nodes, config.auto_failback)


def reload_config(state: NodeState, event: ConfigReloaded, fx: Effects) -> NodeState:
    config = event.config
    if config.local_node != state.local_node:
        fx.log(
            LogLevel.ERROR,
            f"reloaded configuration is for node {config.local_node}, not "
            f"{state.local_node}: ignored",
        )
        return state
    fx.log(LogLevel.INFO, "configuration reloaded")
    fx.is_dirty = True
    targets = ping_targets(config, state.ping_targets)
    next_ping_ms = state.next_ping_ms
    if targets and next_ping_ms is None:
        next_ping_ms = state.now_ms
    return replace(
        state,
        config=config,
        wall_time_ms=event.wall_time_ms,
        peers=_reloaded_peers(state, config),
        groups=_reloaded_groups(state, config),
        ping_targets=targets,
        next_ping_ms=next_ping_ms if targets else None,
    )


def _reloaded_peers(state: NodeState, config: ClusterConfig) -> dict[str, PeerState]:
    deadline_ms = state.now_ms + config.timings.initdead.value_ms
    all_groups = frozenset(group.name for group in config.groups)
    return {
        name: state.peers.get(name)
        or new_peer(name, init_deadline_ms=deadline_ms, all_groups=all_groups)
        for name in config.nodes
        if name != config.local_node
    }


def _reloaded_groups(state: NodeState, config: ClusterConfig) -> dict[str, GroupRun]:
    groups = {
        name: run
        for name, run in state.groups.items()
        # A removed group that still runs here is stopped by reconcile, then forgotten.
        if run.phase is not GroupPhase.STOPPED or any(g.name == name for g in config.groups)
    }
    for group in config.groups:
        current = groups.get(group.name)
        if current is None or (current.phase is GroupPhase.STOPPED and current.pending is None):
            groups[group.name] = new_group_run(group)
    return groups


def scope_groups(config: ClusterConfig, scope: Scope) -> frozenset[str]:
    """The groups an admin scope names, relative to the local node (hb_standby's rule)."""
    local = config.local_node
    match scope:
        case Scope.ALL:
            return frozenset(group.name for group in config.groups)
        case Scope.LOCAL:
            return frozenset(g.name for g in config.groups if g.preferred_node == local)
        case Scope.FOREIGN:
            return frozenset(g.name for g in config.groups if g.preferred_node != local)
        case _:
            assert_never(scope)


def admin_command(state: NodeState, event: AdminCommandReceived, fx: Effects) -> NodeState:
    config = state.require_config()
    who = f"uid {event.uid} pid {event.pid}"
    match event.action:
        case AdminAction.STANDBY:
            groups = scope_groups(config, event.scope)
            fx.log(LogLevel.INFO, f"standby {event.scope.value} by {who}: {_names(groups)}")
            fx.is_dirty = True
            return replace(state, declined_groups=state.declined_groups | groups)
        case AdminAction.TAKEOVER:
            groups = scope_groups(config, event.scope)
            fx.log(LogLevel.INFO, f"takeover {event.scope.value} by {who}: {_names(groups)}")
            fx.is_dirty = True
            state = replace(
                state,
                declined_groups=state.declined_groups - groups,
                failed_groups=state.failed_groups - groups,
            )
            request = ControlMessage(kind=ControlKind.STANDBY_REQUEST, groups=tuple(sorted(groups)))
            return send_to_live_peers(state, request, fx) if groups else state
        case AdminAction.SHUTDOWN:
            fx.log(LogLevel.INFO, f"shutdown requested by {who}")
            return begin_shutdown(state, fx)
        case AdminAction.RELOAD:
            fx.log(LogLevel.INFO, f"configuration reload requested by {who}")
            fx.emit(ReloadConfiguration())
            return state
        case AdminAction.ACKNOWLEDGE:
            fx.log(LogLevel.INFO, f"{len(state.incidents)} incidents acknowledged by {who}")
            return replace(state, incidents=())
        case _:
            assert_never(event.action)


def begin_shutdown(state: NodeState, fx: Effects) -> NodeState:
    """Hand over at once: stop every group (reconcile), then tell the peers and exit."""
    if state.phase not in (NodePhase.BOOTING, NodePhase.ACTIVE):
        return state  # already leaving
    fx.log(LogLevel.INFO, "clean shutdown: releasing every group")
    fx.is_dirty = True
    return replace(state, phase=NodePhase.LEAVING)


def _names(groups: frozenset[str]) -> str:
    return ", ".join(sorted(groups)) or "no groups"
