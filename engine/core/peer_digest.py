"""The peers' earliest timers, computed once per peers mapping (as group_digest.py does).

Every step asks whether any peer's warntime, deadtime, link deadtime, initdead or fence
retry is due, and `next_deadline` asks when the first will be. Scanning every peer and
link for that on each of the hundreds of heartbeats a second a large cluster receives
cost more than the rest of the step. A heartbeat changes one peer, so `PeerTable` keeps
the answer with the mapping and `with_peer` derives it for the next mapping (how, and
when the peers are scanned again, is told at `PeerTimers`).
A plain dict (a test, a decoded snapshot) is scanned afresh each time it is asked.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping
from typing import NamedTuple

from engine.core.state import LinkStatus, PeerState, PeerStatus

_SCAN_LIMIT = 4  # with this few peers, scanning them when asked beats deriving the times
_CANDIDATE_COUNT = 8  # membership deadlines kept per scan (see PeerTimers)


class PeerTimers(NamedTuple):
    """The peers' earliest timers, as derived so far.

    Heartbeats arrive round-robin, so the peer whose deadline is earliest is usually the
    next one heard, and keeping only the minimum would mean a scan per heartbeat. So a scan
    keeps the `_CANDIDATE_COUNT` earliest membership deadlines (`candidates`, ascending)
    and `threshold_ms`, the earliest deadline it left out (None: it left none out). Every
    peer outside the candidates is due no earlier than the threshold, so the first
    candidate is the earliest of all; a changed peer leaves the candidates, and joins them
    if it is now due before the threshold. Once the candidates run out, scan again.
    A tuple, not a frozen dataclass: it is built on every heartbeat, and cheaply so.
    """

    warntime_ms: int  # the timings the times below were computed with
    deadtime_ms: int
    candidates: tuple[tuple[int, str], ...]  # (due_ms, peer name), ascending
    threshold_ms: int | None
    fence_retry_due_ms: int | None

    @property
    def membership_due_ms(self) -> int | None:
        """The earliest warntime, deadtime or initdead of a peer (None: none waits)."""
        return self.candidates[0][0] if self.candidates else None


class PeerTable(dict[str, PeerState]):
    """A peers mapping that keeps its timers; never changed after it is built.

    Build one with `frozen_peers` or `with_peer` (they set `_timers`; dict's own
    constructor is kept, as a Python `__init__` would cost more than the scan it saves).
    """

    __slots__ = ("_timers",)
    _timers: PeerTimers | None


def peer_timers(
    peers: Mapping[str, PeerState], *, warntime_ms: int, deadtime_ms: int
) -> PeerTimers:
    if type(peers) is not PeerTable:
        return _timers_of(peers, warntime_ms, deadtime_ms)
    kept = peers._timers
    if kept is None or kept.warntime_ms != warntime_ms or kept.deadtime_ms != deadtime_ms:
        kept = peers._timers = _timers_of(peers, warntime_ms, deadtime_ms)
    return kept


def frozen_peers(peers: Mapping[str, PeerState]) -> PeerTable:
    if type(peers) is PeerTable:
        return peers
    table = PeerTable(peers)
    table._timers = None
    return table


def with_peer(
    peers: Mapping[str, PeerState], peer: PeerState, *, warntime_ms: int, deadtime_ms: int
) -> PeerTable:
    """`peers` with `peer` in place of the peer of the same name, timers derived."""
    previous = peers.get(peer.name)
    base = peer_timers(peers, warntime_ms=warntime_ms, deadtime_ms=deadtime_ms)
    table = PeerTable(peers)
    table[peer.name] = peer
    table._timers = None  # scanned when asked
    if previous is None or len(table) <= _SCAN_LIMIT:
        return table
    name = peer.name
    candidates = [entry for entry in base.candidates if entry[1] != name]
    due_ms = membership_due_ms_of(peer, warntime_ms, deadtime_ms)
    threshold_ms = base.threshold_ms
    if due_ms is not None and (threshold_ms is None or due_ms < threshold_ms):
        insort(candidates, (due_ms, name))
        if len(candidates) > _CANDIDATE_COUNT:
            # Left alone, every heartbeat would add its peer back and the candidates grow
            # to all peers; the one dropped is due first among those left out.
            threshold_ms = candidates.pop()[0]
    if not candidates and threshold_ms is not None:
        return table  # the candidates ran out
    fence_due_ms = _derived_minimum(
        base.fence_retry_due_ms, previous.fence_retry_ms, peer.fence_retry_ms
    )
    if isinstance(fence_due_ms, _Rescan):
        return table
    table._timers = PeerTimers(
        warntime_ms, deadtime_ms, tuple(candidates), threshold_ms, fence_due_ms
    )
    return table


def membership_due_ms_of(peer: PeerState, warntime_ms: int, deadtime_ms: int) -> int | None:
    """When `expire_peers` must next look at this peer (None: it waits for nothing)."""
    if peer.status is PeerStatus.UP:
        assert peer.last_heard_ms is not None
        due_ms = peer.last_heard_ms + (deadtime_ms if peer.is_late_warned else warntime_ms)
        due_ms = min(due_ms, peer.last_heard_ms + deadtime_ms)
        for link in peer.links.values():
            if link.status is LinkStatus.UP and link.last_heard_ms + deadtime_ms < due_ms:
                due_ms = link.last_heard_ms + deadtime_ms
        return due_ms
    if peer.status is PeerStatus.INIT:
        assert peer.init_deadline_ms is not None
        return peer.init_deadline_ms
    return None


class _Rescan:
    pass


_RESCAN = _Rescan()  # the peer that set the minimum changed: scan again when asked


def _derived_minimum(
    base_ms: int | None, previous_ms: int | None, current_ms: int | None
) -> int | _Rescan | None:
    if previous_ms == current_ms:
        return base_ms
    if previous_ms is not None and previous_ms == base_ms:
        return _RESCAN
    if current_ms is not None and (base_ms is None or current_ms < base_ms):
        return current_ms
    return base_ms


def _timers_of(peers: Mapping[str, PeerState], warntime_ms: int, deadtime_ms: int) -> PeerTimers:
    dues: list[tuple[int, str]] = []
    fence_ms: int | None = None
    for name, peer in peers.items():
        due_ms = membership_due_ms_of(peer, warntime_ms, deadtime_ms)
        if due_ms is not None:
            dues.append((due_ms, name))
        retry_ms = peer.fence_retry_ms
        if retry_ms is not None and (fence_ms is None or retry_ms < fence_ms):
            fence_ms = retry_ms
    dues.sort()
    threshold_ms = dues[_CANDIDATE_COUNT][0] if len(dues) > _CANDIDATE_COUNT else None
    return PeerTimers(
        warntime_ms, deadtime_ms, tuple(dues[:_CANDIDATE_COUNT]), threshold_ms, fence_ms
    )
