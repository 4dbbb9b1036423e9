"""Membership: boot and initdead, heartbeats, warntime, deadtime, links, generations."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from engine.core import next_deadline
from engine.core.commands import LogMessage, SendHeartbeat
from engine.core.constants import STATUS_HOLD_MS
from engine.core.events import TimeAdvanced
from engine.core.messages import NodePhase
from engine.core.state import LinkStatus, PeerStatus
from tests.engine.core.core_helpers import (
    DEADTIME_MS,
    INITDEAD_MS,
    KEEPALIVE_MS,
    WARNTIME_MS,
    Node,
    alerts,
    booted_pair,
    heartbeats,
    make_config,
    payload,
)


def warnings(commands: object) -> list[str]:
    return [c.message for c in commands if isinstance(c, LogMessage) and c.level.value == "warning"]  # type: ignore[attr-defined]


def test_boot_announces_itself_at_once_and_waits_for_its_peer() -> None:
    node = Node()
    node.start(make_config())
    assert len(heartbeats(node.commands)) == 1  # at once; the probes ended at the same instant
    node.advance_to(STATUS_HOLD_MS)  # so their results go out STATUS_HOLD_MS later
    sent = heartbeats(node.commands)
    assert {p.phase for p in sent} == {NodePhase.BOOTING}
    assert sent[0].probing_groups == ("ip_a", "ip_b")  # start-up probes come first
    assert sent[-1].probing_groups == ()
    assert node.state.phase is NodePhase.BOOTING
    assert node.state.peers["beta"].status is PeerStatus.INIT
    assert next_deadline(node.state) == STATUS_HOLD_MS + KEEPALIVE_MS


def test_boot_completes_as_soon_as_every_peer_was_heard() -> None:
    node = Node()
    node.start(make_config())
    node.hear("beta", payload(), now_ms=300)
    assert node.state.phase is NodePhase.ACTIVE
    assert node.state.peers["beta"].status is PeerStatus.UP


def test_heartbeats_go_out_every_keepalive() -> None:
    node = booted_pair()
    sent = heartbeats(node.advance_to(3 * KEEPALIVE_MS + 500))
    assert len(sent) == 3
    assert all(p.running_groups == ("ip_a",) for p in sent)


def test_a_keepalive_due_soon_goes_out_with_the_peers_and_restarts_the_period() -> None:
    node = booted_pair()
    due_ms = node.state.next_heartbeat_ms
    steady = payload(running=["ip_b"])
    # Heard more than half a period before ours is due: nothing goes out yet.
    assert heartbeats(node.hear("beta", steady, now_ms=due_ms - KEEPALIVE_MS // 2 - 1)) == []
    # Within half a period: ours goes out with it, and the period restarts from there, so
    # the two nodes send in step and the daemons wake less often.
    heard_ms = due_ms - KEEPALIVE_MS // 2
    assert len(heartbeats(node.hear("beta", steady, now_ms=heard_ms))) == 1
    assert node.state.next_heartbeat_ms == heard_ms + KEEPALIVE_MS
    assert heartbeats(node.advance_to(due_ms + 1)) == []  # not again at the old time


@given(st.lists(st.integers(min_value=1, max_value=2 * KEEPALIVE_MS), min_size=1, max_size=30))
def test_keepalives_are_never_late_and_never_closer_than_half_a_period(
    heard_gaps_ms: list[int],
) -> None:
    node = booted_pair()
    steady = payload(running=["ip_b"])
    sent_at_ms = [node.now_ms]
    heard_ms = node.now_ms
    for gap_ms in heard_gaps_ms:  # the peer's heartbeats, at any phase against ours
        heard_ms += gap_ms
        while (deadline_ms := next_deadline(node.state)) is not None and deadline_ms < heard_ms:
            commands = node.feed(TimeAdvanced(now_ms=deadline_ms))
            if any(isinstance(command, SendHeartbeat) for command in commands):
                sent_at_ms.append(deadline_ms)
        if heartbeats(node.hear("beta", steady, now_ms=heard_ms)):
            sent_at_ms.append(heard_ms)
    intervals = [later - earlier for earlier, later in itertools.pairwise(sent_at_ms)]
    assert all(KEEPALIVE_MS // 2 <= gap <= KEEPALIVE_MS for gap in intervals), intervals


def test_unheard_peer_is_declared_dead_at_initdead_not_deadtime() -> None:
    node = Node()
    node.start(make_config())
    node.advance_to(DEADTIME_MS + 1)
    assert node.state.peers["beta"].status is PeerStatus.INIT
    commands = node.advance_to(INITDEAD_MS)
    assert node.state.peers["beta"].status is PeerStatus.DEAD
    assert node.state.phase is NodePhase.ACTIVE
    assert "node_dead" in alerts(commands)


def test_late_heartbeat_is_warned_once_per_silence() -> None:
    node = booted_pair()
    commands = node.advance_to(WARNTIME_MS + 2_000)
    assert len([w for w in warnings(commands) if "late heartbeat" in w]) == 1
    node.hear("beta", payload(running=["ip_b"]))
    commands = node.advance_to(node.now_ms + WARNTIME_MS + 100)
    assert len([w for w in warnings(commands) if "late heartbeat" in w]) == 1


def test_silence_for_deadtime_declares_the_peer_dead() -> None:
    node = booted_pair()
    node.advance_to(DEADTIME_MS - 1)
    assert node.state.peers["beta"].status is PeerStatus.UP
    commands = node.advance_to(DEADTIME_MS + 10)
    assert node.state.peers["beta"].status is PeerStatus.DEAD
    assert "node_dead" in alerts(commands)


def test_a_silent_link_is_a_dead_link_not_a_dead_node() -> None:
    node = Node()
    node.start(make_config())
    node.hear("beta", payload(), link="bcast eth0")
    node.hear("beta", payload(), link="bcast eth1")
    for second in range(1, 16):
        node.advance_to(second * KEEPALIVE_MS)
        node.hear("beta", payload(), link="bcast eth0")
    peer = node.state.peers["beta"]
    assert peer.status is PeerStatus.UP
    assert peer.links["bcast eth0"].status is LinkStatus.UP
    assert peer.links["bcast eth1"].status is LinkStatus.DEAD
    assert "link bcast eth1 to beta is dead" in warnings(node.commands)
    node.hear("beta", payload(), link="bcast eth1")
    assert node.state.peers["beta"].links["bcast eth1"].status is LinkStatus.UP


def test_copies_heard_together_on_two_links_count_for_both() -> None:
    """One event naming both links (as the simulator sends) equals one event per link."""
    apart, together = Node(), Node()
    for node in (apart, together):
        node.start(make_config())
    apart.hear("beta", payload(), link="bcast eth0")
    apart.hear("beta", payload(), link="bcast eth1")
    together.hear("beta", payload(), link="bcast eth0", also_links=("bcast eth1",))
    for second in range(1, 16):
        for node in (apart, together):
            node.advance_to(second * KEEPALIVE_MS)
        if second < 3:  # then eth1 falls silent
            apart.hear("beta", payload(), link="bcast eth0")
            apart.hear("beta", payload(), link="bcast eth1")
            together.hear("beta", payload(), link="bcast eth0", also_links=("bcast eth1",))
        else:
            for node in (apart, together):
                node.hear("beta", payload(), link="bcast eth0")
        assert apart.state.peers["beta"].links == together.state.peers["beta"].links
    assert together.state.peers["beta"].links["bcast eth1"].status is LinkStatus.DEAD
    commands = together.hear("beta", payload(), link="bcast eth0", also_links=("bcast eth1",))
    assert together.state.peers["beta"].links["bcast eth1"].status is LinkStatus.UP
    assert any("link bcast eth1 to beta is up again" in c.message for c in commands
               if isinstance(c, LogMessage))  # fmt: skip


def test_a_higher_generation_means_the_peer_restarted() -> None:
    node = booted_pair()
    commands = node.hear("beta", payload(version=1), generation=2)
    assert alerts(commands) == ["peer_restarted"]
    peer = node.state.peers["beta"]
    assert peer.generation == 2
    assert peer.payload is not None and peer.payload.running_groups == ()


def test_an_older_generation_is_ignored_and_counted() -> None:
    node = booted_pair()
    node.hear("beta", payload(version=5), generation=3)
    before = node.state.peers["beta"]
    node.hear("beta", payload(version=9, running=["ip_a"]), generation=2)
    assert node.state.peers["beta"].payload == before.payload
    assert node.state.ignored_event_count == 1


def test_unknown_sender_is_ignored_and_counted() -> None:
    node = booted_pair()
    node.hear("mallory", payload())
    assert "mallory" not in node.state.peers
    assert node.state.ignored_event_count == 1


def test_heard_again_in_the_same_generation_is_returning_after_partition() -> None:
    node = booted_pair()
    node.advance_to(DEADTIME_MS + 10)
    commands = node.hear("beta", payload(version=7))
    assert alerts(commands) == ["returning_after_partition"]
    assert node.state.peers["beta"].status is PeerStatus.UP


def test_an_older_status_arriving_late_does_not_replace_a_newer_one() -> None:
    node = booted_pair()
    node.hear("beta", payload(version=5, running=[]))
    node.hear("beta", payload(version=4, running=["ip_b"]))
    peer = node.state.peers["beta"]
    assert peer.payload is not None and peer.payload.status_version == 5
    assert peer.payload.running_groups == ()
