"""Running a group here: start order, skip what runs, stop order, failed start and stop."""

from __future__ import annotations

from engine.core.commands import RunResourceAction, SelfFence
from engine.core.constants import STATUS_HOLD_MS, STOP_RETRY_INTERVAL_MS, STOP_RETRY_LIMIT
from engine.core.events import ActionOutcome, AdminAction, AdminCommandReceived
from engine.core.messages import Scope
from engine.core.state import GroupPhase, ResourceStatus
from tests.engine.core.core_helpers import (
    Node,
    actions,
    alerts,
    heartbeats,
    make_config,
    make_group,
    payload,
)

THREE = make_group("alpha", "IPaddr::198.18.0.50", "httpd", "smb")


def started_node() -> tuple[Node, list[RunResourceAction]]:
    node = Node()
    node.start(make_config(groups=[THREE]))
    commands = node.hear("beta", payload())
    return node, [c for c in commands if isinstance(c, RunResourceAction)]


def test_start_runs_left_to_right_with_a_status_check_before_each_start() -> None:
    node, first = started_node()
    produced = node.run_actions(first)
    assert actions([*first, *produced]) == [
        ("status", "IPaddr::198.18.0.50", "IPaddr::198.18.0.50"),
        ("start", "IPaddr::198.18.0.50", "IPaddr::198.18.0.50"),
        ("status", "IPaddr::198.18.0.50", "httpd"),
        ("start", "IPaddr::198.18.0.50", "httpd"),
        ("status", "IPaddr::198.18.0.50", "smb"),
        ("start", "IPaddr::198.18.0.50", "smb"),
    ]
    assert node.state.groups[THREE.name].phase is GroupPhase.RUNNING


def test_a_resource_whose_status_says_running_is_not_started_again() -> None:
    node, first = started_node()
    produced = node.run_actions(first, running=["httpd"])
    started = [rid for verb, _, rid in actions([*first, *produced]) if verb == "start"]
    assert started == ["IPaddr::198.18.0.50", "smb"]


def test_one_action_at_a_time_and_the_payload_says_starting_meanwhile() -> None:
    node, first = started_node()
    assert len(first) == 1
    node.advance_to(node.now_ms + STATUS_HOLD_MS)  # the claim changed the status at once too
    assert heartbeats(node.commands)[-1].starting_groups == (THREE.name,)


def test_stop_runs_right_to_left() -> None:
    node, first = started_node()
    node.run_actions(first)
    commands = node.feed(
        AdminCommandReceived(
            now_ms=node.now_ms,
            wall_time_ms=0,
            action=AdminAction.STANDBY,
            scope=Scope.ALL,
            uid=0,
            pid=1,
        )
    )
    produced = node.run_actions(commands)
    assert [rid for verb, _, rid in actions([*commands, *produced])] == [
        "smb",
        "httpd",
        "IPaddr::198.18.0.50",
    ]
    assert node.state.groups[THREE.name].phase is GroupPhase.STOPPED


def test_failed_start_stops_what_started_and_releases_the_group() -> None:
    node, first = started_node()
    produced = node.run_actions(first, failing_starts=["httpd"])
    verbs = actions([*first, *produced])
    assert verbs[-2:] == [
        ("stop", THREE.name, "httpd"),
        ("stop", THREE.name, "IPaddr::198.18.0.50"),
    ]
    assert "start_failed" in alerts(produced)
    assert THREE.name in node.state.failed_groups
    assert node.state.groups[THREE.name].phase is GroupPhase.STOPPED
    last = heartbeats(node.commands)[-1]
    assert last.failed_groups == (THREE.name,) and last.running_groups == ()


def test_a_failed_group_is_not_started_here_again_until_an_admin_takes_it_over() -> None:
    node, first = started_node()
    node.run_actions(first, failing_starts=["httpd"])
    commands = node.advance_to(node.now_ms + 5_000)
    assert actions(commands) == []
    commands = node.feed(
        AdminCommandReceived(
            now_ms=node.now_ms,
            wall_time_ms=0,
            action=AdminAction.TAKEOVER,
            scope=Scope.LOCAL,
            uid=0,
            pid=1,
        )
    )
    assert THREE.name not in node.state.failed_groups
    assert actions(commands)[0][0] in ("status", "start")


def test_failed_stop_is_retried_every_second_then_the_node_self_fences() -> None:
    node, first = started_node()
    node.run_actions(first)
    commands = node.feed(
        AdminCommandReceived(
            now_ms=node.now_ms,
            wall_time_ms=0,
            action=AdminAction.STANDBY,
            scope=Scope.ALL,
            uid=0,
            pid=1,
        )
    )
    stop = next(c for c in commands if isinstance(c, RunResourceAction))
    assert stop.resource_id == "smb"
    attempt_times = []
    for _ in range(STOP_RETRY_LIMIT + 1):
        attempt_times.append(node.now_ms)
        result = node.complete(stop, ActionOutcome.FAILED)
        retry = node.advance_to(node.now_ms + STOP_RETRY_INTERVAL_MS)
        retries = [c for c in retry if isinstance(c, RunResourceAction)]
        if not retries:
            break
        stop = retries[0]
    assert any(isinstance(c, SelfFence) for c in result)
    assert "stop_failed" in alerts(result)
    assert len(attempt_times) == STOP_RETRY_LIMIT + 1
    run = node.state.groups[THREE.name]
    assert run.phase is GroupPhase.STOP_FAILED
    assert run.resources[2] is ResourceStatus.FAILED
    assert heartbeats(node.commands)[-1].stopping_groups == (THREE.name,)


def test_a_stale_or_unknown_action_result_is_ignored() -> None:
    node, first = started_node()
    bogus = RunResourceAction(
        action_id=999, group=THREE.name, resource_id="httpd", action=first[0].action, timeout_ms=1
    )
    node.complete(bogus)
    assert node.state.ignored_event_count == 1
    assert node.state.groups[THREE.name].pending is not None
