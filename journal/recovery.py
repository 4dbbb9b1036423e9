"""Tell a torn tail from corruption, for `Journal.open`.

A crash can leave the last segment ending in a partial frame, zeros or garbage after
the last seal: nothing there was ever acknowledged (commit returns only after the seal is
durable), so it is cut off and the cut is journaled. But if a *valid seal* for a later
seq lies beyond the first bad frame, records behind an acknowledged seal were damaged:
that is corruption, and the journal refuses to open rather than silently losing them.

The tail is untrusted, so seals there are found by searching for the tag bytes stored at
the front of every seal (and key-epoch) payload, not by following its framing.
"""

from __future__ import annotations

import dataclasses

import msgpack

from journal.framing import Buffer
from journal.seal import (
    EPOCH_PAYLOAD_TAG,
    SEAL_PAYLOAD_TAG,
    EpochAnnouncement,
    Seal,
)

_FIELDS_BYTES_MAX = 512  # the fields after a tag (seal: seq, head, epoch, signature)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StraySeal:
    offset: int
    seal: Seal


def find_valid_seal_in_tail(
    buffer: Buffer,
    *,
    start_offset: int,
    end_offset: int,
    node: str,
    epoch_keys: dict[int, bytes],
    after_seq: int,
) -> StraySeal | None:
    """The first seal in `buffer[start:end]` for a seq > after_seq that verifies under a
    known epoch key (keys announced inside the tail by a known key count as known)."""
    data = bytes(memoryview(buffer)[start_offset:end_offset])
    keys = dict(epoch_keys)
    for position, tag in _tag_positions(data):
        fields = _fields_after(data, position + len(tag), 5 if tag == EPOCH_PAYLOAD_TAG else 4)
        if fields is None:
            continue
        if tag == EPOCH_PAYLOAD_TAG:
            announcement = EpochAnnouncement.from_list(fields)
            if (announcement is not None and announcement.node == node
                    and keys.get(announcement.epoch - 1) == announcement.previous_public_key
                    and announcement.is_signed_by_previous()):
                keys[announcement.epoch] = announcement.public_key
            continue
        try:
            seal = Seal.from_list([node, *fields])
        except (ValueError, AssertionError):
            continue
        key = keys.get(seal.epoch)
        if seal.seq > after_seq and key is not None and seal.is_signed_by(key):
            return StraySeal(offset=start_offset + position, seal=seal)
    return None


def _tag_positions(data: bytes) -> list[tuple[int, bytes]]:
    found: list[tuple[int, bytes]] = []
    for tag in (SEAL_PAYLOAD_TAG, EPOCH_PAYLOAD_TAG):
        position = data.find(tag)
        while position >= 0:
            found.append((position, tag))
            position = data.find(tag, position + 1)
    found.sort()
    return found


def _fields_after(data: bytes, offset: int, count: int) -> list[object] | None:
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(data[offset : offset + _FIELDS_BYTES_MAX])
    fields: list[object] = []
    try:
        for _ in range(count):
            fields.append(unpacker.unpack())
    except Exception:  # OutOfData or garbage: not a seal
        return None
    return fields
