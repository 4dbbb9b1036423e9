"""Peers' seals: journal them as they advance, and catch equivocation.

Heartbeats carry each node's latest seal; journaling a peer's seal entangles the two
histories, so a node that later rewrites its journal contradicts what its peers hold.
Two seals from one node for the same seq with different heads are proof of that
rewrite (when both signatures check out): the journal raises an alarm record and hands
the evidence back to the caller, which decides what to log and whom to tell.
"""

from __future__ import annotations

import dataclasses
import enum

from journal import kinds
from journal.seal import Seal

REMEMBERED_SEALS_PER_PEER_MAX = 1024


class PeerSealVerdict(enum.Enum):
    RECORDED = "recorded"  # it advanced: a PEER_SEAL record was appended
    ALREADY_KNOWN = "already known"  # same seq and head as one we hold, or older
    BAD_SIGNATURE = "bad signature"  # rejected, nothing appended
    EQUIVOCATION = "equivocation"  # an EQUIVOCATION_ALARM record was appended


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Equivocation:
    """Two seals by `node` for one `seq` with different heads."""

    node: str
    seq: int
    known: Seal
    conflicting: Seal
    is_proven: bool  # both signatures were checked against the peer's key

    def describe(self) -> str:
        proof = "proven" if self.is_proven else "signatures not checked"
        return (f"node {self.node} equivocated at seq {self.seq}: head "
                f"{self.known.head.hex()[:16]} vs {self.conflicting.head.hex()[:16]} ({proof})")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PeerSealOutcome:
    verdict: PeerSealVerdict
    seal: Seal
    equivocation: Equivocation | None = None

    @classmethod
    def bad_signature(cls, seal: Seal) -> PeerSealOutcome:
        return cls(verdict=PeerSealVerdict.BAD_SIGNATURE, seal=seal)

    def record_to_append(self) -> tuple[int, list[object]] | None:
        match self.verdict:
            case PeerSealVerdict.RECORDED:
                return kinds.PEER_SEAL, self.seal.to_list()
            case PeerSealVerdict.EQUIVOCATION:
                evidence = self.equivocation
                assert evidence is not None
                return kinds.EQUIVOCATION_ALARM, [evidence.known.to_list(),
                                                  evidence.conflicting.to_list(),
                                                  evidence.is_proven]
            case PeerSealVerdict.ALREADY_KNOWN | PeerSealVerdict.BAD_SIGNATURE:
                return None


class PeerSealBook:
    """The recent seals journaled for each peer (bounded memory)."""

    def __init__(self, journaled: list[Seal]) -> None:
        self._by_peer: dict[str, dict[int, tuple[Seal, bool]]] = {}
        self._latest_seq: dict[str, int] = {}
        for seal in journaled:
            self._remember(seal, is_signature_checked=False)

    def consider(self, seal: Seal, *, is_signature_checked: bool,
                 public_key: bytes | None = None) -> PeerSealOutcome:
        known_entry = self._by_peer.get(seal.node, {}).get(seal.seq)
        if known_entry is not None:
            known, was_checked = known_entry
            if known.head == seal.head:
                return PeerSealOutcome(verdict=PeerSealVerdict.ALREADY_KNOWN, seal=seal)
            if not was_checked and public_key is not None and known.epoch == seal.epoch:
                was_checked = known.is_signed_by(public_key)
            evidence = Equivocation(node=seal.node, seq=seal.seq, known=known, conflicting=seal,
                                    is_proven=was_checked and is_signature_checked)
            return PeerSealOutcome(verdict=PeerSealVerdict.EQUIVOCATION, seal=seal,
                                   equivocation=evidence)
        if seal.seq <= self._latest_seq.get(seal.node, -1):
            return PeerSealOutcome(verdict=PeerSealVerdict.ALREADY_KNOWN, seal=seal)
        self._remember(seal, is_signature_checked=is_signature_checked)
        return PeerSealOutcome(verdict=PeerSealVerdict.RECORDED, seal=seal)

    def _remember(self, seal: Seal, *, is_signature_checked: bool) -> None:
        remembered = self._by_peer.setdefault(seal.node, {})
        remembered[seal.seq] = (seal, is_signature_checked)
        if len(remembered) > REMEMBERED_SEALS_PER_PEER_MAX:
            del remembered[next(iter(remembered))]  # dicts keep insertion (= seq) order
        self._latest_seq[seal.node] = max(seal.seq, self._latest_seq.get(seal.node, -1))
