"""The routine committer thread: buffered records become durable; a failed commit is
reported once and ends the thread (the loop then stops the node)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
import trio

from hactl.daemon.routine_commit import RoutineCommitter, report_in_trio
from journal import Journal, JournalError
from journal.testing import engine_records

WAIT_S = 30.0  # how long a test waits for the thread at most: a hang, not a speed check


def test_buffered_records_are_committed_without_the_loop(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=True, monotonic_ns=0, wall_ns=0)
    committed = threading.Event()
    committer = RoutineCommitter(journal, 0.01, on_failure=lambda error: None)
    committer.start()
    try:
        journal.append(100, ["routine heartbeat"], monotonic_ns=1, wall_ns=0)
        for _ in range(int(WAIT_S / 0.01)):
            if not journal.has_uncommitted_records:
                committed.set()
                break
            committed.wait(0.01)
    finally:
        committer.stop()
    assert committed.is_set() and committer.commit_count >= 1
    journal.close()
    assert [payload for _, kind, payload in engine_records(directory) if kind == 100] == [
        ["routine heartbeat"]
    ]


def test_nothing_buffered_means_no_commit(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal", node="alpha", sync=True, monotonic_ns=0,
                           wall_ns=0)  # fmt: skip
    journal.commit()
    committer = RoutineCommitter(journal, 0.01, on_failure=lambda error: None)
    committer.start()
    threading.Event().wait(0.1)
    committer.stop()
    assert committer.commit_count == 0
    journal.close()


def test_a_failed_commit_is_reported_and_ends_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.open(tmp_path / "journal", node="alpha", sync=True, monotonic_ns=0,
                           wall_ns=0)  # fmt: skip
    journal.commit()

    def failing(descriptor: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    reported: list[JournalError] = []
    done = threading.Event()

    def on_failure(error: JournalError) -> None:
        reported.append(error)
        done.set()

    committer = RoutineCommitter(journal, 0.01, on_failure=on_failure)
    committer.start()
    journal.append(100, ["lost?"], monotonic_ns=2, wall_ns=0)
    assert done.wait(WAIT_S)
    committer.stop()  # the thread has ended: stop returns at once
    assert len(reported) == 1 and committer.commit_count == 0
    monkeypatch.undo()


class Stopped(Exception):
    pass


async def test_a_failure_in_the_thread_stops_the_trio_nursery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.open(tmp_path / "journal", node="alpha", sync=True, monotonic_ns=0,
                           wall_ns=0)  # fmt: skip
    journal.commit()
    monkeypatch.setattr(os, "fdatasync", _failing_fdatasync)

    async def stop(error: JournalError) -> None:
        raise Stopped(str(error))

    with pytest.RaisesGroup(Stopped):
        async with trio.open_nursery() as nursery:
            committer = RoutineCommitter(journal, 0.01, on_failure=report_in_trio(nursery, stop))
            committer.start()
            journal.append(100, ["lost?"], monotonic_ns=2, wall_ns=0)
            try:
                await trio.sleep_forever()  # until stop's exception cancels the nursery
            finally:
                committer.stop()
    monkeypatch.undo()


def _failing_fdatasync(descriptor: int) -> None:
    raise OSError(errno.EIO, "Input/output error")
