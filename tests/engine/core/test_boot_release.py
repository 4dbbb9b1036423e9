"""Issue 9: what runs here but belongs elsewhere is stopped BEFORE the node goes active."""

from __future__ import annotations

from engine.core.commands import RunResourceAction, SendControlMessage, SendHeartbeat
from engine.core.constants import STATUS_HOLD_MS
from engine.core.events import ResourceAction
from engine.core.messages import ControlKind, NodePhase
from engine.core.state import GroupPhase
from tests.engine.core.core_helpers import (
    INITDEAD_MS,
    Node,
    actions,
    alerts,
    make_config,
    make_group,
    payload,
)


def _heartbeat_phases(commands: object) -> list[NodePhase]:
    assert isinstance(commands, (list, tuple))
    return [c.payload.phase for c in commands if isinstance(c, SendHeartbeat)]


def test_the_node_stays_booting_until_the_peers_group_is_stopped_right_to_left() -> None:
    node = Node()
    node.start(make_config(), running=["ip_b", "db_b"])
    commands = node.hear("beta", payload(running=["ip_b"]))
    assert node.state.phase is NodePhase.BOOTING  # probes done, peer heard, but ip_b runs
    assert actions(commands) == [("stop", "ip_b", "db_b")]
    assert NodePhase.ACTIVE not in _heartbeat_phases(commands)
    (stop_db,) = [c for c in commands if isinstance(c, RunResourceAction)]
    after_db = node.complete(stop_db)
    assert node.state.phase is NodePhase.BOOTING
    assert actions(after_db) == [("stop", "ip_b", "ip_b")]
    (stop_ip,) = [c for c in after_db if isinstance(c, RunResourceAction)]
    after_ip = node.complete(stop_ip)
    assert node.state.phase is NodePhase.ACTIVE
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    releases = [
        c
        for c in after_ip
        if isinstance(c, SendControlMessage) and c.message.kind is ControlKind.RELEASE_DONE
    ]
    assert [c.message.groups for c in releases] == [("ip_b",)]
    assert "partition_conflict" in alerts(commands)  # beta holds it too


def test_while_stopping_the_heartbeat_says_booting_and_lists_the_group_as_stopping() -> None:
    node = Node()
    node.start(make_config(), running=["ip_b", "db_b"])
    commands = node.hear("beta", payload())  # beta is active but holds nothing yet
    # The probes ended at this instant and were announced: this change waits STATUS_HOLD_MS.
    commands = (*commands, *node.advance_to(node.now_ms + STATUS_HOLD_MS))
    sent = [c.payload for c in commands if isinstance(c, SendHeartbeat)]
    assert sent and sent[-1].phase is NodePhase.BOOTING
    assert sent[-1].stopping_groups == ("ip_b",)  # beta counts it as occupied: no start yet


def test_a_group_of_this_node_is_adopted_and_the_node_goes_active_at_once() -> None:
    node = Node()
    node.start(make_config(), running=["ip_a", "web_a"])
    commands = node.hear("beta", payload(running=["ip_b"]))
    assert actions(commands) == []
    assert node.state.phase is NodePhase.ACTIVE
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING


def test_the_preferred_node_keeps_a_group_both_hold_and_goes_active_holding_it() -> None:
    node = Node()
    node.start(make_config(), running=["ip_a", "web_a"])
    # beta took ip_a over while alpha's daemon was dead (no fencing): both hold it.
    commands = node.hear("beta", payload(running=["ip_a", "ip_b"]))
    assert actions(commands) == []
    assert node.state.phase is NodePhase.ACTIVE
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING


def test_without_quorum_a_found_group_belongs_to_nobody_and_is_stopped_first() -> None:
    config = make_config(
        nodes=("alpha", "beta", "gamma"), groups=(make_group("alpha", "ip_a", "web_a"),)
    )
    node = Node()
    node.start(config, running=["ip_a", "web_a"])
    commands = node.advance_to(INITDEAD_MS)  # beta and gamma never heard: 1 of 3
    assert node.state.phase is NodePhase.BOOTING
    assert actions(commands) == [("stop", "ip_a", "web_a")]
    produced = node.run_actions(commands)
    assert ("stop", "ip_a", "ip_a") in actions(produced)
    assert node.state.phase is NodePhase.ACTIVE
    assert node.state.groups["ip_a"].phase is GroupPhase.STOPPED


def test_a_partly_running_group_of_a_peer_is_stopped_before_active_not_completed() -> None:
    node = Node()
    node.start(make_config(), running=["ip_b"])  # db_b is not running
    commands = node.hear("beta", payload())
    assert actions(commands) == [("stop", "ip_b", "ip_b")]
    assert all(
        c.action is ResourceAction.STOP for c in commands if isinstance(c, RunResourceAction)
    )
    node.run_actions(commands)
    assert node.state.phase is NodePhase.ACTIVE
