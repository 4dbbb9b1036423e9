"""Peers' seals: journaled when they advance; conflicting seals raise an equivocation alarm."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from journal import Journal, PeerSealVerdict, Seal, kinds, read_records
from journal.seal import public_key_bytes, sign_seal

PEER_KEY = Ed25519PrivateKey.generate()


def _peer_seal(seq: int, head_byte: int, *, key: Ed25519PrivateKey = PEER_KEY) -> Seal:
    return sign_seal(key, node="beta", seq=seq, head=bytes([head_byte]) * 32, epoch=0)


def test_a_peer_seal_is_journaled_only_when_it_advances(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    public_key = public_key_bytes(PEER_KEY)
    with Journal.open(directory, node="alpha", sync=False) as journal:
        verdicts = [
            journal.record_peer_seal(seal, monotonic_ns=0, wall_ns=0, public_key=public_key).verdict
            for seal in (_peer_seal(5, 1), _peer_seal(5, 1), _peer_seal(3, 9), _peer_seal(8, 2))
        ]
    assert verdicts == [PeerSealVerdict.RECORDED, PeerSealVerdict.ALREADY_KNOWN,
                        PeerSealVerdict.ALREADY_KNOWN, PeerSealVerdict.RECORDED]
    journaled = [r.payload for r in read_records(directory) if r.kind == kinds.PEER_SEAL]
    assert journaled == [_peer_seal(5, 1).to_list(), _peer_seal(8, 2).to_list()]


def test_two_valid_seals_for_one_seq_are_an_equivocation_alarm(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    public_key = public_key_bytes(PEER_KEY)
    with Journal.open(directory, node="alpha", sync=False) as journal:
        journal.record_peer_seal(_peer_seal(5, 1), monotonic_ns=0, wall_ns=0,
                                 public_key=public_key)
    # The memory of journaled seals survives a restart: it is rebuilt from the journal.
    with Journal.open(directory, node="alpha", sync=False) as journal:
        outcome = journal.record_peer_seal(_peer_seal(5, 2), monotonic_ns=0, wall_ns=0,
                                           public_key=public_key)
    assert outcome.verdict is PeerSealVerdict.EQUIVOCATION
    evidence = outcome.equivocation
    assert evidence is not None and evidence.is_proven
    assert evidence.known.head != evidence.conflicting.head
    assert "beta equivocated at seq 5" in evidence.describe()
    alarms = [r.payload for r in read_records(directory) if r.kind == kinds.EQUIVOCATION_ALARM]
    assert alarms == [[_peer_seal(5, 1).to_list(), _peer_seal(5, 2).to_list(), True]]


def test_a_seal_with_a_bad_signature_is_rejected_and_not_journaled(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    impostor = Ed25519PrivateKey.generate()
    with Journal.open(directory, node="alpha", sync=False) as journal:
        outcome = journal.record_peer_seal(_peer_seal(5, 1, key=impostor), monotonic_ns=0,
                                           wall_ns=0, public_key=public_key_bytes(PEER_KEY))
    assert outcome.verdict is PeerSealVerdict.BAD_SIGNATURE
    assert not [r for r in read_records(directory) if r.kind == kinds.PEER_SEAL]


def test_without_a_key_a_conflict_is_still_raised_but_not_proven(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal", node="alpha", sync=False) as journal:
        journal.record_peer_seal(_peer_seal(5, 1), monotonic_ns=0, wall_ns=0)
        outcome = journal.record_peer_seal(_peer_seal(5, 2), monotonic_ns=0, wall_ns=0)
    assert outcome.verdict is PeerSealVerdict.EQUIVOCATION
    assert outcome.equivocation is not None and not outcome.equivocation.is_proven


def test_a_node_does_not_record_its_own_seal_as_a_peers(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal", node="alpha", sync=False) as journal, \
            pytest.raises(ValueError, match="other nodes"):
        journal.record_peer_seal(journal.latest_seal(), monotonic_ns=0, wall_ns=0)
