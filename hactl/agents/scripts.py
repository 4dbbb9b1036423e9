"""Heartbeat `resource.d` scripts and LSB init scripts: `SCRIPT ARGS... start|stop|status`.

Heartbeat looked a script up in /etc/ha.d/resource.d/ first, then /etc/init.d/, and ran it
with the haresources arguments before the action. We do the same, without a shell, in a
small fixed environment (not the daemon's own): scripts then behave the same whether the
daemon was started by systemd, by hand, or by a test, and nothing of ours leaks into them.

The environment is what Heartbeat's `shellfuncs` and `ResourceManager` gave scripts, since
old scripts source `$HA_DIR/shellfuncs` or use these names directly:
  HA_DIR          the configuration directory (/etc/ha.d)
  HA_RESOURCEDIR  $HA_DIR/resource.d
  HA_CONFDIR      $HA_DIR/conf (OCF parameter files live below it)
  HA_RCDIR        $HA_DIR/rc.d
  HA_CF           $HA_DIR/ha.cf
  HA_FUNCS        $HA_DIR/shellfuncs (set even when the file is absent, as Heartbeat did)
  HA_VARRUN, HA_VARLIB, HA_RSCTMP, HA_VARLOCK: run-time directories of Heartbeat/resource-agents
plus PATH, LC_ALL=C (so status words are English, which the text rule relies on) and HOME=/.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.config.model import ScriptResource
from hactl.agents.exit_codes import ocf_outcome, script_status_outcome
from hactl.agents.process import run_process
from hactl.agents.results import AgentAction, AgentContext, AgentOutcome, AgentResult

SCRIPT_VERBS: dict[AgentAction, str] = {
    AgentAction.START: "start",
    AgentAction.STOP: "stop",
    AgentAction.STATUS: "status",
    AgentAction.MONITOR: "status",  # LSB has no monitor; status is the health check
    AgentAction.PROBE: "status",
}


def heartbeat_environment(context: AgentContext) -> dict[str, str]:
    """The environment every Heartbeat-style script (and OCF agent) runs in."""
    config_dir = str(context.config_dir)
    return {
        "PATH": context.script_path,
        "LC_ALL": "C",
        "HOME": "/",
        "HA_DIR": config_dir,
        "HA_RESOURCEDIR": os.path.join(config_dir, "resource.d"),
        "HA_CONFDIR": os.path.join(config_dir, "conf"),
        "HA_RCDIR": os.path.join(config_dir, "rc.d"),
        "HA_CF": os.path.join(config_dir, "ha.cf"),
        "HA_FUNCS": os.path.join(config_dir, "shellfuncs"),
        "HA_VARRUN": "/var/run",
        "HA_VARLIB": "/var/lib/heartbeat",
        "HA_RSCTMP": "/run/resource-agents",
        "HA_VARLOCK": "/var/lock/subsys",
    }


def find_script(name: str, context: AgentContext) -> Path | None:
    """resource.d first, then the init directory, as Heartbeat did; None when neither has it."""
    assert "/" not in name, "the config parser rejects script names with a slash"
    for directory in (context.config_dir / "resource.d", context.init_dir):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


async def run_script_action(
    resource: ScriptResource, action: AgentAction, *, timeout_ms: int, context: AgentContext
) -> AgentResult:
    verb = SCRIPT_VERBS[action]
    path = find_script(resource.script, context)
    if path is None:
        searched = f"{context.config_dir / 'resource.d'} and {context.init_dir}"
        return _no_run(
            action,
            AgentOutcome.NOT_INSTALLED,
            f"script {resource.script!r} not found in {searched}",
        )
    if not os.access(path, os.X_OK):
        return _no_run(action, AgentOutcome.NOT_INSTALLED, f"{path} is not executable")
    argv = [str(path), *resource.arguments, verb]
    try:
        run = await run_process(
            argv,
            environment=heartbeat_environment(context),
            timeout_ms=timeout_ms,
            kill_grace_ms=context.kill_grace_ms,
            working_directory=Path("/"),
        )
    except OSError as error:  # e.g. a bad #! line
        return _no_run(action, AgentOutcome.NOT_INSTALLED, f"cannot run {path}: {error}")
    command = " ".join(argv)
    if run.is_timed_out:
        how = "SIGKILL" if run.is_killed else "SIGTERM"
        detail = f"{command}: timed out after {timeout_ms} ms, process group stopped by {how}"
        return AgentResult(
            action=action,
            outcome=AgentOutcome.TIMEOUT,
            exit_code=None,
            duration_ms=run.duration_ms,
            output=run.output,
            detail=detail,
        )
    assert run.exit_code is not None
    if verb == "status":
        outcome, meaning = script_status_outcome(run.exit_code, run.output)
    else:
        outcome, meaning = ocf_outcome(run.exit_code, is_stop=action is AgentAction.STOP)
        if outcome is AgentOutcome.NOT_RUNNING:  # only status may answer "not running"
            outcome = AgentOutcome.FAILED
    return AgentResult(
        action=action,
        outcome=outcome,
        exit_code=run.exit_code,
        duration_ms=run.duration_ms,
        output=run.output,
        detail=f"{command}: exit {run.exit_code} ({meaning})",
    )


def _no_run(action: AgentAction, outcome: AgentOutcome, detail: str) -> AgentResult:
    return AgentResult(
        action=action, outcome=outcome, exit_code=None, duration_ms=0, output="", detail=detail
    )
