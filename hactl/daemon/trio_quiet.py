"""When the loop may sleep in its own epoll without trio: no other task can run.

Each keepalive used to wake the node's loop through trio's scheduler: trio's epoll saw
the loop's epoll readable, rescheduled the loop's task, ran a scheduler round (deadlines,
a batch, a second epoll_wait) and stepped the task. On the test VM, where every keepalive
runs with cold caches, that round is a visible share of an idle daemon's CPU
(BENCHMARKS.md, "Idle CPU"). So when nothing but the loop can run in trio, the loop
blocks in its own epoll, which then also holds trio's epoll descriptor, with a timeout no
later than trio's next deadline. Anything trio would have woken for (a control client, an
agent's pipe or exit, a signal, a worker thread's result: all of these reach trio's
epoll, threads and signals through its wake-up socket) makes trio's descriptor readable,
and the loop hands the thread back to trio at once. A steady keepalive never enters trio.

"Nothing else can run" is tracked exactly with trio's public instrument hooks: a task
becomes runnable in `task_scheduled` and stops being so when it is stepped. Tasks that
were runnable before the instrument was added are waited out by two checkpoints (those
of the running batch step before the next batch; those already queued step in it).

What is not public is trio's epoll descriptor (`runner.io_manager._epoll`): where it
cannot be found (another trio version or I/O backend), or under a test's fake clock,
`quiet_trio()` returns None and the loop waits through trio as before. A test checks
that the daemon's trio version has it, so an upgrade that loses it fails there rather
than quietly costing CPU.
"""

from __future__ import annotations

import math
import select
import time

import trio

_NO_DEADLINE = -1


class TrioQuiet(trio.abc.Instrument):
    """Which tasks other than the loop's own are runnable, and trio's epoll descriptor."""

    def __init__(self, own_task: trio.lowlevel.Task, trio_epoll_fd: int) -> None:
        self.own_task = own_task
        self.trio_epoll_fd = trio_epoll_fd
        self._runnable: set[trio.lowlevel.Task] = set()
        # trio's earliest deadline, as a monotonic instant; only trio's tasks change it, and
        # they run only in scheduler rounds, which `before_io_wait` marks.
        self._next_deadline_ns = _NO_DEADLINE
        self._is_deadline_stale = True
        self._own_deadline = math.inf  # the loop task's, which changes without a round

    def task_scheduled(self, task: trio.lowlevel.Task) -> None:
        if task is not self.own_task:
            self._runnable.add(task)

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self._runnable.discard(task)

    @property
    def has_runnable_others(self) -> bool:
        return bool(self._runnable)

    def before_io_wait(self, timeout: float) -> None:
        self._is_deadline_stale = True

    def seconds_to_next_deadline(self) -> float:
        """How long trio may sleep: until its earliest deadline (math.inf for none).

        Asked of trio (its statistics, built afresh on each call) only after trio has run
        a scheduler round since the last time, or the loop's own task entered or left a
        cancel scope with a deadline: a steady keepalive asks nothing.
        """
        now_ns = time.monotonic_ns()
        own_deadline = trio.current_effective_deadline()
        if own_deadline != self._own_deadline:
            self._own_deadline, self._is_deadline_stale = own_deadline, True
        if self._is_deadline_stale:
            self._is_deadline_stale = False
            seconds = trio.lowlevel.current_statistics().seconds_to_next_deadline
            self._next_deadline_ns = (_NO_DEADLINE if math.isinf(seconds)
                                      else now_ns + math.ceil(seconds * 1e9))  # fmt: skip
        if self._next_deadline_ns == _NO_DEADLINE:
            return math.inf
        return max(0.0, (self._next_deadline_ns - now_ns) / 1e9)


async def quiet_trio() -> TrioQuiet | None:
    """Start tracking for the calling task, or None where the loop must wait through trio."""
    epoll_fd = trio_epoll_fd()
    if epoll_fd is None or type(trio.lowlevel.current_clock()).__name__ != "SystemClock":
        return None  # a MockClock's time is not the kernel's: its deadlines need trio
    quiet = TrioQuiet(trio.lowlevel.current_task(), epoll_fd)
    trio.lowlevel.add_instrument(quiet)
    for _ in range(2):  # wait out the tasks that were runnable before the instrument
        await trio.lowlevel.checkpoint()
    return quiet


def trio_epoll_fd() -> int | None:
    """The descriptor of trio's own epoll, from inside `trio.run`, where it can be found."""
    try:
        from trio._core._run import GLOBAL_RUN_CONTEXT

        epoll: object = GLOBAL_RUN_CONTEXT.runner.io_manager._epoll  # private: checked below
    except (ImportError, AttributeError, RuntimeError):
        return None
    if not isinstance(epoll, select.epoll):
        return None
    return epoll.fileno()


def poll_timeout_s(trio_deadline_s: float) -> float:
    """An epoll timeout that wakes for trio's next deadline (-1: it has none).

    The loop's own deadline needs none: its timerfd is in the same epoll.
    """
    return -1.0 if math.isinf(trio_deadline_s) else trio_deadline_s
