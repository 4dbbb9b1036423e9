"""Tampering is evident: every edit makes `verify_journal` fail and name the place.

Each test damages real segment files the way an intruder or a bad copy would (the frame
parser in `journal.testing` is independent of the code under test) and checks the
problem's segment, byte offset and seq, not just that verification failed.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from journal import Journal, PeerSealVerdict, VerifyProblem, kinds, verify_journal
from journal.entanglement import peer_held_seals
from journal.seal import seal_from_payload, seal_payload, sign_seal
from journal.testing import SEGMENT_MAGIC_BYTES, Frame, frames, segment_paths, write_journal

SEGMENT_BYTES_MAX = 3000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pristine") / "journal"
    write_journal(directory, records=150, records_per_commit=5,
                  segment_bytes_max=SEGMENT_BYTES_MAX)
    assert len(segment_paths(directory)) >= 4
    assert verify_journal(directory).is_ok
    return directory


def _copy(pristine: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "journal"
    shutil.copytree(pristine, directory)
    return directory


def _only_problem(directory: Path, public_key: bytes | None = None) -> VerifyProblem:
    report = verify_journal(directory, public_key=public_key)
    assert not report.is_ok, "tampering went unnoticed"
    assert len(report.problems) == 1
    return report.problems[0]


def _record_frames(path: Path) -> list[Frame]:
    return frames(path.read_bytes())[1:]


def _seq_of(frame: Frame) -> int:
    seq: int = msgpack.unpackb(frame.body)[0]
    return seq


@settings(max_examples=80)
@given(position_fraction=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7),
       segment_choice=st.integers(0, 100))
def test_flipping_any_bit_anywhere_is_found_in_that_segment_at_or_before_it(
    pristine: Path, position_fraction: float, bit: int, segment_choice: int
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = _copy(pristine, Path(temporary))
        segments = segment_paths(directory)
        segment = segments[segment_choice % len(segments)]
        data = bytearray(segment.read_bytes())
        position = int(len(data) * position_fraction)
        data[position] ^= 1 << bit
        segment.write_bytes(bytes(data))
        problem = _only_problem(directory)
        assert problem.segment == segment.name
        assert 0 <= problem.offset <= position


def test_deleting_a_record_is_a_sequence_break_at_its_offset(pristine: Path,
                                                             tmp_path: Path) -> None:
    directory = _copy(pristine, tmp_path)
    segment = segment_paths(directory)[1]
    data = segment.read_bytes()
    victim = _record_frames(segment)[4]
    segment.write_bytes(data[: victim.offset] + data[victim.end :])
    problem = _only_problem(directory)
    assert (problem.segment, problem.offset) == (segment.name, victim.offset)
    assert problem.seq == _seq_of(victim)
    assert "sequence break" in problem.problem


def test_reordering_two_records_is_a_sequence_break(pristine: Path, tmp_path: Path) -> None:
    directory = _copy(pristine, tmp_path)
    segment = segment_paths(directory)[2]
    data = segment.read_bytes()
    first, second = _record_frames(segment)[3:5]
    swapped = data[: first.offset] + data[second.offset : second.end] + \
        data[first.offset : first.end] + data[second.end :]
    segment.write_bytes(swapped)
    problem = _only_problem(directory)
    assert (problem.segment, problem.offset) == (segment.name, first.offset)
    assert "sequence break" in problem.problem


def test_a_segment_spliced_from_another_nodes_journal_is_named(pristine: Path,
                                                               tmp_path: Path) -> None:
    directory = _copy(pristine, tmp_path)
    other = tmp_path / "beta"
    write_journal(other, node="beta", records=150, records_per_commit=5,
                  segment_bytes_max=SEGMENT_BYTES_MAX)
    victim = segment_paths(directory)[1]
    shutil.copyfile(segment_paths(other)[1], victim)
    problem = _only_problem(directory)
    assert (problem.segment, problem.offset) == (victim.name, 0)
    assert "another journal" in problem.problem


def test_a_segment_replaced_by_one_from_another_journal_of_the_same_node_breaks_the_chain(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    twin = tmp_path / "twin"
    write_journal(twin, node="alpha", records=150, records_per_commit=5,
                  segment_bytes_max=SEGMENT_BYTES_MAX)
    victim = segment_paths(directory)[2]
    shutil.copyfile(segment_paths(twin)[2], victim)
    problem = _only_problem(directory)
    assert (problem.segment, problem.offset) == (victim.name, 0)
    assert "broken chain" in problem.problem


def test_a_removed_middle_segment_is_reported_missing(pristine: Path, tmp_path: Path) -> None:
    directory = _copy(pristine, tmp_path)
    segments = segment_paths(directory)
    segments[1].unlink()
    problem = _only_problem(directory)
    assert problem.segment == segments[2].name
    assert "missing segment 1" in problem.problem


def test_a_removed_first_segment_without_a_prune_manifest_is_reported(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    segment_paths(directory)[0].unlink()
    problem = _only_problem(directory)
    assert "missing segment" in problem.problem and "prune manifest" in problem.problem


def test_a_middle_segment_cut_back_to_a_record_boundary_is_truncation_behind_a_seal(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    segment = segment_paths(directory)[1]
    *kept, last_seal = _record_frames(segment)
    segment.write_bytes(segment.read_bytes()[: last_seal.offset])
    previous_seal = [f for f in kept if msgpack.unpackb(f.body)[1] == kinds.SEAL][-1]
    problem = _only_problem(directory)
    # The records the removed seal covered are now unsealed: reported from the seal before.
    assert (problem.segment, problem.offset) == (segment.name, previous_seal.end)
    assert "truncation behind a seal" in problem.problem


def test_records_appended_after_the_last_seal_are_reported(pristine: Path,
                                                           tmp_path: Path) -> None:
    directory = _copy(pristine, tmp_path)
    segment = segment_paths(directory)[-1]
    data = segment.read_bytes()
    last_frame = _record_frames(segment)[-1]
    body = msgpack.packb([_seq_of(last_frame) + 1, 100, 0, 0, ["forged"]])
    segment.write_bytes(data + struct.pack("<II", len(body), zlib.crc32(body)) + body)
    problem = _only_problem(directory)
    assert (problem.segment, problem.offset) == (segment.name, len(data))
    assert "unsealed" in problem.problem


def test_a_wrong_trusted_genesis_key_is_reported(pristine: Path) -> None:
    other_key = bytes(range(32))
    problem = _only_problem(pristine, public_key=other_key)
    assert problem.segment == segment_paths(pristine)[0].name
    assert "genesis public key" in problem.problem


def _forge(directory: Path, *, key: Ed25519PrivateKey, change_seq: int,
           claimed_epoch: Callable[[int], int]) -> None:
    """Rewrite history the way an intruder holding `key` would: change one record, then
    recompute every CRC, head and header, and re-sign every seal from there on."""
    head = bytes(32)
    for path in segment_paths(directory):
        data = path.read_bytes()
        all_frames = frames(data)
        header = msgpack.unpackb(all_frames[0].body)
        header[4] = head
        out = [data[:SEGMENT_MAGIC_BYTES], _frame(msgpack.packb(header))]
        for frame in all_frames[1:]:
            seq, kind, monotonic_ns, wall_ns, payload = msgpack.unpackb(frame.body)
            if seq == change_seq:
                payload = ["beta", "eth0", "forged"]
            if kind == kinds.SEAL and seq > change_seq:
                original = seal_from_payload(payload, "alpha")
                assert original is not None
                payload = seal_payload(sign_seal(key, node="alpha", seq=seq - 1, head=head,
                                                 epoch=claimed_epoch(original.epoch)))
            body = msgpack.packb([seq, kind, monotonic_ns, wall_ns, payload])
            out.append(_frame(body))
            head = hashlib.sha256(head + body).digest()
        path.write_bytes(b"".join(out))


def _frame(body: bytes) -> bytes:
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def _current_key(directory: Path) -> tuple[int, Ed25519PrivateKey]:
    (path,) = (directory / "keys").glob("epoch-*.key")
    return int(path.name[6:14]), Ed25519PrivateKey.from_private_bytes(path.read_bytes())


def test_resigning_old_history_with_a_later_epochs_key_fails_the_signature(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    _epoch, stolen_key = _current_key(directory)
    victim = _record_frames(segment_paths(directory)[0])[10]
    _forge(directory, key=stolen_key, change_seq=_seq_of(victim), claimed_epoch=lambda e: e)
    problem = _only_problem(directory)
    assert problem.segment == segment_paths(directory)[0].name
    assert "bad signature" in problem.problem and "epoch 0" in problem.problem


def test_resigning_old_history_claiming_the_later_epoch_is_a_bad_key_rotation(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    stolen_epoch, stolen_key = _current_key(directory)
    victim = _record_frames(segment_paths(directory)[0])[10]
    _forge(directory, key=stolen_key, change_seq=_seq_of(victim),
           claimed_epoch=lambda _e: stolen_epoch)
    problem = _only_problem(directory)
    assert problem.segment == segment_paths(directory)[0].name
    assert "bad key rotation" in problem.problem


def test_a_rewrite_inside_the_current_epoch_is_caught_by_the_seal_a_peer_holds(
    tmp_path: Path,
) -> None:
    """The limit of forward security: the current key can re-sign the current epoch.
    What catches that is entanglement: a peer journaled the honest seal."""
    directory = tmp_path / "journal"
    write_journal(directory, records=40)
    with Journal.open(tmp_path / "peer", node="beta", sync=False) as peer, \
            Journal.open(directory, node="alpha", sync=False) as alpha:
        honest_seal = alpha.latest_seal()
        genesis_key = alpha.genesis_public_key
        outcome = peer.record_peer_seal(honest_seal, monotonic_ns=0, wall_ns=0,
                                        public_key=genesis_key)
        assert outcome.verdict is PeerSealVerdict.RECORDED
        _epoch, current_key = _current_key(directory)
        victim = _record_frames(segment_paths(directory)[0])[-10]
        alpha.close()
        _forge(directory, key=current_key, change_seq=_seq_of(victim), claimed_epoch=lambda e: e)
        assert verify_journal(directory).is_ok  # locally undetectable, by construction
        forged = Journal.open(directory, node="alpha", sync=False)
        forged_seal = forged.latest_seal()
        forged.close()
        assert forged_seal.seq == honest_seal.seq and forged_seal.head != honest_seal.head
        outcome = peer.record_peer_seal(forged_seal, monotonic_ns=1, wall_ns=1,
                                        public_key=genesis_key)
        assert outcome.verdict is PeerSealVerdict.EQUIVOCATION
        assert outcome.equivocation is not None and outcome.equivocation.is_proven
    # And verifying against the seals the peer holds names the rewrite.
    report = verify_journal(directory, held_seals=peer_held_seals(tmp_path / "peer",
                                                                  node="alpha"))
    assert not report.is_ok
    assert "rewritten" in report.problems[0].problem
    assert report.problems[0].seq == honest_seal.seq


def test_a_journal_cut_back_to_an_earlier_seal_is_caught_by_a_held_seal(
    pristine: Path, tmp_path: Path
) -> None:
    directory = _copy(pristine, tmp_path)
    with Journal.open(directory, node="alpha", sync=False) as journal:
        held = journal.latest_seal()
    segment = segment_paths(directory)[-1]
    seal_frames = [f for f in _record_frames(segment) if msgpack.unpackb(f.body)[1] == kinds.SEAL]
    segment.write_bytes(segment.read_bytes()[: seal_frames[-3].end])  # a clean cut at a seal
    assert verify_journal(directory).is_ok  # undetectable locally, by construction
    report = verify_journal(directory, held_seals=[held])
    assert not report.is_ok
    problem = report.problems[0]
    assert problem.segment == segment.name and problem.seq == held.seq
    assert "truncated" in problem.problem


def test_a_held_seal_that_does_not_verify_is_ignored_with_a_warning(pristine: Path) -> None:
    with Journal.open(pristine.parent / "other", node="alpha", sync=False) as other:
        foreign = other.latest_seal()  # same node name, another key: not this journal's
    report = verify_journal(pristine, held_seals=[foreign])
    assert report.is_ok
    assert "does not verify" in report.warnings[0]
