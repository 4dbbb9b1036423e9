"""The routine committer: a plain thread that makes batched routine records durable.

Routine records (steady heartbeats, timer ticks, refused-packet reports) authorize
nothing, so the loop does not wait for them to reach the disk (hactl/daemon/shell.py);
this thread commits whatever is buffered every `interval_s`. It used to be a trio task
sleeping a second and handing each commit to a worker thread, which woke the trio loop
twice a second on an idle node (the sleep's expiry, the worker's result); a trio wake-up
from idle costs ~300-400 µs on the test VM. A thread of its own wakes only itself, and
the journal is thread-safe: commits are ordered by its commit lock, whoever makes them.

A failed commit must stop the node (after a failed fsync the kernel may have dropped the
pages); the thread reports it to the loop through `on_failure`, called in the thread, and
stops committing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable

import trio

from journal import Journal, JournalError


class RoutineCommitter:
    def __init__(
        self, journal: Journal, interval_s: float, on_failure: Callable[[JournalError], None]
    ) -> None:
        self.journal = journal
        self.interval_s = interval_s
        self.on_failure = on_failure
        self.commit_count = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="routine commit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the commit in progress, if any (what it commits stays committed)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            if not self.journal.has_uncommitted_records:  # a decisional commit took them
                continue
            try:
                self.journal.commit()
            except JournalError as error:
                self.on_failure(error)
                return
            self.commit_count += 1


def report_in_trio(
    nursery: trio.Nursery, stop: Callable[[JournalError], Awaitable[None]]
) -> Callable[[JournalError], None]:
    """An `on_failure` that runs `stop(error)` as a task of `nursery`, in its trio run.

    Call it in the trio run (it takes the run's token); the callback it returns is for the
    committer's thread. `stop` is expected to raise, ending the nursery and the node.
    """
    token = trio.lowlevel.current_trio_token()

    def report(error: JournalError) -> None:
        with contextlib.suppress(trio.RunFinishedError):  # the node is stopping anyway
            token.run_sync_soon(nursery.start_soon, stop, error)

    return report
