"""The peers' timers: derived peer by peer (`with_peer`) they equal a fresh scan."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.core.peer_digest import frozen_peers, peer_timers, with_peer
from engine.core.state import LinkState, LinkStatus, PeerState, PeerStatus

NAMES = tuple(f"node{index}" for index in range(12))  # more than _CANDIDATE_COUNT
WARNTIME_MS, DEADTIME_MS = 5, 10
times = st.integers(min_value=0, max_value=40)


@st.composite
def peers(draw: st.DrawFn) -> PeerState:
    status = draw(st.sampled_from(list(PeerStatus)))
    links = {
        link: LinkState(status=draw(st.sampled_from(list(LinkStatus))), last_heard_ms=draw(times))
        for link in ("eth0", "eth1")
    }
    return PeerState(
        name=draw(st.sampled_from(NAMES)),
        status=status,
        last_heard_ms=draw(times),
        is_late_warned=draw(st.booleans()),
        links=links,
        init_deadline_ms=draw(times) if status is PeerStatus.INIT else None,
        fence_retry_ms=draw(st.none() | times),
    )


@given(st.lists(peers(), max_size=60))
def test_derived_timers_equal_a_fresh_scan(changes: list[PeerState]) -> None:
    table = frozen_peers({name: PeerState(name=name, status=PeerStatus.DEAD) for name in NAMES})
    for peer in changes:
        table = with_peer(table, peer, warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
        derived = peer_timers(table, warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
        fresh = peer_timers(dict(table), warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
        assert derived.membership_due_ms == fresh.membership_due_ms
        assert derived.fence_retry_due_ms == fresh.fence_retry_due_ms


def test_a_late_warned_peer_is_next_due_at_deadtime() -> None:
    peer = PeerState(name="beta", status=PeerStatus.UP, last_heard_ms=100, is_late_warned=True)
    timers = peer_timers({"beta": peer}, warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
    assert timers.membership_due_ms == 100 + DEADTIME_MS


def test_when_every_kept_deadline_moved_on_the_peers_are_scanned_again() -> None:
    def heard(name: str, at_ms: int) -> PeerState:
        return PeerState(name=name, status=PeerStatus.UP, last_heard_ms=at_ms)

    table = frozen_peers({name: heard(name, index) for index, name in enumerate(NAMES)})
    for name in NAMES[:-1]:  # round-robin: the earliest peer is heard next, every time
        table = with_peer(table, heard(name, 100), warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
    timers = peer_timers(table, warntime_ms=WARNTIME_MS, deadtime_ms=DEADTIME_MS)
    assert timers.membership_due_ms == len(NAMES) - 1 + WARNTIME_MS  # the one not heard again
