"""`verify_journal`: prove a journal directory is the unbroken, sealed history of one node.

It checks, segment by segment and without re-encoding anything: segment numbering (a gap
is a missing segment), headers (node, index, first seq, previous head: a spliced or
replaced segment breaks here), every frame's CRC, the seq order, the hash chain, every
seal's signature under the key epoch in force, every key rotation (signed by the previous
key), and, for a pruned journal, the prune manifest that ties the first retained segment
to the genesis key. The first break stops the walk: after it nothing can be trusted.

Unsealed bytes at the end of the last segment fail verification too (a crash left them
and the next `Journal.open` cuts them off, or someone damaged the last seal): an audit
must not pass over bytes no seal vouches for. Cutting the end of a journal off cleanly
at a seal is only evident against a seal held elsewhere (peers journal each other's
seals for exactly this reason).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

from journal import kinds
from journal.chain import ChainState, WalkResult, walk_segment
from journal.entanglement import held_seal_problems
from journal.framing import GENESIS_PREVIOUS_HEAD, SegmentHeader, decode_segment_header
from journal.recovery import find_valid_seal_in_tail
from journal.retention import PruneManifest, check_manifest
from journal.seal import Seal
from journal.segments import list_segments

_Fail = Callable[[int, "int | None", str], bool]

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VerifyProblem:
    segment: str
    offset: int
    seq: int | None
    problem: str

    def describe(self) -> str:
        seq = "?" if self.seq is None else str(self.seq)
        return f"{self.segment}: byte offset {self.offset}: seq {seq}: {self.problem}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    problems: list[VerifyProblem]
    warnings: list[str]
    node: str | None
    records: int
    segments: int
    seals: int
    key_epochs: int
    pruned_segments: int
    first_seq: int | None
    last_seq: int | None
    first_wall_ns: int | None
    last_wall_ns: int | None
    genesis_public_key: bytes | None
    is_genesis_key_trusted: bool  # checked against a key given by the caller

    @property
    def is_ok(self) -> bool:
        return not self.problems


@dataclasses.dataclass(slots=True, kw_only=True)
class _Progress:
    state: ChainState | None = None
    first_header: SegmentHeader | None = None
    latest_manifest: PruneManifest | None = None
    manifest_problem: str | None = None
    problems: list[VerifyProblem] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    segments: int = 0
    wanted_seqs: set[int] = dataclasses.field(default_factory=set)
    sealed_heads: dict[int, bytes] = dataclasses.field(default_factory=dict)
    pruned_epoch_keys: dict[int, bytes] = dataclasses.field(default_factory=dict)


def verify_journal(directory: Path, *, public_key: bytes | None = None,
                   check_signatures: bool = True,
                   held_seals: Iterable[Seal] = ()) -> VerifyReport:
    """Verify everything under `directory`; `public_key` is the trusted genesis key.

    `held_seals` are this node's seals kept elsewhere (see `peer_held_seals`): each must
    match the head this journal sealed at its seq, which exposes truncation and rewrites
    that no local check can see.
    """
    held = list(held_seals)
    progress = _Progress(wanted_seqs={seal.seq for seal in held})
    segments = list_segments(directory)
    if not segments:
        progress.problems.append(VerifyProblem(segment=str(directory), offset=0, seq=None,
                                               problem="no journal segments found"))
    previous_index: int | None = None
    for position, (index, path) in enumerate(segments):
        is_last = position == len(segments) - 1
        if not _verify_segment(path, index, previous_index, is_last, progress,
                               public_key=public_key, check_signatures=check_signatures):
            break
        previous_index = index
    if not progress.problems:
        _verify_start(progress, public_key=public_key, check_signatures=check_signatures)
    if not progress.problems and held:
        _check_held(progress, held, segments[-1][1])
    return _report(progress, public_key)


def _check_held(progress: _Progress, held: list[Seal], last_segment: Path) -> None:
    state = progress.state
    header = progress.first_header
    assert state is not None and header is not None
    epoch_keys = dict(progress.pruned_epoch_keys)
    if state.genesis_public_key is not None:
        epoch_keys[0] = state.genesis_public_key
    if state.first_epoch_seen is not None:
        first = state.first_epoch_seen
        epoch_keys[first.epoch - 1] = first.previous_public_key
    epoch_keys.update({a.epoch: a.public_key for a in state.epochs})
    last_sealed = None if state.last_seal is None else state.last_seal.seq
    problems, warnings = held_seal_problems(
        held, node=state.node, sealed_heads=progress.sealed_heads, epoch_keys=epoch_keys,
        last_sealed_seq=last_sealed, first_seq=header.first_seq)
    size = last_segment.stat().st_size
    progress.problems += [VerifyProblem(segment=last_segment.name, offset=size, seq=seq,
                                        problem=problem) for seq, problem in problems]
    progress.warnings += warnings


def _verify_segment(path: Path, index: int, previous_index: int | None, is_last: bool,
                    progress: _Progress, *, public_key: bytes | None,
                    check_signatures: bool, data: bytes | None = None,
                    resume_offset: int | None = None) -> bool:
    """Check one segment; `resume_offset` continues a walk whose state (up to that byte
    offset of this segment) `progress.state` already holds (see journal.checkpoint)."""
    if data is None:
        data = path.read_bytes()
    progress.segments += 1
    state = progress.state

    def fail(offset: int, seq: int | None, problem: str) -> bool:
        progress.problems.append(VerifyProblem(segment=path.name, offset=offset, seq=seq,
                                               problem=problem))
        return False

    header, header_problem = decode_segment_header(data, len(data))
    if header is None:
        return fail(0, None if state is None else state.next_seq, header_problem or "bad header")
    if previous_index is not None and index != previous_index + 1:
        return fail(0, header.first_seq, f"missing segment {previous_index + 1}")
    if header.segment_index != index:
        return fail(0, header.first_seq, f"header says segment {header.segment_index} but the "
                    f"file is segment {index} (segment replaced or renamed)")
    if resume_offset is not None:
        assert state is not None, "resuming needs the state at the offset"
    elif state is None:
        state = ChainState(node=header.node, next_seq=header.first_seq,
                           head=header.previous_head, epoch=None, epoch_public_key=None,
                           genesis_public_key=public_key)
        progress.state = state
        progress.first_header = header
    else:
        if header.node != state.node:
            return fail(0, header.first_seq, f"segment written by node {header.node!r}, the "
                        f"journal belongs to {state.node!r} (spliced from another journal)")
        if header.first_seq != state.next_seq or header.previous_head != state.head:
            return fail(0, header.first_seq, "broken chain: the segment does not continue the "
                        "previous segment's last head and seq (replaced or spliced)")

    def visit(seq: int, kind: int, monotonic_ns: int, wall_ns: int, payload: object,
              head: bytes) -> None:
        if kind == kinds.PRUNE_MANIFEST:
            try:
                progress.latest_manifest = PruneManifest.from_payload(payload)
            except (ValueError, AssertionError) as error:
                progress.manifest_problem = f"malformed prune manifest at seq {seq}: {error}"
            else:
                progress.pruned_epoch_keys[0] = progress.latest_manifest.genesis_public_key
                progress.pruned_epoch_keys.update(
                    {a.epoch: a.public_key for a in progress.latest_manifest.epochs})
        elif kind == kinds.SEAL and progress.wanted_seqs and isinstance(payload, list) \
                and payload[1] in progress.wanted_seqs:
            progress.sealed_heads[payload[1]] = payload[2]

    start = header.header_bytes if resume_offset is None else resume_offset
    result = walk_segment(data, start_offset=start, end_offset=len(data),
                          state=state, check_signatures=check_signatures, visitor=visit)
    return _judge_end(result, data, path.name, is_last, progress, fail)


def _judge_end(result: WalkResult, data: bytes, name: str, is_last: bool, progress: _Progress,
               fail: _Fail) -> bool:
    state = progress.state
    assert state is not None
    sealed_end = result.last_seal.end_offset if result.last_seal is not None else None
    problem = result.problem
    if problem is not None and not (is_last and problem.is_framing):
        return fail(problem.offset, problem.seq, problem.problem)
    if problem is not None:
        after_seq = -1 if result.last_seal is None else result.last_seal.next_seq - 1
        keys = {} if state.epoch is None or state.epoch_public_key is None \
            else {state.epoch: state.epoch_public_key}
        stray = find_valid_seal_in_tail(data, start_offset=problem.offset, end_offset=len(data),
                                        node=state.node, epoch_keys=keys, after_seq=after_seq)
        if stray is not None:
            return fail(problem.offset, problem.seq, f"{problem.problem}, but a valid seal for "
                        f"seq {stray.seal.seq} follows at offset {stray.offset} (sealed records "
                        "damaged)")
        unsealed_bytes = len(data) - problem.offset
        return fail(problem.offset, problem.seq, f"{problem.problem}: the {unsealed_bytes} bytes "
                    "from here are covered by no seal (a torn write, which the next open cuts "
                    "off, or damage)")
    if sealed_end is None:
        return fail(len(data), state.next_seq, "truncation behind a seal: the segment holds no "
                    "valid seal")
    if sealed_end != len(data):
        what = "a torn write (the next open cuts it off)" if is_last else "truncation behind a seal"
        return fail(sealed_end, result.last_seal.next_seq if result.last_seal else None,
                    f"{len(data) - sealed_end} unsealed bytes after the last seal: {what}")
    return True


def _verify_start(progress: _Progress, *, public_key: bytes | None,
                  check_signatures: bool) -> None:
    """A journal starts at genesis, or at a segment the latest prune manifest accounts for."""
    header = progress.first_header
    state = progress.state
    assert header is not None and state is not None
    if header.segment_index == 0 and header.first_seq == 0 \
            and header.previous_head == GENESIS_PREVIOUS_HEAD:
        return  # the walker checked the genesis record and every key from there
    name = f"segment-{header.segment_index:08d}.journal"
    if progress.manifest_problem is not None:
        problem: str | None = progress.manifest_problem
    elif progress.latest_manifest is None:
        problem = (f"missing segment: the journal starts at segment {header.segment_index} "
                   f"(seq {header.first_seq}) and holds no prune manifest")
    else:
        problem = check_manifest(progress.latest_manifest, first_header=header,
                                 first_epoch=state.first_epoch_seen,
                                 trusted_genesis_key=public_key,
                                 check_signatures=check_signatures)
        state.genesis_public_key = progress.latest_manifest.genesis_public_key
    if problem is not None:
        progress.problems.append(VerifyProblem(segment=name, offset=0, seq=header.first_seq,
                                               problem=problem))


def _report(progress: _Progress, public_key: bytes | None) -> VerifyReport:
    state = progress.state
    header = progress.first_header
    manifest = progress.latest_manifest
    is_pruned = header is not None and header.segment_index > 0
    pruned = len(manifest.pruned) if manifest is not None and is_pruned else 0
    key_epochs = 0 if state is None or state.epoch is None else state.epoch + 1
    return VerifyReport(
        problems=progress.problems,
        warnings=progress.warnings,
        node=None if state is None else state.node,
        records=0 if state is None else state.records,
        segments=progress.segments,
        seals=0 if state is None else state.seals,
        key_epochs=key_epochs,
        pruned_segments=pruned,
        first_seq=None if header is None else header.first_seq,
        last_seq=None if state is None or state.records == 0 else state.next_seq - 1,
        first_wall_ns=None if state is None else state.first_wall_ns,
        last_wall_ns=None if state is None else state.last_wall_ns,
        genesis_public_key=None if state is None else state.genesis_public_key,
        is_genesis_key_trusted=public_key is not None and not progress.problems,
    )
