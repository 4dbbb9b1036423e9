"""Failover: a dead peer's groups are taken over, after fencing when fencing is configured."""

from __future__ import annotations

from engine.core.constants import FENCE_RETRY_INTERVAL_MS
from engine.core.messages import NodePhase
from engine.core.state import GroupPhase, PeerStatus
from tests.engine.core.core_helpers import (
    DEADTIME_MS,
    INITDEAD_MS,
    Node,
    actions,
    alerts,
    booted_pair,
    fences,
    make_config,
    payload,
)


def test_with_fencing_the_dead_peer_is_fenced_before_its_group_starts() -> None:
    node = booted_pair(make_config(is_fencing_configured=True))
    commands = node.advance_to(DEADTIME_MS + 10)
    assert fences(commands) == ["beta"]
    assert [a for a in actions(commands) if a[1] == "ip_b"] == []
    commands = node.fence_done("beta")
    assert "node_fenced" in alerts(commands)
    assert actions(commands)[0] == ("status", "ip_b", "ip_b")
    node.run_actions(commands)
    assert node.state.groups["ip_b"].phase is GroupPhase.RUNNING


def test_a_failed_fence_is_retried_every_five_seconds_and_nothing_starts_meanwhile() -> None:
    node = booted_pair(make_config(is_fencing_configured=True))
    node.advance_to(DEADTIME_MS + 10)
    commands = node.fence_done("beta", is_success=False)
    assert "fence_failed" in alerts(commands)
    failed_at = node.now_ms
    commands = node.advance_to(failed_at + FENCE_RETRY_INTERVAL_MS - 1)
    assert fences(commands) == [] and actions(commands) == []
    commands = node.advance_to(failed_at + FENCE_RETRY_INTERVAL_MS)
    assert fences(commands) == ["beta"]
    commands = node.fence_done("beta", is_success=False)
    commands = node.advance_to(node.now_ms + FENCE_RETRY_INTERVAL_MS)
    assert fences(commands) == ["beta"]
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED


def test_without_fencing_take_over_at_once_and_warn_shared_data_is_unprotected() -> None:
    node = booted_pair(make_config(is_fencing_configured=False))
    commands = node.advance_to(DEADTIME_MS + 10)
    assert fences(commands) == []
    assert "shared_data_unprotected" in alerts(commands)
    assert ("status", "ip_b", "ip_b") in actions(commands)


def test_no_fencing_when_the_dead_peer_held_nothing_and_every_group_is_held() -> None:
    node = booted_pair(make_config(is_fencing_configured=True), peer_running=())
    # alpha took ip_b too? No: beta is its preferred node and a live candidate.
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    node.hear("beta", payload(version=2, declined=["ip_b"]))  # beta on standby
    node.run_actions(node.commands)
    assert node.state.groups["ip_b"].phase is GroupPhase.RUNNING
    node.commands.clear()
    commands = node.advance_to(node.now_ms + DEADTIME_MS + 10)
    assert node.state.peers["beta"].status is PeerStatus.DEAD
    assert fences(commands) == []
    assert "shared_data_unprotected" not in alerts(commands)


def test_a_peer_never_heard_at_boot_is_fenced_before_its_groups_start() -> None:
    node = Node()
    node.start(make_config(is_fencing_configured=True))
    commands = node.advance_to(INITDEAD_MS)
    # alpha's own group needs beta fenced too: beta might hold anything.
    assert fences(commands) == ["beta"]
    assert actions(commands) == []
    commands = node.fence_done("beta")
    commands = [*commands, *node.run_actions(commands)]
    started = {group for verb, group, _ in actions(commands) if verb == "start"}
    assert started == {"ip_a", "ip_b"}


def test_a_peer_returning_before_the_fence_completes_cancels_the_takeover() -> None:
    node = booted_pair(make_config(is_fencing_configured=True))
    node.advance_to(DEADTIME_MS + 10)
    node.hear("beta", payload(version=3, running=["ip_b"]))
    commands = node.fence_done("beta")
    assert actions(commands) == []
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED


def test_a_restarted_peer_that_holds_nothing_lets_the_group_be_placed_again() -> None:
    node = booted_pair(make_config(is_fencing_configured=True))
    node.hear(
        "beta",
        payload(
            version=1,
            phase=NodePhase.BOOTING,
        ),
        generation=2,
    )
    # beta restarted and is booting: it is still beta's group's candidate; nobody starts it.
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    assert fences(node.commands) == []
