"""Records written are records read back: across commits, reopen, segments and threads."""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import zlib
from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal import (
    Journal,
    JournalClosedError,
    JournalCorruptError,
    Seal,
    kinds,
    read_records,
    verify_journal,
)
from journal.testing import WALL_BASE_NS, engine_records, frames, segment_paths, write_journal

payloads = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20)
    | st.binary(max_size=40) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
streams = st.lists(
    st.tuples(st.integers(100, 10_000), payloads, st.booleans()), min_size=1, max_size=60
)


@settings(max_examples=40)
@given(stream=streams, segment_bytes_max=st.sampled_from([600, 4096, 1 << 26]))
def test_random_streams_read_back_identical_after_reopen(
    stream: list[tuple[int, object, bool]], segment_bytes_max: int
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "journal"
        expected = []
        with Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                          segment_bytes_max=segment_bytes_max) as journal:
            for index, (kind, payload, is_commit_point) in enumerate(stream):
                seq = journal.append(kind, payload, monotonic_ns=index, wall_ns=WALL_BASE_NS)
                expected.append((seq, kind, payload))
                if is_commit_point:
                    journal.commit()
        Journal.open(directory, node="alpha", sync=False).close()
        assert engine_records(directory) == expected
        assert verify_journal(directory).is_ok


def test_commit_returns_a_seal_over_the_last_record_and_reopen_keeps_it(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=True, monotonic_ns=0, wall_ns=0) as journal:
        seq = journal.append(100, ["beta", "eth0", 1], monotonic_ns=1, wall_ns=2)
        seal = journal.commit()
        assert seal.seq == seq and seal.node == "alpha"
        assert seal.head == journal.latest_seal().head
        assert seal.is_signed_by(journal.genesis_public_key)
    with Journal.open(directory, node="alpha", sync=True) as reopened:
        assert reopened.latest_seal() == seal
        assert reopened.recovery is None
        assert reopened.next_seq == seq + 2  # the record, then its seal record


def test_seal_encodes_in_about_120_bytes_and_round_trips(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal", node="node-alpha", sync=False) as journal:
        journal.append(100, [1], monotonic_ns=1, wall_ns=1)
        seal = journal.commit()
    encoded = seal.to_bytes()
    assert len(encoded) <= 130
    assert Seal.from_bytes(encoded) == seal
    with pytest.raises(ValueError, match="wrong shape"):
        Seal.from_bytes(msgpack.packb(["alpha", 1, b"short", 0, b"x"]))
    with pytest.raises(ValueError, match="does not decode"):
        Seal.from_bytes(encoded + b"trailing")


def test_records_span_segments_and_are_read_back_in_order(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    written = write_journal(directory, records=500, segment_bytes_max=4096)
    assert len(segment_paths(directory)) > 3
    assert engine_records(directory) == written
    report = verify_journal(directory)
    assert report.is_ok, report.problems
    assert report.segments == len(segment_paths(directory))


def test_journal_kinds_are_reserved_for_the_journal(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal", node="alpha", sync=False) as journal, \
            pytest.raises(ValueError, match="belong to the journal"):
        journal.append(kinds.SEAL, [], monotonic_ns=0, wall_ns=0)


def test_an_unserializable_payload_is_refused_and_the_journal_stays_usable(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=False) as journal:
        with pytest.raises(TypeError):
            journal.append(100, [object()], monotonic_ns=0, wall_ns=0)
        seq = journal.append(100, ["ok"], monotonic_ns=0, wall_ns=0)
    assert engine_records(directory) == [(seq, 100, ["ok"])]
    assert verify_journal(directory).is_ok


def test_a_record_too_large_for_the_format_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=False) as journal:
        with pytest.raises(ValueError, match="exceeds"):
            journal.append(100, [b"x" * (16 * 1024 * 1024)], monotonic_ns=0, wall_ns=0)
        journal.append(100, ["small"], monotonic_ns=0, wall_ns=0)
    assert verify_journal(directory).is_ok


def test_close_commits_what_was_appended_and_refuses_further_use(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=False)
    seq = journal.append(100, ["last words"], monotonic_ns=0, wall_ns=0)
    journal.close()
    journal.close()
    with pytest.raises(JournalClosedError):
        journal.append(100, [], monotonic_ns=0, wall_ns=0)
    assert engine_records(directory) == [(seq, 100, ["last words"])]


def test_a_journal_of_another_node_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    Journal.open(directory, node="alpha", sync=False).close()
    with pytest.raises(Exception, match="belongs to node 'alpha'"):
        Journal.open(directory, node="beta", sync=False)


def test_appends_racing_a_commit_in_another_thread_are_all_kept_in_order(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=True, segment_bytes_max=16384)
    is_done = threading.Event()

    def committer() -> None:
        while not is_done.is_set():
            journal.commit()

    thread = threading.Thread(target=committer)
    thread.start()
    try:
        seqs = [journal.append(100, [index], monotonic_ns=index, wall_ns=0)
                for index in range(3000)]
    finally:
        is_done.set()
        thread.join()
    journal.close()
    assert [(seq, [index]) for index, seq in enumerate(seqs)] == [
        (seq, payload) for seq, _kind, payload in engine_records(directory)
    ]
    assert verify_journal(directory).is_ok


def test_files_and_key_have_restrictive_modes(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    Journal.open(directory, node="alpha", sync=True).close()
    key_files = list((directory / "keys").glob("epoch-*.key"))
    assert len(key_files) == 1
    assert os.stat(key_files[0]).st_mode & 0o777 == 0o600
    assert os.stat(directory / "keys").st_mode & 0o777 == 0o700


def test_read_records_since_seq_skips_older_records(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=50)
    all_records = list(read_records(directory))
    later = list(read_records(directory, since_seq=20))
    assert later == [r for r in all_records if r.seq >= 20]


def test_reading_past_damage_in_an_earlier_segment_raises_naming_the_place(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=200, segment_bytes_max=3000)
    segment = segment_paths(directory)[1]
    data = segment.read_bytes()
    victim = frames(data)[5]
    garbage = b"\xc1" * len(victim.body)  # 0xc1 is never valid msgpack
    forged = struct.pack("<II", len(garbage), zlib.crc32(garbage)) + garbage
    segment.write_bytes(data[: victim.offset] + forged + data[victim.end :])
    with pytest.raises(JournalCorruptError) as raised:
        list(read_records(directory))
    assert (raised.value.segment, raised.value.offset) == (segment.name, victim.offset)
