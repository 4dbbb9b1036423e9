"""The placement rule (pure) and its effects: failback, standby, takeover, ping, partitions."""

from __future__ import annotations

import pytest

from engine.config.model import AutoFailback, PingGroup
from engine.core.commands import SendControlMessage
from engine.core.events import AdminAction, AdminCommandReceived, ControlMessageReceived
from engine.core.messages import ControlKind, ControlMessage, NodePhase, Scope
from engine.core.placement import MemberView, choose_holder, first_from_preferred, is_quorate
from engine.core.state import GroupPhase
from tests.engine.core.core_helpers import (
    DEADPING_MS,
    KEEPALIVE_MS,
    Node,
    actions,
    alerts,
    booted_pair,
    controls,
    make_config,
    make_group,
    payload,
)

GROUP = make_group("beta", "ip_b")
ORDER = ("alpha", "beta", "gamma")


def member(
    name: str,
    *,
    phase: NodePhase = NodePhase.ACTIVE,
    holding: tuple[str, ...] = (),
    declined: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    ping: int = 0,
) -> MemberView:
    return MemberView(
        name=name,
        phase=phase,
        holding=frozenset(holding),
        occupied=frozenset(holding),
        declined=frozenset(declined),
        failed=frozenset(failed),
        ping_reachable_count=ping,
    )


def test_the_preferred_node_gets_an_unheld_group() -> None:
    members = [member("alpha"), member("beta")]
    assert choose_holder(GROUP, members, ORDER, AutoFailback.OFF) == "beta"


def test_auto_failback_off_keeps_the_current_holder() -> None:
    members = [member("alpha", holding=("ip_b",)), member("beta")]
    assert choose_holder(GROUP, members, ORDER, AutoFailback.OFF) == "alpha"


@pytest.mark.parametrize("failback", [AutoFailback.ON, AutoFailback.LEGACY])
def test_auto_failback_on_and_legacy_move_back_to_an_active_preferred_node(
    failback: AutoFailback,
) -> None:
    members = [member("alpha", holding=("ip_b",)), member("beta")]
    assert choose_holder(GROUP, members, ORDER, failback) == "beta"
    booting = [member("alpha", holding=("ip_b",)), member("beta", phase=NodePhase.BOOTING)]
    assert choose_holder(GROUP, booting, ORDER, failback) == "alpha"


def test_a_dead_preferred_nodes_group_goes_to_the_next_node_in_ha_cf_order() -> None:
    assert (
        choose_holder(GROUP, [member("alpha"), member("gamma")], ORDER, AutoFailback.ON) == "gamma"
    )
    assert first_from_preferred(make_group("gamma", "x"), {"alpha", "beta"}, ORDER) == "alpha"


def test_standby_is_ignored_when_every_candidate_declined_so_the_group_stays_up() -> None:
    node = booted_pair(make_config(auto_failback=AutoFailback.OFF), peer_running=())
    node.hear("beta", payload(version=2, declined=["ip_b"]))
    node.run_actions(node.commands)
    commands = admin(node, AdminAction.STANDBY, Scope.FOREIGN)
    assert actions(commands) == []


def test_standby_declines_unless_every_candidate_declined() -> None:
    members = [member("alpha"), member("beta", declined=("ip_b",))]
    assert choose_holder(GROUP, members, ORDER, AutoFailback.ON) == "alpha"
    alone = [member("beta", declined=("ip_b",))]
    assert choose_holder(GROUP, alone, ORDER, AutoFailback.ON) == "beta"


def test_failed_nodes_and_leaving_nodes_are_not_candidates() -> None:
    members = [member("alpha", failed=("ip_b",)), member("beta", phase=NodePhase.LEAVING)]
    assert choose_holder(GROUP, members, ORDER, AutoFailback.ON) is None


def test_ipfail_prefers_nodes_that_reach_more_ping_nodes() -> None:
    members = [member("alpha", ping=1), member("beta", ping=0)]
    assert choose_holder(GROUP, members, ORDER, AutoFailback.ON) == "alpha"


def test_partition_heal_keeper_is_the_preferred_node_else_the_first_in_order() -> None:
    both = [member("alpha", holding=("ip_b",)), member("beta", holding=("ip_b",))]
    assert choose_holder(GROUP, both, ORDER, AutoFailback.OFF) == "beta"
    other = make_group("gamma", "x")
    both_x = [member("alpha", holding=("x",)), member("beta", holding=("x",))]
    assert choose_holder(other, both_x, ORDER, AutoFailback.OFF) == "alpha"


def test_quorum_is_a_strict_majority_from_three_nodes_up() -> None:
    assert is_quorate(1, 2)
    assert not is_quorate(1, 3) and is_quorate(2, 3)
    assert not is_quorate(2, 4) and is_quorate(3, 4)


# ---- the rule at work in one node ---------------------------------------------------------


def admin(node: Node, action: AdminAction, scope: Scope) -> tuple[object, ...]:
    return node.feed(
        AdminCommandReceived(
            now_ms=node.now_ms, wall_time_ms=0, action=action, scope=scope, uid=0, pid=42
        )
    )


def test_failback_on_the_holder_releases_when_the_preferred_node_is_back() -> None:
    node = booted_pair(make_config(auto_failback=AutoFailback.ON), peer_running=())
    node.hear("beta", payload(version=2, declined=["ip_b"]))
    node.run_actions(node.commands)
    assert node.state.groups["ip_b"].phase is GroupPhase.RUNNING
    # beta restarts and comes back active: alpha hands ip_b back.
    commands = node.hear("beta", payload(version=1), generation=2)
    assert actions(commands) == [("stop", "ip_b", "db_b")]
    node.run_actions(commands)
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED


def test_failback_off_the_holder_keeps_the_group() -> None:
    node = booted_pair(make_config(auto_failback=AutoFailback.OFF), peer_running=())
    node.hear("beta", payload(version=2, declined=["ip_b"]))
    node.run_actions(node.commands)
    commands = node.hear("beta", payload(version=1), generation=2)
    assert actions(commands) == []
    assert node.state.groups["ip_b"].phase is GroupPhase.RUNNING


def test_standby_local_gives_this_nodes_groups_away() -> None:
    node = booted_pair()
    commands = admin(node, AdminAction.STANDBY, Scope.LOCAL)
    assert actions(commands) == [("stop", "ip_a", "web_a")]
    assert node.state.declined_groups == frozenset({"ip_a"})


def test_standby_foreign_gives_the_other_nodes_groups_away() -> None:
    node = booted_pair(make_config(auto_failback=AutoFailback.OFF), peer_running=())
    node.hear("beta", payload(version=2, declined=["ip_b"]))
    node.run_actions(node.commands)
    node.hear("beta", payload(version=3))  # beta back from standby; failback off: no move
    assert node.state.groups["ip_b"].phase is GroupPhase.RUNNING
    commands = admin(node, AdminAction.STANDBY, Scope.FOREIGN)
    assert actions(commands) == [("stop", "ip_b", "db_b")]
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING


def test_takeover_asks_live_peers_to_stand_by_until_acknowledged() -> None:
    node = booted_pair()
    commands = admin(node, AdminAction.TAKEOVER, Scope.FOREIGN)
    sent = controls(commands)
    assert [(c.to_node, c.message.kind, c.message.groups) for c in sent] == [
        ("beta", ControlKind.STANDBY_REQUEST, ("ip_b",))
    ]
    again = controls(node.advance_to(node.now_ms + KEEPALIVE_MS))
    assert [c.message_id for c in again] == [sent[0].message_id]
    ack = ControlMessage(kind=ControlKind.ACK, acked_message_id=sent[0].message_id)
    node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms, from_node="beta", generation=1, message_id=77, message=ack
        )
    )
    assert node.state.outgoing == ()
    assert controls(node.advance_to(node.now_ms + 3 * KEEPALIVE_MS)) == []


def test_a_standby_request_is_obeyed_once_and_acknowledged_every_time() -> None:
    node = booted_pair()
    request = ControlMessage(kind=ControlKind.STANDBY_REQUEST, groups=("ip_a",))
    event = ControlMessageReceived(
        now_ms=node.now_ms, from_node="beta", generation=1, message_id=5, message=request
    )
    first = node.feed(event)
    second = node.feed(event)
    for commands in (first, second):
        acks = [c for c in commands if isinstance(c, SendControlMessage)]
        assert [c.message.acked_message_id for c in acks] == [5]
    assert actions(first) == [("stop", "ip_a", "web_a")]
    assert actions(second) == []


def test_a_node_that_lost_its_ping_nodes_gives_its_groups_to_a_peer_that_did_not() -> None:
    config = make_config(ping_groups=[PingGroup(name="router", addresses=("198.18.0.1",))])
    node = booted_pair(config)
    node.hear("beta", payload(version=2, running=["ip_b"], ping_count=1))
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    for second in range(1, DEADPING_MS // KEEPALIVE_MS + 2):
        node.advance_to(second * KEEPALIVE_MS)
        node.hear("beta", payload(version=2, running=["ip_b"], ping_count=1))
    assert node.state.ping_targets[0].is_up is False
    # Not at once: the peer's news may be older than a loss both sides share.
    assert ("stop", "ip_a", "web_a") not in actions(node.commands)
    for second in range(DEADPING_MS // KEEPALIVE_MS + 2, DEADPING_MS // KEEPALIVE_MS + 5):
        node.advance_to(second * KEEPALIVE_MS)
        node.hear("beta", payload(version=2, running=["ip_b"], ping_count=1))
    assert ("stop", "ip_a", "web_a") in actions(node.commands)


def test_a_ping_loss_both_nodes_share_moves_nothing() -> None:
    config = make_config(ping_nodes=["198.18.0.1"])
    node = booted_pair(config)
    for second in range(1, DEADPING_MS // KEEPALIVE_MS + 1):
        node.advance_to(second * KEEPALIVE_MS)
        node.hear("beta", payload(version=2, running=["ip_b"], ping_count=1))
    node.advance_to(DEADPING_MS + 100)
    assert node.state.ping_targets[0].is_up is False
    node.hear("beta", payload(version=3, running=["ip_b"], ping_count=0))  # beta lost it too
    for second in range(1, 6):
        node.advance_to(DEADPING_MS + 100 + second * KEEPALIVE_MS)
        node.hear("beta", payload(version=3, running=["ip_b"], ping_count=0))
    assert actions(node.commands) == []


def test_when_nobody_reaches_the_ping_nodes_nothing_moves() -> None:
    config = make_config(ping_nodes=["198.18.0.1"])
    node = booted_pair(config)
    for second in range(1, DEADPING_MS // KEEPALIVE_MS + 2):
        node.advance_to(second * KEEPALIVE_MS)
        node.hear("beta", payload(version=2, running=["ip_b"], ping_count=0))
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING


def test_both_sides_holding_after_a_partition_the_non_preferred_side_stops() -> None:
    node = booted_pair(make_config(auto_failback=AutoFailback.OFF))
    commands = node.hear("beta", payload(version=5, running=["ip_a", "ip_b"]))
    assert actions(commands) == []  # alpha is ip_a's preferred node: it keeps it
    node2 = booted_pair(make_config(auto_failback=AutoFailback.OFF), peer_running=())
    node2.hear("beta", payload(version=2, declined=["ip_b"]))
    node2.run_actions(node2.commands)
    commands = node2.hear("beta", payload(version=6, running=["ip_b"]))
    assert "partition_conflict" in alerts(commands)
    assert actions(commands) == [("stop", "ip_b", "db_b")]
