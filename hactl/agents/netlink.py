"""One shared netlink socket (pyroute2 IPRoute) for the IP agents, used from worker threads.

Opening an IPRoute costs as much as several requests on an open one (milliseconds on a
busy machine), and a takeover's budget is 10 ms, so the socket is opened once and kept.
A lock serialises its use: IPRoute is not thread-safe, and agents call it from trio's
worker threads. A request that fails at the socket level (not a netlink error answer such
as "File exists") drops the socket, so the next request starts from a fresh one.

The socket belongs to the network namespace this process was in when it was first used;
the daemon runs in one namespace for its whole life, so that is the one it manages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

_lock = threading.Lock()
_shared: list[Any] = []  # zero or one open IPRoute


@contextmanager
def netlink_session() -> Iterator[Any]:
    """The shared IPRoute, held exclusively for the `with` block. Blocking: call in a thread."""
    with _lock:
        if not _shared:
            _shared.append(IPRoute())
        ipr = _shared[0]
        try:
            yield ipr
        except NetlinkError:
            raise  # the kernel answered: the socket is fine
        except OSError:
            _shared.clear()
            ipr.close()
            raise
