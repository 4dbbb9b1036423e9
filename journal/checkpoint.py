"""Verification from a checkpoint: re-verify only what is new since a full verification.

`verify_journal` checks every record's hash and every seal's signature: about 5 s per
million records in Python, so minutes for a month of journal at keepalive 1 s. A
postmortem must answer in well under a second, and most of those records were already
verified the last time anyone looked. `verify_from_checkpoint` therefore keeps, next to the
segments, a cache of what a full verification established (`index/verified.msgpack`):
for each segment the byte offsets at which a verification ended and the SHA-256 of the
segment's bytes up to there, and the verifier's chain state at that point. A later call

* hashes each segment's bytes (`hashlib`, C speed: about 0.3 s for 400 MB) and compares
  the digest with the cache: equal means these exact bytes verified before;
* still checks every segment's header against its predecessor (numbering, node, the
  chain's seq and head across the boundary);
* walks, with every check of `verify_journal` (hashes, seals, signatures, key epochs),
  whatever was appended since, starting from the cached chain state;
* verifies in full, from its first byte, any segment whose digest does not match (changed,
  replaced or new), so a changed record in an old segment is found and reported exactly as
  `verify_journal` reports it.

The cache is not signed: someone able to rewrite both a segment and the cache next to it
can make a changed segment pass this check (but not `hactl journal verify`, which always
verifies in full and ignores the cache). `CheckpointedVerify.coverage` says how much was
verified now and how much was only compared with the cache, and reports print it.
The cache is only written after a verification without problems, atomically (a crash
leaves the old one), and an unreadable cache is ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import msgpack

from journal.chain import ChainState
from journal.files import make_directory, write_file_atomically
from journal.framing import decode_segment_header
from journal.retention import PruneManifest
from journal.seal import EpochAnnouncement, Seal
from journal.segments import list_segments
from journal.verify import (
    VerifyProblem,
    VerifyReport,
    _Progress,
    _report,
    _verify_segment,
    _verify_start,
)

CACHE_DIRECTORY = "index"  # beside the segments: <journal>/index/
VERIFY_CACHE_NAME = "verified.msgpack"
CACHE_VERSION = 1

Checkpoints = list[tuple[int, bytes]]  # (byte offset, SHA-256 of the segment up to there)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VerifyCoverage:
    """How each part of the journal was checked by one `verify_from_checkpoint` call."""

    records_verified: int  # hashed, sequenced and sealed-checked in this call
    records_cached: int  # bytes equal (SHA-256) to bytes a full verification passed
    segments_cached: int  # segments whose bytes were wholly covered by the cache
    is_cache_written: bool

    def describe(self) -> str:
        if not self.records_cached:
            return f"all {self.records_verified} records verified in full"
        return (f"{self.records_verified} records verified in full now, {self.records_cached} "
                f"checked against the verify cache (SHA-256 of the segment bytes a full "
                f"verification passed; `hactl journal verify` re-verifies everything)")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointedVerify:
    report: VerifyReport
    coverage: VerifyCoverage
    # segment index -> verified checkpoints, oldest first; the last one is the segment's
    # current end when the report is OK. Sidecar caches bind themselves to these.
    checkpoints: dict[int, Checkpoints]


@dataclasses.dataclass(slots=True, kw_only=True)
class _CachedSegment:
    checkpoints: Checkpoints
    state: list[Any]  # the chain state and manifest bookkeeping after the last checkpoint


def cache_directory(directory: Path) -> Path:
    return directory / CACHE_DIRECTORY


def verify_from_checkpoint(directory: Path, *, public_key: bytes | None = None,
                           check_signatures: bool = True, use_cache: bool = True,
                           write_cache: bool = True) -> CheckpointedVerify:
    """`verify_journal`'s verdict, re-verifying only bytes the cache does not vouch for.

    With `use_cache=False` everything is verified (and, with `write_cache`, the cache is
    rebuilt): that is what a full `hactl journal verify` may call to leave a checkpoint.
    """
    segments = list_segments(directory)
    # Counts and the start of the chain are cumulative from the first segment: after a
    # prune the journal starts elsewhere and the cache says nothing about it.
    first_index = segments[0][0] if segments else None
    cached = _load_cache(directory, first_index) if use_cache else {}
    progress = _Progress()
    if not segments:
        return CheckpointedVerify(report=_empty_report(directory, progress),
                                  coverage=VerifyCoverage(records_verified=0, records_cached=0,
                                                          segments_cached=0,
                                                          is_cache_written=False),
                                  checkpoints={})
    checkpoints: dict[int, Checkpoints] = {}
    states: dict[int, list[Any]] = {}
    records_cached = 0
    segments_cached = 0
    previous_index: int | None = None
    is_ok = True
    for position, (index, path) in enumerate(segments):
        is_last = position == len(segments) - 1
        data = path.read_bytes()
        entry = cached.get(index)
        hit = _matching_checkpoint(entry, data) if entry is not None else None
        before = 0 if progress.state is None else progress.state.records
        if hit is not None and entry is not None:
            offset, kept = hit
            if not _restore(progress, entry.state, index, previous_index, path, data):
                is_ok = False
                break
            records_cached += progress.state.records - before if progress.state else 0
            if offset == len(data):
                segments_cached += 1
                checkpoints[index] = kept
                states[index] = entry.state
                previous_index = index
                continue
            # The segment grew since: verify the rest from the cached state.
            if not _verify_segment(path, index, previous_index, is_last, progress,
                                   public_key=public_key, check_signatures=check_signatures,
                                   data=data, resume_offset=offset):
                progress.segments -= 1  # _restore counted it already
                is_ok = False
                break
            progress.segments -= 1
        else:
            old_offsets = [] if entry is None else [offset for offset, _ in entry.checkpoints]
            if not _verify_segment(path, index, previous_index, is_last, progress,
                                   public_key=public_key, check_signatures=check_signatures,
                                   data=data):
                is_ok = False
                break
            # Earlier checkpoints of this segment stay valid where its bytes still match.
            kept = [(offset, digest) for offset, digest in _digests(data, old_offsets)
                    if entry is not None and (offset, digest) in entry.checkpoints
                    and offset < len(data)]
        checkpoints[index] = [*kept, (len(data), hashlib.sha256(data).digest())]
        states[index] = _state_list(progress)
        previous_index = index
    if is_ok and not progress.problems:
        _verify_start(progress, public_key=public_key, check_signatures=check_signatures)
    report = _report(progress, public_key)
    records_verified = report.records - records_cached
    is_written = False
    is_changed = {index: entry.checkpoints for index, entry in cached.items()} != checkpoints
    if write_cache and is_changed and report.is_ok and not report.warnings:
        is_written = _write_cache(directory, report.node, checkpoints, states)
    coverage = VerifyCoverage(records_verified=max(0, records_verified),
                              records_cached=records_cached, segments_cached=segments_cached,
                              is_cache_written=is_written)
    return CheckpointedVerify(report=report, coverage=coverage,
                              checkpoints=checkpoints if report.is_ok else {})


def _empty_report(directory: Path, progress: _Progress) -> VerifyReport:
    progress.problems.append(VerifyProblem(segment=str(directory), offset=0, seq=None,
                                           problem="no journal segments found"))
    return _report(progress, None)


def _matching_checkpoint(entry: _CachedSegment, data: bytes
                         ) -> tuple[int, Checkpoints] | None:
    """The cached checkpoint covering these bytes: only the newest one carries a state."""
    if not entry.checkpoints:
        return None
    offset, digest = entry.checkpoints[-1]
    if offset > len(data) or hashlib.sha256(memoryview(data)[:offset]).digest() != digest:
        return None
    return offset, list(entry.checkpoints)


def _digests(data: bytes, offsets: list[int]) -> list[tuple[int, bytes]]:
    """SHA-256 of `data[:offset]` for each offset, in one pass over the bytes."""
    hasher = hashlib.sha256()
    view = memoryview(data)
    done = 0
    found = []
    for offset in sorted(set(offsets)):
        if offset > len(data):
            break
        hasher.update(view[done:offset])
        done = offset
        found.append((offset, hasher.copy().digest()))
    return found


def _restore(progress: _Progress, fields: list[Any], index: int, previous_index: int | None,
             path: Path, data: bytes) -> bool:
    """Take the cached state after this segment's checkpoint; check the header still
    continues the previous segment (cheap, and it catches a renamed or spliced file)."""
    header, problem = decode_segment_header(data, len(data))
    state_before = progress.state

    def fail(text: str) -> bool:
        progress.problems.append(VerifyProblem(segment=path.name, offset=0, seq=None,
                                               problem=text))
        return False

    if header is None:
        return fail(problem or "bad header")
    if previous_index is not None and index != previous_index + 1:
        return fail(f"missing segment {previous_index + 1}")
    if header.segment_index != index:
        return fail(f"header says segment {header.segment_index} but the file is segment "
                    f"{index} (segment replaced or renamed)")
    if state_before is not None and (header.node != state_before.node
                                     or header.first_seq != state_before.next_seq
                                     or header.previous_head != state_before.head):
        return fail("broken chain: the segment does not continue the previous segment's "
                    "last head and seq (replaced or spliced)")
    try:
        _apply_state_list(progress, fields)
    except (ValueError, TypeError, AssertionError, IndexError):
        return fail("unreadable verify cache entry")
    if progress.first_header is None:
        progress.first_header = header
    progress.segments += 1
    return True


def _state_list(progress: _Progress) -> list[Any]:
    state = progress.state
    assert state is not None
    manifest = progress.latest_manifest
    return [
        state.node, state.next_seq, state.head, state.epoch, state.epoch_public_key,
        state.genesis_public_key,
        None if state.first_epoch_seen is None else state.first_epoch_seen.to_list(),
        None if state.last_seal is None else state.last_seal.to_list(),
        state.records, state.seals, [a.to_list() for a in state.epochs],
        state.first_wall_ns, state.last_wall_ns,
        None if manifest is None else manifest.to_payload(), progress.manifest_problem,
        sorted(progress.pruned_epoch_keys.items()),
    ]


def _apply_state_list(progress: _Progress, fields: list[Any]) -> None:
    (node, next_seq, head, epoch, epoch_key, genesis_key, first_epoch, last_seal, records,
     seals, epochs, first_wall_ns, last_wall_ns, manifest, manifest_problem,
     pruned_keys) = fields
    announcements = [EpochAnnouncement.from_list(item) for item in epochs]
    if any(item is None for item in announcements):
        raise ValueError("malformed key epoch in the cache")
    progress.state = ChainState(
        node=node, next_seq=next_seq, head=head, epoch=epoch, epoch_public_key=epoch_key,
        genesis_public_key=genesis_key,
        first_epoch_seen=None if first_epoch is None else EpochAnnouncement.from_list(
            first_epoch),
        last_seal=None if last_seal is None else Seal.from_list(last_seal),
        records=records, seals=seals, epochs=[a for a in announcements if a is not None],
        first_wall_ns=first_wall_ns, last_wall_ns=last_wall_ns)
    progress.latest_manifest = None if manifest is None else PruneManifest.from_payload(manifest)
    progress.manifest_problem = manifest_problem
    progress.pruned_epoch_keys = {int(epoch): key for epoch, key in pruned_keys}


def _load_cache(directory: Path, first_index: int | None) -> dict[int, _CachedSegment]:
    try:
        raw = (cache_directory(directory) / VERIFY_CACHE_NAME).read_bytes()
        document = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        if not (isinstance(document, dict) and document.get("version") == CACHE_VERSION
                and document["segments"] and document["segments"][0][0] == first_index):
            return {}
        found = {}
        for index, checkpoints, state in document["segments"]:
            found[int(index)] = _CachedSegment(
                checkpoints=[(int(offset), bytes(digest)) for offset, digest in checkpoints],
                state=list(state))
        return found
    except (OSError, ValueError, TypeError, KeyError, msgpack.UnpackException):
        return {}


def _write_cache(directory: Path, node: str | None, checkpoints: dict[int, Checkpoints],
                 states: dict[int, list[Any]]) -> bool:
    document = {"version": CACHE_VERSION, "node": node,
                "segments": [[index, [list(point) for point in points], states[index]]
                             for index, points in sorted(checkpoints.items())]}
    try:
        make_directory(cache_directory(directory), mode=0o750, sync=False)
        write_file_atomically(cache_directory(directory) / VERIFY_CACHE_NAME,
                              msgpack.packb(document, use_bin_type=True), mode=0o640,
                              sync=False)
    except OSError:
        return False  # a read-only copy of a journal: verify in full next time too
    return True
