"""One shared netlink socket (pyroute2 IPRoute) for the IP agents, used from worker threads.

Opening an IPRoute costs as much as several requests on an open one (milliseconds on a
busy machine), and a takeover's budget is 10 ms, so the socket is opened once and kept.
A lock serialises its use: IPRoute is not thread-safe, and agents call it from trio's
worker threads. A request that fails at the socket level (not a netlink error answer such
as "File exists") drops the socket, so the next request starts from a fresh one.

The socket belongs to the network namespace this process was in when it was first used;
the daemon runs in one namespace for its whole life, so that is the one it manages.

This is the one module of hactl that imports pyroute2, and it imports only IPRoute and
NetlinkError. pyroute2's package `__init__` imports every family it supports (NDB with
sqlite3, IPDB, conntrack, nftables, wireguard, plan9 ...): about 60 modules and 6 MB that
stay resident in the daemon. `_register_without_init` makes the package importable
without running that `__init__`; any other use of `pyroute2.NAME` (a test, a bench,
`from pyroute2 import NDB`) still works, as the first such access runs it after all.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _register_without_init(name: str) -> None:
    """Put package `name` in sys.modules with its `__init__` not run (yet); see above."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, f"{name} is a dependency of hactl"
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(attribute: str) -> object:
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")  # a submodule: still lean
        delattr(package, "__getattr__")
        loader.exec_module(package)  # anything else: what `import pyroute2` would give
        return getattr(package, attribute)

    setattr(package, "__getattr__", complete)  # noqa: B010 - a module's own __getattr__
    sys.modules[name] = package


_register_without_init("pyroute2")

from pyroute2.iproute.linux import IPRoute  # noqa: E402 - after the registration above
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402

__all__ = ["IPRoute", "NetlinkError", "netlink_session"]

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
