"""Heartbeat resource.d and LSB init scripts through `run_agent_action`, with real scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from engine.config.model import ScriptResource
from hactl.agents import (
    AgentAction,
    AgentContext,
    AgentOutcome,
    AgentResult,
    default_timeout_ms,
    run_agent_action,
    validate,
)
from hactl.agents.exit_codes import script_status_outcome
from tests.hactl.agents.conftest import is_process_alive, write_script


def script(name: str, *arguments: str) -> ScriptResource:
    return ScriptResource(script=name, arguments=arguments, spec="::".join((name, *arguments)))


async def act(
    context: AgentContext, name: str, action: AgentAction, *arguments: str, timeout_ms: int = 10_000
) -> AgentResult:
    return await run_agent_action(script(name, *arguments), action, timeout_ms=timeout_ms,
                                  context=context)  # fmt: skip


async def test_arguments_come_before_the_action(context: AgentContext) -> None:
    write_script(context.config_dir / "resource.d", "echoer", 'echo "[$1] [$2] [$3]"\n')
    result = await act(context, "echoer", AgentAction.START, "first arg", "second")
    assert result.outcome is AgentOutcome.SUCCESS
    assert result.exit_code == 0
    assert result.output == "[first arg] [second] [start]\n"


async def test_resource_d_is_searched_before_the_init_directory(context: AgentContext) -> None:
    write_script(context.config_dir / "resource.d", "httpd", "echo from-resource.d\n")
    write_script(context.init_dir, "httpd", "echo from-init.d\n")
    write_script(context.init_dir, "smb", "echo from-init.d\n")
    assert (await act(context, "httpd", AgentAction.START)).output == "from-resource.d\n"
    assert (await act(context, "smb", AgentAction.START)).output == "from-init.d\n"


async def test_missing_script_is_not_installed_and_names_where_it_looked(
    context: AgentContext,
) -> None:
    result = await act(context, "ghost", AgentAction.START)
    assert result.outcome is AgentOutcome.NOT_INSTALLED
    assert str(context.config_dir / "resource.d") in result.detail
    assert str(context.init_dir) in result.detail


async def test_script_that_is_not_executable_is_not_installed(context: AgentContext) -> None:
    path = write_script(context.init_dir, "plain", "exit 0\n")
    path.chmod(0o644)
    result = await act(context, "plain", AgentAction.START)
    assert result.outcome is AgentOutcome.NOT_INSTALLED
    assert "not executable" in result.detail


async def test_heartbeat_environment_and_nothing_of_ours(
    context: AgentContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HACTL_TEST_LEAK", "secret")
    write_script(context.config_dir / "resource.d", "env", "env\n")
    result = await act(context, "env", AgentAction.START)
    environment = dict(line.split("=", 1) for line in result.output.splitlines())
    config_dir = str(context.config_dir)
    assert environment["HA_DIR"] == config_dir
    assert environment["HA_RESOURCEDIR"] == f"{config_dir}/resource.d"
    assert environment["HA_CONFDIR"] == f"{config_dir}/conf"
    assert environment["HA_FUNCS"] == f"{config_dir}/shellfuncs"
    assert environment["LC_ALL"] == "C"
    assert "HACTL_TEST_LEAK" not in environment


async def test_failed_start_and_idempotent_stop(context: AgentContext) -> None:
    write_script(
        context.init_dir, "svc", 'case "$1" in start) echo boom; exit 1;; stop) exit 7;; esac\n'
    )
    started = await act(context, "svc", AgentAction.START)
    assert started.outcome is AgentOutcome.FAILED
    assert started.exit_code == 1
    assert started.output == "boom\n"
    stopped = await act(context, "svc", AgentAction.STOP)
    assert stopped.outcome is AgentOutcome.SUCCESS  # stopping a stopped service succeeds
    assert stopped.exit_code == 7


@pytest.mark.parametrize(
    ("exit_code", "text", "outcome"),
    [
        (0, "", AgentOutcome.SUCCESS),
        (0, "httpd (pid 42) is running...", AgentOutcome.SUCCESS),
        (0, "OK", AgentOutcome.SUCCESS),
        (0, "httpd is not running", AgentOutcome.NOT_RUNNING),  # Heartbeat's text rule
        (0, "smb is stopped", AgentOutcome.NOT_RUNNING),
        (1, "dead but pid file exists", AgentOutcome.NOT_RUNNING),
        (2, "dead but subsys locked", AgentOutcome.NOT_RUNNING),
        (3, "", AgentOutcome.NOT_RUNNING),
        (4, "", AgentOutcome.FAILED),
        (9, "", AgentOutcome.FAILED),
    ],
)
async def test_status_by_lsb_code_and_heartbeat_text(
    context: AgentContext, exit_code: int, text: str, outcome: AgentOutcome
) -> None:
    write_script(context.init_dir, "svc", f'[ "$1" = status ] && echo "{text}"; exit {exit_code}\n')
    for action in (AgentAction.STATUS, AgentAction.MONITOR, AgentAction.PROBE):
        result = await act(context, "svc", action)
        assert result.outcome is outcome, (action, result)
        assert result.exit_code == exit_code


def test_pid_file_codes_are_noted_in_the_detail() -> None:
    assert "pid file" in script_status_outcome(1, "")[1]
    assert "lock file" in script_status_outcome(2, "")[1]


async def test_script_hanging_past_its_timeout(context: AgentContext) -> None:
    write_script(context.init_dir, "hang", "exec sleep 60\n")
    result = await act(context, "hang", AgentAction.START, timeout_ms=300)
    assert result.outcome is AgentOutcome.TIMEOUT
    assert result.exit_code is None
    assert "timed out after 300 ms" in result.detail
    assert "SIGTERM" in result.detail


async def test_script_ignoring_sigterm_is_killed_with_its_whole_group(
    context: AgentContext, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    write_script(
        context.init_dir,
        "stubborn",
        f"trap '' TERM\n(trap '' TERM; exec sleep 60) &\necho $! > {pid_file}\n"
        "while :; do sleep 0.05; done\n",
    )
    result = await act(context, "stubborn", AgentAction.STOP, timeout_ms=300)
    assert result.outcome is AgentOutcome.TIMEOUT
    assert "SIGKILL" in result.detail
    child_pid = int(pid_file.read_text())
    with trio.fail_after(10):  # SIGKILL is asynchronous; wait for the kernel, with a deadline
        while is_process_alive(child_pid):
            await trio.sleep(0.01)


async def test_script_killed_by_a_signal_is_a_failure_that_says_so(context: AgentContext) -> None:
    write_script(context.init_dir, "suicidal", "kill -SEGV $$\n")
    for action in (AgentAction.START, AgentAction.STATUS):
        result = await act(context, "suicidal", action)
        assert result.outcome is AgentOutcome.FAILED
        assert "killed by SIGSEGV" in result.detail


async def test_validate_and_default_timeouts_for_scripts(context: AgentContext) -> None:
    write_script(context.init_dir, "httpd", "exit 0\n")
    assert (await validate(script("httpd"), context)).outcome is AgentOutcome.SUCCESS
    missing = await validate(script("ghost"), context)
    assert missing.outcome is AgentOutcome.NOT_INSTALLED
    assert "ghost" in missing.detail
    assert await default_timeout_ms(script("httpd"), AgentAction.START, context) == 60_000
    assert await default_timeout_ms(script("httpd"), AgentAction.MONITOR, context) == 20_000
