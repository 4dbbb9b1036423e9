"""What every fencing device is: its protocol, its results, its errors and how it is opened.

The daemon fences through these types only, whatever the device: a cluster-glue script, a
Red Hat fence agent, a human with a power cord (meatware) or this node itself. Each call
returns a `FenceResult` carrying device, target, operation, outcome and duration, because
the daemon journals every attempt; a device that times out or cannot even start its agent
still returns a result (never raises), so a retry loop has one shape to handle.

Devices are opened by async factories (`DeviceFactory`) registered as `hactl.stonith`
plugins: opening may have to ask the agent for its parameter names (`getconfignames`,
`-o metadata`) so that positional ha.cf parameters can be named, and that is a subprocess.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

DEFAULT_RUN_DIRECTORY = Path("/run/hactl")
DEFAULT_EXTERNAL_DIRECTORIES = (
    Path("/usr/lib/stonith/plugins/external"),  # Debian and RHEL cluster-glue
    Path("/usr/lib64/stonith/plugins/external"),  # older RHEL/SUSE 64-bit layouts
)
DEFAULT_FENCE_AGENT_DIRECTORIES = (Path("/usr/sbin"), Path("/sbin"))
DEFAULT_PROBE_TIMEOUT_MS = 10_000
OUTPUT_EXCERPT_CHARS_MAX = 2_000


class FenceAction(enum.Enum):
    """What `fence()` can do to a node (cluster-glue's `-T` values)."""

    RESET = "reset"
    ON = "on"
    OFF = "off"


class DeviceOperation(enum.Enum):
    """Every operation a result can describe: the fence actions plus the device queries."""

    RESET = "reset"
    ON = "on"
    OFF = "off"
    STATUS = "status"
    LIST_HOSTS = "list_hosts"

    @classmethod
    def of(cls, action: FenceAction) -> DeviceOperation:
        return cls(action.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceResult:
    """One attempt, as the daemon journals it."""

    device_type: str
    target: str | None  # None for device-wide operations (status, list_hosts)
    operation: DeviceOperation
    is_success: bool
    exit_code: int | None  # None: no process ran to completion (timeout, launch failure)
    duration_ms: int
    output_excerpt: str  # the agent's stdout and stderr, tail-trimmed; never parameters
    detail: str  # one line for the admin: why it failed, or what success meant
    is_timed_out: bool = False

    def __post_init__(self) -> None:
        assert self.duration_ms >= 0, self.duration_ms
        assert len(self.output_excerpt) <= OUTPUT_EXCERPT_CHARS_MAX + 20
        assert not (self.is_success and self.is_timed_out)

    def to_record(self) -> dict[str, object]:
        """Plain values for a journal record (msgpack-able)."""
        return {
            "device": self.device_type,
            "target": self.target,
            "operation": self.operation.value,
            "is_success": self.is_success,
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "is_timed_out": self.is_timed_out,
            "output": self.output_excerpt,
            "detail": self.detail,
        }

    def summary(self) -> str:
        target = f" {self.target}" if self.target is not None else ""
        outcome = "succeeded" if self.is_success else "FAILED"
        return (
            f"{self.device_type} {self.operation.value}{target} {outcome} "
            f"in {self.duration_ms} ms: {self.detail}"
        )


def excerpt(text: str) -> str:
    """The end of an agent's output (the end is where agents say what went wrong)."""
    text = text.strip()
    if len(text) <= OUTPUT_EXCERPT_CHARS_MAX:
        return text
    return "[...]" + text[-OUTPUT_EXCERPT_CHARS_MAX:]


class StonithConfigError(Exception):
    """A device cannot be built as configured: unknown type, missing parameter, no agent."""


class FenceDeviceError(Exception):
    """A query whose answer is not a result (list_hosts) failed; the result says how."""

    def __init__(self, result: FenceResult) -> None:
        self.result = result
        super().__init__(result.summary())


@runtime_checkable
class FenceDevice(Protocol):
    """A fencing device. Calls never raise for the device's own failures: see FenceResult."""

    device_type: str

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult: ...

    async def status(self, *, timeout_ms: int) -> FenceResult: ...

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]: ...

    def parameter_names(self) -> tuple[str, ...]: ...

    def metadata(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSettings:
    """Host-side settings a device may need, beyond its own parameters."""

    run_directory: Path = DEFAULT_RUN_DIRECTORY
    external_directories: tuple[Path, ...] = DEFAULT_EXTERNAL_DIRECTORIES
    fence_agent_directories: tuple[Path, ...] = DEFAULT_FENCE_AGENT_DIRECTORIES
    probe_timeout_ms: int = DEFAULT_PROBE_TIMEOUT_MS
    local_node: str | None = None  # this node's name, for self-fencing
    # Only the daemon in production sets this: it is what lets `suicide` really reboot.
    is_production: bool = False
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRequest:
    """Everything a factory gets: the type as written, its parameters and the settings."""

    device_type: str  # as written: "external/ssh", "fence_ipmilan", "meatware"
    subtype: str | None  # the part after "/" ("ssh"), or the fence agent's name
    positional_parameters: tuple[str, ...]
    named_parameters: tuple[tuple[str, str], ...]
    settings: DeviceSettings
    origin: str  # where the device was configured, for error messages ("ha.cf:12", "-t")
    # `stonith -t TYPE -n` and `-m` describe a device without configuring it: required
    # parameters are not checked then.
    is_describe_only: bool = False

    def error(self, message: str) -> StonithConfigError:
        return StonithConfigError(f"{self.origin}: stonith {self.device_type}: {message}")


class DeviceFactory(Protocol):
    """What a `hactl.stonith` plugin's entry point loads."""

    async def __call__(self, request: DeviceRequest) -> FenceDevice: ...


def target_problem(target: str) -> str | None:
    """Why `target` cannot be a node name handed to an agent, or None.

    Node names go into argv and stdin lines: whitespace, control characters or a leading
    dash could change what the agent is asked to do.
    """
    if not target:
        return "empty node name"
    if target.startswith("-") or any(c.isspace() or not c.isprintable() for c in target):
        return f"invalid node name {target!r}"
    return None


def refused(device_type: str, target: str | None, operation: DeviceOperation,
            detail: str) -> FenceResult:  # fmt: skip
    """A failure decided before any agent ran."""
    return FenceResult(
        device_type=device_type, target=target, operation=operation, is_success=False,
        exit_code=None, duration_ms=0, output_excerpt="", detail=detail,
    )  # fmt: skip
