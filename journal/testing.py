"""Helpers for tests and tamper drills: write journals, take segment files apart by hand.

Like `trio.testing`, this ships with the package so every test tree (journal, CLI,
simulator) can use it. The frame parser is deliberately independent of
`journal.framing` (a few lines of struct), so tamper tests cut and splice real bytes
without trusting the code under test.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from journal.reader import read_records
from journal.writer import Journal

HEARTBEAT_KIND = 100
ACTION_KIND = 101
SEGMENT_MAGIC_BYTES = 8
WALL_BASE_NS = 1_764_000_000_000_000_000  # late 2025


@dataclass(frozen=True)
class Frame:
    offset: int  # of the length field
    end: int
    body: bytes


def segment_paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("segment-*.journal"))


def frames(data: bytes) -> list[Frame]:
    """Every frame after the magic, the header frame first."""
    found: list[Frame] = []
    offset = SEGMENT_MAGIC_BYTES
    while offset + 8 <= len(data):
        length, _crc = struct.unpack_from("<II", data, offset)
        end = offset + 8 + length
        if length == 0 or end > len(data):
            break
        found.append(Frame(offset=offset, end=end, body=data[offset + 8 : end]))
        offset = end
    return found


def write_journal(
    directory: Path,
    *,
    node: str = "alpha",
    records: int = 200,
    records_per_commit: int = 10,
    segment_bytes_max: int = 64 * 1024 * 1024,
    epoch_interval_ns: int = 3600 * 10**9,
    monotonic_step_ns: int = 100_000_000,
) -> list[tuple[int, int, list[object]]]:
    """Write heartbeat-like records in group commits; return (seq, kind, payload) written."""
    written: list[tuple[int, int, list[object]]] = []
    with Journal.open(directory, node=node, sync=False, monotonic_ns=0, wall_ns=WALL_BASE_NS,
                      segment_bytes_max=segment_bytes_max,
                      epoch_interval_ns=epoch_interval_ns) as journal:
        for index in range(records):
            payload: list[object] = ["beta", "eth0", index]
            kind = ACTION_KIND if index % 7 == 0 else HEARTBEAT_KIND
            seq = journal.append(kind, payload, monotonic_ns=(index + 1) * monotonic_step_ns,
                                 wall_ns=WALL_BASE_NS + (index + 1) * monotonic_step_ns)
            written.append((seq, kind, payload))
            if (index + 1) % records_per_commit == 0:
                journal.commit()
    return written


def engine_records(directory: Path) -> list[tuple[int, int, object]]:
    return [(r.seq, r.kind, r.payload) for r in read_records(directory) if r.kind >= 100]
