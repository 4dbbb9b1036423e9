"""Clean shutdown, quorum, monitoring, configuration reload and admin reload."""

from __future__ import annotations

from engine.config.model import MonitorPolicy, QuorumLossPolicy
from engine.core.commands import ReloadConfiguration, RunResourceAction, ShutdownComplete
from engine.core.constants import STATUS_HOLD_MS
from engine.core.events import (
    ActionOutcome,
    AdminAction,
    AdminCommandReceived,
    ConfigReloaded,
    ControlMessageReceived,
    ShutdownRequested,
)
from engine.core.messages import ControlKind, ControlMessage, NodePhase, Scope
from engine.core.state import GroupPhase, PeerStatus
from tests.engine.core.core_helpers import (
    DEADTIME_MS,
    INITDEAD_MS,
    KEEPALIVE_MS,
    Node,
    actions,
    alerts,
    booted_pair,
    controls,
    fences,
    heartbeats,
    make_config,
    make_group,
    payload,
)


def ack(node: Node, message_id: int, from_node: str = "beta") -> None:
    node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms,
            from_node=from_node,
            generation=1,
            message_id=1000 + message_id,
            message=ControlMessage(kind=ControlKind.ACK, acked_message_id=message_id),
        )
    )


def test_clean_shutdown_stops_groups_tells_peers_and_completes() -> None:
    node = booted_pair()
    commands = node.feed(ShutdownRequested(now_ms=node.now_ms))
    # The boot's last status went out at this instant: the next waits STATUS_HOLD_MS.
    commands = (*commands, *node.advance_to(node.now_ms + STATUS_HOLD_MS))
    assert heartbeats(commands)[-1].phase is NodePhase.LEAVING
    produced = node.run_actions(commands)
    assert [verb for verb, _, _ in actions([*commands, *produced])] == ["stop", "stop"]
    sent = controls(produced)
    kinds = [c.message.kind for c in sent]
    assert kinds == [ControlKind.RELEASE_DONE, ControlKind.SHUTDOWN_NOTICE]
    assert not any(isinstance(c, ShutdownComplete) for c in produced)
    ack(node, sent[1].message_id)
    assert any(isinstance(c, ShutdownComplete) for c in node.commands)
    assert node.state.phase is NodePhase.STOPPED


def test_shutdown_completes_after_deadtime_when_no_peer_acknowledges() -> None:
    node = booted_pair()
    commands = node.feed(ShutdownRequested(now_ms=node.now_ms))
    node.run_actions(commands)
    produced = node.advance_to(node.now_ms + DEADTIME_MS - 100)  # beta dies meanwhile
    produced = node.advance_to(node.now_ms + DEADTIME_MS)
    assert node.state.phase is NodePhase.STOPPED
    assert any(isinstance(c, ShutdownComplete) for c in node.commands)
    assert produced is not None


def test_a_peer_shutting_down_hands_over_without_deadtime_or_fencing() -> None:
    node = booted_pair(make_config(is_fencing_configured=True))
    node.hear("beta", payload(version=2, phase=NodePhase.LEAVING, stopping=["ip_b"]))
    assert actions(node.commands) == []
    commands = node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms + 50,
            from_node="beta",
            generation=1,
            message_id=9,
            message=ControlMessage(kind=ControlKind.SHUTDOWN_NOTICE),
        )
    )
    assert node.state.peers["beta"].status is PeerStatus.LEFT
    assert fences(commands) == []
    assert actions(commands)[0] == ("status", "ip_b", "ip_b")
    node.run_actions(commands)
    later = node.advance_to(node.now_ms + 3 * DEADTIME_MS)
    assert "node_dead" not in alerts(later)


def test_release_done_lets_the_new_holder_start_before_the_next_heartbeat() -> None:
    node = booted_pair()
    node.hear("beta", payload(version=2, phase=NodePhase.LEAVING, stopping=["ip_b"]))
    commands = node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms,
            from_node="beta",
            generation=1,
            message_id=3,
            message=ControlMessage(kind=ControlKind.RELEASE_DONE, groups=("ip_b",)),
        )
    )
    assert actions(commands) == [("status", "ip_b", "ip_b")]


def three_node_config(policy: QuorumLossPolicy) -> object:
    return make_config(
        nodes=("alpha", "beta", "gamma"),
        groups=[make_group("alpha", "ip_a"), make_group("gamma", "ip_c")],
        quorum_loss_policy=policy,
        is_fencing_configured=True,
    )


def three_node_cluster(policy: QuorumLossPolicy) -> Node:
    node = Node()
    node.start(three_node_config(policy))  # type: ignore[arg-type]
    node.hear("beta", payload())
    commands = node.hear("gamma", payload(running=["ip_c"]))
    node.run_actions(commands)
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    return node


def keep_hearing(node: Node, until_ms: int, *names: str) -> None:
    while node.now_ms + KEEPALIVE_MS <= until_ms:
        node.advance_to(node.now_ms + KEEPALIVE_MS)
        for name in names:
            node.hear(name, payload(version=1))


def test_losing_quorum_with_policy_stop_stops_the_groups() -> None:
    node = three_node_cluster(QuorumLossPolicy.STOP)
    commands = node.advance_to(node.now_ms + DEADTIME_MS + 10)
    assert "quorum_lost" in alerts(commands)
    assert actions(commands) == [("stop", "ip_a", "ip_a")]
    assert fences(commands) == []  # a minority takes nothing over, so it fences nobody


def test_losing_quorum_with_policy_freeze_keeps_what_runs_and_starts_nothing() -> None:
    node = three_node_cluster(QuorumLossPolicy.FREEZE)
    commands = node.advance_to(node.now_ms + DEADTIME_MS + 10)
    assert "quorum_lost" in alerts(commands)
    assert actions(commands) == []
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    assert node.state.groups["ip_c"].phase is GroupPhase.STOPPED


def test_with_quorum_a_dead_nodes_group_is_fenced_and_taken_over() -> None:
    node = three_node_cluster(QuorumLossPolicy.STOP)
    keep_hearing(node, node.now_ms + DEADTIME_MS + 500, "beta")
    assert node.state.peers["gamma"].status is PeerStatus.DEAD
    assert node.state.is_quorate
    # gamma's group goes to the next node after gamma in ha.cf order, wrapping: alpha.
    assert fences(node.commands) == ["gamma"]


MONITORED = make_group("alpha", "ip_a", "web_a")
POLICY = MonitorPolicy(resource_id="web_a", interval_ms=2_000, timeout_ms=500, max_restarts=1)


def monitored_node() -> Node:
    node = booted_pair(make_config(groups=[MONITORED], monitors=[POLICY]), peer_running=())
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    return node


def monitor_command(node: Node, until_ms: int) -> RunResourceAction:
    commands = node.advance_to(until_ms)
    found = [c for c in commands if isinstance(c, RunResourceAction)]
    assert [(c.action.value, c.resource_id) for c in found] == [("monitor", "web_a")]
    return found[0]


def test_a_monitored_resource_is_checked_every_interval() -> None:
    node = monitored_node()
    start_ms = node.now_ms
    check = monitor_command(node, start_ms + 2_000)
    assert check.timeout_ms == 500
    node.complete(check)
    assert actions(node.advance_to(node.now_ms + 1_900)) == []
    monitor_command(node, node.now_ms + 200)


def test_monitor_failure_restarts_in_place_then_fails_over_past_the_limit() -> None:
    node = monitored_node()
    check = monitor_command(node, node.now_ms + 2_000)
    commands = node.complete(check, ActionOutcome.NOT_RUNNING)
    assert "monitor_failed" in alerts(commands)
    produced = node.run_actions(commands)
    assert actions([*commands, *produced]) == [
        ("stop", "ip_a", "web_a"),
        ("start", "ip_a", "web_a"),
    ]
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    check = monitor_command(node, node.now_ms + 2_000)
    commands = node.complete(check, ActionOutcome.FAILED)
    produced = node.run_actions(commands)
    assert [verb for verb, _, _ in actions([*commands, *produced])] == ["stop", "stop"]
    assert "ip_a" in node.state.failed_groups
    assert heartbeats(node.commands)[-1].failed_groups == ("ip_a",)


def test_admin_reload_asks_the_shell_and_a_reloaded_config_adds_and_removes_groups() -> None:
    node = booted_pair()
    commands = node.feed(
        AdminCommandReceived(
            now_ms=node.now_ms,
            wall_time_ms=0,
            action=AdminAction.RELOAD,
            scope=Scope.ALL,
            uid=0,
            pid=1,
        )
    )
    assert any(isinstance(c, ReloadConfiguration) for c in commands)
    new_config = make_config(
        groups=[make_group("beta", "ip_b", "db_b"), make_group("alpha", "ip_z")]
    )
    commands = node.feed(ConfigReloaded(now_ms=node.now_ms, wall_time_ms=0, config=new_config))
    produced = node.run_actions(commands)
    verbs = actions([*commands, *produced])
    assert ("stop", "ip_a", "web_a") in verbs
    assert ("start", "ip_z", "ip_z") in verbs
    assert set(node.state.groups) == {"ip_b", "ip_z"}


def test_a_node_added_by_reload_is_waited_for_then_declared_dead_at_initdead() -> None:
    node = booted_pair()
    bigger = make_config(nodes=("alpha", "beta", "gamma"))
    node.feed(ConfigReloaded(now_ms=node.now_ms, wall_time_ms=0, config=bigger))
    assert node.state.peers["gamma"].status is PeerStatus.INIT
    reloaded_ms = node.now_ms
    while node.now_ms < reloaded_ms + INITDEAD_MS:
        node.advance_to(min(node.now_ms + KEEPALIVE_MS, reloaded_ms + INITDEAD_MS))
        node.hear("beta", payload(running=["ip_b"]))
    assert node.state.peers["gamma"].status is PeerStatus.DEAD
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
