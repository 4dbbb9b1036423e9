"""A Linux timerfd: a file descriptor that becomes readable at a CLOCK_MONOTONIC instant.

The node's loop waits for its next engine deadline and its sockets in one `epoll` (see
`hactl/daemon/input_wait.py`). A trio timeout would do the same, but each expiry runs
trio's cancellation machinery (raise `Cancelled`, abort the wait, unwind) on every
keepalive. A timerfd is one syscall to arm, and its expiry is just a readable descriptor.

Python gains `os.timerfd_create` in 3.13; until RHEL's Python has it, libc through ctypes.
`time.monotonic_ns()` reads CLOCK_MONOTONIC on Linux, the clock the engine's deadlines
(and this timer's absolute expiry) are in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1
_NS_PER_S = 1_000_000_000
_MUST_SET = -1  # not a settable instant: the next arm_at_ns always calls timerfd_settime


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("it_interval", _Timespec), ("it_value", _Timespec))


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.timerfd_create.argtypes = (ctypes.c_int, ctypes.c_int)
_libc.timerfd_create.restype = ctypes.c_int
_libc.timerfd_settime.argtypes = (
    ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Itimerspec), ctypes.c_void_p,
)  # fmt: skip
_libc.timerfd_settime.restype = ctypes.c_int


def _check(result: int) -> int:
    if result < 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))
    return result


class TimerFd:
    """One-shot, non-blocking; `arm_at_ns(None)` disarms it."""

    def __init__(self) -> None:
        self.fd = _check(_libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC))
        self._spec = _Itimerspec()  # reused: arming allocates nothing
        self.armed_at_ns: int | None = _MUST_SET  # None: disarmed

    def arm_at_ns(self, monotonic_ns: int | None) -> None:
        """Fire at `monotonic_ns` (at once if it has passed); None disarms."""
        if monotonic_ns == self.armed_at_ns:
            return
        value = self._spec.it_value
        if monotonic_ns is None:
            value.tv_sec, value.tv_nsec = 0, 0  # all zero: disarmed
        else:
            # An all-zero expiry would disarm, so a past instant becomes the earliest one.
            seconds, nanoseconds = divmod(max(monotonic_ns, 1), _NS_PER_S)
            value.tv_sec, value.tv_nsec = seconds, nanoseconds
        _check(_libc.timerfd_settime(self.fd, _TFD_TIMER_ABSTIME, self._spec, None))
        self.armed_at_ns = monotonic_ns

    def note_fired(self) -> None:
        """It fired: the next `arm_at_ns` must rearm even for the same instant.

        No read is needed: `timerfd_settime` resets the expiry count, so rearming (or
        disarming) is what makes the descriptor unreadable again.
        """
        self.armed_at_ns = _MUST_SET

    def close(self) -> None:
        os.close(self.fd)
