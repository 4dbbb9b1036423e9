"""Hypothesis state machines: random event sequences against one node's safety invariants.

A single engine (alpha) is fed arbitrary but well-formed events: time passing, heartbeats
from peers with random statuses and generations, control messages, results of the actions
it ordered (random outcomes), fence results, pings, admin commands and shutdown. After each
step the test checks what must never happen, whatever the peers claim:

- next_deadline is never in the past;
- a group starts here (STOPPED -> STARTING) only if no live peer reports occupying it, no
  silent peer may hold it, and, with 3+ nodes, this node has quorum;
- with fencing configured, a group a dead peer last reported occupying does not start
  here before a FenceCompleted success for that peer (or its return or clean leave);
- at most one action per group is in flight, and every ordered action is answerable;
- replaying the events gives exactly the live state, and each event survives the codec.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engine.config.model import AutoFailback, ClusterConfig, PingGroup, QuorumLossPolicy
from engine.core import initial_state, next_deadline, step
from engine.core.codec import decode_event, encode_event
from engine.core.commands import FenceNode, RunResourceAction
from engine.core.events import (
    ActionOutcome,
    AdminAction,
    AdminCommandReceived,
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
from engine.core.messages import ControlKind, ControlMessage, NodePhase, Scope, StatusPayload
from engine.core.replay import replay
from engine.core.state import GroupPhase, NodeState, PeerStatus
from tests.engine.core.core_helpers import make_config, make_group

GROUP_NAMES = ("ip_a", "ip_b", "ip_c")


def configs(node_count: int) -> st.SearchStrategy[ClusterConfig]:
    nodes = ("alpha", "beta", "gamma", "delta")[:node_count]
    groups = (
        make_group("alpha", "ip_a", "web_a"),
        make_group("beta", "ip_b", "db_b"),
        make_group(nodes[-1], "ip_c"),
    )
    return st.builds(
        make_config,
        nodes=st.just(nodes),
        groups=st.just(groups),
        auto_failback=st.sampled_from(list(AutoFailback)),
        is_fencing_configured=st.booleans(),
        ping_groups=st.sampled_from([(), (PingGroup(name="net", addresses=("198.18.0.1",)),)]),
        quorum_loss_policy=st.sampled_from(list(QuorumLossPolicy)),
    )


group_sets = st.lists(st.sampled_from(GROUP_NAMES), unique=True, max_size=3).map(tuple)


class SingleNodeMachine(RuleBasedStateMachine):
    node_count = 2

    def __init__(self) -> None:
        super().__init__()
        self.state: NodeState = initial_state()
        self.events: list[Event] = []
        self.pending: list[RunResourceAction] = []
        self.fences_ordered: list[str] = []
        self.must_fence: dict[str, set[str]] = {}
        self.versions: dict[str, int] = {}
        self.generations: dict[str, int] = {}
        self.message_id = 0

    # ---- driving ---------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        kind, payload = encode_event(event)
        assert decode_event(kind, payload) == event
        before = self.state
        self.state, commands = step(self.state, event)
        self.events.append(event)
        for command in commands:
            if isinstance(command, RunResourceAction):
                self.pending.append(command)
            elif isinstance(command, FenceNode):
                self.fences_ordered.append(command.target)
        self.track_fencing(before, event)
        self.check_starts(before)

    @property
    def now_ms(self) -> int:
        return self.state.now_ms

    @property
    def peers(self) -> tuple[str, ...]:
        assert self.state.config is not None
        return tuple(n for n in self.state.config.nodes if n != "alpha")

    @rule(config=st.data())
    @precondition(lambda self: self.state.config is None)
    def start(self, config: st.DataObject) -> None:
        chosen = config.draw(configs(self.node_count))
        self.feed(NodeStarted(now_ms=0, wall_time_ms=0, generation=1, config=chosen))

    @rule(
        delta_ms=st.one_of(
            st.sampled_from([1_000, 5_000, 10_000, 20_000]),
            st.integers(min_value=1, max_value=15_000),
        )
    )
    @precondition(lambda self: self.state.config is not None)
    def time_passes(self, delta_ms: int) -> None:
        target_ms = self.now_ms + delta_ms
        while True:
            deadline_ms = next_deadline(self.state)
            if deadline_ms is None or deadline_ms >= target_ms:
                break
            self.feed(TimeAdvanced(now_ms=deadline_ms))
        self.feed(TimeAdvanced(now_ms=target_ms))

    @rule(
        data=st.data(),
        phase=st.sampled_from([NodePhase.BOOTING, NodePhase.ACTIVE, NodePhase.LEAVING]),
        running=group_sets,
        starting=group_sets,
        stopping=group_sets,
        declined=group_sets,
        failed=group_sets,
        ping_count=st.integers(0, 1),
        restart=st.booleans(),
        link=st.sampled_from(["bcast eth0", "bcast eth1"]),
    )
    @precondition(lambda self: self.state.config is not None)
    def heartbeat(
        self,
        data: st.DataObject,
        phase: NodePhase,
        running: tuple[str, ...],
        starting: tuple[str, ...],
        stopping: tuple[str, ...],
        declined: tuple[str, ...],
        failed: tuple[str, ...],
        ping_count: int,
        restart: bool,
        link: str,
    ) -> None:
        peer = data.draw(st.sampled_from(self.peers))
        generation = self.generations.get(peer, 1) + (1 if restart else 0)
        self.generations[peer] = generation
        self.versions[peer] = self.versions.get(peer, 0) + 1
        status = StatusPayload(
            phase=phase,
            status_version=self.versions[peer],
            running_groups=running,
            starting_groups=tuple(g for g in starting if g not in running),
            stopping_groups=tuple(g for g in stopping if g not in running + starting),
            declined_groups=declined,
            failed_groups=failed,
            ping_reachable_count=ping_count,
        )
        self.feed(
            HeartbeatReceived(
                now_ms=self.now_ms,
                from_node=peer,
                link=link,
                generation=generation,
                seq=self.versions[peer],
                status=status,
            )
        )

    @rule(
        data=st.data(),
        kind=st.sampled_from(
            [
                ControlKind.STANDBY_REQUEST,
                ControlKind.RELEASE_DONE,
                ControlKind.SHUTDOWN_NOTICE,
                ControlKind.ACQUIRE,
            ]
        ),
        groups=group_sets,
    )
    @precondition(lambda self: self.state.config is not None)
    def control(self, data: st.DataObject, kind: ControlKind, groups: tuple[str, ...]) -> None:
        peer = data.draw(st.sampled_from(self.peers))
        self.message_id += 1
        self.feed(
            ControlMessageReceived(
                now_ms=self.now_ms,
                from_node=peer,
                generation=self.generations.get(peer, 1),
                message_id=self.message_id,
                message=ControlMessage(kind=kind, groups=groups),
            )
        )

    @rule(data=st.data(), outcome=st.sampled_from(list(ActionOutcome)))
    @precondition(lambda self: bool(self.pending))
    def action_completes(self, data: st.DataObject, outcome: ActionOutcome) -> None:
        command = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
        self.feed(
            ResourceActionCompleted(
                now_ms=self.now_ms + 1,
                action_id=command.action_id,
                group=command.group,
                resource_id=command.resource_id,
                action=command.action,
                outcome=outcome,
                exit_code=0,
                duration_ms=1,
                output_excerpt="",
            )
        )

    @rule(data=st.data(), is_refused=st.booleans())
    @precondition(
        lambda self: any(i.message.kind is ControlKind.ACQUIRE for i in self.state.outgoing)
    )
    def claim_answered(self, data: st.DataObject, is_refused: bool) -> None:
        claims = [i for i in self.state.outgoing if i.message.kind is ControlKind.ACQUIRE]
        claim = data.draw(st.sampled_from(claims))
        self.message_id += 1
        answer = ControlMessage(
            kind=ControlKind.ACK,
            acked_message_id=claim.message_id,
            groups=claim.message.groups if is_refused else (),
        )
        self.feed(
            ControlMessageReceived(
                now_ms=self.now_ms,
                from_node=claim.to_node,
                generation=self.generations.get(claim.to_node, 1),
                message_id=self.message_id,
                message=answer,
            )
        )

    @rule(data=st.data(), is_success=st.booleans())
    @precondition(lambda self: bool(self.fences_ordered))
    def fence_completes(self, data: st.DataObject, is_success: bool) -> None:
        target = self.fences_ordered.pop(data.draw(st.integers(0, len(self.fences_ordered) - 1)))
        self.feed(
            FenceCompleted(
                now_ms=self.now_ms + 1,
                target=target,
                device="test",
                is_success=is_success,
                duration_ms=1,
                detail="",
            )
        )

    @rule(is_reachable=st.booleans())
    @precondition(lambda self: self.state.config is not None)
    def ping(self, is_reachable: bool) -> None:
        self.feed(
            PingResultReceived(now_ms=self.now_ms, address="198.18.0.1", is_reachable=is_reachable)
        )

    @rule(
        action=st.sampled_from([AdminAction.STANDBY, AdminAction.TAKEOVER]),
        scope=st.sampled_from(list(Scope)),
    )
    @precondition(lambda self: self.state.config is not None)
    def admin(self, action: AdminAction, scope: Scope) -> None:
        self.feed(
            AdminCommandReceived(
                now_ms=self.now_ms, wall_time_ms=0, action=action, scope=scope, uid=0, pid=1
            )
        )

    @rule(chance=st.integers(0, 9))
    @precondition(lambda self: self.state.config is not None)
    def shutdown(self, chance: int) -> None:
        if chance == 0:  # rarely: a stopped node has nothing left to check
            self.feed(ShutdownRequested(now_ms=self.now_ms))

    # ---- the model of what fencing must precede -------------------------------------------

    def track_fencing(self, before: NodeState, event: Event) -> None:
        for name, peer in self.state.peers.items():
            previous = before.peers.get(name)
            if peer.status is not PeerStatus.DEAD:
                self.must_fence.pop(name, None)
            elif previous is not None and previous.status is PeerStatus.UP:
                assert previous.payload is not None
                self.must_fence[name] = set(previous.payload.occupied_groups())
        if (
            isinstance(event, FenceCompleted)
            and event.is_success
            and self.state.peers[event.target].status is PeerStatus.DEAD
        ):
            self.must_fence.pop(event.target, None)

    def check_starts(self, before: NodeState) -> None:
        config = self.state.config
        assert config is not None
        for name, run in self.state.groups.items():
            previous = before.groups.get(name)
            if previous is None or previous.phase not in (GroupPhase.STOPPED, GroupPhase.CLAIMING):
                continue
            if run.phase is not GroupPhase.STARTING:
                continue
            for peer in self.state.peers.values():
                if peer.is_live:
                    assert peer.payload is not None
                    assert name not in peer.payload.occupied_groups(), (name, peer)
                else:
                    assert name not in peer.suspect_groups, (name, peer)
            if len(config.nodes) >= 3:
                assert self.state.is_quorate
            if config.is_fencing_configured:
                for dead, groups in self.must_fence.items():
                    assert name not in groups, f"{name} started before {dead} was fenced"

    # ---- invariants -------------------------------------------------------------------------

    @invariant()
    def deadline_is_never_in_the_past(self) -> None:
        deadline_ms = next_deadline(self.state)
        assert deadline_ms is None or deadline_ms > self.state.now_ms

    @invariant()
    def one_action_per_group_and_each_is_known(self) -> None:
        pending_ids = {command.action_id for command in self.pending}
        for run in self.state.groups.values():
            if run.pending is not None:
                assert run.pending.action_id in pending_ids

    def teardown(self) -> None:
        if self.events:
            assert replay(self.events) == self.state


class ThreeNodeMachine(SingleNodeMachine):
    node_count = 3


_settings = settings(max_examples=75, stateful_step_count=50)
TestTwoNodeInvariants = SingleNodeMachine.TestCase
TestTwoNodeInvariants.settings = _settings
TestThreeNodeInvariants = ThreeNodeMachine.TestCase
TestThreeNodeInvariants.settings = _settings
