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
from journal.framing import GENESIS_PREVIOUS_HEAD, decode_segment_header, encode_segment_header
from journal.keys import KeyStore, read_genesis_public_key
from journal.recovery import find_valid_seal_in_tail
from journal.seal import Seal, public_key_bytes
from journal.segments import list_segments, segment_name


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
        _refuse_if_sealed_beyond(data, 0, path, node=node, state=None, after_seq=-1,
                                 problem=scan.cut_reason)
        return scan
    if header.node != node:
        raise JournalError(f"{path}: this journal belongs to node {header.node!r}, not {node!r}")
    state = ChainState(node=node, next_seq=header.first_seq, head=header.previous_head,
                       epoch=None, epoch_public_key=None)

    def visit(seq: int, kind: int, monotonic_ns: int, wall_ns: int, payload: object,
              head: bytes) -> None:
        if kind in (kinds.KEY_EPOCH, kinds.JOURNAL_CREATED):
            scan.epoch_starts.append((seq, monotonic_ns))
            if kind == kinds.JOURNAL_CREATED and isinstance(payload, list):
                scan.genesis_public_key = payload[2]
        elif kind == kinds.PEER_SEAL:
            # A malformed peer seal is the peer's problem, not a reason to refuse to open.
            with contextlib.suppress(ValueError, AssertionError):
                scan.peer_seals.append((seq, Seal.from_list(payload)))

    # Signatures are verify_journal's job; open checks only the seal it continues from
    # (and any seal beyond damage), which keeps reopening a 64 MiB segment fast.
    result = walk_segment(data, start_offset=header.header_bytes, end_offset=len(data),
                          state=state, check_signatures=False, visitor=visit)
    point = result.last_seal
    if point is not None and (point.epoch_public_key is None
                              or not point.seal.is_signed_by(point.epoch_public_key)):
        raise JournalCorruptError(segment=path.name, offset=point.start_offset,
                                  seq=point.next_seq - 1,
                                  problem="bad signature on the last seal")
    scan.seal_point = point
    after_seq = -1 if result.last_seal is None else result.last_seal.next_seq - 1
    if result.problem is not None:
        problem = result.problem
        if not problem.is_framing:
            raise JournalCorruptError(segment=path.name, offset=problem.offset, seq=problem.seq,
                                      problem=problem.problem)
        scan.cut_reason = problem.problem
        _refuse_if_sealed_beyond(data, problem.offset, path, node=node, state=state,
                                 after_seq=after_seq, problem=problem.problem)
    elif result.last_seal is None or result.last_seal.end_offset != len(data):
        scan.cut_reason = "unsealed records after the last seal"
    return scan


def _refuse_if_sealed_beyond(data: bytes, offset: int, path: Path, *, node: str,
                             state: ChainState | None, after_seq: int, problem: str) -> None:
    epoch_keys: dict[int, bytes] = {}
    if state is not None and state.epoch is not None and state.epoch_public_key is not None:
        epoch_keys[state.epoch] = state.epoch_public_key
    stray = find_valid_seal_in_tail(data, start_offset=offset, end_offset=len(data), node=node,
                                    epoch_keys=epoch_keys, after_seq=after_seq)
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
