"""Where the node's loop waits: its sockets, its next deadline and posted inputs, in one epoll.

The loop (hactl/daemon/shell.py) used to take its inputs from a trio memory channel that
one receive task per link fed, with the engine's next deadline as a trio timeout: every
heartbeat went through two tasks, and every keepalive's timeout through trio's
cancellation machinery. Here the loop's own task waits on one private epoll holding:

- every link's socket (level-triggered), read here and handed to the loop in order;
- a timerfd armed at the engine's next deadline (hactl/daemon/timer_fd.py);
- an eventfd that `send` writes when another task (an agent's result, an admin command,
  a signal) posts an input while the loop sleeps through trio;
- trio's own epoll descriptor, when the loop sleeps outside trio (below).

While no other trio task can run, the loop blocks in this epoll itself rather than
through trio's scheduler (hactl/daemon/trio_quiet.py): a steady keepalive is one wake-up
and no trio scheduler round; anything trio must handle makes its descriptor readable and
the loop yields to it. Where that is not possible the loop's task waits for this epoll
through trio, one task step per wake-up. (What a keepalive costs on the test VM is mostly
Python running with cold caches: BENCHMARKS.md "Idle CPU".) Packets wait in the
kernel's socket buffer while the loop is busy (a commit, a send), where before a receive
task took them into the channel; they are stamped when read. At most
`DATAGRAMS_PER_WAKE` are read from one link per wake-up, so a flood on one link cannot
keep the loop from its deadline or its other links.
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import time
from typing import Generic, TypeVar

import trio

from engine.core.events import TimeAdvanced
from hactl.daemon.timer_fd import TimerFd
from hactl.daemon.transport.udp import Arrival, UdpTransport
from hactl.daemon.trio_quiet import TrioQuiet, poll_timeout_s, quiet_trio

DATAGRAMS_PER_WAKE = 64

Posted = TypeVar("Posted")


class InputWait(Generic[Posted]):
    """The loop's single waiting point; `send` posts an input from any task of the loop."""

    def __init__(self, transport: UdpTransport) -> None:
        self.transport = transport
        self._posted: collections.deque[Posted] = collections.deque()
        self._epoll = select.epoll()
        self._timer = TimerFd()
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._is_parked = False
        self._is_wake_written = False
        self._link_by_fd: dict[int, int] = {}
        # Looked for at the first wait (it must run inside trio); None: wait through trio.
        self._quiet: TrioQuiet | None = None
        self._is_quiet_looked_for = False
        self._trio_epoll_fd = -1  # in this epoll while the loop sleeps outside trio
        self._epoll.register(self._timer.fd, select.EPOLLIN)
        self._epoll.register(self._wake_fd, select.EPOLLIN)

    def watch_links(self) -> None:
        """Add the transport's link sockets (once it has opened them)."""
        for index, sock in enumerate(self.transport.link_sockets()):
            self._link_by_fd[sock.fileno()] = index
            self._epoll.register(sock.fileno(), select.EPOLLIN)

    async def send(self, item: Posted) -> None:
        """Post `item` for the loop (the memory channel's `send`, which it replaces)."""
        self._posted.append(item)
        if self._is_parked and not self._is_wake_written:
            os.eventfd_write(self._wake_fd, 1)
            self._is_wake_written = True
        await trio.lowlevel.checkpoint()

    async def wait(self, deadline_ms: int | None) -> list[TimeAdvanced | Arrival | Posted]:
        """The inputs ready now, sleeping first if there are none and the deadline is ahead.

        A due deadline comes first, as `TimeAdvanced`, stamped before anything read after
        it, so the engine sees time only move forward.
        """
        if not self._is_quiet_looked_for:
            self._is_quiet_looked_for = True
            self._quiet = await quiet_trio()
            if self._quiet is not None:
                self._trio_epoll_fd = self._quiet.trio_epoll_fd
                self._epoll.register(self._trio_epoll_fd, select.EPOLLIN)
        if self._is_ready(deadline_ms):
            await trio.lowlevel.checkpoint()  # a scheduling point, as a wait would be
        else:
            self._timer.arm_at_ns(None if deadline_ms is None else deadline_ms * 1_000_000)
            if self._quiet is None:
                await self._wait_through_trio()
            else:
                await self._wait_in_own_epoll(self._quiet, deadline_ms)
        items: list[TimeAdvanced | Arrival | Posted] = []
        now_ms = _monotonic_ms()
        if deadline_ms is not None and now_ms >= deadline_ms:
            items.append(TimeAdvanced(now_ms=now_ms))
        for fd, _ in self._epoll.poll(0):
            if fd == self._trio_epoll_fd:
                continue  # trio's business: it polls its own epoll when the loop yields
            if fd == self._timer.fd:
                self._timer.note_fired()
            elif fd == self._wake_fd:
                _drain_eventfd(self._wake_fd)
                self._is_wake_written = False
            else:
                items.extend(self.transport.take_datagrams(self._link_by_fd[fd],
                                                           DATAGRAMS_PER_WAKE))  # fmt: skip
        items.extend(self._posted)
        self._posted.clear()
        return items

    @property
    def is_sleeping_outside_trio(self) -> bool:
        """Whether waits block in this epoll while trio has nothing to run (trio_quiet.py)."""
        return self._quiet is not None

    def _is_ready(self, deadline_ms: int | None) -> bool:
        return bool(self._posted) or (deadline_ms is not None and _monotonic_ms() >= deadline_ms)

    async def _wait_through_trio(self) -> None:
        self._is_parked = True
        try:
            await trio.lowlevel.wait_readable(self._epoll.fileno())
        finally:
            self._is_parked = False

    async def _wait_in_own_epoll(self, quiet: TrioQuiet, deadline_ms: int | None) -> None:
        """Block the thread in the loop's epoll while no other task can run (trio_quiet.py).

        Other tasks run only at this function's checkpoints, so what they post is seen
        after each; the eventfd is for `_wait_through_trio`.
        """
        while True:
            if quiet.has_runnable_others:
                await trio.lowlevel.checkpoint()  # theirs first; they may post an input
                if self._is_ready(deadline_ms) or self._has_own_input(self._epoll.poll(0)):
                    return
                continue
            ready = self._epoll.poll(poll_timeout_s(quiet.seconds_to_next_deadline()))
            if self._has_own_input(ready):
                return
            # trio's epoll is readable or its deadline came: its tasks' turn.
            await trio.lowlevel.checkpoint()
            if self._is_ready(deadline_ms):
                return

    def _has_own_input(self, ready: list[tuple[int, int]]) -> bool:
        return any(fd != self._trio_epoll_fd for fd, _ in ready)

    def close(self) -> None:
        trio.lowlevel.notify_closing(self._epoll.fileno())  # trio's epoll watches it
        self._epoll.close()
        self._timer.close()
        os.close(self._wake_fd)


def _drain_eventfd(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.eventfd_read(fd)


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000
