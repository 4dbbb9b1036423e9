"""Retention: prune whole segments behind a snapshot, keeping the chain provable.

Pruning deletes the oldest segments, but a verifier must still be able to tie what is
left to the genesis key. The PRUNE_MANIFEST record (sealed in the retained part) carries,
cumulatively since genesis:

* for each pruned segment: index, first and last seq, the head it continued from, its
  last head, and its final seal with that seal record's exact body, so the boundary
  heads are proven by a signature from the epoch that wrote them;
* every key-epoch announcement in the pruned range, so the key chain from the genesis
  key to the first retained segment's key is still checkable.

Someone holding today's key can therefore drop history (as pruning does), but cannot
rewrite any of it: the retained chain must start exactly at a head sealed long ago.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from journal import kinds
from journal.chain import ChainState, walk_segment
from journal.errors import JournalError
from journal.framing import (
    FRAME_HEADER_BYTES,
    GENESIS_PREVIOUS_HEAD,
    SegmentHeader,
    chain_head,
    decode_body,
    decode_segment_header,
)
from journal.seal import EpochAnnouncement, Seal, seal_from_payload
from journal.segments import list_segments

MANIFEST_VERSION = 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PruneResult:
    segments_pruned: int
    bytes_freed: int
    last_pruned_seq: int | None  # records up to here are gone from disk


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrunedSegment:
    segment_index: int
    first_seq: int
    last_seq: int
    previous_head: bytes
    last_head: bytes
    last_seal: Seal
    last_seal_body: bytes

    def to_list(self) -> list[object]:
        return [self.segment_index, self.first_seq, self.last_seq, self.previous_head,
                self.last_head, self.last_seal.to_list(), self.last_seal_body]

    @classmethod
    def from_list(cls, fields: object) -> PrunedSegment:
        if not (isinstance(fields, list) and len(fields) == 7):
            raise ValueError("pruned segment entry has the wrong shape")
        index, first_seq, last_seq, previous_head, last_head, seal, body = fields
        return cls(segment_index=index, first_seq=first_seq, last_seq=last_seq,
                   previous_head=previous_head, last_head=last_head,
                   last_seal=Seal.from_list(seal), last_seal_body=body)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PruneManifest:
    genesis_public_key: bytes
    pruned: list[PrunedSegment]
    epochs: list[EpochAnnouncement]

    def to_payload(self) -> list[object]:
        return [MANIFEST_VERSION, self.genesis_public_key,
                [entry.to_list() for entry in self.pruned],
                [announcement.to_list() for announcement in self.epochs]]

    @classmethod
    def from_payload(cls, payload: object) -> PruneManifest:
        if not (isinstance(payload, list) and len(payload) == 4 and payload[0] == MANIFEST_VERSION
                and isinstance(payload[1], bytes) and isinstance(payload[2], list)
                and isinstance(payload[3], list)):
            raise ValueError("prune manifest has the wrong shape")
        epochs = [EpochAnnouncement.from_list(fields) for fields in payload[3]]
        if any(announcement is None for announcement in epochs):
            raise ValueError("prune manifest holds a malformed key epoch")
        return cls(genesis_public_key=payload[1],
                   pruned=[PrunedSegment.from_list(fields) for fields in payload[2]],
                   epochs=[a for a in epochs if a is not None])


@dataclasses.dataclass(slots=True, kw_only=True)
class _Survey:
    pruned: list[PrunedSegment] = dataclasses.field(default_factory=list)
    epochs: list[EpochAnnouncement] = dataclasses.field(default_factory=list)
    latest_manifest: PruneManifest | None = None
    paths: list[Path] = dataclasses.field(default_factory=list)
    bytes_freed: int = 0


def build_manifest(directory: Path, *, node: str, genesis_public_key: bytes,
                   prune_before_index: int) -> tuple[PruneManifest, list[Path], int]:
    """The manifest after pruning every segment below `prune_before_index`, the files to
    delete, and the bytes they hold. Reads segments as they are on disk."""
    survey = _Survey()
    segments = list_segments(directory)
    for index, path in segments:
        _survey_segment(path, index=index, node=node, survey=survey,
                        is_to_prune=index < prune_before_index)
    previous = survey.latest_manifest
    oldest_present = segments[0][0] if segments else 0
    kept_entries = [e for e in previous.pruned if e.segment_index < oldest_present] \
        if previous is not None else []
    kept_epochs = list(previous.epochs) if previous is not None and oldest_present > 0 else []
    manifest = PruneManifest(genesis_public_key=genesis_public_key,
                             pruned=kept_entries + survey.pruned,
                             epochs=kept_epochs + survey.epochs)
    return manifest, survey.paths, survey.bytes_freed


def _survey_segment(path: Path, *, index: int, node: str, survey: _Survey,
                    is_to_prune: bool) -> None:
    data = path.read_bytes()
    header, problem = decode_segment_header(data, len(data))
    if header is None:
        raise JournalError(f"{path}: cannot prune: {problem}")
    state = ChainState(node=node, next_seq=header.first_seq, head=header.previous_head,
                       epoch=None, epoch_public_key=None)

    def visit(seq: int, kind: int, monotonic_ns: int, wall_ns: int, payload: object,
              head: bytes) -> None:
        if kind == kinds.PRUNE_MANIFEST:
            survey.latest_manifest = PruneManifest.from_payload(payload)
        elif kind == kinds.KEY_EPOCH and is_to_prune:
            announcement = EpochAnnouncement.from_payload(payload)
            assert announcement is not None, "the walker checked it"
            survey.epochs.append(announcement)

    result = walk_segment(data, start_offset=header.header_bytes, end_offset=len(data),
                          state=state, check_signatures=False, visitor=visit)
    if not is_to_prune:
        return  # a torn end of the live segment is fine here: only its manifests matter
    point = result.last_seal
    if result.problem is not None or point is None or point.end_offset != len(data):
        raise JournalError(f"{path}: cannot prune a segment that does not end with a seal")
    body = data[point.start_offset + FRAME_HEADER_BYTES:point.end_offset]
    survey.pruned.append(PrunedSegment(
        segment_index=index, first_seq=header.first_seq, last_seq=point.next_seq - 1,
        previous_head=header.previous_head, last_head=point.head, last_seal=point.seal,
        last_seal_body=body))
    survey.paths.append(path)
    survey.bytes_freed += len(data)


def check_manifest(manifest: PruneManifest, *, first_header: SegmentHeader,
                   first_epoch: EpochAnnouncement | None, trusted_genesis_key: bytes | None,
                   check_signatures: bool) -> str | None:
    """Does `manifest` prove the chain from genesis up to `first_header`? None when yes."""
    if trusted_genesis_key is not None and manifest.genesis_public_key != trusted_genesis_key:
        return "prune manifest names a different genesis public key than the trusted one"
    keys = {0: manifest.genesis_public_key}
    for announcement in manifest.epochs:
        if keys.get(announcement.epoch - 1) != announcement.previous_public_key:
            return f"prune manifest: bad key rotation at epoch {announcement.epoch}"
        if check_signatures and not announcement.is_signed_by_previous():
            return f"prune manifest: epoch {announcement.epoch} is not signed by its predecessor"
        keys[announcement.epoch] = announcement.public_key
    expected_index, expected_seq, expected_head = 0, 0, GENESIS_PREVIOUS_HEAD
    for entry in manifest.pruned:
        problem = _check_entry(entry, keys, expected_index, expected_seq, expected_head,
                               check_signatures)
        if problem is not None:
            return problem
        expected_index, expected_seq = entry.segment_index + 1, entry.last_seq + 1
        expected_head = entry.last_head
    if (first_header.segment_index, first_header.first_seq, first_header.previous_head) != (
            expected_index, expected_seq, expected_head):
        return (f"missing segment: the first segment present (index "
                f"{first_header.segment_index}, seq {first_header.first_seq}) does not continue "
                f"the pruned range (index {expected_index}, seq {expected_seq})")
    last_epoch = max(keys)
    if first_epoch is None or first_epoch.epoch != last_epoch + 1 \
            or first_epoch.previous_public_key != keys[last_epoch]:
        return "bad key rotation: the first retained key epoch does not follow the manifest's"
    return None


def _check_entry(entry: PrunedSegment, keys: dict[int, bytes], index: int, seq: int,
                 head: bytes, check_signatures: bool) -> str | None:
    name = f"prune manifest entry for segment {entry.segment_index}"
    if (entry.segment_index, entry.first_seq, entry.previous_head) != (index, seq, head):
        return f"{name}: does not continue the previous one (missing segment)"
    seal = entry.last_seal
    key = keys.get(seal.epoch)
    if key is None or (check_signatures and not seal.is_signed_by(key)):
        return f"{name}: bad signature on its last seal"
    if chain_head(seal.head, entry.last_seal_body) != entry.last_head:
        return f"{name}: last head is not the chain over its sealed record"
    fields = decode_body(entry.last_seal_body)
    if fields is None or fields[0] != entry.last_seq or fields[1] != kinds.SEAL \
            or seal_from_payload(fields[4], seal.node) != seal or seal.seq != entry.last_seq - 1:
        return f"{name}: its last record is not the seal it names"
    return None
