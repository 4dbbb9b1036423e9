"""Open a journal directory: create it, or find its sealed end and cut off a torn tail.

Only the last segment is read on open (earlier ones were sealed and flushed before the
next one began; `verify_journal` checks them). The scan decides, before touching any
file, between three outcomes:

* clean: the segment ends with a valid seal;
* torn tail: bytes after the last valid seal are a partial frame, zeros, garbage or
  unsealed records (never acknowledged): they are cut off, and the caller journals a
  `journal recovered` record with their size and hash; a last segment with no valid
  seal at all is an interrupted rotation and is removed whole;
* corruption: a frame with a good CRC but bad content, or a valid seal beyond the first
  bad frame (acknowledged records were damaged): JournalCorruptError, nothing changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from journal import kinds
from journal.chain import ChainState, SealPoint, walk_segment
from journal.errors import JournalCorruptError, JournalError, JournalKeyError
from journal.files import fsync_directory
from journal.framing import (
    FRAME_HEADER_BYTES,
    GENESIS_PREVIOUS_HEAD,
    chain_head,
    decode_body,
    decode_segment_header,
    encode_segment_header,
)
from journal.keys import KeyStore, read_genesis_public_key
from journal.recovery import find_valid_seal_in_tail
from journal.seal import EpochAnnouncement, Seal, public_key_bytes, seal_from_payload
from journal.segments import list_segments, segment_name
from journal.skim import JournalFrame, skim_frames


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryReport:
    """What open cut off: journaled as a JOURNAL_RECOVERED record."""

    segment: str
    offset: int
    bytes_dropped: int
    dropped_sha256: bytes
    reason: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OpenedTail:
    """Everything the writer needs to continue the chain."""

    head: bytes
    next_seq: int
    epoch: int
    private_key: Ed25519PrivateKey
    epoch_started_monotonic_ns: int
    genesis_public_key: bytes
    last_monotonic_ns: int
    last_wall_ns: int
    last_seal: Seal | None
    segment_index: int
    segment_bytes: int
    descriptor: int
    is_new_file: bool
    is_new_journal: bool
    recovery: RecoveryReport | None
    peer_seals: list[Seal]


@dataclasses.dataclass(slots=True, kw_only=True)
class _SegmentScan:
    """The sealed end of one segment, and what lies beyond it."""

    path: Path
    size_bytes: int
    seal_point: SealPoint | None
    cut_reason: str
    peer_seals: list[tuple[int, Seal]]
    epoch_starts: list[tuple[int, int]]  # (seq, monotonic_ns) of genesis/key-epoch records
    genesis_public_key: bytes | None


def open_tail(directory: Path, *, node: str, sync: bool) -> OpenedTail:
    keys = KeyStore(directory, sync=sync)
    segments = list_segments(directory)
    if not segments:
        return _create(directory, node=node, keys=keys, sync=sync)
    # Plan first (no changes), so that corruption leaves everything as it was.
    doomed: list[_SegmentScan] = []
    while True:
        index, path = segments[-1]
        scan = _scan_segment(path, node=node)
        if scan.seal_point is not None:
            break
        if len(segments) == 1:
            if index == 0:
                return _recreate(directory, node=node, keys=keys, sync=sync, scan=scan)
            raise JournalCorruptError(segment=path.name, offset=0, seq=None,
                                      problem="the oldest remaining segment has no valid seal")
        doomed.append(scan)
        segments.pop()
    point = scan.seal_point
    assert point is not None and point.epoch is not None, "a valid seal implies a known epoch"
    private_key = _load_matching_key(keys, point)  # before any change
    recovery = _apply_cuts(directory, scan, doomed, sync=sync)
    keys.erase_all_except(point.epoch)
    return _continue(directory, node=node, scan=scan, index=index, private_key=private_key,
                     recovery=recovery)


def _scan_segment(path: Path, *, node: str) -> _SegmentScan:
    data = path.read_bytes()
    scan = _SegmentScan(path=path, size_bytes=len(data), seal_point=None, cut_reason="",
                        peer_seals=[], epoch_starts=[], genesis_public_key=None)
    header, header_problem = decode_segment_header(data, len(data))
    if header is None:
        scan.cut_reason = header_problem or "bad header"
        _refuse_if_sealed_beyond(data, 0, path, node=node, keys={}, after_seq=-1,
                                 problem=scan.cut_reason)
        return scan
    if header.node != node:
        raise JournalError(f"{path}: this journal belongs to node {header.node!r}, not {node!r}")
    # Hashing the whole chain is verify_journal's job: open checks every CRC, decodes only
    # the journal's own records, and walks the chain from the last seal on, which keeps
    # reopening a 64 MiB segment fast.
    skim = skim_frames(data, start_offset=header.header_bytes, end_offset=len(data))
    records = [_decode_journal_frame(data, frame, path) for frame in skim.journal_frames]
    point = _last_seal_point(data, path, node, records)
    scan.seal_point = point
    if point is None:
        scan.cut_reason = skim.problem or "no valid seal"
        start = header.header_bytes if skim.problem_offset is None else skim.problem_offset
        _refuse_if_sealed_beyond(data, start, path, node=node, keys=_known_keys(records),
                                 after_seq=-1, problem=scan.cut_reason)
        return scan
    _collect(scan, records, cut_seq=point.next_seq)
    _judge_tail(data, path, node, point, scan)
    return scan


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _JournalRecord:
    frame: JournalFrame
    seq: int
    kind: int
    monotonic_ns: int
    payload: object


def _decode_journal_frame(data: bytes, frame: JournalFrame, path: Path) -> _JournalRecord:
    fields = decode_body(data[frame.offset + FRAME_HEADER_BYTES : frame.end])
    if fields is None:
        raise JournalCorruptError(segment=path.name, offset=frame.offset, seq=None,
                                  problem="a frame with a good CRC does not decode as "
                                  "[seq, kind, monotonic_ns, wall_ns, payload]")
    seq, kind, monotonic_ns, _wall_ns, payload = fields
    return _JournalRecord(frame=frame, seq=seq, kind=kind, monotonic_ns=monotonic_ns,
                          payload=payload)


def _known_keys(records: list[_JournalRecord]) -> dict[int, bytes]:
    """Epoch -> public key, from the genesis and key-epoch records found."""
    keys: dict[int, bytes] = {}
    for record in records:
        if record.kind == kinds.JOURNAL_CREATED and isinstance(record.payload, list) \
                and len(record.payload) == 3 and isinstance(record.payload[2], bytes):
            keys[0] = record.payload[2]
        elif record.kind == kinds.KEY_EPOCH:
            announcement = EpochAnnouncement.from_payload(record.payload)
            if announcement is not None:
                keys.setdefault(announcement.epoch - 1, announcement.previous_public_key)
                keys[announcement.epoch] = announcement.public_key
    return keys


def _last_seal_point(data: bytes, path: Path, node: str, records: list[_JournalRecord]
                     ) -> SealPoint | None:
    seals = [record for record in records if record.kind == kinds.SEAL]
    if not seals:
        return None
    record = seals[-1]
    frame = record.frame
    seal = seal_from_payload(record.payload, node)
    public_key = _known_keys([r for r in records if r.seq < record.seq]).get(
        -1 if seal is None else seal.epoch)
    if seal is None or seal.seq != record.seq - 1 or public_key is None \
            or not seal.is_signed_by(public_key):
        raise JournalCorruptError(segment=path.name, offset=frame.offset, seq=record.seq,
                                  problem="the last seal is malformed or its signature is bad")
    times = (0, 0)
    if frame.previous_offset is not None:
        previous = decode_body(data[frame.previous_offset + FRAME_HEADER_BYTES : frame.offset])
        if previous is not None:
            times = (previous[2], previous[3])
    body = data[frame.offset + FRAME_HEADER_BYTES : frame.end]
    return SealPoint(head=chain_head(seal.head, body), next_seq=record.seq + 1,
                     epoch=seal.epoch, epoch_public_key=public_key, start_offset=frame.offset,
                     end_offset=frame.end, seal=seal, last_monotonic_ns=times[0],
                     last_wall_ns=times[1])


def _collect(scan: _SegmentScan, records: list[_JournalRecord], *, cut_seq: int) -> None:
    for record in records:
        if record.seq >= cut_seq:
            break
        if record.kind in (kinds.KEY_EPOCH, kinds.JOURNAL_CREATED):
            scan.epoch_starts.append((record.seq, record.monotonic_ns))
            if record.kind == kinds.JOURNAL_CREATED and isinstance(record.payload, list):
                scan.genesis_public_key = record.payload[2]
        elif record.kind == kinds.PEER_SEAL:
            # A malformed peer seal is the peer's problem, not a reason to refuse to open.
            with contextlib.suppress(ValueError, AssertionError):
                scan.peer_seals.append((record.seq, Seal.from_list(record.payload)))


def _judge_tail(data: bytes, path: Path, node: str, point: SealPoint,
                scan: _SegmentScan) -> None:
    """Walk the chain from the last seal to the end: a torn tail, or corruption."""
    assert point.epoch is not None and point.epoch_public_key is not None
    state = ChainState(node=node, next_seq=point.next_seq, head=point.head, epoch=point.epoch,
                       epoch_public_key=point.epoch_public_key)
    result = walk_segment(data, start_offset=point.end_offset, end_offset=len(data),
                          state=state)
    assert result.last_seal is None, "the skim found no later seal frame"
    problem = result.problem
    if problem is None:
        if point.end_offset != len(data):
            scan.cut_reason = "unsealed records after the last seal"
        return
    if not problem.is_framing:
        raise JournalCorruptError(segment=path.name, offset=problem.offset, seq=problem.seq,
                                  problem=problem.problem)
    scan.cut_reason = problem.problem
    keys = {point.epoch: point.epoch_public_key}
    if state.epoch is not None and state.epoch_public_key is not None:
        keys[state.epoch] = state.epoch_public_key
    _refuse_if_sealed_beyond(data, problem.offset, path, node=node, keys=keys,
                             after_seq=point.next_seq - 1, problem=problem.problem)


def _refuse_if_sealed_beyond(data: bytes, offset: int, path: Path, *, node: str,
                             keys: dict[int, bytes], after_seq: int, problem: str) -> None:
    stray = find_valid_seal_in_tail(data, start_offset=offset, end_offset=len(data), node=node,
                                    epoch_keys=keys, after_seq=after_seq)
    if stray is not None:
        raise JournalCorruptError(
            segment=path.name, offset=offset, seq=after_seq + 1,
            problem=f"{problem}, but a valid seal for seq {stray.seal.seq} follows at offset "
            f"{stray.offset}: acknowledged records are damaged (not a torn write); "
            "nothing was changed",
        )


def _apply_cuts(directory: Path, scan: _SegmentScan, doomed: list[_SegmentScan], *,
                sync: bool) -> RecoveryReport | None:
    assert scan.seal_point is not None
    cut_offset = scan.seal_point.end_offset
    if cut_offset == scan.size_bytes and not doomed:
        return None
    hasher = hashlib.sha256()
    dropped_bytes = 0
    with open(scan.path, "rb") as file:
        file.seek(cut_offset)
        tail = file.read()
    hasher.update(tail)
    dropped_bytes += len(tail)
    for doomed_scan in reversed(doomed):  # oldest first, matching file order
        contents = doomed_scan.path.read_bytes()
        hasher.update(contents)
        dropped_bytes += len(contents)
    for doomed_scan in doomed:
        doomed_scan.path.unlink()
    if doomed and sync:
        fsync_directory(directory)
    os.truncate(scan.path, cut_offset)
    if sync:
        descriptor = os.open(scan.path, os.O_WRONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    reasons = [scan.cut_reason] if scan.cut_reason else []
    reasons += [f"{d.path.name} removed: {d.cut_reason}" for d in reversed(doomed)]
    return RecoveryReport(segment=scan.path.name, offset=cut_offset, bytes_dropped=dropped_bytes,
                          dropped_sha256=hasher.digest(), reason="; ".join(reasons))


def _load_matching_key(keys: KeyStore, point: SealPoint | None) -> Ed25519PrivateKey:
    assert point is not None and point.epoch is not None and point.epoch_public_key is not None
    private_key = keys.load_epoch_key(point.epoch)
    if public_key_bytes(private_key) != point.epoch_public_key:
        raise JournalKeyError(f"{keys.epoch_key_path(point.epoch)}: the key does not match the "
                              f"public key of epoch {point.epoch} in the journal")
    return private_key


def _continue(directory: Path, *, node: str, scan: _SegmentScan, index: int,
              private_key: Ed25519PrivateKey, recovery: RecoveryReport | None) -> OpenedTail:
    point = scan.seal_point
    assert point is not None and point.epoch is not None
    genesis_public_key = scan.genesis_public_key or read_genesis_public_key(directory)
    if genesis_public_key is None:
        raise JournalKeyError(f"{directory}: the genesis public key (keys/genesis.pub) is missing")
    epoch_started_ns = max((ns for seq, ns in scan.epoch_starts if seq < point.next_seq),
                           default=0)
    descriptor = os.open(scan.path, os.O_WRONLY | os.O_APPEND)
    return OpenedTail(
        head=point.head, next_seq=point.next_seq, epoch=point.epoch, private_key=private_key,
        epoch_started_monotonic_ns=epoch_started_ns, genesis_public_key=genesis_public_key,
        last_monotonic_ns=point.last_monotonic_ns, last_wall_ns=point.last_wall_ns,
        last_seal=point.seal, segment_index=index,
        segment_bytes=point.end_offset, descriptor=descriptor, is_new_file=False,
        is_new_journal=False, recovery=recovery,
        peer_seals=[seal for seq, seal in scan.peer_seals if seq < point.next_seq],
    )


def _create(directory: Path, *, node: str, keys: KeyStore, sync: bool) -> OpenedTail:
    keys.ensure_directory()
    keys.erase_everything()
    private_key = Ed25519PrivateKey.generate()
    keys.write_epoch_key(0, private_key)
    genesis_public_key = public_key_bytes(private_key)
    keys.write_genesis_public_key(genesis_public_key)
    path = directory / segment_name(0)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
    header = encode_segment_header(node=node, segment_index=0, first_seq=0,
                                   previous_head=GENESIS_PREVIOUS_HEAD)
    os.write(descriptor, header)
    return OpenedTail(
        head=GENESIS_PREVIOUS_HEAD, next_seq=0, epoch=0, private_key=private_key,
        epoch_started_monotonic_ns=0, genesis_public_key=genesis_public_key,
        last_monotonic_ns=0, last_wall_ns=0, last_seal=None, segment_index=0,
        segment_bytes=len(header), descriptor=descriptor, is_new_file=True,
        is_new_journal=True, recovery=None, peer_seals=[],
    )


def _recreate(directory: Path, *, node: str, keys: KeyStore, sync: bool,
              scan: _SegmentScan) -> OpenedTail:
    """The first segment never got a seal: nothing was acknowledged; start over."""
    contents = scan.path.read_bytes()
    scan.path.unlink()
    if sync:
        fsync_directory(directory)
    tail = _create(directory, node=node, keys=keys, sync=sync)
    recovery = RecoveryReport(segment=scan.path.name, offset=0, bytes_dropped=len(contents),
                              dropped_sha256=hashlib.sha256(contents).digest(),
                              reason=f"journal creation never completed: {scan.cut_reason}")
    return dataclasses.replace(tail, recovery=recovery)
