"""Witnessing peers' journals: record each peer's seal as it advances, alarm on equivocation.

Every heartbeat carries its sender's latest journal seal. Recording it in our own journal
entangles the two histories: a node that later rewrites its journal contradicts a seal we
hold, and two different heads for one seq are an equivocation, which is logged as an
alarm (the journal appends the evidence record itself). A seal that does not parse is
only counted: it rode in a packet that was already authenticated, so it is a peer bug.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from journal import Journal, PeerSealVerdict, Seal

logger = logging.getLogger("hactl.daemon")


@dataclass(slots=True, kw_only=True)
class PeerSealKeeper:
    journal: Journal
    unreadable_count: int = 0
    equivocation_count: int = 0
    latest_seq_by_peer: dict[str, int] = field(default_factory=dict)
    latest_bytes_by_peer: dict[str, bytes] = field(default_factory=dict)  # as last journaled

    def consider(self, sender: str, seal_bytes: bytes, now_ms: int) -> None:
        if seal_bytes == self.latest_bytes_by_peer.get(sender):
            return  # the seal of the peer's previous heartbeat: peers commit about once a second
        try:
            seal = Seal.from_bytes(seal_bytes)
        except Exception:  # any parse failure of peer data is counted, never raised
            self.unreadable_count += 1
            return
        if seal.node != sender or seal.seq <= self.latest_seq_by_peer.get(sender, -1):
            return
        self.latest_seq_by_peer[sender] = seal.seq
        self.latest_bytes_by_peer[sender] = seal_bytes
        outcome = self.journal.record_peer_seal(
            seal, monotonic_ns=now_ms * 1_000_000, wall_ns=time.time_ns()
        )
        if outcome.verdict is PeerSealVerdict.EQUIVOCATION and outcome.equivocation:
            self.equivocation_count += 1
            logger.critical("JOURNAL EQUIVOCATION: %s", outcome.equivocation.describe())
