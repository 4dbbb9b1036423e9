"""Reconcile: after anything changed, move every group one step toward where it belongs.

For each group this node decides whether it should hold it (the placement rule, quorum,
failed marks, shutdown) and whether it may start it now. Starting needs more than being
the chosen holder: no live peer may still occupy the group (it is stopping it for us), and
no dead peer may still hold it unfenced. When only fencing stands in the way, the fence is
ordered here. The order of checks is the safety argument; keep it readable.
"""

from __future__ import annotations

from dataclasses import replace

from engine.config.model import QuorumLossPolicy, ResourceGroup
from engine.core.claims import acquire_message, begin_claim, is_awaiting_answers, withdraw_claim
from engine.core.commands import AlertKind, LogLevel, ShutdownComplete
from engine.core.control import send_control, send_to_live_peers
from engine.core.effects import Effects
from engine.core.evolve import evolve_group_run, evolve_node_state
from engine.core.fencing import request_fence
from engine.core.group_digest import HOLDING_PHASES, digest, with_run
from engine.core.groups import GroupSignal, drive, new_group_run
from engine.core.members import live_count, member_views, peer_view
from engine.core.messages import ControlKind, ControlMessage, NodePhase
from engine.core.pings import track_ping_disparity
from engine.core.placement import MemberView, choose_holder, is_quorate, keeper
from engine.core.state import GroupPhase, GroupRun, NodeState, PeerStatus

_LINEAR_LOOKUP_LIMIT = 4  # up to this many groups, searching ha.cf's list beats indexing it


def reconcile(state: NodeState, fx: Effects, *, only: frozenset[str] | None = None) -> NodeState:
    """Reconcile every group, or `only` those (whose inputs alone changed), in ha.cf order.

    A group's decision reads node-wide inputs (quorum, ping counts, membership, phase) and
    its own: its run, its failed and declined marks, and what each member reports of it.
    When a node-wide input moves here, every group is reconciled whatever `only` says.
    """
    if state.phase not in (NodePhase.ACTIVE, NodePhase.LEAVING):
        return state
    node_wide = (state.is_quorate, state.ping_disparity_since_ms, state.is_ping_disparity_settled)
    state = _update_quorum(state, fx)
    state = track_ping_disparity(state)
    if node_wide != (
        state.is_quorate,
        state.ping_disparity_since_ms,
        state.is_ping_disparity_settled,
    ):
        only = None
    members = member_views(state)
    fence_wanted: dict[str, list[str]] = {}
    unprotected: dict[str, list[str]] = {}
    names = _names_in_order(state, only)
    configured = _configured_groups(state, names)
    claimed: list[str] = []
    for name in names:
        state = _reconcile_group(
            state,
            state.groups[name],
            configured[name],
            members,
            (fence_wanted, unprotected),
            claimed,
            fx,
        )
    if claimed:
        state = _send_claims(state, tuple(claimed), fx)
    for target, groups in fence_wanted.items():
        state = request_fence(state, target, groups, fx)
    for target, groups in unprotected.items():
        state = _take_over_unprotected(state, target, groups, fx)
    if state.phase is NodePhase.LEAVING:
        state = _progress_shutdown(state, fx)
    return state


def _names_in_order(state: NodeState, only: frozenset[str] | None) -> list[str]:
    if only is None:
        return list(state.groups)
    order = digest(state.groups).order
    return sorted((name for name in only if name in order), key=order.__getitem__)


def _update_quorum(state: NodeState, fx: Effects) -> NodeState:
    configured_count = len(state.require_config().nodes)
    quorate = is_quorate(live_count(state), configured_count)
    if quorate == state.is_quorate:
        return state
    if quorate:
        fx.alert(
            AlertKind.QUORUM_REGAINED,
            f"quorum regained ({live_count(state)} of {configured_count})",
        )
    else:
        fx.alert(AlertKind.QUORUM_LOST, f"quorum lost ({live_count(state)} of {configured_count})")
    return evolve_node_state(state, is_quorate=quorate)


def _reconcile_group(
    state: NodeState,
    run: GroupRun,
    group: ResourceGroup | None,
    members: tuple[MemberView, ...],
    wanted: tuple[dict[str, list[str]], dict[str, list[str]]],
    claimed: list[str],
    fx: Effects,
) -> NodeState:
    config = state.require_config()
    should_hold, may_start = _decide(state, group, run, members, wanted)
    state, run = _claim_step(
        state, run, should_hold=should_hold, may_start=may_start, claimed=claimed, fx=fx
    )
    if run.phase is GroupPhase.CLAIMING:
        return state  # waiting for every live peer's answer
    new_run, signal = drive(
        run, should_hold=should_hold, may_start=may_start, config=config, now_ms=state.now_ms, fx=fx
    )
    if run.phase in HOLDING_PHASES and new_run.phase is GroupPhase.STOPPING:
        _note_release(state, run.name, members, fx)
    match signal:
        case GroupSignal.BECAME_RUNNING:
            fx.log(LogLevel.INFO, f"group {run.name} is running here")
        case GroupSignal.BECAME_STOPPED:
            fx.log(LogLevel.INFO, f"group {run.name} is stopped here")
            return _after_stop(state, new_run, group, fx)
        case _:
            pass
    if new_run == run:
        return state
    return evolve_node_state(state, groups=with_run(state.groups, new_run))


def _claim_step(
    state: NodeState,
    run: GroupRun,
    *,
    should_hold: bool,
    may_start: bool,
    claimed: list[str],
    fx: Effects,
) -> tuple[NodeState, GroupRun]:
    """Claim a group before starting it; start once every live peer agreed (claims.py).

    A new claim is added to `claimed`; the caller asks every live peer about all of them
    in one ACQUIRE once every group was looked at (`_send_claims`).
    """
    name = run.name
    if run.phase is GroupPhase.CLAIMING:
        if not should_hold:
            state = withdraw_claim(state, name)
            fx.is_dirty = True
        elif may_start and not is_awaiting_answers(state, name):
            run = evolve_group_run(run, phase=GroupPhase.STARTING)
            state = evolve_node_state(state, groups=with_run(state.groups, run))
        return state, state.groups[name]
    if run.phase is not GroupPhase.STOPPED or not (should_hold and may_start):
        return state, run
    if not any(peer.is_live for peer in state.peers.values()):
        return state, run  # nobody to ask: start at once
    run = begin_claim(run)
    state = evolve_node_state(state, groups=with_run(state.groups, run))
    claimed.append(name)
    fx.is_dirty = True
    return state, run


def _send_claims(state: NodeState, names: tuple[str, ...], fx: Effects) -> NodeState:
    """One ACQUIRE naming every group just claimed, to each live peer.

    Nothing between a claim and this send reads the messages awaiting answers (a group
    claimed in this reconcile waits for them, whatever else is decided), and the set of
    live peers cannot change within a reconcile.
    """
    message = acquire_message(names)
    for peer_name, peer in state.peers.items():
        if peer.is_live:
            state = send_control(state, peer_name, message, fx)
    return state


def _configured_groups(state: NodeState, names: list[str]) -> dict[str, ResourceGroup | None]:
    """The configuration of each named group (None: removed by a reload)."""
    if len(names) > _LINEAR_LOOKUP_LIMIT:
        index = {group.name: group for group in state.require_config().groups}
        return {name: index.get(name) for name in names}
    return {name: _configured_group(state, name) for name in names}


def _configured_group(state: NodeState, name: str) -> ResourceGroup | None:
    for group in state.require_config().groups:
        if group.name == name:
            return group
    return None


def _decide(
    state: NodeState,
    group: ResourceGroup | None,
    run: GroupRun,
    members: tuple[MemberView, ...],
    wanted: tuple[dict[str, list[str]], dict[str, list[str]]],
) -> tuple[bool, bool]:
    """(should this node hold the group, may it start it now)."""
    config = state.require_config()
    if group is None or state.phase is NodePhase.LEAVING:
        return False, False  # removed by a reload, or this node is leaving
    if not state.is_quorate:
        return config.quorum_loss_policy is QuorumLossPolicy.FREEZE, False
    if group.name in state.failed_groups:
        return False, False
    holder = choose_holder(group, members, config.nodes, config.auto_failback)
    if holder != state.local_node:
        return False, False
    if run.phase not in (GroupPhase.STOPPED, GroupPhase.CLAIMING):
        return True, True
    return True, _is_start_safe(state, group.name, wanted)


def _is_start_safe(
    state: NodeState, name: str, wanted: tuple[dict[str, list[str]], dict[str, list[str]]]
) -> bool:
    """No live peer occupies the group and no silent one may hold it unfenced.

    A dead peer that may hold it is fenced first (`wanted[0]` collects the orders); without
    a fencing device the start goes ahead and the caller raises "shared data unprotected"
    (`wanted[1]`), as Heartbeat did.
    """
    fence_wanted, unprotected = wanted
    is_safe = True
    fencing = state.require_config().is_fencing_configured
    blockers: list[str] = []
    for peer in state.peers.values():
        if peer.is_live:
            # Its view's set, remembered per payload, not `payload.occupies`: this runs
            # for every peer and group, and searching the payload's lists is linear.
            if peer.payload is not None and name in peer_view(peer.name, peer.payload).occupied:
                is_safe = False  # still there: wait for its release
        elif name in peer.suspect_groups:
            if peer.status is not PeerStatus.DEAD:
                is_safe = False  # not heard yet (INIT): wait for initdead
            elif fencing:
                is_safe = False
                fence_wanted.setdefault(peer.name, []).append(name)
            else:
                blockers.append(peer.name)
    if is_safe:
        for blocker in blockers:
            unprotected.setdefault(blocker, []).append(name)
    return is_safe


def _take_over_unprotected(
    state: NodeState, target: str, groups: list[str], fx: Effects
) -> NodeState:
    fx.alert(
        AlertKind.SHARED_DATA_UNPROTECTED,
        f"no STONITH device: starting {', '.join(sorted(groups))} without fencing dead node "
        f"{target}, which may still hold them; shared data is unprotected",
    )
    peers = dict(state.peers)
    peer = peers[target]
    peers[target] = replace(peer, suspect_groups=peer.suspect_groups - frozenset(groups))
    return evolve_node_state(state, peers=peers)


def _note_release(
    state: NodeState, name: str, members: tuple[MemberView, ...], fx: Effects
) -> None:
    others = [m.name for m in members if m.name != state.local_node and name in m.holding]
    if not others:
        fx.log(LogLevel.INFO, f"releasing group {name}")
        return
    group = _configured_group(state, name)
    winner = (
        others[0]
        if group is None
        else keeper(group, [state.local_node, *others], state.require_config().nodes)
    )
    fx.alert(
        AlertKind.PARTITION_CONFLICT,
        f"group {name} is held by {state.local_node} and {', '.join(others)}: "
        f"{winner} keeps it (preferred node, else first in ha.cf order); stopping it here",
    )


def _after_stop(
    state: NodeState, run: GroupRun, group: ResourceGroup | None, fx: Effects
) -> NodeState:
    if group is None:
        groups = dict(state.groups)
        del groups[run.name]  # removed by a reload: forget it once stopped
        state = evolve_node_state(state, groups=groups)
    elif tuple(r.resource_id for r in group.resources) != run.resource_ids:
        # changed by a reload: take the new list
        state = evolve_node_state(state, groups=with_run(state.groups, new_group_run(group)))
    else:
        state = evolve_node_state(state, groups=with_run(state.groups, run))
    release = ControlMessage(kind=ControlKind.RELEASE_DONE, groups=(run.name,))
    for peer_name, peer in state.peers.items():
        if peer.is_live:
            state = send_control(state, peer_name, release, fx)
    fx.is_dirty = True
    return state


def _progress_shutdown(state: NodeState, fx: Effects) -> NodeState:
    if digest(state.groups).stopped_count != len(state.groups):
        return state
    if not state.is_shutdown_notice_sent:
        notice = ControlMessage(kind=ControlKind.SHUTDOWN_NOTICE)
        state = send_to_live_peers(state, notice, fx)
        deadline_ms = state.now_ms + state.require_config().timings.deadtime.value_ms
        state = evolve_node_state(
            state, is_shutdown_notice_sent=True, shutdown_deadline_ms=deadline_ms
        )
    waiting = any(item.message.kind is ControlKind.SHUTDOWN_NOTICE for item in state.outgoing)
    assert state.shutdown_deadline_ms is not None
    if waiting and state.now_ms < state.shutdown_deadline_ms:
        return state
    fx.log(LogLevel.INFO, "every group stopped and the peers told: shutdown complete")
    fx.emit(ShutdownComplete())
    return evolve_node_state(state, phase=NodePhase.STOPPED, shutdown_deadline_ms=None, outgoing=())
