"""Catch a journal that was truncated or rewritten after a peer journaled its seal.

A journal that verifies on its own can still have been cut off cleanly at an older seal, or
rebuilt from some point with a fresh chain: nothing inside it shows that. Its peers hold
the proof: each PEER_SEAL record in a peer's journal says "this node's record s had head
h", signed by the node. If the node's journal now ends before s, it was truncated; if its
record s has another head, it was rewritten. The finding names both records, and says
whether the seal's signature checks under the node's own key (then the node cannot deny
having once held the other history). Alarms raised live (EQUIVOCATION_ALARM records) are
reported too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hactl.postmortem.sources import NodeJournal
from journal import Record, Seal
from journal import kinds as journal_kinds


@dataclass(frozen=True, slots=True, kw_only=True)
class EquivocationFinding:
    node: str  # whose history changed
    witness: str  # whose journal holds the seal
    witness_seq: int  # the witness's PEER_SEAL (or EQUIVOCATION_ALARM) record
    sealed_seq: int
    sealed_head: bytes
    journal_head: bytes | None  # the node's head at that seq now; None when it ends before
    journal_last_seq: int | None
    is_signature_valid: bool | None  # None: no key for that epoch in the node's journal
    how: str  # "truncated", "rewritten", "alarm raised live"

    def describe(self) -> str:
        signed = {True: "the seal's signature checks under {n}'s key",
                  False: "the seal's signature does NOT check under the key in {n}'s journal",
                  None: "no key to check the seal's signature"}[self.is_signature_valid]
        signed = signed.format(n=self.node)
        proof = (f"{self.witness}'s record {self.witness_seq} holds {self.node}'s seal for seq "
                 f"{self.sealed_seq} (head {self.sealed_head.hex()[:16]})")
        match self.how:
            case "truncated":
                now = f"but {self.node}'s journal ends at seq {self.journal_last_seq}"
            case "rewritten":
                head = (self.journal_head or b"").hex()[:16]
                now = f"but {self.node}'s record {self.sealed_seq} now has head {head}"
            case _:
                now = "and a conflicting seal for the same seq (alarm raised live)"
        return f"EQUIVOCATION: {self.node}'s journal was {self.how}: {proof}, {now}; {signed}"


def find_equivocations(journals: Mapping[str, NodeJournal]) -> list[EquivocationFinding]:
    findings = []
    for witness, journal in journals.items():
        for record in journal.records:
            if record.kind == journal_kinds.PEER_SEAL:
                finding = _check_seal(journals, witness, record)
                if finding is not None:
                    findings.append(finding)
            elif record.kind == journal_kinds.EQUIVOCATION_ALARM:
                finding = _alarm(journals, witness, record)
                if finding is not None:
                    findings.append(finding)
    return _first_per_pair(findings)


def _check_seal(journals: Mapping[str, NodeJournal], witness: str,
                record: Record) -> EquivocationFinding | None:
    try:
        seal = Seal.from_list(record.payload)
    except (ValueError, AssertionError):
        return None
    node = journals.get(seal.node)
    if node is None or seal.node == witness:
        return None
    heads = _heads(node)
    last_seq = node.records[-1].seq if node.records else None
    first_seq = node.records[0].seq if node.records else 0
    if seal.seq < first_seq:
        return None  # pruned: nothing left to compare
    head = heads.get(seal.seq)
    if head == seal.head:
        return None
    how = "truncated" if head is None else "rewritten"
    return EquivocationFinding(node=seal.node, witness=witness, witness_seq=record.seq,
                               sealed_seq=seal.seq, sealed_head=seal.head, journal_head=head,
                               journal_last_seq=last_seq,
                               is_signature_valid=_signature_valid(node, seal), how=how)


def _alarm(journals: Mapping[str, NodeJournal], witness: str,
           record: Record) -> EquivocationFinding | None:
    payload = record.payload
    if not isinstance(payload, list) or len(payload) < 2:
        return None
    try:
        conflicting = Seal.from_list(payload[1])
    except (ValueError, AssertionError):
        return None
    node = journals.get(conflicting.node)
    return EquivocationFinding(
        node=conflicting.node, witness=witness, witness_seq=record.seq,
        sealed_seq=conflicting.seq, sealed_head=conflicting.head, journal_head=None,
        journal_last_seq=node.records[-1].seq if node and node.records else None,
        is_signature_valid=_signature_valid(node, conflicting) if node else None,
        how="alarm raised live")  # fmt: skip


def _heads(journal: NodeJournal) -> dict[int, bytes]:
    return {record.seq: record.head for record in journal.records}


def _epoch_keys(journal: NodeJournal) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    for record in journal.records:
        payload = record.payload
        if record.kind == journal_kinds.JOURNAL_CREATED and isinstance(payload, list):
            if isinstance(payload[2], bytes):
                keys[0] = payload[2]
        elif record.kind == journal_kinds.KEY_EPOCH and isinstance(payload, list) \
                and isinstance(payload[2], int) and isinstance(payload[3], bytes):
            keys[payload[2]] = payload[3]
    if journal.verify.genesis_public_key is not None:
        keys.setdefault(0, journal.verify.genesis_public_key)
    return keys


def _signature_valid(journal: NodeJournal, seal: Seal) -> bool | None:
    key = _epoch_keys(journal).get(seal.epoch)
    return None if key is None else seal.is_signed_by(key)


def _first_per_pair(findings: list[EquivocationFinding]) -> list[EquivocationFinding]:
    """One finding per (node, witness, how): the earliest seal is the sharpest proof."""
    first: dict[tuple[str, str, str], EquivocationFinding] = {}
    for finding in findings:
        key = (finding.node, finding.witness, finding.how)
        if key not in first or finding.sealed_seq < first[key].sealed_seq:
            first[key] = finding
    return list(first.values())
