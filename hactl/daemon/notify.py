"""systemd readiness and watchdog notifications, without libsystemd.

The protocol is one datagram per notification to the unix socket named by
`NOTIFY_SOCKET` (a leading `@` means the abstract namespace). When the variable is unset
every call is a no-op, so the daemon behaves the same under any init system.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import trio

NOTIFY_ENVIRONMENT_VARIABLE = "NOTIFY_SOCKET"


def _address() -> str | None:
    path = os.environ.get(NOTIFY_ENVIRONMENT_VARIABLE)
    if not path:
        return None
    return "\0" + path[1:] if path.startswith("@") else path


def notify(message: str) -> bool:
    """Send `message` (e.g. "READY=1"); True when a socket was configured and it went out."""
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.send(message.encode())
    except OSError:
        return False  # a missing supervisor must never take the node down
    return True


def watchdog_interval_s() -> float | None:
    """Half of WATCHDOG_USEC (systemd's advice), or None when no watchdog is asked for."""
    text = os.environ.get("WATCHDOG_USEC")
    if not text or not text.isdigit() or int(text) == 0:
        return None
    return int(text) / 2_000_000


async def keep_watchdog_fed(
    interval_s: float, is_loop_alive: Callable[[], bool] | None = None
) -> None:
    """Send WATCHDOG=1 every `interval_s` until cancelled, while the main loop is alive.

    It runs in the root nursery beside the main loop, so if the whole trio run is stuck
    the watchdog stops too; `is_loop_alive` (the shell's loop went round recently) also
    stops it when only the loop hangs, on an await that never returns. Either way systemd
    restarts the node.
    """
    while True:
        if is_loop_alive is None or is_loop_alive():
            notify("WATCHDOG=1")
        await trio.sleep(interval_s)
