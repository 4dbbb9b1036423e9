"""OCF resource agents: `OCF::TYPE::INSTANCE` run as `$OCF_ROOT/resource.d/PROVIDER/TYPE ACTION`.

The action is the only argument; everything else travels in the environment, as the OCF
resource agent API defines: the instance parameters as `OCF_RESKEY_name`, and OCF_ROOT,
OCF_FUNCTIONS_DIR, OCF_RESOURCE_INSTANCE, OCF_RESOURCE_TYPE, OCF_RESOURCE_PROVIDER,
OCF_RA_VERSION_MAJOR/MINOR and OCF_CHECK_LEVEL. We also set OCF_RESKEY_CRM_meta_timeout
(milliseconds), because agents written for Pacemaker size their internal waits from it,
and the Heartbeat variables (HA_RSCTMP and friends) that ocf-shellfuncs reads.

`meta-data` is parsed for the agent's advertised default timeouts; `validate-all` backs
`hactl config check`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from engine.config.model import OcfResource
from hactl.agents.exit_codes import ocf_outcome
from hactl.agents.process import run_process
from hactl.agents.results import (
    OUTPUT_LIMIT_BYTES,
    AgentAction,
    AgentContext,
    AgentOutcome,
    AgentResult,
)
from hactl.agents.scripts import heartbeat_environment

OCF_VERBS: dict[AgentAction, str] = {
    AgentAction.START: "start",
    AgentAction.STOP: "stop",
    AgentAction.STATUS: "monitor",  # OCF's status is optional and deprecated; monitor is not
    AgentAction.MONITOR: "monitor",
    AgentAction.PROBE: "monitor",
}
META_DATA_TIMEOUT_MS = 10_000
META_DATA_LIMIT_BYTES = 1 << 20  # meta-data runs to tens of KiB (IPaddr2: ~15); results keep 4
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def agent_path(resource: OcfResource, context: AgentContext) -> Path:
    return context.ocf_root / "resource.d" / resource.provider / resource.agent_type


def ocf_environment(
    resource: OcfResource, context: AgentContext, *, timeout_ms: int
) -> dict[str, str]:
    environment = heartbeat_environment(context)
    environment.update(
        {
            "OCF_ROOT": str(context.ocf_root),
            "OCF_FUNCTIONS_DIR": str(context.ocf_root / "lib" / "heartbeat"),
            "OCF_RESOURCE_INSTANCE": resource.instance,
            "OCF_RESOURCE_TYPE": resource.agent_type,
            "OCF_RESOURCE_PROVIDER": resource.provider,
            "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "0",
            "OCF_CHECK_LEVEL": "0",
            "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
        }
    )
    for name, value in resource.parameters:
        assert _PARAMETER_NAME.match(name), f"the config parser admits only shell names: {name}"
        environment[f"OCF_RESKEY_{name}"] = value
    return environment


async def run_ocf_verb(
    resource: OcfResource,
    action: AgentAction,
    verb: str,
    *,
    timeout_ms: int,
    context: AgentContext,
    output_limit_bytes: int = OUTPUT_LIMIT_BYTES,
) -> AgentResult:
    """Run one OCF verb (also meta-data and validate-all) and map its exit code."""
    path = agent_path(resource, context)
    if not path.is_file():
        return AgentResult(
            action=action,
            outcome=AgentOutcome.NOT_INSTALLED,
            exit_code=None,
            duration_ms=0,
            output="",
            detail=f"OCF agent {path} not found",
        )
    environment = ocf_environment(resource, context, timeout_ms=timeout_ms)
    try:
        run = await run_process(
            [str(path), verb],
            environment=environment,
            timeout_ms=timeout_ms,
            kill_grace_ms=context.kill_grace_ms,
            working_directory=Path("/"),
            output_limit_bytes=output_limit_bytes,
        )
    except OSError as error:
        return AgentResult(
            action=action,
            outcome=AgentOutcome.NOT_INSTALLED,
            exit_code=None,
            duration_ms=0,
            output="",
            detail=f"cannot run {path}: {error}",
        )
    command = f"{path} {verb} ({resource.spec})"
    if run.is_timed_out:
        how = "SIGKILL" if run.is_killed else "SIGTERM"
        return AgentResult(
            action=action,
            outcome=AgentOutcome.TIMEOUT,
            exit_code=None,
            duration_ms=run.duration_ms,
            output=run.output,
            detail=f"{command}: timed out after {timeout_ms} ms, process group stopped by {how}",
        )
    assert run.exit_code is not None
    outcome, meaning = ocf_outcome(run.exit_code, is_stop=action is AgentAction.STOP)
    if outcome is AgentOutcome.NOT_RUNNING and action is AgentAction.START:
        outcome = AgentOutcome.FAILED  # a start that ends "not running" did not start
    return AgentResult(
        action=action,
        outcome=outcome,
        exit_code=run.exit_code,
        duration_ms=run.duration_ms,
        output=run.output,
        detail=f"{command}: exit {run.exit_code} ({meaning})",
    )


async def run_ocf_action(
    resource: OcfResource, action: AgentAction, *, timeout_ms: int, context: AgentContext
) -> AgentResult:
    return await run_ocf_verb(
        resource, action, OCF_VERBS[action], timeout_ms=timeout_ms, context=context
    )


async def read_meta_data(resource: OcfResource, context: AgentContext) -> str | None:
    """The agent's meta-data XML, or None when it cannot be had."""
    result = await run_ocf_verb(
        resource,
        AgentAction.STATUS,
        "meta-data",
        timeout_ms=META_DATA_TIMEOUT_MS,
        context=context,
        output_limit_bytes=META_DATA_LIMIT_BYTES,
    )
    return result.output if result.outcome is AgentOutcome.SUCCESS else None


def parse_action_timeouts_ms(meta_data: str) -> dict[str, int]:
    """`<actions><action name="start" timeout="20s"/>` -> {"start": 20000}; bad entries skipped.

    When an action is listed several times (monitor with different depths or roles), the
    first listing wins, which is the plain depth-0 one in every agent we know.
    """
    try:
        root = ElementTree.fromstring(meta_data)
    except ElementTree.ParseError:
        return {}
    timeouts_ms: dict[str, int] = {}
    for element in root.iterfind("./actions/action"):
        name = element.get("name")
        timeout_ms = parse_ocf_duration_ms(element.get("timeout", ""))
        if name and timeout_ms is not None and name not in timeouts_ms:
            timeouts_ms[name] = timeout_ms
    return timeouts_ms


_DURATION = re.compile(r"^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNIT_MS = {
    "ms": 1,
    "msec": 1,
    "s": 1000,
    "sec": 1000,
    "m": 60_000,
    "min": 60_000,
    "h": 3_600_000,
    "hr": 3_600_000,
}


def parse_ocf_duration_ms(text: str) -> int | None:
    """Pacemaker's interval syntax as agents write it: "20s", "20", "2min", "100ms"."""
    match = _DURATION.match(text)
    if match is None:
        return None
    unit = (match.group(2) or "s").lower()
    return int(match.group(1)) * _UNIT_MS[unit]
