"""The agent runner: stdin in, bounded output out, deadlines, and nothing left running."""

from __future__ import annotations

import os
from pathlib import Path

import trio

from hactl.stonith.process import OUTPUT_BYTES_KEPT_MAX, run_agent

ENVIRONMENT = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


async def test_stdin_goes_in_and_exit_status_and_output_come_back() -> None:
    outcome = await run_agent(["sh", "-c", "read line; echo got $line; echo oops >&2; exit 3"],
                              timeout_ms=10_000, environment=ENVIRONMENT,
                              stdin_text="action=off\n")  # fmt: skip
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (3, "got action=off\n", "oops\n")
    assert outcome.output == "got action=off\noops"
    assert not outcome.is_timed_out and outcome.launch_error is None


async def test_a_missing_program_is_an_outcome_not_an_exception(tmp_path: Path) -> None:
    outcome = await run_agent([str(tmp_path / "fence_nothing")], timeout_ms=1_000,
                              environment=ENVIRONMENT)  # fmt: skip
    assert outcome.exit_code is None and outcome.launch_error is not None
    assert "cannot run" in outcome.launch_error


async def test_a_flood_of_output_keeps_only_its_end() -> None:
    script = "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo the-real-error"
    outcome = await run_agent(["sh", "-c", script], timeout_ms=30_000, environment=ENVIRONMENT)
    assert outcome.exit_code == 0
    assert len(outcome.stdout) == OUTPUT_BYTES_KEPT_MAX
    assert outcome.stdout.endswith("\nthe-real-error\n")


async def test_cancelling_the_caller_kills_the_agent_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"sh -c 'echo $$ > {pid_file}; exec sleep 600' & wait"
    with trio.move_on_after(0.5):  # the daemon's own cancellation, not the agent's deadline
        await run_agent(["sh", "-c", script], timeout_ms=60_000, environment=ENVIRONMENT)
    child = int(pid_file.read_text())
    with trio.fail_after(10):
        while Path(f"/proc/{child}").exists() and _state(child) != "Z":
            await trio.sleep(0.01)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


async def test_children_that_keep_the_pipes_open_are_killed_at_the_deadline(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"sh -c 'echo $$ > {pid_file}; exec sleep 600' & exit 0"  # parent exits at once
    outcome = await run_agent(["sh", "-c", script], timeout_ms=500, environment=ENVIRONMENT)
    assert outcome.is_timed_out and outcome.exit_code is None
    child = int(pid_file.read_text())
    with trio.fail_after(10):
        while Path(f"/proc/{child}").exists() and _state(child) != "Z":
            await trio.sleep(0.01)
