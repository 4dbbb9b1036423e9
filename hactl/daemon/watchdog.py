"""ha.cf's `watchdog DEVICE` (Heartbeat's directive): a daemon that hangs gets its node reset.

A Linux watchdog device (softdog, or a hardware timer) resets the machine when nobody has
written to it for its timeout. The daemon opens the device at start and writes one byte
from its main loop (the shell's loop, not a task of its own), at most every half
keepalive. The loop wakes at least every keepalive to send a heartbeat, so while it runs
the device is fed; a loop that hangs (trio blocked, an await that never returns) stops
feeding, and the node is reset once the device's timeout passes.

A clean shutdown writes the magic 'V' before closing, which disarms drivers that honour it
(`nowayout` off). Every other exit leaves the device armed, on purpose: a daemon killed,
self-fenced or stopped by a failed journal write may leave resources behind, and the reset
is what makes them safe. A device that cannot be opened (or stops taking writes) is logged
and journaled; the node runs on without it, as Heartbeat did.

Under tests (pytest, or HACTL_TEST_FORBID_REBOOT set, as the test lab does) or outside
production, only regular files and FIFOs are accepted: a character device is refused, so
no test can arm a real watchdog.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass

FEED_BYTE = b"\0"
DISARM_BYTE = b"V"  # the "magic close" of linux/Documentation/watchdog/watchdog-api.rst
WDIOC_GETTIMEOUT = 0x80045707  # _IOR('W', 7, int)

logger = logging.getLogger("hactl.daemon")


class WatchdogError(OSError):
    """The watchdog device cannot be used; the message says why."""


def is_test_run() -> bool:
    return "pytest" in sys.modules or "HACTL_TEST_FORBID_REBOOT" in os.environ


@dataclass(slots=True, kw_only=True)
class Watchdog:
    """An open watchdog device, fed from the main loop."""

    path: str
    fd: int
    min_gap_ms: int
    timeout_s: int | None = None  # the device's own, when it says (WDIOC_GETTIMEOUT)
    last_fed_ms: int | None = None
    feed_count: int = 0
    problem: str | None = None  # the first write error; feeding goes on trying
    on_problem: Callable[[str], None] | None = None  # e.g. journal it (main.py)

    @classmethod
    def open(cls, path: str, *, keepalive_ms: int, is_production: bool) -> Watchdog:
        if not is_production or is_test_run():
            try:
                mode = os.stat(path).st_mode
            except OSError as error:
                raise WatchdogError(error.errno, f"{path}: {error.strerror}") from None
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise WatchdogError(
                    errno.EPERM, f"{path}: only a regular file or FIFO is used under tests"
                )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            raise WatchdogError(error.errno, f"{path}: {error.strerror}") from None
        watchdog = cls(path=path, fd=fd, min_gap_ms=max(keepalive_ms // 2, 1),
                       timeout_s=_device_timeout_s(fd))  # fmt: skip
        if watchdog.timeout_s is not None and watchdog.timeout_s * 1000 < 2 * keepalive_ms:
            logger.warning("watchdog %s: timeout %d s is under two keepalives; the node may "
                           "be reset while healthy", path, watchdog.timeout_s)  # fmt: skip
        return watchdog

    def feed(self, now_ms: int) -> bool:
        """Write the feed byte unless the last one is under half a keepalive old."""
        if self.fd < 0:
            return False
        if self.last_fed_ms is not None and now_ms - self.last_fed_ms < self.min_gap_ms:
            return False
        self.last_fed_ms = now_ms
        try:
            os.write(self.fd, FEED_BYTE)
        except OSError as error:
            if self.problem is None:
                self.problem = f"{self.path}: {error.strerror}"
                logger.error("watchdog: cannot write %s", self.problem)
                if self.on_problem is not None:
                    self.on_problem(self.problem)
            return False
        self.feed_count += 1
        return True

    def disarm(self) -> None:
        """Clean shutdown: the magic 'V', then close, so the node is not reset."""
        if self.fd < 0:
            return
        try:
            os.write(self.fd, DISARM_BYTE)
        except OSError as error:
            logger.error("watchdog: cannot disarm %s: %s", self.path, error.strerror)
        self.close()

    def close(self) -> None:
        """Close without disarming (the device, if armed, will reset the node)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _device_timeout_s(fd: int) -> int | None:
    try:
        answer = fcntl.ioctl(fd, WDIOC_GETTIMEOUT, struct.pack("i", 0))
    except OSError:
        return None  # not a watchdog driver (a file, a FIFO): no timeout to check
    (timeout_s,) = struct.unpack("i", answer)
    return int(timeout_s) if timeout_s > 0 else None
