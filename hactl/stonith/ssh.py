"""The `ssh` device: cluster-glue's ssh plugin, which asks a node over ssh to reboot itself.

It can only reset (ssh cannot power a dead node on, and so should not power one off), and it
only works while the target still answers ssh, which is exactly when fencing matters least:
cluster-glue calls it fine for testing and unfit for production, and so do we. The remote
command is cluster-glue's: queue `reboot -nf` with `at` so the ssh session can end cleanly.

The ssh invocation is a parameter (`ssh_command`, a hactl extension) so sites can add a key
or options, and so tests can point it at a local recording command: no test reaches a host.
"""

from __future__ import annotations

import shlex
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
from hactl.stonith.process import result_of, run_agent

POSITIONAL_NAMES = ("hostlist",)
PARAMETER_NAMES = ("hostlist", "ssh_command")
DEFAULT_SSH_COMMAND = (
    "/usr/bin/ssh -q -x -o PasswordAuthentication=no -o StrictHostKeyChecking=no -n -l root"
)
REBOOT_COMMAND = "echo 'sleep 2; /sbin/reboot -nf' | SHELL=/bin/sh at now >/dev/null 2>&1"


@dataclass(frozen=True, slots=True, kw_only=True)
class SshDevice:
    hosts: tuple[str, ...]
    ssh_command: tuple[str, ...]
    environment: dict[str, str]
    device_type: str = "ssh"

    def parameter_names(self) -> tuple[str, ...]:
        return PARAMETER_NAMES

    def metadata(self) -> str:
        return (
            '<?xml version="1.0"?>\n<resource-agent name="ssh">\n'
            '<shortdesc lang="en">ssh-based host reset (testing only, not for production)'
            "</shortdesc>\n<parameters>\n"
            '<parameter name="hostlist" unique="1" required="1"><content type="string"/>'
            '<shortdesc lang="en">Hostlist</shortdesc></parameter>\n'
            '<parameter name="ssh_command" unique="0" required="0"><content type="string"'
            f' default="{DEFAULT_SSH_COMMAND}"/>'
            '<shortdesc lang="en">ssh invocation (hactl extension)</shortdesc></parameter>\n'
            "</parameters>\n</resource-agent>\n"
        )

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        operation = DeviceOperation.of(action)
        problem = target_problem(target)
        if problem is not None:
            return refused(self.device_type, target, operation, problem)
        if action is not FenceAction.RESET:
            return refused(self.device_type, target, operation,
                           f"ssh can only reset, not power {action.value}")  # fmt: skip
        if target.lower() not in self.hosts:
            return refused(self.device_type, target, operation, f"{target} is not in hostlist")
        outcome = await run_agent(
            [*self.ssh_command, target, REBOOT_COMMAND],
            timeout_ms=timeout_ms,
            environment=self.environment,
        )
        return result_of(
            outcome, device_type=self.device_type, target=target, operation=operation,
            is_success=outcome.exit_code == 0,
            detail=f"ssh to {target} exited {outcome.exit_code}",
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        if not self.hosts:
            return refused(self.device_type, None, DeviceOperation.STATUS, "empty hostlist")
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=True, exit_code=None, duration_ms=0, output_excerpt="",
            detail="configured (ssh is only tried when fencing)",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return self.hosts


async def open_device(request: DeviceRequest) -> SshDevice:
    parameters = assign_parameters(request, POSITIONAL_NAMES, required=POSITIONAL_NAMES)
    unknown = set(parameters) - set(PARAMETER_NAMES)
    if unknown:
        raise request.error(f"unknown parameter {', '.join(sorted(unknown))}")
    ssh_command = tuple(shlex.split(parameters.get("ssh_command", DEFAULT_SSH_COMMAND)))
    if not ssh_command:
        raise request.error("ssh_command is empty")
    return SshDevice(
        hosts=split_hostlist(parameters.get("hostlist", "")),
        ssh_command=ssh_command,
        environment=dict(request.settings.environment),
    )
