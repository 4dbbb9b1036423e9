"""OCF `validate-all` for `hactl config check`: the agents' own view of their parameters.

Parsing can tell that `conf/OCF/TYPE/INSTANCE` exists and holds name=value lines; only
the agent knows whether the values make sense on this node (a state directory that is
writable, a binary that is installed). Failures are warnings, not errors: an agent's
verdict can depend on this node (a package installed only on the peer), and Heartbeat's
own check never ran agents at all. Agents that do not implement validate-all pass.
"""

from __future__ import annotations

from dataclasses import replace

import trio

from engine.config.model import ClusterConfig, ConfigWarning, OcfResource
from hactl.agents import AgentContext, AgentOutcome, validate


async def ocf_validation_warnings(
    config: ClusterConfig, context: AgentContext
) -> tuple[ConfigWarning, ...]:
    warnings: list[ConfigWarning] = []
    for group in config.groups:
        for resource in group.resources:
            if not isinstance(resource, OcfResource):
                continue
            result = await validate(resource, context)
            if result.outcome in (AgentOutcome.SUCCESS, AgentOutcome.UNIMPLEMENTED):
                continue
            output = " ".join(result.output.split())[:200]
            detail = result.detail or output or "no output"
            warnings.append(
                ConfigWarning(
                    location=group.location,
                    message=f"{resource.spec}: validate-all failed "
                    f"({result.outcome.value}, exit {result.exit_code}): {detail}",
                )
            )
    return tuple(warnings)


def with_ocf_validation(config: ClusterConfig, context: AgentContext) -> ClusterConfig:
    """The same configuration with the agents' validate-all failures added as warnings."""
    extra = trio.run(ocf_validation_warnings, config, context)
    return replace(config, warnings=config.warnings + extra) if extra else config
