"""Start-up probes (issue 9): a (re)started node learns what really runs here first."""

from __future__ import annotations

from engine.core import step
from engine.core.commands import RunResourceAction
from engine.core.events import (
    ActionOutcome,
    AdminAction,
    AdminCommandReceived,
    NodeStarted,
    ResourceAction,
)
from engine.core.messages import NodePhase, Scope, StatusPayload
from engine.core.replay import prior_belief
from engine.core.state import GroupPhase
from engine.core.view import cluster_view
from tests.engine.core.core_helpers import (
    Node,
    actions,
    alerts,
    booted_pair,
    make_config,
    payload,
)


def test_every_resource_is_probed_before_the_node_goes_active() -> None:
    node = Node()
    commands = node.feed(NodeStarted(now_ms=0, wall_time_ms=0, generation=1, config=make_config()))
    assert actions(commands) == [("probe", "ip_a", "ip_a"), ("probe", "ip_b", "ip_b")]
    node.hear("beta", payload())
    assert node.state.phase is NodePhase.BOOTING  # heard the peer, but probes are pending
    probes = [c for c in commands if isinstance(c, RunResourceAction)]
    produced = node.run_actions(probes)
    assert [verb for verb, _, _ in actions(produced)][:2] == ["probe", "probe"]
    assert node.state.phase is NodePhase.ACTIVE


def test_a_peer_still_probing_blocks_the_start_of_what_it_may_run() -> None:
    node = booted_pair(peer_running=())
    probing = StatusPayload(
        phase=NodePhase.BOOTING,
        status_version=1,
        declined_groups=("ip_b",),  # beta leaves ip_b to alpha...
        probing_groups=("ip_b",),  # ...but may still run it after a daemon crash
    )
    commands = node.hear("beta", probing, generation=2)
    assert actions(commands) == []
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    probed = StatusPayload(phase=NodePhase.ACTIVE, status_version=2, declined_groups=("ip_b",))
    commands = node.hear("beta", probed, generation=2)
    assert actions(commands) == [("status", "ip_b", "ip_b")]


def test_a_fully_running_group_this_node_should_hold_is_adopted_without_restart() -> None:
    node = Node()
    node.start(make_config(), running=["ip_a", "web_a"])
    commands = node.hear("beta", payload(running=["ip_b"]))
    assert actions(commands) == []
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    assert "probe_mismatch" in alerts(node.commands)  # the journal did not know it ran


def test_a_running_group_that_belongs_to_the_peer_is_stopped_right_to_left() -> None:
    node = Node()
    node.start(make_config(), running=["ip_b", "db_b"])
    commands = node.hear("beta", payload(running=["ip_b"]))
    # Both hold ip_b: beta is its preferred node and keeps it; alpha stops its copy.
    assert ("stop", "ip_b", "db_b") in actions(commands)
    produced = node.run_actions(commands)
    assert ("stop", "ip_b", "ip_b") in actions(produced)
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    assert "partition_conflict" in alerts(commands)


def test_a_partly_running_group_of_this_node_is_completed_not_restarted() -> None:
    node = Node()
    node.start(make_config(), running=["ip_a"])
    commands = node.hear("beta", payload(running=["ip_b"]))
    assert actions(commands) == [("start", "ip_a", "web_a")]


def test_a_failed_probe_counts_as_maybe_running_and_is_stopped_if_not_ours() -> None:
    node = Node()
    commands = node.feed(NodeStarted(now_ms=0, wall_time_ms=0, generation=1, config=make_config()))
    probe_a, probe_b = [c for c in commands if isinstance(c, RunResourceAction)]
    (probe_web,) = [
        c
        for c in node.complete(probe_a, ActionOutcome.NOT_RUNNING)
        if isinstance(c, RunResourceAction)
    ]
    node.complete(probe_web, ActionOutcome.NOT_RUNNING)
    more = node.complete(probe_b, ActionOutcome.TIMED_OUT)  # ip_b: unknown, maybe running
    (probe_db,) = [c for c in more if isinstance(c, RunResourceAction)]
    assert (probe_db.action, probe_db.resource_id) == (ResourceAction.PROBE, "db_b")
    node.complete(probe_db, ActionOutcome.NOT_RUNNING)
    assert node.state.groups["ip_b"].phase is GroupPhase.STARTING  # partly (maybe) running
    commands = node.hear("beta", payload(running=["ip_b"]))
    assert ("stop", "ip_b", "ip_b") in actions(commands)


def test_belief_and_probes_disagreeing_is_an_incident_until_acknowledged() -> None:
    node = booted_pair()  # alpha runs ip_a
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    # The daemon crashes; the node reboots: nothing runs any more. The shell replays the
    # journal (the state above) and passes its belief in NodeStarted.
    believed, incidents = prior_belief(node.state)
    assert believed == ("ip_a",)
    started = NodeStarted(
        now_ms=0,
        wall_time_ms=0,
        generation=2,
        config=make_config(),
        believed_groups=believed,
        incidents=incidents,
    )
    state, commands = step(node.state, started)
    restarted = Node(state=state)
    restarted.run_actions(commands)
    assert restarted.state.incidents == (
        "group ip_a was not found running here, though the journal says it was",
    )
    assert "probe_mismatch" in alerts(restarted.commands)
    assert cluster_view(restarted.state).incidents == restarted.state.incidents
    restarted.feed(
        AdminCommandReceived(
            now_ms=restarted.now_ms,
            wall_time_ms=0,
            action=AdminAction.ACKNOWLEDGE,
            scope=Scope.ALL,
            uid=0,
            pid=7,
        )
    )
    assert restarted.state.incidents == ()


def test_no_incident_when_the_probes_confirm_the_journal() -> None:
    node = booted_pair()
    believed, incidents = prior_belief(node.state)
    started = NodeStarted(
        now_ms=0,
        wall_time_ms=0,
        generation=2,
        config=make_config(),
        believed_groups=believed,
        incidents=incidents,
    )
    state, commands = step(node.state, started)
    restarted = Node(state=state)
    restarted.run_actions(commands, running=["ip_a", "web_a"])
    assert restarted.state.incidents == ()
    assert restarted.state.groups["ip_a"].phase is GroupPhase.RUNNING
