"""The `null` device: pretends to fence the nodes in its hostlist. For tests only.

Like cluster-glue's null plugin it always succeeds for a listed node, which makes it
dangerous outside tests: a cluster "protected" by it has no protection. So it says so,
loudly, when opened and in every result it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hactl.stonith.device import (
    DeviceOperation,
    DeviceRequest,
    FenceAction,
    FenceResult,
    refused,
    target_problem,
)
from hactl.stonith.parameters import assign_parameters, split_hostlist

WARNING = "null device: nothing is fenced"
PARAMETER_NAMES = ("hostlist",)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class NullDevice:
    hosts: tuple[str, ...]
    device_type: str = "null"

    def parameter_names(self) -> tuple[str, ...]:
        return PARAMETER_NAMES

    def metadata(self) -> str:
        return (
            '<?xml version="1.0"?>\n<resource-agent name="null">\n'
            f'<shortdesc lang="en">{WARNING}</shortdesc>\n<parameters>\n'
            '<parameter name="hostlist" unique="1" required="1">'
            '<content type="string"/><shortdesc lang="en">Hostlist</shortdesc></parameter>\n'
            "</parameters>\n</resource-agent>\n"
        )

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        operation = DeviceOperation.of(action)
        problem = target_problem(target)
        if problem is not None:
            return refused(self.device_type, target, operation, problem)
        logger.warning("%s (asked to %s %s)", WARNING, action.value, target)
        if target.lower() not in self.hosts:
            return refused(self.device_type, target, operation, f"{target} is not in hostlist")
        return FenceResult(
            device_type=self.device_type, target=target, operation=operation, is_success=True,
            exit_code=0, duration_ms=0, output_excerpt="", detail=WARNING,
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=True, exit_code=0, duration_ms=0, output_excerpt="", detail=WARNING,
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return self.hosts


async def open_device(request: DeviceRequest) -> NullDevice:
    parameters = assign_parameters(request, PARAMETER_NAMES, required=PARAMETER_NAMES)
    logger.warning("%s: %s configures a test-only device", WARNING, request.origin)
    return NullDevice(hosts=split_hostlist(parameters["hostlist"]))
