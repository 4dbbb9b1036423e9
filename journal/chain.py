"""Walk one segment's frames, checking framing, sequence, hash chain, seals and key epochs.

One walker serves three callers so they can never disagree about what "valid" means:
`Journal.open` (recovery of the last segment), `verify_journal` (every segment) and the
retention code. It stops at the first problem and reports where it is; what a problem
means (torn tail to truncate, or corruption to refuse) is the caller's decision.

The loop is the hot path of verification, so it works on a memoryview of the mapped
file, hashes the stored body bytes as they are and decodes each body once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import zlib
from collections.abc import Callable

import msgpack

from journal import kinds
from journal.framing import BODY_BYTES_MAX, FRAME_HEADER, FRAME_HEADER_BYTES, Buffer
from journal.seal import EpochAnnouncement, Seal, seal_from_payload

RecordVisitor = Callable[[int, int, int, int, object, bytes], None]
# The first bytes of a record body: array-of-5 marker, uint32 marker, seq, kind byte.
_ENGINE_RECORD_PREFIX = struct.Struct(">BBIB")


@dataclasses.dataclass(slots=True, kw_only=True)
class ChainState:
    """What the walker carries from one record (and one segment) to the next."""

    node: str
    next_seq: int
    head: bytes
    epoch: int | None  # None until learned (a pruned journal starts mid-history)
    epoch_public_key: bytes | None
    genesis_public_key: bytes | None = None
    first_epoch_seen: EpochAnnouncement | None = None  # taken on trust, checked later
    last_seal: Seal | None = None
    records: int = 0
    seals: int = 0
    epochs: list[EpochAnnouncement] = dataclasses.field(default_factory=list)
    first_wall_ns: int | None = None
    last_wall_ns: int | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WalkProblem:
    offset: int
    seq: int
    problem: str
    is_framing: bool  # bad CRC/length/torn (possibly a torn write) vs. a logical break


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SealPoint:
    """The chain state just after a valid seal: where recovery may cut the segment."""

    head: bytes  # head including the seal record itself
    next_seq: int
    epoch: int | None
    epoch_public_key: bytes | None
    start_offset: int  # of the seal's frame
    end_offset: int
    seal: Seal
    last_monotonic_ns: int  # times of the last record before the seal (seals carry none)
    last_wall_ns: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WalkResult:
    problem: WalkProblem | None
    valid_end_offset: int  # end of the last frame that passed every check
    last_seal: SealPoint | None  # the last valid seal in this walk


def walk_segment(
    buffer: Buffer,
    *,
    start_offset: int,
    end_offset: int,
    state: ChainState,
    check_signatures: bool = True,
    visitor: RecordVisitor | None = None,
) -> WalkResult:
    """Advance `state` over the frames in `buffer[start_offset:end_offset]`.

    `visitor` sees the journal's own records (kinds < FIRST_ENGINE_KIND) after they
    passed their checks; engine records are only framed, hashed and counted here, which
    is what keeps verification fast.
    """
    view = memoryview(buffer)
    offset = start_offset
    last_seal: SealPoint | None = None
    unpack_header = FRAME_HEADER.unpack_from
    crc32 = zlib.crc32
    sha256 = hashlib.sha256
    unpackb = msgpack.unpackb
    first_engine_kind = kinds.FIRST_ENGINE_KIND
    head = state.head
    next_seq = state.next_seq
    start_seq = next_seq  # seqs are contiguous, so the record count falls out at the end
    first_wall_ns = state.first_wall_ns
    last_wall_ns = state.last_wall_ns
    last_monotonic_ns = 0
    peek = _ENGINE_RECORD_PREFIX.unpack_from
    undecoded_offset: int | None = None  # a fast-path record whose times are still unread
    try:
        while offset < end_offset:
            if end_offset - offset < FRAME_HEADER_BYTES:
                return _stop(offset, next_seq, "truncated frame header", True, last_seal)
            length, crc = unpack_header(view, offset)
            body_end = offset + FRAME_HEADER_BYTES + length
            if length == 0 or length > BODY_BYTES_MAX or body_end > end_offset:
                problem = "zero-length frame" if length == 0 else f"bad frame length {length}"
                return _stop(offset, next_seq, problem, True, last_seal)
            body = view[offset + FRAME_HEADER_BYTES : body_end]
            if crc32(body) != crc:
                return _stop(offset, next_seq, "bad CRC", True, last_seal)
            if length >= _ENGINE_RECORD_PREFIX.size:
                # Fast path for the bulk of a journal: an engine record (kind 100..127)
                # with a 32-bit seq needs no decoding to be sequenced and chained.
                array_marker, seq_marker, peeked_seq, kind_byte = peek(view, body_end - length)
                if array_marker == 0x95 and seq_marker == 0xCE \
                        and first_engine_kind <= kind_byte < 0x80:
                    if peeked_seq != next_seq:
                        return _stop(offset, next_seq, _misfit(peeked_seq, 0, next_seq), False,
                                     last_seal)
                    hasher = sha256(head)
                    hasher.update(body)
                    head = hasher.digest()
                    if first_wall_ns is None:
                        first_wall_ns = _times(view, offset, body_end)[1]
                    undecoded_offset = offset
                    next_seq = peeked_seq + 1
                    offset = body_end
                    continue
            try:
                seq, kind, monotonic_ns, wall_ns, payload = unpackb(body)
            except Exception:
                return _stop(offset, next_seq, "record body does not decode as "
                             "[seq, kind, monotonic_ns, wall_ns, payload]", False, last_seal)
            if seq != next_seq or type(kind) is not int:
                return _stop(offset, next_seq, _misfit(seq, kind, next_seq), False, last_seal)
            hasher = sha256(head)
            hasher.update(body)
            if kind < first_engine_kind:
                state.head = head  # the checks need the head before this record
                state.next_seq = seq
                problem_text = _check_journal_record(state, seq, kind, payload, check_signatures)
                if problem_text is not None:
                    return _stop(offset, seq, problem_text, False, last_seal)
                head = hasher.digest()
                if kind == kinds.SEAL:
                    if undecoded_offset is not None:
                        last_monotonic_ns, last_wall_ns = _times(view, undecoded_offset, None)
                        undecoded_offset = None
                    last_seal = SealPoint(
                        head=head, next_seq=seq + 1, epoch=state.epoch,
                        epoch_public_key=state.epoch_public_key, start_offset=offset,
                        end_offset=body_end, seal=_last_seal(state),
                        last_monotonic_ns=last_monotonic_ns, last_wall_ns=last_wall_ns or 0,
                    )
                else:
                    last_monotonic_ns, last_wall_ns = monotonic_ns, wall_ns
                    undecoded_offset = None
                    first_wall_ns = wall_ns if first_wall_ns is None else first_wall_ns
                if visitor is not None:
                    visitor(seq, kind, monotonic_ns, wall_ns, payload, head)
            else:
                head = hasher.digest()
                last_monotonic_ns, last_wall_ns = monotonic_ns, wall_ns
                undecoded_offset = None
                if first_wall_ns is None:
                    first_wall_ns = wall_ns
            next_seq = seq + 1
            offset = body_end
    finally:
        if undecoded_offset is not None:
            last_wall_ns = _times(view, undecoded_offset, None)[1]
        state.head = head
        state.next_seq = next_seq
        state.records += next_seq - start_seq
        state.first_wall_ns = first_wall_ns
        state.last_wall_ns = last_wall_ns
    return WalkResult(problem=None, valid_end_offset=offset, last_seal=last_seal)


def _times(view: memoryview, offset: int, body_end: int | None) -> tuple[int, int]:
    """(monotonic_ns, wall_ns) of the already checked record framed at `offset`."""
    length, _crc = FRAME_HEADER.unpack_from(view, offset)
    end = offset + FRAME_HEADER_BYTES + length if body_end is None else body_end
    fields = msgpack.unpackb(view[offset + FRAME_HEADER_BYTES : end])
    return fields[2], fields[3]


def _misfit(seq: object, kind: object, next_seq: int) -> str:
    if type(kind) is not int:
        return "record kind is not an integer"
    return (f"sequence break: found seq {seq}, expected {next_seq} "
            "(record deleted, reordered or spliced)")


def _last_seal(state: ChainState) -> Seal:
    assert state.last_seal is not None, "a seal was just checked"
    return state.last_seal


def _stop(offset: int, seq: int, problem: str, is_framing: bool,
          last_seal: SealPoint | None) -> WalkResult:
    return WalkResult(
        problem=WalkProblem(offset=offset, seq=seq, problem=problem, is_framing=is_framing),
        valid_end_offset=offset,
        last_seal=last_seal,
    )


def _check_journal_record(state: ChainState, seq: int, kind: int, payload: object,
                          check_signatures: bool) -> str | None:
    """Check a journal-owned record against `state` (head = head before it); update state."""
    if kind == kinds.SEAL:
        return _check_seal(state, seq, payload, check_signatures)
    if kind == kinds.KEY_EPOCH:
        return _check_epoch(state, payload, check_signatures)
    if kind == kinds.JOURNAL_CREATED:
        return _check_genesis(state, seq, payload)
    return None


def _check_seal(state: ChainState, seq: int, payload: object, check_signatures: bool) -> str | None:
    seal = seal_from_payload(payload, state.node)
    if seal is None:
        return "malformed seal record"
    if seal.seq != seq - 1 or seal.head != state.head:
        return f"seal for seq {seal.seq} does not match the chain (records changed before it)"
    if state.epoch is None or state.epoch_public_key is None:
        return "seal before any known key epoch (missing genesis or prune manifest)"
    if seal.epoch != state.epoch:
        return (f"bad key rotation: seal claims epoch {seal.epoch} but epoch {state.epoch} "
                "is in force here")
    if check_signatures and not seal.is_signed_by(state.epoch_public_key):
        return f"bad signature on seal for seq {seal.seq} (epoch {seal.epoch})"
    state.last_seal = seal
    state.seals += 1
    return None


def _check_epoch(state: ChainState, payload: object, check_signatures: bool) -> str | None:
    announcement = EpochAnnouncement.from_payload(payload)
    if announcement is None:
        return "malformed key epoch record"
    if announcement.node != state.node:
        return f"key epoch names node {announcement.node!r}, journal belongs to {state.node!r}"
    if state.epoch is None:
        # A pruned journal (or a recovery scan) starts here; the previous key is taken on
        # trust now and proven against the genesis key through the prune manifest later.
        state.epoch = announcement.epoch - 1
        state.epoch_public_key = announcement.previous_public_key
        state.first_epoch_seen = announcement
    if announcement.epoch != state.epoch + 1:
        return f"bad key rotation: epoch {announcement.epoch} follows epoch {state.epoch}"
    if announcement.previous_public_key != state.epoch_public_key:
        return f"bad key rotation: epoch {announcement.epoch} names the wrong previous key"
    if check_signatures and not announcement.is_signed_by_previous():
        return f"bad key rotation: epoch {announcement.epoch} is not signed by the previous key"
    state.epoch = announcement.epoch
    state.epoch_public_key = announcement.public_key
    state.epochs.append(announcement)
    return None


def _check_genesis(state: ChainState, seq: int, payload: object) -> str | None:
    if seq != 0:
        return "a second 'journal created' record"
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[2], bytes)
            and len(payload[2]) == 32):
        return "malformed 'journal created' record"
    if payload[1] != state.node:
        return f"journal created for node {payload[1]!r}, segments say {state.node!r}"
    if state.genesis_public_key is not None and state.genesis_public_key != payload[2]:
        return "genesis public key differs from the trusted key (--key)"
    state.genesis_public_key = payload[2]
    state.epoch = 0
    state.epoch_public_key = payload[2]
    return None
