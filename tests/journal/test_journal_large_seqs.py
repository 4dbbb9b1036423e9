"""Past seq 65535 the verifier takes its fast path (engine records are not decoded):
the same tampering must still be found at the same place, and the summary stay right."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import msgpack
import pytest

from journal import read_records, verify_journal
from journal.testing import Frame, frames, segment_paths, write_journal

RECORDS = 66_000


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("large") / "journal"
    write_journal(directory, records=RECORDS, records_per_commit=100)
    return directory


def _late_frames(directory: Path) -> tuple[Path, bytes, list[Frame]]:
    segment = segment_paths(directory)[-1]
    data = segment.read_bytes()
    late = [f for f in frames(data)[1:] if msgpack.unpackb(f.body)[0] > 65_600
            and msgpack.unpackb(f.body)[1] >= 100]
    return segment, data, late


def test_a_large_journal_verifies_with_the_right_summary(large: Path) -> None:
    report = verify_journal(large)
    assert report.is_ok, [p.describe() for p in report.problems]
    records = list(read_records(large))
    assert report.records == len(records)
    walls = [r.wall_ns for r in records if r.kind != 2]
    assert (report.first_wall_ns, report.last_wall_ns) == (walls[0], walls[-1])


@pytest.mark.parametrize("tamper", ["delete", "swap", "flip", "rewrite"])
def test_tampering_past_seq_65535_is_found_at_its_place(large: Path, tmp_path: Path,
                                                        tamper: str) -> None:
    directory = tmp_path / "journal"
    shutil.copytree(large, directory)
    segment, data, late = _late_frames(directory)
    first, second = late[10], late[11]
    if tamper == "delete":
        changed = data[: first.offset] + data[first.end :]
    elif tamper == "swap":
        changed = data[: first.offset] + data[second.offset : second.end] + \
            data[first.offset : first.end] + data[second.end :]
    elif tamper == "flip":
        changed = data[: first.offset + 20] + bytes([data[first.offset + 20] ^ 4]) + \
            data[first.offset + 21 :]
    else:  # a new payload with a matching CRC: only the chain and the next seal can tell
        fields = msgpack.unpackb(first.body)
        fields[4] = ["beta", "eth0", "forged"]
        body = msgpack.packb(fields)
        changed = data[: first.offset] + struct.pack("<II", len(body), zlib.crc32(body)) + \
            body + data[first.end :]
    segment.write_bytes(changed)
    report = verify_journal(directory)
    assert not report.is_ok
    problem = report.problems[0]
    assert problem.segment == segment.name
    if tamper == "rewrite":
        assert problem.offset > first.offset and "does not match the chain" in problem.problem
    else:
        assert problem.offset == first.offset
        assert ("bad CRC" if tamper == "flip" else "sequence break") in problem.problem
