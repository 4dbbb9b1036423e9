"""The `suicide` device: this node fences itself, for stop failures and lost quorum.

Heartbeat rebooted a node whose resource would not stop, so the peer could take over
safely. That action is a real reboot, so it is kept behind two doors: the device does
whatever `power_action` it is built with, and the only action that touches the machine,
`production_power_action()`, is handed out only when the daemon says `is_production`, and
refuses to exist, or to run, inside a test process. Tests build `SelfFenceDevice` with a
recording action instead; the `suicide` plugin refuses to open outside production.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hactl.stonith.device import (
    DeviceOperation,
    DeviceRequest,
    FenceAction,
    FenceResult,
    refused,
    target_problem,
)
from hactl.stonith.parameters import assign_parameters

PowerAction = Callable[[FenceAction], Awaitable[None]]
SYSRQ_TRIGGER = Path("/proc/sysrq-trigger")
SYSRQ_KEYS = {FenceAction.RESET: b"b", FenceAction.OFF: b"o"}


class SelfFenceRefused(RuntimeError):
    """The real reboot path was asked for where it must never run."""


def refuse_under_test() -> None:
    """Raise inside a pytest process: no test may reach a real reboot, by any path."""
    if "pytest" in sys.modules or "HACTL_TEST_FORBID_REBOOT" in os.environ:
        raise SelfFenceRefused("the real self-fence (reboot) is never run under tests")


def production_power_action(*, is_production: bool) -> PowerAction:
    """The action that really resets or powers off this machine, through sysrq."""
    if not is_production:
        raise SelfFenceRefused("the real self-fence needs the daemon's production flag")
    refuse_under_test()

    async def reboot_or_power_off(action: FenceAction) -> None:
        refuse_under_test()
        key = SYSRQ_KEYS[action]
        os.sync()  # keep what the journal and resources already wrote
        with SYSRQ_TRIGGER.open("wb", buffering=0) as trigger:
            trigger.write(key)

    return reboot_or_power_off


async def _describe_only(action: FenceAction) -> None:
    raise SelfFenceRefused("this suicide device was opened only to be described")


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfFenceDevice:
    local_node: str
    power_action: PowerAction
    device_type: str = "suicide"

    def parameter_names(self) -> tuple[str, ...]:
        return ()

    def metadata(self) -> str:
        return (
            '<?xml version="1.0"?>\n<resource-agent name="suicide">\n'
            '<shortdesc lang="en">Self-fencing: resets this node (stop failures)</shortdesc>\n'
            "<parameters/>\n</resource-agent>\n"
        )

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        operation = DeviceOperation.of(action)
        problem = target_problem(target)
        if problem is None and target.lower() != self.local_node:
            problem = f"suicide only fences this node ({self.local_node}), not {target}"
        if problem is None and action is FenceAction.ON:
            problem = "a node cannot power itself on"
        if problem is not None:
            return refused(self.device_type, target, operation, problem)
        await self.power_action(action)
        return FenceResult(
            device_type=self.device_type, target=target, operation=operation, is_success=True,
            exit_code=None, duration_ms=0, output_excerpt="", detail=f"self-{action.value} issued",
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=True, exit_code=None, duration_ms=0, output_excerpt="",
            detail=f"fences {self.local_node} only",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return (self.local_node,)


async def open_device(request: DeviceRequest) -> SelfFenceDevice:
    assign_parameters(request, ())
    local_node = (request.settings.local_node or "").lower()
    if request.is_describe_only:
        return SelfFenceDevice(local_node=local_node or "this-node", power_action=_describe_only)
    if not request.settings.is_production:
        raise request.error(
            "suicide reboots this machine and is only opened by the daemon in production"
        )
    if not local_node:
        raise request.error("suicide needs to know this node's name")
    action = production_power_action(is_production=True)
    return SelfFenceDevice(local_node=local_node, power_action=action)
