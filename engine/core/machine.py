"""`step`: one event in, the new state and the commands out. The engine's only entry point.

Each step (1) applies the event, (2) fires every timer that is due at the event's time,
(3) ends the boot phase when every peer was heard or given up on, (4) reconciles the
groups whose placement inputs changed (all of them when membership, quorum or
the node's own phase changed), and (5) sends a heartbeat when the
status changed or the keepalive period is up. A changed status is held back for at most
STATUS_HOLD_MS after the previous new one, so that a burst of changes at one instant (a
node's probes all ending together) goes out as two heartbeats, not one per change. Time
never goes backwards: an event older than the last one is taken to happen at the last
one's time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from engine.core.commands import AlertKind, Command, LogLevel, SelfFence, SendHeartbeat
from engine.core.constants import STATUS_HOLD_MS
from engine.core.control import receive_control, retransmit_due
from engine.core.effects import Effects
from engine.core.events import (
    AdminCommandReceived,
    ConfigReloaded,
    ControlMessageReceived,
    Event,
    FenceCompleted,
    HeartbeatReceived,
    NodeStarted,
    PingResultReceived,
    ResourceActionCompleted,
    ShutdownRequested,
    TimeAdvanced,
)
from engine.core.evolve import evolve_node_state
from engine.core.fencing import expire_fence_retries, fence_completed
from engine.core.group_digest import GroupRuns, digest, frozen_runs, with_run
from engine.core.groups import GroupSignal, complete, expire_group_timers, probe_step
from engine.core.lifecycle import (
    admin_command,
    begin_shutdown,
    boot,
    finish_boot_if_ready,
    finish_probes_if_done,
    reload_config,
)
from engine.core.members import build_payload
from engine.core.membership import (
    expire_peers,
    receive_heartbeat,
    routine_heartbeat,
)
from engine.core.messages import NodePhase
from engine.core.outgoing import OutgoingQueue, frozen_outgoing
from engine.core.peer_digest import PeerTable, frozen_peers
from engine.core.pings import (
    expire_ping_targets,
    ping_answered,
    send_pings_due,
    settle_ping_disparity,
)
from engine.core.reconcile import reconcile
from engine.core.state import GroupPhase, NodeState


def initial_state() -> NodeState:
    """The state before any event: feed it `NodeStarted` (replay folds from here)."""
    return NodeState()


def step(state: NodeState, event: Event) -> tuple[NodeState, tuple[Command, ...]]:
    if isinstance(event, NodeStarted):
        fx = Effects(next_action_id=1, next_message_id=1)
        state = boot(event, fx)
    elif state.phase in (NodePhase.NOT_STARTED, NodePhase.STOPPED):
        return evolve_node_state(state, ignored_event_count=state.ignored_event_count + 1), ()
    else:
        fx = Effects(next_action_id=state.next_action_id, next_message_id=state.next_message_id)
        routine = routine_heartbeat(state, event) if type(event) is HeartbeatReceived else None
        if routine is not None:
            state = routine  # the hot path: nothing but freshness changed
        else:
            if event.now_ms > state.now_ms:
                state = evolve_node_state(state, now_ms=event.now_ms)
            state = _apply(state, event, fx)
    state = _expire_timers(state, fx)
    state = finish_boot_if_ready(state, fx)
    if fx.is_dirty:
        state = reconcile(state, fx)
    elif fx.dirty_groups:
        state = reconcile(state, fx, only=frozenset(fx.dirty_groups))
    state = _announce(state, fx, is_peer_heard=type(event) is HeartbeatReceived)
    if type(state.groups) is not GroupRuns:  # changed in this step: keep the digest with it
        state = evolve_node_state(state, groups=frozen_runs(state.groups))
    if type(state.peers) is not PeerTable:
        state = evolve_node_state(state, peers=frozen_peers(state.peers))
    if type(state.outgoing) is not OutgoingQueue:
        state = evolve_node_state(state, outgoing=frozen_outgoing(state.outgoing))
    if (fx.next_action_id, fx.next_message_id) != (state.next_action_id, state.next_message_id):
        state = evolve_node_state(
            state, next_action_id=fx.next_action_id, next_message_id=fx.next_message_id
        )
    return state, tuple(fx.commands)


def _apply(state: NodeState, event: Event, fx: Effects) -> NodeState:
    match event:
        case TimeAdvanced():
            return state
        case HeartbeatReceived():
            return receive_heartbeat(state, event, fx)
        case ControlMessageReceived():
            return receive_control(state, event, fx)
        case ResourceActionCompleted():
            return _action_completed(state, event, fx)
        case FenceCompleted():
            return fence_completed(state, event, fx)
        case PingResultReceived():
            return ping_answered(state, event, fx)
        case AdminCommandReceived():
            return admin_command(state, event, fx)
        case ShutdownRequested():
            fx.log(LogLevel.INFO, "shutdown requested by signal")
            return begin_shutdown(state, fx)
        case ConfigReloaded():
            return reload_config(state, event, fx)
        case NodeStarted():
            raise AssertionError("handled by step")
        case _:
            assert_never(event)


def _action_completed(state: NodeState, event: ResourceActionCompleted, fx: Effects) -> NodeState:
    run = state.groups.get(event.group)
    if run is None or run.pending is None or run.pending.action_id != event.action_id:
        fx.log(LogLevel.DEBUG, f"stale result of action {event.action_id} ignored")
        return evolve_node_state(state, ignored_event_count=state.ignored_event_count + 1)
    config = state.require_config()
    new_run, signal = complete(run, event, config, state.now_ms)
    if new_run.phase is GroupPhase.PROBING:
        new_run, signal = probe_step(new_run, config, state.now_ms, fx)
    state = evolve_node_state(state, groups=with_run(state.groups, new_run))
    fx.mark_group(run.name)  # its placement inputs are its own run and failed mark
    if signal is GroupSignal.PROBED:
        return finish_probes_if_done(state, fx)
    what = f"{event.action.value} of {event.resource_id} in group {event.group}"
    detail = f"{event.outcome.value}, exit code {event.exit_code}: {event.output_excerpt}"
    match signal:
        case GroupSignal.START_FAILED:
            fx.alert(AlertKind.START_FAILED, f"{what} failed ({detail}); releasing the group")
            return evolve_node_state(state, failed_groups=state.failed_groups | {run.name})
        case GroupSignal.MONITOR_FAILED:
            fx.alert(AlertKind.MONITOR_FAILED, f"{what} failed ({detail}); restarting in place")
        case GroupSignal.MONITOR_EXHAUSTED:
            fx.alert(
                AlertKind.MONITOR_FAILED,
                f"{what} failed ({detail}); restart limit reached, failing the group over",
            )
            return evolve_node_state(state, failed_groups=state.failed_groups | {run.name})
        case GroupSignal.STOP_GAVE_UP:
            reason = f"{what} still failing after retries ({detail})"
            fx.alert(AlertKind.STOP_FAILED, f"{reason}; self-fencing")
            fx.emit(SelfFence(reason=reason))
        case _:
            pass
    return state


def _expire_timers(state: NodeState, fx: Effects) -> NodeState:
    state = expire_peers(state, fx)
    state = expire_fence_retries(state, fx)
    if state.ping_targets:
        state = expire_ping_targets(state, fx)
        state = settle_ping_disparity(state, fx)
        state = send_pings_due(state, fx)
    if state.outgoing:
        state = retransmit_due(state, fx)
    state = _expire_group_timers(state, fx)
    if state.shutdown_deadline_ms is not None and state.shutdown_deadline_ms <= state.now_ms:
        fx.is_dirty = True
    return state


def _expire_group_timers(state: NodeState, fx: Effects) -> NodeState:
    due_ms = digest(state.groups).timer_due_ms
    if due_ms is None or due_ms > state.now_ms:
        return state  # the common case: nothing due, nothing built
    groups = state.groups
    for run in state.groups.values():
        new_run, needs_drive = expire_group_timers(run, state.now_ms)
        if needs_drive:
            fx.mark_group(run.name)
        if new_run is not run:
            groups = with_run(groups, new_run)
    return state if groups is state.groups else evolve_node_state(state, groups=groups)


# A keepalive due within 1/this of the period goes out early, with a peer's heartbeat. Half:
# whatever two nodes' phases, one of them hears the other within half a period of its own.
HEARTBEAT_ALIGN_DIVISOR = 2


def _announce(state: NodeState, fx: Effects, *, is_peer_heard: bool = False) -> NodeState:
    """Send our status soon after it changed (see `_send_if_changed`), else every keepalive.

    A keepalive due within half a period when a peer's heartbeat arrives goes out with it,
    and the period restarts from there. Nodes thus fall into step, one answering the other
    at once, so the answering daemon wakes once per keepalive instead of twice (its timer
    and the peer's packet) and the other wakes twice in quick succession: an idle daemon's
    CPU is mostly the cost of waking up. Sending early is always safe: no heartbeat goes
    out later than its period, and none less than half a period after the last.
    """
    if state.phase not in (NodePhase.BOOTING, NodePhase.ACTIVE, NodePhase.LEAVING):
        return state
    keepalive_ms = state.require_config().timings.keepalive.value_ms
    if fx.is_anything_dirty or state.last_payload is None or state.held_status_due_ms is not None:
        state, is_sent = _send_if_changed(state, keepalive_ms, fx)
        if is_sent:
            return state
    early_ms = keepalive_ms // HEARTBEAT_ALIGN_DIVISOR if is_peer_heard else 0
    if state.next_heartbeat_ms > state.now_ms + early_ms:
        return state
    assert state.last_payload is not None
    fx.emit(SendHeartbeat(payload=state.last_payload))
    if state.next_heartbeat_ms > state.now_ms:  # early, in step with the peer
        return evolve_node_state(state, next_heartbeat_ms=state.now_ms + keepalive_ms)
    following_ms = state.next_heartbeat_ms + keepalive_ms
    if following_ms <= state.now_ms:
        following_ms = state.now_ms + keepalive_ms
    return evolve_node_state(state, next_heartbeat_ms=following_ms)


def _send_if_changed(state: NodeState, keepalive_ms: int, fx: Effects) -> tuple[NodeState, bool]:
    """A changed status goes out at once, unless a new one went out less than STATUS_HOLD_MS
    ago: then it is held until that much has passed, and goes out with whatever else changed
    meanwhile. Returns the state and whether a status was sent."""
    candidate = build_payload(state, status_version=state.status_version)
    if candidate == state.last_payload:  # unchanged, or changed back while held
        if state.held_status_due_ms is None:
            return state, False
        return evolve_node_state(state, held_status_due_ms=None), False
    if state.status_sent_ms is not None:
        due_ms = state.status_sent_ms + STATUS_HOLD_MS
        if state.now_ms < due_ms:
            return evolve_node_state(state, held_status_due_ms=due_ms), False
    version = state.status_version + 1
    payload = replace(candidate, status_version=version)
    fx.emit(SendHeartbeat(payload=payload))
    state = evolve_node_state(
        state,
        status_version=version,
        last_payload=payload,
        status_sent_ms=state.now_ms,
        held_status_due_ms=None,
        next_heartbeat_ms=state.now_ms + keepalive_ms,
    )
    return state, True
