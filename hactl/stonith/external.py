"""cluster-glue `external/*` STONITH scripts, driven by their own protocol.

A script is called as `SCRIPT reset|on|off HOST`, `SCRIPT gethosts|status`, and describes
itself with `getconfignames` and `getinfo-devid|devname|devdescr|devurl|xml`. Parameters
reach it as environment variables named by `getconfignames`; exit 0 means success. Sites
have years of such scripts, so hactl runs them unchanged, from cluster-glue's directory
(`/usr/lib/stonith/plugins/external` on Debian and RHEL) unless configured otherwise.

Like cluster-glue, a script must be a regular executable that group and others cannot
write: a writable fencing script is a way to run anything as root. The device learns the
script's names and description once, when opened, so `parameter_names()` and `metadata()`
answer without a subprocess.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import trio

from hactl.stonith.device import (
    DeviceOperation,
    DeviceRequest,
    FenceAction,
    FenceDeviceError,
    FenceResult,
    StonithConfigError,
    refused,
    target_problem,
)
from hactl.stonith.parameters import assign_parameters
from hactl.stonith.process import result_of, run_agent

INFO_QUERIES = ("devid", "devname", "devdescr", "devurl", "xml")


def find_script(name: str, directories: tuple[Path, ...]) -> Path | None:
    for directory in directories:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def list_scripts(directories: tuple[Path, ...]) -> tuple[str, ...]:
    """`external/NAME` for each usable script, as `stonith -L` lists them."""
    names: set[str] = set()
    for directory in directories:
        if not directory.is_dir():
            continue
        for candidate in directory.iterdir():
            if script_problem(candidate) is None:
                names.add(f"external/{candidate.name}")
    return tuple(sorted(names))


def script_problem(path: Path) -> str | None:
    """Why cluster-glue would refuse this script, or None."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return f"{path}: {error.strerror}"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file"
    if not mode & stat.S_IXUSR:
        return f"{path} is not executable"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by group or others; refusing to run it as a fencing agent"
    return None


@dataclass(slots=True, kw_only=True)
class ExternalDevice:
    device_type: str  # "external/NAME"
    script: Path
    parameters: dict[str, str]
    config_names: tuple[str, ...]
    info: dict[str, str]
    environment: dict[str, str]
    probe_timeout_ms: int

    def parameter_names(self) -> tuple[str, ...]:
        return self.config_names

    def metadata(self) -> str:
        """cluster-glue's stonith metadata shape, built from the script's getinfo answers."""
        name = escape(self.device_type)
        return (
            f'<?xml version="1.0"?>\n<resource-agent name="{name}">\n'
            f"<version>1.0</version>\n"
            f'<longdesc lang="en">\n{escape(self.info.get("devdescr", ""))}\n'
            f"{escape(self.info.get('devurl', ''))}\n</longdesc>\n"
            f'<shortdesc lang="en">{escape(self.info.get("devid", ""))}</shortdesc>\n'
            f"{self.info.get('xml', '<parameters/>')}\n</resource-agent>\n"
        )

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        problem = target_problem(target)
        if problem is not None:
            return refused(self.device_type, target, DeviceOperation.of(action), problem)
        outcome = await run_agent(
            [str(self.script), action.value, target],
            timeout_ms=timeout_ms,
            environment={**self.environment, **self.parameters},
        )
        is_success = outcome.exit_code == 0
        return result_of(
            outcome, device_type=self.device_type, target=target,
            operation=DeviceOperation.of(action), is_success=is_success,
            detail=f"{self.script.name} {action.value} {target} exited {outcome.exit_code}",
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        outcome = await run_agent(
            [str(self.script), "status"],
            timeout_ms=timeout_ms,
            environment={**self.environment, **self.parameters},
        )
        return result_of(
            outcome, device_type=self.device_type, target=None,
            operation=DeviceOperation.STATUS, is_success=outcome.exit_code == 0,
            detail=f"{self.script.name} status exited {outcome.exit_code}",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        outcome = await run_agent(
            [str(self.script), "gethosts"],
            timeout_ms=timeout_ms,
            environment={**self.environment, **self.parameters},
        )
        if outcome.exit_code != 0:
            failure = result_of(
                outcome, device_type=self.device_type, target=None,
                operation=DeviceOperation.LIST_HOSTS, is_success=False,
                detail=f"{self.script.name} gethosts exited {outcome.exit_code}",
            )  # fmt: skip
            raise FenceDeviceError(failure)
        return tuple(line.strip() for line in outcome.stdout.splitlines() if line.strip())


async def _probe(
    script: Path, query: str, request: DeviceRequest, environment: dict[str, str]
) -> str:
    outcome = await run_agent(
        [str(script), query], timeout_ms=request.settings.probe_timeout_ms, environment=environment
    )
    if outcome.exit_code != 0:
        reason = outcome.launch_error or (
            "timed out" if outcome.is_timed_out else f"exited {outcome.exit_code}"
        )
        raise request.error(f"{script} {query} failed ({reason}): {outcome.output[-300:]}")
    return outcome.stdout.strip()


async def open_device(request: DeviceRequest) -> ExternalDevice:
    """The `external` factory: `external/NAME` runs the script NAME."""
    name = request.subtype
    if not name or "/" in name or name.startswith("."):
        raise request.error("name the script: external/NAME")
    directories = request.settings.external_directories
    script = find_script(name, directories)
    if script is None:
        where = ", ".join(str(directory) for directory in directories)
        raise request.error(f"no script {name!r} in {where}")
    problem = script_problem(script)
    if problem is not None:
        raise request.error(problem)
    environment = dict(request.settings.environment)
    config_names = tuple((await _probe(script, "getconfignames", request, environment)).split())
    parameters = assign_parameters(request, config_names)
    info: dict[str, str] = {}

    async def fetch(query: str) -> None:
        # Descriptions are optional in practice: a script that lacks one still fences.
        try:
            info[query] = await _probe(script, f"getinfo-{query}", request, environment)
        except StonithConfigError:
            info[query] = ""

    async with trio.open_nursery() as nursery:
        for query in INFO_QUERIES:
            nursery.start_soon(fetch, query)
    return ExternalDevice(
        device_type=f"external/{name}",
        script=script,
        parameters=parameters,
        config_names=config_names,
        info=info,
        environment=environment,
        probe_timeout_ms=request.settings.probe_timeout_ms,
    )
