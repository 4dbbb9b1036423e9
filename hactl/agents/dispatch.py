"""The one entry point for every agent kind: `run_agent_action`, plus timeouts and validation.

The daemon calls `run_agent_action` to carry out the engine's start/stop/status/monitor/probe
commands and hands the `AgentResult` back as an event; it never needs to know whether the
resource was an IP address (native, netlink), a Heartbeat/LSB script or an OCF agent. The
`match` below is the only place that knows the kinds, so adding a kind is a visible change.
"""

from __future__ import annotations

import os
from typing import assert_never

from engine.config.model import IPAddressResource, OcfResource, Resource, ScriptResource
from hactl.agents.ip_address import run_ip_action, validate_ip_resource
from hactl.agents.ocf import (
    OCF_VERBS,
    parse_action_timeouts_ms,
    read_meta_data,
    run_ocf_action,
    run_ocf_verb,
)
from hactl.agents.results import AgentAction, AgentContext, AgentOutcome, AgentResult
from hactl.agents.scripts import find_script, run_script_action

# Used when an agent advertises nothing. Start and stop get room for a slow service;
# status is a quick question. IPaddr2's own meta-data says 20 s for every action.
FALLBACK_TIMEOUTS_MS: dict[AgentAction, int] = {
    AgentAction.START: 60_000,
    AgentAction.STOP: 60_000,
    AgentAction.STATUS: 20_000,
    AgentAction.MONITOR: 20_000,
    AgentAction.PROBE: 20_000,
}
IP_TIMEOUT_MS = 20_000
VALIDATE_TIMEOUT_MS = 20_000


async def run_agent_action(
    resource: Resource, action: AgentAction, *, timeout_ms: int, context: AgentContext
) -> AgentResult:
    """Carry out `action` on `resource` within `timeout_ms`; never raises for the world's faults.

    Start and stop are idempotent for every kind (starting a running resource or stopping
    a stopped one succeeds), as Heartbeat, LSB and OCF all require.
    """
    assert timeout_ms > 0, timeout_ms
    match resource:
        case IPAddressResource():
            return await run_ip_action(resource, action, timeout_ms=timeout_ms, context=context)
        case ScriptResource():
            return await run_script_action(resource, action, timeout_ms=timeout_ms, context=context)
        case OcfResource():
            return await run_ocf_action(resource, action, timeout_ms=timeout_ms, context=context)
        case _:
            assert_never(resource)


async def default_timeout_ms(resource: Resource, action: AgentAction, context: AgentContext) -> int:
    """The timeout to use when the configuration sets none.

    OCF agents advertise theirs in meta-data (read once per agent and cached); IP
    addresses use IPaddr2's 20 s; scripts advertise nothing and get the fallback table.
    """
    match resource:
        case IPAddressResource():
            return IP_TIMEOUT_MS
        case ScriptResource():
            return FALLBACK_TIMEOUTS_MS[action]
        case OcfResource():
            timeouts_ms = await _ocf_timeouts_ms(resource, context)
            return timeouts_ms.get(OCF_VERBS[action], FALLBACK_TIMEOUTS_MS[action])
        case _:
            assert_never(resource)


async def validate(resource: Resource, context: AgentContext) -> AgentResult:
    """Check a resource's configuration without starting it (for `hactl config check`).

    OCF agents run `validate-all`; scripts are checked to exist and be executable; IP
    addresses are resolved (findif) without being added. UNIMPLEMENTED from an OCF agent
    that lacks validate-all is not a configuration problem; callers may treat it as a pass.
    """
    match resource:
        case OcfResource():
            return await run_ocf_verb(
                resource,
                AgentAction.STATUS,
                "validate-all",
                timeout_ms=VALIDATE_TIMEOUT_MS,
                context=context,
            )
        case ScriptResource():
            return _validate_script(resource, context)
        case IPAddressResource():
            return await validate_ip_resource(resource)
        case _:
            assert_never(resource)


def _validate_script(resource: ScriptResource, context: AgentContext) -> AgentResult:
    path = find_script(resource.script, context)
    if path is None or not os.access(path, os.X_OK):
        detail = (
            (
                f"script {resource.script!r} not found in {context.config_dir / 'resource.d'}"
                f" or {context.init_dir}"
            )
            if path is None
            else f"{path} is not executable"
        )
        outcome = AgentOutcome.NOT_INSTALLED
    else:
        detail, outcome = f"{path} exists and is executable", AgentOutcome.SUCCESS
    return AgentResult(
        action=AgentAction.STATUS,
        outcome=outcome,
        exit_code=None,
        duration_ms=0,
        output="",
        detail=detail,
    )


_meta_data_cache: dict[tuple[str, str, str], dict[str, int]] = {}


async def _ocf_timeouts_ms(resource: OcfResource, context: AgentContext) -> dict[str, int]:
    key = (str(context.ocf_root), resource.provider, resource.agent_type)
    if key not in _meta_data_cache:
        meta_data = await read_meta_data(resource, context)
        _meta_data_cache[key] = {} if meta_data is None else parse_action_timeouts_ms(meta_data)
    return _meta_data_cache[key]
