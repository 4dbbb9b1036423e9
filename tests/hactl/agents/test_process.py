"""The process runner: no shell, own process group, timeouts that really stop everything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from hactl.agents.process import ProcessRun, run_process
from hactl.agents.results import OUTPUT_LIMIT_BYTES
from tests.hactl.agents.conftest import is_process_alive, write_script

ENVIRONMENT = {"PATH": "/usr/bin:/bin"}


async def run(argv: list[str], *, timeout_ms: int = 10_000, grace_ms: int = 300) -> ProcessRun:
    return await run_process(
        argv, environment=ENVIRONMENT, timeout_ms=timeout_ms, kill_grace_ms=grace_ms
    )


async def test_exit_code_output_and_duration_are_reported(tmp_path: Path) -> None:
    script = write_script(tmp_path, "hello", 'echo "out $1"; echo err >&2; exit 3\n')
    result = await run([str(script), "a b"])  # one argument with a space: no shell splits it
    assert result.exit_code == 3
    assert not result.is_timed_out
    assert result.output == "out a b\nerr\n"
    assert result.duration_ms >= 0


async def test_output_is_cut_to_the_limit(tmp_path: Path) -> None:
    script = write_script(tmp_path, "chatty", "yes x | head -c 100000\n")
    result = await run([str(script)])
    assert result.exit_code == 0
    assert len(result.output) == OUTPUT_LIMIT_BYTES


async def test_hanging_process_is_stopped_with_sigterm_at_the_timeout(tmp_path: Path) -> None:
    script = write_script(tmp_path, "hang", "echo before; exec sleep 60\n")
    result = await run([str(script)], timeout_ms=300)
    assert result.is_timed_out
    assert result.exit_code is None
    assert not result.is_killed  # sleep obeys SIGTERM
    assert result.output == "before\n"
    assert result.duration_ms >= 300


async def test_sigterm_ignoring_group_is_killed_with_sigkill(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = write_script(
        tmp_path,
        "stubborn",
        f"trap '' TERM\n(trap '' TERM; while :; do sleep 0.05; done) &\necho $! > {pid_file}\n"
        "while :; do sleep 0.05; done\n",
    )
    result = await run([str(script)], timeout_ms=300, grace_ms=200)
    assert result.is_timed_out
    assert result.is_killed
    child_pid = int(pid_file.read_text())
    with trio.fail_after(10):
        while is_process_alive(child_pid):  # SIGKILL is asynchronous; the kernel reaps soon
            await trio.sleep(0.01)


async def test_child_left_running_with_our_stdout_does_not_hold_us(
    tmp_path: Path, pids_to_reap: list[int]
) -> None:
    pid_file = tmp_path / "daemon.pid"
    script = write_script(tmp_path, "starter", f"sleep 30 &\necho $! > {pid_file}\necho started\n")
    result = await run([str(script)], timeout_ms=10_000)
    pids_to_reap.append(int(pid_file.read_text()))
    assert result.exit_code == 0
    assert not result.is_timed_out
    assert result.output == "started\n"
    assert is_process_alive(pids_to_reap[0]), "a start may leave its service running"


async def test_cancellation_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "leader.pid"
    script = write_script(tmp_path, "slow", f"echo $$ > {pid_file}\nexec sleep 60\n")
    with trio.move_on_after(0.5):
        await run([str(script)], timeout_ms=60_000)
    assert not is_process_alive(int(pid_file.read_text()))


async def test_missing_program_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        await run([str(tmp_path / "absent")])


async def test_process_runs_in_its_own_session(tmp_path: Path) -> None:
    script = write_script(tmp_path, "session", "ps -o sid= -p $$\n")
    result = await run([str(script)])
    assert int(result.output.strip()) != os.getsid(0)
