"""Key evolution: each new segment and each interval starts an epoch; old keys are erased."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journal import Journal, JournalKeyError, kinds, read_records, verify_journal
from journal.keys import read_genesis_public_key
from journal.seal import EpochAnnouncement
from journal.testing import WALL_BASE_NS, segment_paths, write_journal


def _key_files(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "keys").glob("epoch-*.key"))


def test_a_new_segment_starts_an_epoch_and_the_old_private_key_is_gone(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=True, monotonic_ns=0, wall_ns=0,
                           segment_bytes_max=2000)
    genesis_key_file = directory / "keys" / "epoch-00000000.key"
    # A second name for the same inode shows what became of the key's bytes.
    witness = tmp_path / "witness"
    os.link(genesis_key_file, witness)
    assert witness.read_bytes() != bytes(32)
    while len(segment_paths(directory)) < 2:
        journal.append(100, ["x" * 50], monotonic_ns=1, wall_ns=WALL_BASE_NS)
        journal.commit()
    assert journal.epoch == 1
    assert not genesis_key_file.exists()
    assert _key_files(directory) == ["epoch-00000001.key"]
    assert witness.read_bytes() == bytes(32)  # overwritten before it was unlinked
    journal.close()
    assert verify_journal(directory).key_epochs == 2


def test_an_epoch_also_ends_after_the_interval_within_a_segment(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    hour_ns = 3600 * 10**9
    with Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                      epoch_interval_ns=hour_ns) as journal:
        for minute in range(0, 181, 10):
            journal.append(100, [minute], monotonic_ns=minute * 60 * 10**9, wall_ns=0)
            journal.commit()
        assert journal.epoch == 3
    assert len(segment_paths(directory)) == 1
    assert _key_files(directory) == ["epoch-00000003.key"]
    announcements = [EpochAnnouncement.from_payload(r.payload) for r in read_records(directory)
                     if r.kind == kinds.KEY_EPOCH]
    assert [a.epoch for a in announcements if a is not None] == [1, 2, 3]
    assert all(a is not None and a.is_signed_by_previous() for a in announcements)
    assert verify_journal(directory).is_ok


def test_a_monotonic_clock_that_went_backwards_starts_an_epoch(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal", node="alpha", sync=False,
                      monotonic_ns=10**12, wall_ns=0) as journal:
        journal.append(100, ["after reboot"], monotonic_ns=5, wall_ns=0)
        journal.commit()
        assert journal.epoch == 1


def test_the_genesis_public_key_is_kept_for_admins_and_matches_the_journal(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=100, segment_bytes_max=2000)
    genesis = read_genesis_public_key(directory)
    first = next(iter(read_records(directory)))
    assert first.kind == kinds.JOURNAL_CREATED
    assert isinstance(first.payload, list) and first.payload[2] == genesis
    assert genesis is not None
    report = verify_journal(directory, public_key=genesis)
    assert report.is_ok and report.is_genesis_key_trusted


def test_a_missing_current_key_refuses_to_extend_but_the_journal_still_verifies(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=20)
    for path in (directory / "keys").glob("epoch-*.key"):
        path.unlink()
    with pytest.raises(JournalKeyError, match="missing"):
        Journal.open(directory, node="alpha", sync=False)
    assert verify_journal(directory).is_ok


def test_a_key_left_by_a_rotation_that_never_became_durable_is_erased(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=20)
    orphan = directory / "keys" / "epoch-00000001.key"
    orphan.write_bytes(os.urandom(32))
    with Journal.open(directory, node="alpha", sync=False) as journal:
        assert journal.epoch == 0
    assert not orphan.exists()
    assert _key_files(directory) == ["epoch-00000000.key"]


def test_a_key_that_does_not_match_the_journal_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    write_journal(directory, records=20)
    (directory / "keys" / "epoch-00000000.key").write_bytes(os.urandom(32))
    with pytest.raises(JournalKeyError, match="does not match"):
        Journal.open(directory, node="alpha", sync=False)
