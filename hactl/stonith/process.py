"""Running a fencing agent as a subprocess: no shell, a deadline, and its whole group killed.

Agents are scripts that may fork (ssh, ping, sleep); killing only the script on a timeout
would leave its children holding our pipes and the device. So each agent starts in a new
session, and a timeout or a cancellation kills that session's process group, which only
contains what we started. A missing or unrunnable agent is an outcome, not an exception,
so that every fence attempt can be journaled the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import trio

from hactl.stonith.device import DeviceOperation, FenceResult, excerpt


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentOutcome:
    exit_code: int | None  # None: timed out or could not be started
    stdout: str
    stderr: str
    duration_ms: int
    is_timed_out: bool
    launch_error: str | None  # why the agent could not be started

    @property
    def output(self) -> str:
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


OUTPUT_BYTES_KEPT_MAX = 64 * 1024  # per stream: the end is what says what went wrong


async def _kill_process_group(process: trio.Process) -> None:
    # start_new_session made the agent a group leader, so its pid is its group's id, and
    # the group holds only what the agent started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


def _elapsed_ms(started: float) -> int:
    return max(0, round((trio.current_time() - started) * 1000))


async def _feed(stream: trio.abc.SendStream | None, data: bytes) -> None:
    assert stream is not None
    async with stream:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            if data:
                await stream.send_all(data)


async def _drain(stream: trio.abc.ReceiveStream | None, kept: bytearray) -> None:
    """Read to the end, keeping only the last bytes: an agent that floods is not our OOM."""
    assert stream is not None
    async with stream:
        while chunk := await stream.receive_some(16384):
            kept += chunk
            if len(kept) > OUTPUT_BYTES_KEPT_MAX:
                del kept[:-OUTPUT_BYTES_KEPT_MAX]


async def _communicate(process: trio.Process, stdin: bytes, stdout: bytearray,
                       stderr: bytearray) -> None:  # fmt: skip
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_feed, process.stdin, stdin)
        nursery.start_soon(_drain, process.stdout, stdout)
        nursery.start_soon(_drain, process.stderr, stderr)
        await process.wait()


async def run_agent(
    argv: Sequence[str],
    *,
    timeout_ms: int,
    environment: Mapping[str, str],
    stdin_text: str = "",
) -> AgentOutcome:
    """Run `argv` with `stdin_text` on stdin; give up (killing it) after `timeout_ms`."""
    assert timeout_ms > 0, timeout_ms
    assert argv, "an agent needs a program"
    started = trio.current_time()
    try:
        process = await trio.lowlevel.open_process(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(environment), start_new_session=True,
        )  # fmt: skip
    except OSError as error:
        return AgentOutcome(
            exit_code=None, stdout="", stderr="", duration_ms=_elapsed_ms(started),
            is_timed_out=False, launch_error=f"cannot run {argv[0]}: {error.strerror or error}",
        )  # fmt: skip
    stdout, stderr = bytearray(), bytearray()
    deadline = trio.move_on_after(timeout_ms / 1000)
    try:
        with deadline:
            await _communicate(process, stdin_text.encode(), stdout, stderr)
    finally:
        # On a timeout, and on our own cancellation too, nothing we started may outlive us.
        # Once the agent itself is reaped its group is only killed after a timeout: then
        # children still hold our pipes, which keeps the group id from being reused.
        if process.returncode is None or deadline.cancelled_caught:
            with trio.CancelScope(shield=True):
                await _kill_process_group(process)
    is_timed_out = deadline.cancelled_caught
    return AgentOutcome(
        exit_code=None if is_timed_out else process.returncode,
        stdout=stdout.decode(errors="replace"),
        stderr=stderr.decode(errors="replace"),
        duration_ms=_elapsed_ms(started),
        is_timed_out=is_timed_out,
        launch_error=None,
    )


def result_of(
    outcome: AgentOutcome,
    *,
    device_type: str,
    target: str | None,
    operation: DeviceOperation,
    is_success: bool,
    detail: str,
) -> FenceResult:
    """A FenceResult for an agent run; `detail` is used unless the run never finished."""
    if outcome.launch_error is not None:
        detail = outcome.launch_error
    elif outcome.is_timed_out:
        detail = f"timed out after {outcome.duration_ms} ms; the agent was killed"
    return FenceResult(
        device_type=device_type,
        target=target,
        operation=operation,
        is_success=is_success and outcome.exit_code is not None,
        exit_code=outcome.exit_code,
        duration_ms=outcome.duration_ms,
        output_excerpt=excerpt(outcome.output),
        detail=detail,
        is_timed_out=outcome.is_timed_out,
    )
