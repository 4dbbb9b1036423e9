"""`realtime on`: ask for SCHED_RR and locked memory, best effort, and say what we got.

A heartbeat sender that gets swapped out or starved by a busy machine causes a false
failover, which is why Heartbeat ran realtime. Either request may be refused (no
privilege, a container); the daemon then runs normally and the log says so.

Memory is locked with `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`, once every
module is imported (hactl/daemon/main.py imports the whole daemon before `prepare`):
every page the daemon has touched is locked now, and every page it touches later is
locked when first touched, so no page the daemon uses is ever paged out, which is the
guarantee a heartbeat needs. Heartbeat's `cl_make_realtime` called mlockall(MCL_CURRENT |
MCL_FUTURE) without MCL_ONFAULT (Linux 4.4 added it), which faults in every mapping whole:
right for a small C daemon, but in Python most mappings are sparsely used (the shared
libraries' code, such as cryptography's 12 MB Rust library of which the daemon runs a
part; trio's worker threads' 8 MB stacks; glibc's per-thread malloc arenas), and that
made about 40 MB of the idle RSS (issue 5). The cost: a page first used late (code of a
path that never ran since start-up) takes a minor fault then, or a disk read if the page
cache dropped it. A kernel without MCL_ONFAULT gets Heartbeat's MCL_CURRENT | MCL_FUTURE.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os

REALTIME_PRIORITY = 1  # above every normal process, below the kernel's own threads
_MCL_CURRENT = 1
_MCL_FUTURE = 2
_MCL_ONFAULT = 4  # Linux 4.4

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
    if libc.mlockall(_MCL_CURRENT | _MCL_FUTURE | _MCL_ONFAULT) == 0:
        return True
    if ctypes.get_errno() == errno.EINVAL:  # a kernel before 4.4: lock as Heartbeat did
        logger.info("realtime: no MCL_ONFAULT; locking every mapping whole")
        if libc.mlockall(_MCL_CURRENT | _MCL_FUTURE) == 0:
            return True
    logger.warning("realtime: mlockall refused: %s", os.strerror(ctypes.get_errno()))
    return False
