"""Read records back, in order, for replay, `show`, `tail` and `export`.

Reading checks framing, sequence and chain continuity (cheap) but not signatures (that is
`verify_journal`'s job). A torn end of the last segment is where reading stops, as if
the journal ended there (open would cut it); damage anywhere else raises
JournalCorruptError naming the place.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import msgpack

from journal.errors import JournalCorruptError
from journal.framing import FRAME_HEADER_BYTES, decode_segment_header, frame_problem
from journal.segments import list_segments


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One journal record as stored; `head` is the chain head after it."""

    seq: int
    kind: int
    monotonic_ns: int
    wall_ns: int
    payload: object
    head: bytes


def read_records(directory: Path, *, since_seq: int = 0) -> Iterator[Record]:
    """Every readable record with seq >= `since_seq`, oldest first."""
    segments = _segments_holding(list_segments(directory), since_seq)
    expected_head: bytes | None = None
    expected_seq: int | None = None
    for position, (_index, path) in enumerate(segments):
        is_last = position == len(segments) - 1
        data = path.read_bytes()
        header, problem = decode_segment_header(data, len(data))
        if header is None:
            if is_last:
                return
            raise JournalCorruptError(segment=path.name, offset=0, seq=expected_seq,
                                      problem=problem or "bad header")
        if expected_head is not None and (header.previous_head != expected_head
                                          or header.first_seq != expected_seq):
            raise JournalCorruptError(segment=path.name, offset=0, seq=header.first_seq,
                                      problem="segment does not continue the previous one")
        head = header.previous_head
        seq = header.first_seq
        for record in _segment_records(data, path.name, header.header_bytes, seq, head, is_last):
            head, seq = record.head, record.seq + 1
            if record.seq >= since_seq:
                yield record
        expected_head, expected_seq = head, seq


def read_segment_records(data: bytes, name: str, *, offset: int, seq: int, head: bytes
                         ) -> Iterator[Record]:
    """The records of one segment's bytes from `offset`, where the record `seq` starts and
    the chain head before it is `head` (an index resuming part-way through a segment).
    Reading stops at the end of `data`; damage raises JournalCorruptError."""
    return _segment_records(data, name, offset, seq, head, False)


def _segment_records(data: bytes, name: str, offset: int, seq: int, head: bytes,
                     is_last: bool) -> Iterator[Record]:
    end = len(data)
    view = memoryview(data)
    while offset < end:
        length, problem = frame_problem(view, offset, end)
        if problem is not None:
            if is_last:
                return  # a torn tail: the journal ends at the last whole frame
            raise JournalCorruptError(segment=name, offset=offset, seq=seq, problem=problem)
        body = view[offset + FRAME_HEADER_BYTES : offset + FRAME_HEADER_BYTES + length]
        try:
            fields = msgpack.unpackb(body, raw=False)
        except Exception:  # a good CRC over bytes that are not a record: damage, not a tear
            fields = None
        if not (isinstance(fields, list) and len(fields) == 5 and fields[0] == seq):
            raise JournalCorruptError(segment=name, offset=offset, seq=seq,
                                      problem="record out of sequence or malformed")
        hasher = hashlib.sha256(head)
        hasher.update(body)
        head = hasher.digest()
        yield Record(seq=seq, kind=fields[1], monotonic_ns=fields[2], wall_ns=fields[3],
                     payload=fields[4], head=head)
        seq += 1
        offset += FRAME_HEADER_BYTES + length


def _segments_holding(segments: list[tuple[int, Path]], since_seq: int
                      ) -> list[tuple[int, Path]]:
    """Skip whole segments that end before `since_seq` (reading only their successor's
    header), so `tail -f` and replays from a snapshot do not reread the whole journal."""
    if since_seq <= 0:
        return segments
    first_kept = 0
    for position in range(1, len(segments)):
        first_seq = _first_seq(segments[position][1])
        if first_seq is None or first_seq > since_seq:
            break
        first_kept = position
    return segments[first_kept:]


def _first_seq(path: Path) -> int | None:
    with open(path, "rb") as file:
        start = file.read(4096)
    header, _problem = decode_segment_header(start, len(start))
    return None if header is None else header.first_seq


def journal_node(directory: Path) -> str | None:
    """The node that wrote the journal in `directory`, from its oldest segment's header."""
    segments = list_segments(directory)
    if not segments:
        return None
    with open(segments[0][1], "rb") as file:
        start = file.read(4096)
    header, _problem = decode_segment_header(start, len(start))
    return None if header is None else header.node
