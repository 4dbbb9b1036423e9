"""The simulator's bridge to the real engine (`engine.core`): its events, commands and state.

Translation only, no policy: a packet becomes `HeartbeatReceived` or
`ControlMessageReceived`, a finished agent call becomes `ResourceActionCompleted`, and the
engine's commands become the shell actions of `engine.sim.bridge`. A step is decisional
(the journal is committed before its commands run) whenever it orders anything beyond
heartbeats, pings and log lines, as the daemon's shell does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.config.model import ClusterConfig
from engine.core import codec, commands, events, initial_state, next_deadline, step
from engine.core.messages import ControlMessage, Scope, StatusPayload
from engine.core.replay import prior_belief, replay
from engine.core.state import NodeState
from engine.core.view import group_holder
from engine.sim import bridge
from engine.sim.checkers import NodeView
from engine.sim.devices import ResourceAction
from engine.sim.scenario_language import AdminScope, AdminVerb

_QUIET_COMMANDS = (commands.SendHeartbeat, commands.SendPing, commands.LogMessage)


class CoreBridge:
    """`engine.sim.bridge.Bridge` over `engine.core`."""

    def __init__(self) -> None:
        # Per node: how many journal records the last boot folded, the last one's payload
        # object, and the state they folded to (see `_fold_journal`).
        self._boot_folds: dict[str, tuple[int, object, NodeState]] = {}

    def boot(
        self,
        config: ClusterConfig,
        *,
        now_ms: int,
        wall_ms: int,
        generation: int,
        journal_records: Sequence[tuple[int, object]],
    ) -> events.Event:
        state = self._fold_journal(config.local_node, journal_records)
        believed_groups, incidents = prior_belief(state)
        return events.NodeStarted(
            now_ms=now_ms,
            wall_time_ms=wall_ms,
            generation=generation,
            config=config,
            believed_groups=believed_groups,
            incidents=incidents,
        )

    def initial_state(self, config: ClusterConfig) -> NodeState:
        return initial_state()

    def step(self, state: object, event: object) -> bridge.Stepped:
        assert isinstance(state, NodeState)
        new_state, orders = step(state, event)  # type: ignore[arg-type]
        actions = tuple(action for order in orders if (action := _shell_action(order)) is not None)
        is_decisional = isinstance(event, events.NodeStarted) or any(
            not isinstance(order, _QUIET_COMMANDS) for order in orders
        )
        return bridge.Stepped(state=new_state, actions=actions, is_decisional=is_decisional)

    def next_deadline_ms(self, state: object) -> int | None:
        assert isinstance(state, NodeState)
        return next_deadline(state)

    def timer(self, *, now_ms: int) -> events.Event:
        return events.TimeAdvanced(now_ms=now_ms)

    def received(
        self,
        *,
        now_ms: int,
        source: str,
        links: tuple[str, ...],
        generation: int,
        seq: int,
        message: object,
    ) -> events.Event:
        match message:
            case StatusPayload():
                return events.HeartbeatReceived(
                    now_ms=now_ms,
                    from_node=source,
                    link=links[0],
                    generation=generation,
                    seq=seq,
                    status=message,
                    also_links=links[1:],
                )
            case (int() as message_id, ControlMessage() as control):
                return events.ControlMessageReceived(
                    now_ms=now_ms,
                    from_node=source,
                    generation=generation,
                    message_id=message_id,
                    message=control,
                )
        raise AssertionError(f"the simulator only carries the engine's messages: {message!r}")

    def resource_result(
        self,
        *,
        now_ms: int,
        action: bridge.RunResourceAction,
        is_success: bool,
        is_running: bool,
        duration_ms: int,
    ) -> events.Event:
        order = action.token
        assert isinstance(order, commands.RunResourceAction)
        if action.action in (ResourceAction.START, ResourceAction.STOP):
            outcome = events.ActionOutcome.SUCCESS if is_success else events.ActionOutcome.FAILED
        else:
            outcome = (
                events.ActionOutcome.SUCCESS if is_running else events.ActionOutcome.NOT_RUNNING
            )
        return events.ResourceActionCompleted(
            now_ms=now_ms,
            action_id=order.action_id,
            group=order.group,
            resource_id=order.resource_id,
            action=order.action,
            outcome=outcome,
            exit_code=0 if outcome is events.ActionOutcome.SUCCESS else 1,
            duration_ms=duration_ms,
            output_excerpt="",
        )

    def fence_result(
        self, *, now_ms: int, fence: bridge.RunFence, is_success: bool, duration_ms: int
    ) -> events.Event:
        return events.FenceCompleted(
            now_ms=now_ms,
            target=fence.target,
            device="hactl-sim",
            is_success=is_success,
            duration_ms=duration_ms,
            detail="simulated fence device",
        )

    def admin(
        self, *, now_ms: int, wall_ms: int, verb: AdminVerb, scope: AdminScope
    ) -> events.Event:
        action = events.AdminAction(verb.value)
        return events.AdminCommandReceived(
            now_ms=now_ms,
            wall_time_ms=wall_ms,
            action=action,
            scope=Scope(scope.value),
            uid=0,
            pid=0,
        )

    def shutdown(self, *, now_ms: int) -> events.Event:
        return events.ShutdownRequested(now_ms=now_ms)

    def ping_result(self, *, now_ms: int, address: str, is_reachable: bool) -> events.Event:
        return events.PingResultReceived(now_ms=now_ms, address=address, is_reachable=is_reachable)

    def view(self, state: object) -> NodeView:
        assert isinstance(state, NodeState)
        return node_view(state)

    def is_quorate(self, state: object) -> bool:
        assert isinstance(state, NodeState)
        return state.is_quorate

    def encode(self, event: object) -> tuple[int, object]:
        return codec.encode_event(event)  # type: ignore[arg-type]

    def _fold_journal(self, node: str, records: Sequence[tuple[int, object]]) -> NodeState:
        """`replay` of the committed journal, continued from the previous boot's fold.

        Every boot replays the node's whole journal, which grows all run long; committed
        records are only ever appended to, so the fold of the records the last boot saw
        is kept and stepped on over the new ones. The in-memory journal hands back the
        records it was given, so the identity of the last folded payload tells that the
        journal still starts with them; any other journal is folded from the start.
        """
        count, last_payload, state = self._boot_folds.get(node, (0, None, initial_state()))
        if count > len(records) or (count and records[count - 1][1] is not last_payload):
            count, state = 0, initial_state()
        for kind, payload in records[count:]:
            state, _ = step(state, codec.decode_event(kind, _as_list(payload)))
        if records:
            self._boot_folds[node] = (len(records), records[-1][1], state)
        return state

    def replay(self, config: ClusterConfig, records: Sequence[tuple[int, object]]) -> NodeState:
        return replay(codec.decode_event(kind, _as_list(payload)) for kind, payload in records)


def node_view(state: NodeState) -> NodeView:
    """Members, believed holders and quorum, as the checkers and timelines want them."""
    config = state.require_config()
    members = {name: peer.status.value for name, peer in sorted(state.peers.items())}
    members[config.local_node] = state.phase.value
    holders = {group.name: group_holder(state, group.name) for group in config.groups}
    links = {
        f"{name} {link}": link_state.status.value
        for name, peer in sorted(state.peers.items())
        for link, link_state in sorted(peer.links.items())
    }
    return NodeView(members=members, holders=holders, has_quorum=state.is_quorate, links=links)


def _shell_action(order: commands.Command) -> bridge.ShellAction | None:
    match order:
        case commands.SendHeartbeat():
            return bridge.Send(destinations=None, message=order.payload)
        case commands.SendControlMessage():
            return bridge.Send(
                destinations=(order.to_node,),
                message=(order.message_id, order.message),
                is_first_copy_only=True,
            )
        case commands.RunResourceAction():
            return bridge.RunResourceAction(
                group=order.group,
                resource_id=order.resource_id,
                action=ResourceAction(order.action.value),
                token=order,
            )
        case commands.FenceNode():
            return bridge.RunFence(target=order.target, token=order)
        case commands.SelfFence():
            return bridge.SelfFence(reason=order.reason)
        case commands.SendPing():
            return bridge.Ping(address=order.address)
        case commands.RaiseAlert():
            return bridge.Note(text=f"ALERT {order.alert.value}: {order.message}")
        case commands.LogMessage():
            if order.level in (commands.LogLevel.WARNING, commands.LogLevel.ERROR):
                return bridge.Note(text=f"{order.level.value}: {order.message}")
            return None
        case commands.ReloadConfiguration():
            return bridge.Note(text="reload requested: the simulated configuration never changes")
        case commands.ShutdownComplete():
            return bridge.DaemonExits()


def _as_list(payload: object) -> list[Any]:
    assert isinstance(payload, list), f"the codec writes lists, the journal returned {payload!r}"
    return payload
