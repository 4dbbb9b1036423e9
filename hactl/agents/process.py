"""Run one agent process: no shell, its own process group, a timeout, bounded output.

Agents are other people's scripts, so the runner assumes the worst of them: a script may
hang, ignore SIGTERM, fork children that keep running, or leave a daemon holding its
stdout. Hence:

- `start_new_session=True` puts the script and everything it forks in a process group we
  can signal as one (a timeout kills the whole group: SIGTERM, a grace period, SIGKILL).
- Output goes to an anonymous temporary file, not a pipe: a daemon started by `start`
  that inherits stdout cannot make us wait for an end-of-file that never comes, and a
  chatty script cannot fill a pipe and stall. We keep the first few KiB.
- Cancellation (daemon shutdown) kills the group too, shielded, so no agent outlives
  the call that started it unobserved.
A process that exits normally keeps its children: a `start` action legitimately leaves a
service running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import trio

from hactl.agents.results import OUTPUT_LIMIT_BYTES


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessRun:
    """How one process run ended."""

    exit_code: int | None  # None when it was killed after its timeout
    is_timed_out: bool
    is_killed: bool  # SIGKILL was needed (it outlived SIGTERM and the grace period)
    duration_ms: int
    output: str


async def run_process(
    argv: Sequence[str],
    *,
    environment: Mapping[str, str],
    timeout_ms: int,
    kill_grace_ms: int,
    working_directory: Path | None = None,
    output_limit_bytes: int = OUTPUT_LIMIT_BYTES,
) -> ProcessRun:
    """Run `argv` to completion or until `timeout_ms`, then kill its whole process group.

    Raises OSError when the program cannot be executed at all (missing, not executable);
    callers turn that into a NOT_INSTALLED result.
    """
    assert argv, "an empty command line is a caller bug"
    assert timeout_ms > 0, timeout_ms
    started_s = trio.current_time()
    with tempfile.TemporaryFile(prefix="hactl-agent-") as output_file:
        process = await trio.lowlevel.open_process(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output_file,
            stderr=subprocess.STDOUT,
            env=dict(environment),
            cwd=working_directory,
            start_new_session=True,
        )
        is_timed_out = False
        is_killed = False
        try:
            with trio.move_on_after(timeout_ms / 1000):
                await process.wait()
            if process.returncode is None:
                is_timed_out = True
                is_killed = await _terminate_group(process, kill_grace_ms)
        finally:
            if process.returncode is None:  # cancelled from outside: leave nothing behind
                with trio.CancelScope(shield=True):
                    _signal_group(process.pid, signal.SIGKILL)
                    await process.wait()
        duration_ms = round((trio.current_time() - started_s) * 1000)
        output = _read_head(output_file, output_limit_bytes)
    return ProcessRun(
        exit_code=None if is_timed_out else process.returncode,
        is_timed_out=is_timed_out,
        is_killed=is_killed,
        duration_ms=duration_ms,
        output=output,
    )


async def _terminate_group(process: trio.Process, kill_grace_ms: int) -> bool:
    """SIGTERM the group, wait for the leader up to the grace period, then SIGKILL the group.

    The final SIGKILL goes to the group even when the leader obeyed SIGTERM: a child that
    ignores it would otherwise survive its timed-out parent. Returns whether the leader
    itself needed SIGKILL.
    """
    _signal_group(process.pid, signal.SIGTERM)
    with trio.move_on_after(kill_grace_ms / 1000):
        await process.wait()
    is_leader_alive = process.returncode is None
    _signal_group(process.pid, signal.SIGKILL)
    await process.wait()
    return is_leader_alive


def _signal_group(process_group_id: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process_group_id, signal_number)


def _read_head(output_file: IO[bytes], limit_bytes: int) -> str:
    output_file.seek(0)
    head = output_file.read(limit_bytes)
    return head.decode("utf-8", errors="replace")
