"""Red Hat fence agents (`fence_*`, from the fence-agents package), driven over stdin.

An agent reads `key=value` lines on stdin (`action=reboot|on|off|status|monitor|list`,
`plug`, `ip`/`ipaddr`, `username`/`login`, `password`/`passwd`, ...) and exits 0 on success,
1 on failure and, for `status`, 2 when the plug is off. Its parameters are described by
`AGENT -o metadata`, read once when the device is opened so that unknown parameter names
are caught at configuration time, not during a takeover.

Parameters go on stdin rather than the command line so that passwords never show in `ps`.
A value containing a newline could smuggle another key into that stream, so it is refused.
The node to fence is passed as `plug` (or `port` for agents that only know the old name)
unless the configuration fixes the plug itself (one device per node, as with IPMI).
"""

from __future__ import annotations

import xml.etree.ElementTree as element_tree
from dataclasses import dataclass
from pathlib import Path

from hactl.stonith.device import (
    DeviceOperation,
    DeviceRequest,
    FenceAction,
    FenceDeviceError,
    FenceResult,
    refused,
    target_problem,
)
from hactl.stonith.parameters import assign_parameters
from hactl.stonith.process import AgentOutcome, result_of, run_agent

AGENT_ACTIONS = {FenceAction.RESET: "reboot", FenceAction.ON: "on", FenceAction.OFF: "off"}
RESERVED_PARAMETERS = frozenset({"action", "agent"})
EXIT_STATUS_OFF = 2


def find_agent(name: str, directories: tuple[Path, ...]) -> Path | None:
    for directory in directories:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def list_agents(directories: tuple[Path, ...]) -> tuple[str, ...]:
    names: set[str] = set()
    for directory in directories:
        if directory.is_dir():
            names.update(path.name for path in directory.glob("fence_*") if path.is_file())
    return tuple(sorted(names))


def parse_metadata_parameters(metadata_xml: str) -> tuple[str, ...]:
    """Parameter names from an agent's metadata, in its order."""
    root = element_tree.fromstring(metadata_xml)
    return tuple(
        name
        for parameter in root.iter("parameter")
        if (name := parameter.get("name")) is not None
    )


@dataclass(slots=True, kw_only=True)
class FenceAgentDevice:
    device_type: str  # the agent's name, e.g. "fence_ipmilan"
    agent: Path
    parameters: dict[str, str]
    known_parameters: tuple[str, ...]
    metadata_xml: str
    environment: dict[str, str]

    def __repr__(self) -> str:  # parameters hold passwords: never print them
        return f"FenceAgentDevice(device_type={self.device_type!r}, agent={str(self.agent)!r})"

    def parameter_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.known_parameters if name not in RESERVED_PARAMETERS)

    def metadata(self) -> str:
        return self.metadata_xml

    def _stdin(self, action: str, target: str | None) -> str:
        lines = {**self.parameters, "action": action}
        if target is not None and "plug" not in self.parameters and "port" not in self.parameters:
            if "plug" in self.known_parameters:
                lines["plug"] = target
            elif "port" in self.known_parameters:
                lines["port"] = target
        return "".join(f"{name}={value}\n" for name, value in lines.items())

    async def _run(self, action: str, target: str | None, timeout_ms: int) -> AgentOutcome:
        return await run_agent(
            [str(self.agent)],
            timeout_ms=timeout_ms,
            environment=self.environment,
            stdin_text=self._stdin(action, target),
        )

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        problem = target_problem(target)
        if problem is not None:
            return refused(self.device_type, target, DeviceOperation.of(action), problem)
        agent_action = AGENT_ACTIONS[action]
        outcome = await self._run(agent_action, target, timeout_ms)
        return result_of(
            outcome, device_type=self.device_type, target=target,
            operation=DeviceOperation.of(action), is_success=outcome.exit_code == 0,
            detail=f"{self.agent.name} action={agent_action} exited {outcome.exit_code}",
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        """Whether the fencing device itself answers (`action=monitor`)."""
        outcome = await self._run("monitor", None, timeout_ms)
        return result_of(
            outcome, device_type=self.device_type, target=None,
            operation=DeviceOperation.STATUS, is_success=outcome.exit_code == 0,
            detail=f"{self.agent.name} action=monitor exited {outcome.exit_code}",
        )  # fmt: skip

    async def power_status(self, target: str, *, timeout_ms: int) -> FenceResult:
        """Whether `target` is powered on (`action=status`: exit 0 on, 2 off)."""
        outcome = await self._run("status", target, timeout_ms)
        detail = {0: "on", EXIT_STATUS_OFF: "off"}.get(
            outcome.exit_code if outcome.exit_code is not None else -1,
            f"unknown (exit {outcome.exit_code})",
        )
        return result_of(
            outcome, device_type=self.device_type, target=target,
            operation=DeviceOperation.STATUS,
            is_success=outcome.exit_code in (0, EXIT_STATUS_OFF), detail=f"power is {detail}",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        outcome = await self._run("list", None, timeout_ms)
        if outcome.exit_code != 0:
            failure = result_of(
                outcome, device_type=self.device_type, target=None,
                operation=DeviceOperation.LIST_HOSTS, is_success=False,
                detail=f"{self.agent.name} action=list exited {outcome.exit_code}",
            )  # fmt: skip
            raise FenceDeviceError(failure)
        # Each line is "plug,alias" (alias may be empty).
        return tuple(
            line.split(",", 1)[0].strip() for line in outcome.stdout.splitlines() if line.strip()
        )


async def _read_metadata(agent: Path, request: DeviceRequest) -> str:
    outcome = await run_agent(
        [str(agent), "-o", "metadata"],
        timeout_ms=request.settings.probe_timeout_ms,
        environment=request.settings.environment,
    )
    if outcome.exit_code != 0:
        reason = outcome.launch_error or (
            "timed out" if outcome.is_timed_out else f"exited {outcome.exit_code}"
        )
        raise request.error(f"{agent} -o metadata failed ({reason}): {outcome.output[-300:]}")
    return outcome.stdout


async def open_device(request: DeviceRequest) -> FenceAgentDevice:
    """The `fence_agent` factory: `fence_agent/NAME` or just `fence_NAME` runs that agent."""
    name = request.subtype
    if not name or not name.startswith("fence_") or "/" in name:
        raise request.error("name the agent: fence_agent/fence_NAME (or just fence_NAME)")
    agent = find_agent(name, request.settings.fence_agent_directories)
    if agent is None:
        where = ", ".join(str(path) for path in request.settings.fence_agent_directories)
        raise request.error(f"no fence agent {name!r} in {where} (is fence-agents installed?)")
    metadata_xml = await _read_metadata(agent, request)
    try:
        known = parse_metadata_parameters(metadata_xml)
    except element_tree.ParseError as error:
        raise request.error(f"{agent} -o metadata is not XML: {error}") from error
    parameters = assign_parameters(request, ())
    for parameter_name, value in parameters.items():
        if parameter_name in RESERVED_PARAMETERS:
            raise request.error(f"{parameter_name} is chosen by hactl, do not set it")
        if parameter_name not in known:
            raise request.error(f"{name} has no parameter {parameter_name!r} (see -t {name} -n)")
        if "\n" in value or "\r" in value:
            raise request.error(f"the value of {parameter_name} contains a line break")
    return FenceAgentDevice(
        device_type=name,
        agent=agent,
        parameters=parameters,
        known_parameters=known,
        metadata_xml=metadata_xml,
        environment=dict(request.settings.environment),
    )
