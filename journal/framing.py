"""Byte layout of segment files: the header and the `u32 length | u32 crc32 | body` frame.

Everything here is pure and works on `bytes`/`mmap` without copying, so the writer,
the recovery scan, the reader and the verifier share one definition of the format.
The CRC only finds torn writes; integrity comes from the hash chain (`chain_head`),
computed over the exact stored body bytes so a verifier never re-encodes anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mmap
import struct
import zlib

import msgpack

FORMAT_VERSION = 1
SEGMENT_MAGIC = b"HACTLJ\x01\n"
FRAME_HEADER = struct.Struct("<II")  # body length, crc32 of the body
FRAME_HEADER_BYTES = FRAME_HEADER.size
BODY_BYTES_MAX = 16 * 1024 * 1024  # a larger length field can only be damage
HEAD_BYTES = 32
GENESIS_PREVIOUS_HEAD = bytes(HEAD_BYTES)

# What the scanners accept: file contents read whole or mapped.
Buffer = bytes | bytearray | memoryview | mmap.mmap


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SegmentHeader:
    """What opens every segment: who wrote it and where its chain continues from."""

    node: str
    segment_index: int
    first_seq: int
    previous_head: bytes
    header_bytes: int  # magic + header frame, i.e. where the first record starts


def encode_frame(body: bytes) -> bytes:
    return FRAME_HEADER.pack(len(body), zlib.crc32(body)) + body


def chain_head(previous_head: bytes, body: Buffer) -> bytes:
    """head_i = SHA-256(head_{i-1} || body_i)."""
    hasher = hashlib.sha256(previous_head)
    hasher.update(body)
    return hasher.digest()


def encode_segment_header(
    *, node: str, segment_index: int, first_seq: int, previous_head: bytes
) -> bytes:
    assert len(previous_head) == HEAD_BYTES
    body = msgpack.packb(
        [FORMAT_VERSION, node, segment_index, first_seq, previous_head], use_bin_type=True
    )
    return SEGMENT_MAGIC + encode_frame(body)


def frame_problem(buffer: Buffer, offset: int, end: int) -> tuple[int, str | None]:
    """Check the frame at `offset`: (body length, None) or (0, what is wrong)."""
    view = memoryview(buffer)
    if end - offset < FRAME_HEADER_BYTES:
        return 0, f"truncated frame header ({end - offset} bytes left)"
    length, crc = FRAME_HEADER.unpack_from(view, offset)
    if length == 0:
        return 0, "zero-length frame (zero-filled or garbage bytes)"
    if length > BODY_BYTES_MAX:
        return 0, f"frame length {length} exceeds the maximum {BODY_BYTES_MAX}"
    body_start = offset + FRAME_HEADER_BYTES
    if body_start + length > end:
        return 0, f"truncated frame: length {length} runs past the end of the segment"
    if zlib.crc32(view[body_start : body_start + length]) != crc:
        return 0, "bad CRC"
    return length, None


def decode_segment_header(buffer: Buffer, end: int) -> tuple[SegmentHeader | None, str | None]:
    """Parse the header at the start of a segment: (header, None) or (None, problem)."""
    view = memoryview(buffer)
    if end < len(SEGMENT_MAGIC) or bytes(view[: len(SEGMENT_MAGIC)]) != SEGMENT_MAGIC:
        return None, "bad segment magic (not a hactl journal segment)"
    offset = len(SEGMENT_MAGIC)
    length, problem = frame_problem(view, offset, end)
    if problem is not None:
        return None, f"segment header: {problem}"
    body = bytes(view[offset + FRAME_HEADER_BYTES : offset + FRAME_HEADER_BYTES + length])
    try:
        fields = msgpack.unpackb(body, raw=False)
    except Exception as error:
        return None, f"segment header does not decode: {error}"
    if not _is_header_fields(fields):
        return None, "segment header has the wrong shape"
    version, node, segment_index, first_seq, previous_head = fields
    if version != FORMAT_VERSION:
        return None, f"unsupported format version {version}"
    header = SegmentHeader(
        node=node,
        segment_index=segment_index,
        first_seq=first_seq,
        previous_head=previous_head,
        header_bytes=offset + FRAME_HEADER_BYTES + length,
    )
    return header, None


def _is_header_fields(fields: object) -> bool:
    return (
        isinstance(fields, list)
        and len(fields) == 5
        and isinstance(fields[0], int)
        and isinstance(fields[1], str)
        and isinstance(fields[2], int)
        and isinstance(fields[3], int)
        and isinstance(fields[4], bytes)
        and len(fields[4]) == HEAD_BYTES
    )


def decode_body(body: Buffer) -> tuple[int, int, int, int, object] | None:
    """`[seq, kind, monotonic_ns, wall_ns, payload]`, or None when the body is malformed."""
    try:
        fields = msgpack.unpackb(body, raw=False)
    except Exception:
        return None
    if not (isinstance(fields, list) and len(fields) == 5):
        return None
    seq, kind, monotonic_ns, wall_ns, payload = fields
    if not (
        isinstance(seq, int)
        and isinstance(kind, int)
        and isinstance(monotonic_ns, int)
        and isinstance(wall_ns, int)
    ):
        return None
    return seq, kind, monotonic_ns, wall_ns, payload
