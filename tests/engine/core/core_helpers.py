"""Builders for engine.core tests: configurations without files, and a node driven by hand.

`make_config` builds a `ClusterConfig` directly (the parsers are tested elsewhere); `Node`
keeps one engine's state and records the commands each event produced, so a test reads as
"feed this, expect that".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.config.model import (
    AuthConfig,
    AuthKey,
    AuthMethod,
    AutoFailback,
    BcastMedium,
    ClusterConfig,
    MonitorPolicy,
    PingGroup,
    QuorumLossPolicy,
    ResourceGroup,
    ScriptResource,
    SourceLocation,
    StonithDevice,
    Timed,
    Timings,
    ValueSource,
)
from engine.core import initial_state, next_deadline, step
from engine.core.commands import (
    Command,
    FenceNode,
    RaiseAlert,
    RunResourceAction,
    SendControlMessage,
    SendHeartbeat,
)
from engine.core.events import (
    ActionOutcome,
    ControlMessageReceived,
    Event,
    FenceCompleted,
    HeartbeatReceived,
    NodeStarted,
    ResourceAction,
    ResourceActionCompleted,
    TimeAdvanced,
)
from engine.core.messages import ControlKind, ControlMessage, NodePhase, StatusPayload
from engine.core.state import NodeState

KEEPALIVE_MS = 1_000
WARNTIME_MS = 5_000
DEADTIME_MS = 10_000
INITDEAD_MS = 20_000
DEADPING_MS = 10_000


def timed(value_ms: int) -> Timed:
    return Timed(value_ms=value_ms, source=ValueSource.SET)


def make_group(preferred_node: str, *specs: str, line: int = 1) -> ResourceGroup:
    return ResourceGroup(
        name=specs[0],
        preferred_node=preferred_node,
        resources=tuple(
            ScriptResource(script=spec.split("::")[0], arguments=(), spec=spec) for spec in specs
        ),
        location=SourceLocation(file="haresources", line=line),
    )


def make_config(
    *,
    local_node: str = "alpha",
    nodes: Sequence[str] = ("alpha", "beta"),
    groups: Iterable[ResourceGroup] | None = None,
    auto_failback: AutoFailback = AutoFailback.ON,
    is_fencing_configured: bool = False,
    monitors: Sequence[MonitorPolicy] = (),
    ping_nodes: Sequence[str] = (),
    ping_groups: Sequence[PingGroup] = (),
    quorum_loss_policy: QuorumLossPolicy = QuorumLossPolicy.STOP,
) -> ClusterConfig:
    if groups is None:
        groups = (make_group("alpha", "ip_a", "web_a"), make_group("beta", "ip_b", "db_b"))
    devices = ()
    if is_fencing_configured:
        devices = (
            StonithDevice(
                device_type="null",
                from_node="*",
                parameters=tuple(nodes),
                named_parameters=(),
                config_file=None,
                location=SourceLocation(file="ha.cf", line=9),
            ),
        )
    return ClusterConfig(
        nodes=tuple(nodes),
        local_node=local_node,
        timings=Timings(
            keepalive=timed(KEEPALIVE_MS),
            deadtime=timed(DEADTIME_MS),
            warntime=timed(WARNTIME_MS),
            initdead=timed(INITDEAD_MS),
            deadping=timed(DEADPING_MS),
        ),
        udpport=694,
        media=(BcastMedium(interface="eth0", port=694),),
        auto_failback=auto_failback,
        ping_nodes=tuple(ping_nodes),
        ping_groups=tuple(ping_groups),
        respawns=(),
        stonith_devices=devices,
        monitors=tuple(monitors),
        quorum_loss_policy=quorum_loss_policy,
        auth=AuthConfig(
            active_index=1,
            keys=(AuthKey(index=1, method=AuthMethod.SHA256, secret=b"test-secret"),),
        ),
        groups=tuple(groups),
        logfile=None,
        debugfile=None,
        logfacility=None,
        watchdog_device=None,
        is_realtime=False,
    )


def payload(
    *,
    phase: NodePhase = NodePhase.ACTIVE,
    version: int = 1,
    running: Sequence[str] = (),
    starting: Sequence[str] = (),
    stopping: Sequence[str] = (),
    declined: Sequence[str] = (),
    failed: Sequence[str] = (),
    ping_count: int = 0,
) -> StatusPayload:
    return StatusPayload(
        phase=phase,
        status_version=version,
        running_groups=tuple(running),
        starting_groups=tuple(starting),
        stopping_groups=tuple(stopping),
        declined_groups=tuple(declined),
        failed_groups=tuple(failed),
        ping_reachable_count=ping_count,
    )


@dataclass
class Node:
    """One engine driven by a test: `feed` steps it and keeps the commands."""

    state: NodeState = field(default_factory=initial_state)
    commands: list[Command] = field(default_factory=list)
    seq: int = 0
    # Live peers agree to every claim at once (claims.py); tests of claims turn this off.
    does_peer_agree: bool = True
    ack_id: int = 10_000

    @property
    def now_ms(self) -> int:
        return self.state.now_ms

    def feed(self, event: Event) -> tuple[Command, ...]:
        self.state, commands = step(self.state, event)
        deadline_ms = next_deadline(self.state)
        assert deadline_ms is None or deadline_ms > self.state.now_ms, (deadline_ms, event)
        self.commands.extend(commands)
        if not self.does_peer_agree:
            return commands
        produced = list(commands)
        for command in commands:
            if (
                isinstance(command, SendControlMessage)
                and command.message.kind is ControlKind.ACQUIRE
            ):
                produced.extend(self.agree(command))
        return tuple(produced)

    def agree(self, claim: SendControlMessage) -> tuple[Command, ...]:
        """The peer acknowledges a claim without refusing it."""
        self.ack_id += 1
        return self.feed(
            ControlMessageReceived(
                now_ms=self.now_ms,
                from_node=claim.to_node,
                generation=self.state.peers[claim.to_node].generation or 1,
                message_id=self.ack_id,
                message=ControlMessage(kind=ControlKind.ACK, acked_message_id=claim.message_id),
            )
        )

    def start(
        self,
        config: ClusterConfig,
        *,
        now_ms: int = 0,
        generation: int = 1,
        running: Iterable[str] = (),
    ) -> None:
        """Start the node and answer its start-up probes (nothing runs but `running`)."""
        commands = self.feed(
            NodeStarted(
                now_ms=now_ms, wall_time_ms=1_700_000_000_000, generation=generation, config=config
            )
        )
        probes = [c for c in commands if isinstance(c, RunResourceAction)]
        assert all(c.action is ResourceAction.PROBE for c in probes)
        self.run_actions(probes, running=running, duration_ms=0)

    def advance_to(self, now_ms: int) -> list[Command]:
        """Step at every deadline up to `now_ms`, then at `now_ms`."""
        produced: list[Command] = []
        while True:
            deadline_ms = next_deadline(self.state)
            if deadline_ms is None or deadline_ms > now_ms:
                break
            produced.extend(self.feed(TimeAdvanced(now_ms=deadline_ms)))
        produced.extend(self.feed(TimeAdvanced(now_ms=now_ms)))
        return produced

    def hear(
        self,
        from_node: str,
        status: StatusPayload,
        *,
        link: str = "bcast eth0",
        also_links: tuple[str, ...] = (),
        generation: int = 1,
        now_ms: int | None = None,
    ) -> tuple[Command, ...]:
        self.seq += 1
        return self.feed(
            HeartbeatReceived(
                now_ms=self.now_ms if now_ms is None else now_ms,
                from_node=from_node,
                link=link,
                generation=generation,
                seq=self.seq,
                status=status,
                also_links=also_links,
            )
        )

    def complete(
        self,
        command: RunResourceAction,
        outcome: ActionOutcome = ActionOutcome.SUCCESS,
        *,
        duration_ms: int = 10,
    ) -> tuple[Command, ...]:
        return self.feed(
            ResourceActionCompleted(
                now_ms=self.now_ms + duration_ms,
                action_id=command.action_id,
                group=command.group,
                resource_id=command.resource_id,
                action=command.action,
                outcome=outcome,
                exit_code=0 if outcome is ActionOutcome.SUCCESS else 1,
                duration_ms=duration_ms,
                output_excerpt="",
            )
        )

    def fence_done(self, target: str, *, is_success: bool = True) -> tuple[Command, ...]:
        return self.feed(
            FenceCompleted(
                now_ms=self.now_ms + 10,
                target=target,
                device="null",
                is_success=is_success,
                duration_ms=10,
                detail="ok" if is_success else "device failed",
            )
        )

    def run_actions(
        self,
        commands: Iterable[Command],
        *,
        running: Iterable[str] = (),
        failing_starts: Iterable[str] = (),
        failing_stops: Iterable[str] = (),
        duration_ms: int = 10,
    ) -> list[Command]:
        """Answer resource actions until none is left: `status` says running only for
        resources in `running`; starts of `failing_starts` and stops of `failing_stops` fail."""
        running_set = set(running)
        failing_set = (set(failing_starts), set(failing_stops))
        queue = [c for c in commands if isinstance(c, RunResourceAction)]
        produced: list[Command] = []
        while queue:
            command = queue.pop(0)
            outcome = _world_outcome(command, running_set, failing_set)
            new = self.complete(command, outcome, duration_ms=duration_ms)
            produced.extend(new)
            queue.extend(c for c in new if isinstance(c, RunResourceAction))
        return produced


def _world_outcome(
    command: RunResourceAction, running: set[str], failing: tuple[set[str], set[str]]
) -> ActionOutcome:
    rid = command.resource_id
    match command.action:
        case ResourceAction.STATUS | ResourceAction.MONITOR | ResourceAction.PROBE:
            return ActionOutcome.SUCCESS if rid in running else ActionOutcome.NOT_RUNNING
        case ResourceAction.START:
            if rid in failing[0]:
                return ActionOutcome.FAILED
            running.add(rid)
            return ActionOutcome.SUCCESS
        case ResourceAction.STOP:
            if rid in failing[1]:
                return ActionOutcome.FAILED
            running.discard(rid)
            return ActionOutcome.SUCCESS


def actions(commands: Iterable[Command]) -> list[tuple[str, str, str]]:
    return [
        (c.action.value, c.group, c.resource_id)
        for c in commands
        if isinstance(c, RunResourceAction)
    ]


def alerts(commands: Iterable[Command]) -> list[str]:
    return [c.alert.value for c in commands if isinstance(c, RaiseAlert)]


def fences(commands: Iterable[Command]) -> list[str]:
    return [c.target for c in commands if isinstance(c, FenceNode)]


def heartbeats(commands: Iterable[Command]) -> list[StatusPayload]:
    return [c.payload for c in commands if isinstance(c, SendHeartbeat)]


def controls(commands: Iterable[Command]) -> list[SendControlMessage]:
    return [c for c in commands if isinstance(c, SendControlMessage)]


def booted_pair(
    config: ClusterConfig | None = None,
    *,
    peer_running: Sequence[str] = ("ip_b",),
) -> Node:
    """alpha booted, beta heard (holding `peer_running`), alpha's own groups started."""
    node = Node()
    node.start(config or make_config())
    commands = node.hear("beta", payload(running=peer_running))
    node.run_actions(commands)
    node.commands.clear()
    return node
