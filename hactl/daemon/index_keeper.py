"""Keep the postmortem index warm: index each finished journal segment in the background.

`hactl postmortem` answers from the index beside the segments (hactl/postmortem/index.py)
in about half a second for a month of journal, but only once the index covers the
journal: building it replays every record through the engine (minutes for a month). The
daemon therefore extends it as the journal grows. Every INDEX_CHECK_S it lists the
journal directory; when a segment was finished (the writer rotated to a new one) since
the last successful run, it starts a child process that verifies the journal from its
checkpoint and extends the index, exactly what `hactl postmortem` itself would do, so
the next answer only reads it. At start-up the first check indexes whatever an older
daemon left unindexed.

Why a child process and why so polite: the work is CPU-bound Python (the GIL would stall
the trio loop if it ran in a worker thread) and must never delay a heartbeat or a
decisional commit. The child runs with SCHED_IDLE (only on a CPU nothing else wants; the
kernel also gives it the idle I/O class) and nice 19, drops the daemon's SCHED_RR before
anything else and does not inherit its memory locks (exec clears them), and imports
the postmortem code itself, so the daemon keeps none of it resident. Why polling: one
directory listing a minute is free, and it leaves the journal writer and the shell's
loop untouched. The index is
derived data: a failed run (a write torn under the reader, a full disk) is logged and
simply tried again at the next check.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import trio

from journal.segments import list_segments

INDEX_CHECK_S = 60.0
CHILD_NICE = 19

logger = logging.getLogger("hactl.daemon")


async def keep_index_warm(journal_dir: Path, *, check_s: float = INDEX_CHECK_S) -> None:
    """Forever: after each rotation, extend the postmortem index in an idle child."""
    indexed_through = -1  # the newest finished segment a child indexed
    while True:
        await trio.sleep(check_s)
        finished = await trio.to_thread.run_sync(last_finished_segment, journal_dir)
        if finished is None or finished <= indexed_through:
            continue
        started = time.monotonic()
        status = await run_index_child(journal_dir)
        if status == 0:
            indexed_through = finished
            logger.info("postmortem index: extended through segment %d in %.1f s", finished,
                        time.monotonic() - started)  # fmt: skip
        else:
            logger.warning("postmortem index: the indexing child exited with %d; retrying "
                           "in %g s", status, check_s)  # fmt: skip


def last_finished_segment(journal_dir: Path) -> int | None:
    """The index of the newest segment the writer has rotated away from, if any."""
    segments = list_segments(journal_dir)
    return segments[-2][0] if len(segments) >= 2 else None


async def run_index_child(journal_dir: Path) -> int:
    """Run the indexing child to its end; return its exit status (negative: a signal)."""
    # The same interpreter and module path as the daemon (the RPM launcher builds its
    # own), in isolated mode so that nothing in the environment changes which code runs.
    # The first statement drops the SCHED_RR the child inherits (subprocess has no
    # scheduler option, and preexec_fn is unsafe in a threaded process): only the
    # interpreter's start-up, a few milliseconds once per rotation, runs before it.
    code = (f"import os; os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0)); "
            f"os.nice({CHILD_NICE}); import sys; sys.path[:] = {sys.path!r}; "
            f"from hactl.daemon.index_keeper import child_main; child_main({str(journal_dir)!r})")
    process = await trio.lowlevel.open_process([sys.executable, "-I", "-c", code])
    try:
        return await process.wait()
    finally:
        if process.returncode is None:  # the daemon stops: the child must not outlive it
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


def child_main(journal_dir: str) -> None:
    """The child: verify from the checkpoint and extend the index, as `hactl postmortem`."""
    assert os.sched_getscheduler(0) == os.SCHED_IDLE, "run_index_child lowers it first"
    from hactl.postmortem.index import load_journal_indexed

    sys.exit(0 if load_journal_indexed(Path(journal_dir)) is not None else 1)
