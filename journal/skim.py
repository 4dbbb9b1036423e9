"""A framing-only pass over a segment: CRCs, and where the journal's own records are.

Opening a journal must find the last seal of the last segment (up to 64 MiB) quickly.
Hashing the whole chain there is `verify_journal`'s job; on open it is enough to check
every frame's CRC (to find the first torn or damaged frame) and to locate the journal's
own records (seals, key epochs, peer seals), which are few. Their kind is read from the
body's first bytes without decoding it: a body is the msgpack array
`[seq, kind, ...]`, so after the array marker comes seq (1, 2, 3, 5 or 9 bytes), then
kind, which is a single byte below 100 exactly when it is a journal kind.
"""

from __future__ import annotations

import dataclasses
import zlib

from journal import kinds
from journal.framing import BODY_BYTES_MAX, FRAME_HEADER, FRAME_HEADER_BYTES

# msgpack integer markers -> encoded width in bytes (a positive fixint is one byte)
_INTEGER_WIDTH = {0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9, 0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class JournalFrame:
    offset: int
    end: int
    previous_offset: int | None  # the frame before it, for the times a seal leaves out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SkimResult:
    journal_frames: list[JournalFrame]
    problem_offset: int | None  # first frame with bad framing or CRC; None: clean to the end
    problem: str


def skim_frames(data: bytes, *, start_offset: int, end_offset: int) -> SkimResult:
    unpack_header = FRAME_HEADER.unpack_from
    crc32 = zlib.crc32
    view = memoryview(data)
    first_engine_kind = kinds.FIRST_ENGINE_KIND
    found: list[JournalFrame] = []
    offset = start_offset
    previous: int | None = None
    while offset < end_offset:
        if end_offset - offset < FRAME_HEADER_BYTES:
            return SkimResult(journal_frames=found, problem_offset=offset,
                              problem="truncated frame header")
        length, crc = unpack_header(view, offset)
        body_start = offset + FRAME_HEADER_BYTES
        body_end = body_start + length
        if length == 0 or length > BODY_BYTES_MAX or body_end > end_offset:
            return SkimResult(journal_frames=found, problem_offset=offset,
                              problem="zero-length frame" if length == 0
                              else f"bad frame length {length}")
        if crc32(view[body_start:body_end]) != crc:
            return SkimResult(journal_frames=found, problem_offset=offset, problem="bad CRC")
        # Too short to peek into: hand it to the decoder, which will say what is wrong.
        kind_at = body_start + 1 + (_INTEGER_WIDTH.get(data[body_start + 1], 1)
                                    if length > 1 else 0)
        if kind_at >= body_end or data[kind_at] < first_engine_kind:
            found.append(JournalFrame(offset=offset, end=body_end, previous_offset=previous))
        previous = offset
        offset = body_end
    return SkimResult(journal_frames=found, problem_offset=None, problem="")
