"""Durability: commit flushes data (and new directory entries); a failed flush stops all.

os.fdatasync/os.fsync are wrapped, not replaced: the real call still runs, the wrapper
only records it or injects the failure a dying disk would report.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from journal import Journal, JournalFsyncError, verify_journal
from journal.testing import engine_records


def _recording(calls: list[str], name: str, real: Callable[[int], None]) -> Callable[[int], None]:
    def wrapper(descriptor: int) -> None:
        calls.append(name)
        real(descriptor)

    return wrapper


def test_commit_fdatasyncs_and_a_new_segment_fsyncs_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.open(tmp_path / "journal", node="alpha", sync=True, monotonic_ns=0,
                           wall_ns=0, segment_bytes_max=1500)
    calls: list[str] = []
    monkeypatch.setattr(os, "fdatasync", _recording(calls, "fdatasync", os.fdatasync))
    monkeypatch.setattr(os, "fsync", _recording(calls, "fsync", os.fsync))
    journal.append(100, ["x"], monotonic_ns=1, wall_ns=0)
    journal.commit()
    assert calls == ["fdatasync"]
    calls.clear()
    while journal.epoch == 0:  # until the segment rotates
        journal.append(100, ["x" * 100], monotonic_ns=1, wall_ns=0)
        journal.commit()
    # the rotation: new key file and its directory, the new segment, its directory, and
    # the old key overwritten before it was unlinked
    assert calls.count("fdatasync") >= 2 and calls.count("fsync") >= 3
    journal.close()


def test_a_failed_fdatasync_stops_the_journal_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=True, monotonic_ns=0, wall_ns=0)
    acknowledged = journal.append(100, ["acknowledged"], monotonic_ns=1, wall_ns=0)
    journal.commit()
    real_fdatasync = os.fdatasync
    failures = [OSError(errno.EIO, "Input/output error")]

    def failing_once(descriptor: int) -> None:
        if failures:
            raise failures.pop()
        real_fdatasync(descriptor)

    monkeypatch.setattr(os, "fdatasync", failing_once)
    journal.append(100, ["lost?"], monotonic_ns=2, wall_ns=0)
    with pytest.raises(JournalFsyncError, match="never retried"):
        journal.commit()
    # The disk "works" again, but the journal must not pretend nothing happened.
    with pytest.raises(JournalFsyncError):
        journal.append(100, ["after"], monotonic_ns=3, wall_ns=0)
    with pytest.raises(JournalFsyncError):
        journal.commit()
    journal.close()
    monkeypatch.undo()
    Journal.open(directory, node="alpha", sync=True).close()
    assert engine_records(directory)[0] == (acknowledged, 100, ["acknowledged"])
    assert verify_journal(directory).is_ok


def test_a_key_epoch_that_cannot_be_written_stops_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.open(tmp_path / "journal", node="alpha", sync=False, monotonic_ns=0,
                           wall_ns=0, epoch_interval_ns=1000)

    def disk_full(source: object, destination: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # the key file's atomic rename
    journal.append(100, ["due"], monotonic_ns=5000, wall_ns=0)
    with pytest.raises(JournalFsyncError, match="node must stop"):
        journal.commit()
    with pytest.raises(JournalFsyncError):
        journal.append(100, ["after"], monotonic_ns=5001, wall_ns=0)
    journal.close()
