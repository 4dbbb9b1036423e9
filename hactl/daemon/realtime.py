"""`realtime on`: ask for SCHED_RR and locked memory, best effort, and say what we got.

A heartbeat sender that gets swapped out or starved by a busy machine causes a false
failover, which is why Heartbeat ran realtime. Either request may be refused (no
privilege, a container); the daemon then runs normally and the log says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

REALTIME_PRIORITY = 1  # above every normal process, below the kernel's own threads
_MCL_CURRENT = 1
_MCL_FUTURE = 2

logger = logging.getLogger("hactl.daemon")


def enter_realtime() -> tuple[bool, bool]:
    """Try SCHED_RR and mlockall; return (is_scheduled_realtime, is_memory_locked)."""
    is_scheduled = _try_round_robin()
    is_locked = _try_lock_memory()
    logger.info(
        "realtime on: SCHED_RR %s, mlockall %s",
        "granted" if is_scheduled else "refused",
        "granted" if is_locked else "refused",
    )
    return is_scheduled, is_locked


def _try_round_robin() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
    except (OSError, AttributeError) as error:
        logger.warning("realtime: cannot get SCHED_RR: %s", error)
        return False
    return True


def _try_lock_memory() -> bool:
    library_name = ctypes.util.find_library("c")
    if library_name is None:
        logger.warning("realtime: no C library found for mlockall")
        return False
    libc = ctypes.CDLL(library_name, use_errno=True)
    if libc.mlockall(_MCL_CURRENT | _MCL_FUTURE) != 0:
        logger.warning("realtime: mlockall refused: %s", os.strerror(ctypes.get_errno()))
        return False
    return True
