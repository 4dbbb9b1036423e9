"""Crash recovery: a torn tail is cut and journaled; a seal beyond damage is corruption.

The crash model: a record is acknowledged when `commit()` returns, and only bytes of the
commit in flight can be lost or mangled (the kernel had not flushed them). So a crash
leaves the acknowledged bytes intact, followed by any prefix of the in-flight bytes,
possibly followed by zeros (blocks allocated, data never written) or garbage.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal import (
    Journal,
    JournalCorruptError,
    JournalKeyError,
    kinds,
    read_records,
    verify_journal,
)
from journal.testing import (
    WALL_BASE_NS,
    engine_records,
    frames,
    segment_paths,
    write_journal,
)

batches = st.lists(st.lists(st.integers(0, 2**40), min_size=1, max_size=8), min_size=1,
                   max_size=8)


def _write_batches(journal: Journal, batches: list[list[int]], first_index: int = 0
                   ) -> list[tuple[int, int, object]]:
    written: list[tuple[int, int, object]] = []
    for batch in batches:
        for value in batch:
            payload = ["beta", "eth1", value]
            seq = journal.append(100, payload, monotonic_ns=first_index, wall_ns=WALL_BASE_NS)
            written.append((seq, 100, payload))
        journal.commit()
    return written


@settings(max_examples=80)
@given(
    acknowledged_batches=batches,
    in_flight_batch=st.lists(st.integers(0, 2**40), min_size=1, max_size=20),
    damage=st.sampled_from(["drop", "zeros", "garbage"]),
    kept_fraction=st.floats(0, 1),
    garbage=st.binary(min_size=1, max_size=300),
)
def test_a_crash_in_any_commit_loses_nothing_acknowledged(
    acknowledged_batches: list[list[int]],
    in_flight_batch: list[int],
    damage: str,
    kept_fraction: float,
    garbage: bytes,
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "journal"
        journal = Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0)
        acknowledged = _write_batches(journal, acknowledged_batches)
        segment = segment_paths(directory)[-1]
        acknowledged_size = segment.stat().st_size
        in_flight = _write_batches(journal, [in_flight_batch])
        journal.close()
        written = segment.read_bytes()
        unsynced = written[acknowledged_size:]
        kept = int(len(unsynced) * kept_fraction)
        crashed = written[: acknowledged_size + kept]
        if damage == "zeros":
            crashed += bytes(len(unsynced) - kept)
        elif damage == "garbage":
            crashed += garbage
        segment.write_bytes(crashed)

        reopened = Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0)
        after = reopened.append(100, ["after"], monotonic_ns=1, wall_ns=WALL_BASE_NS)
        reopened.close()

        survivors = engine_records(directory)
        assert survivors[: len(acknowledged)] == acknowledged
        assert survivors[len(acknowledged):] in (
            [(after, 100, ["after"])], [*in_flight, (after, 100, ["after"])])
        report = verify_journal(directory)
        assert report.is_ok, [p.describe() for p in report.problems]
        is_anything_dropped = len(crashed) > acknowledged_size and crashed != written
        assert (reopened.recovery is not None) == is_anything_dropped


@settings(max_examples=40)
@given(cut_fraction=st.floats(0, 1))
def test_truncating_the_last_segment_anywhere_still_opens(cut_fraction: float) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "journal"
        written = write_journal(directory, records=120, segment_bytes_max=2048)
        segment = segment_paths(directory)[-1]
        data = segment.read_bytes()
        first_commit_end = frames(data)[2].end  # a durable rotation cannot be undone
        cut = first_commit_end + int((len(data) - first_commit_end) * cut_fraction)
        segment.write_bytes(data[:cut])
        Journal.open(directory, node="alpha", sync=False).close()
        survivors = engine_records(directory)
        assert survivors == written[: len(survivors)]
        assert verify_journal(directory).is_ok


def test_the_recovered_record_says_how_many_bytes_were_dropped_and_their_hash(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=30)
    segment = segment_paths(directory)[-1]
    torn_tail = b"\x40\x00\x00\x00\x12\x34\x56\x78partial frame"
    segment.write_bytes(segment.read_bytes() + torn_tail)
    with Journal.open(directory, node="alpha", sync=True) as journal:
        assert journal.recovery is not None
        assert journal.recovery.bytes_dropped == len(torn_tail)
    recovered = [r for r in read_records(directory) if r.kind == kinds.JOURNAL_RECOVERED]
    assert len(recovered) == 1
    payload = recovered[0].payload
    assert isinstance(payload, list)
    assert payload[0] == len(torn_tail)
    assert payload[1] == hashlib.sha256(torn_tail).digest()
    assert payload[2] == segment.name


def _snapshot_files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_valid_seal_after_a_bad_frame_is_corruption_and_nothing_changes(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=60, records_per_commit=10)
    segment = segment_paths(directory)[-1]
    data = bytearray(segment.read_bytes())
    record_frames = frames(bytes(data))[1:]
    damaged = record_frames[-8]  # inside the last acknowledged commit, before its seal
    data[damaged.offset + 10] ^= 0xFF
    segment.write_bytes(bytes(data))
    before = _snapshot_files(directory)
    with pytest.raises(JournalCorruptError) as raised:
        Journal.open(directory, node="alpha", sync=True)
    error = raised.value
    assert error.segment == segment.name
    assert error.offset == damaged.offset
    assert "valid seal" in error.problem
    assert _snapshot_files(directory) == before


def test_a_frame_with_a_good_crc_but_wrong_content_is_corruption(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=20)
    segment = segment_paths(directory)[-1]
    data = segment.read_bytes()
    last_frames = frames(data)[1:]
    # Repeat an old, valid frame at the end: good CRC, wrong seq; no torn write does that.
    segment.write_bytes(data + data[last_frames[3].offset : last_frames[3].end])
    with pytest.raises(JournalCorruptError, match="sequence break"):
        Journal.open(directory, node="alpha", sync=False)


def test_an_interrupted_segment_rotation_is_rolled_back(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                           segment_bytes_max=3000)
    acknowledged: list[tuple[int, int, object]] = []
    keys_before_rotation: dict[Path, bytes] = {}
    while len(segment_paths(directory)) < 2:
        keys_before_rotation = {p: p.read_bytes() for p in (directory / "keys").glob("*.key")}
        payload = ["beta", "eth0", len(acknowledged)]
        seq = journal.append(100, payload, monotonic_ns=1, wall_ns=WALL_BASE_NS)
        journal.commit()
        acknowledged.append((seq, 100, payload))
    journal.close()
    newest = segment_paths(directory)[-1]
    data = newest.read_bytes()
    rotation_seal = frames(data)[2]  # after the header and the key-epoch announcement
    # Power cut before the rotation was durable: its seal is torn and the old key, which
    # is only erased after that seal is on disk, is still there.
    newest.write_bytes(data[: rotation_seal.end - 5])
    for path, key in keys_before_rotation.items():
        path.write_bytes(key)
    # Times in the records' own clock: the default (this host's uptime) could make an
    # epoch due, and the recovery commit would then rotate the key.
    with Journal.open(directory, node="alpha", sync=False, monotonic_ns=1,
                      wall_ns=WALL_BASE_NS) as reopened:
        assert reopened.recovery is not None
        assert newest.name in reopened.recovery.reason
        assert reopened.epoch == 0
    assert engine_records(directory) == acknowledged
    assert verify_journal(directory).is_ok
    keys = sorted(p.name for p in (directory / "keys").glob("epoch-*.key"))
    assert len(keys) == 1


def test_losing_a_durable_rotation_is_a_key_error_and_changes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=100, segment_bytes_max=3000)
    newest = segment_paths(directory)[-1]
    newest.write_bytes(newest.read_bytes()[:20])  # not a crash: synced data destroyed
    before = _snapshot_files(directory)
    with pytest.raises(JournalKeyError, match="missing"):
        Journal.open(directory, node="alpha", sync=False)
    assert _snapshot_files(directory) == before


def test_a_journal_whose_creation_never_completed_is_created_again(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    Journal.open(directory, node="alpha", sync=False).close()
    segment = segment_paths(directory)[0]
    segment.write_bytes(segment.read_bytes()[:30])
    with Journal.open(directory, node="alpha", sync=False) as journal:
        assert journal.recovery is not None
        journal.append(100, ["fresh"], monotonic_ns=0, wall_ns=0)
    assert engine_records(directory)[-1][2] == ["fresh"]
    assert verify_journal(directory).is_ok


def test_a_last_seal_with_a_good_crc_but_a_bad_signature_is_corruption(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=20)
    segment = segment_paths(directory)[-1]
    data = segment.read_bytes()
    last_seal = frames(data)[-1]
    body = bytearray(last_seal.body)
    body[-1] ^= 0x01  # the signature's last byte, with the CRC recomputed to match
    forged = struct.pack("<II", len(body), zlib.crc32(body)) + bytes(body)
    segment.write_bytes(data[: last_seal.offset] + forged)
    with pytest.raises(JournalCorruptError, match="signature is bad") as raised:
        Journal.open(directory, node="alpha", sync=False)
    assert raised.value.offset == last_seal.offset
    assert segment.read_bytes() == data[: last_seal.offset] + forged
