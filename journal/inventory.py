"""What `hactl journal keys` shows: the genesis key and every key epoch, with where each began.

Epochs come from the records themselves (key-epoch announcements), and for a pruned
journal from the prune manifest, so the list reaches back to genesis either way.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from journal import kinds
from journal.keys import KeyStore, read_genesis_public_key
from journal.reader import read_records
from journal.retention import PruneManifest
from journal.seal import EpochAnnouncement


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EpochEntry:
    epoch: int
    public_key: bytes
    seq: int | None  # of its announcement (genesis: 0); None when pruned away
    wall_ns: int | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class KeyInventory:
    genesis_public_key: bytes | None
    epochs: list[EpochEntry]
    private_key_files: list[Path]


def describe_keys(directory: Path) -> KeyInventory:
    genesis = read_genesis_public_key(directory)
    epochs: dict[int, EpochEntry] = {}
    for record in read_records(directory):
        if record.kind == kinds.JOURNAL_CREATED and isinstance(record.payload, list):
            genesis = genesis or record.payload[2]
            epochs[0] = EpochEntry(epoch=0, public_key=record.payload[2], seq=record.seq,
                                   wall_ns=record.wall_ns)
        elif record.kind == kinds.KEY_EPOCH:
            announcement = EpochAnnouncement.from_payload(record.payload)
            if announcement is not None:
                epochs[announcement.epoch] = EpochEntry(
                    epoch=announcement.epoch, public_key=announcement.public_key,
                    seq=record.seq, wall_ns=record.wall_ns)
        elif record.kind == kinds.PRUNE_MANIFEST:
            _add_pruned_epochs(record.payload, epochs)
    key_files = sorted(KeyStore(directory, sync=False).epoch_key_files().values())
    return KeyInventory(genesis_public_key=genesis,
                        epochs=[epochs[epoch] for epoch in sorted(epochs)],
                        private_key_files=key_files)


def _add_pruned_epochs(payload: object, epochs: dict[int, EpochEntry]) -> None:
    try:
        manifest = PruneManifest.from_payload(payload)
    except (ValueError, AssertionError):
        return
    epochs.setdefault(0, EpochEntry(epoch=0, public_key=manifest.genesis_public_key, seq=None,
                                    wall_ns=None))
    for announcement in manifest.epochs:
        epochs.setdefault(announcement.epoch, EpochEntry(
            epoch=announcement.epoch, public_key=announcement.public_key, seq=None,
            wall_ns=None))
