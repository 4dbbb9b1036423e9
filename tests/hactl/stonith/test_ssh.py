"""The ssh device, against `agents/fake_ssh`: a local command that records what it is given.

No test may reach a real host, and the real device's job is to log in as root and queue a
reboot, so the ssh invocation is the one thing replaced (through the device's own
`ssh_command` parameter): the test checks exactly which command line would go to which
host, and how the device reads ssh's exit status.
"""

from __future__ import annotations

from pathlib import Path

from hactl.stonith import (
    DeviceOperation,
    DeviceSettings,
    DeviceSpec,
    FenceAction,
    FenceDevice,
    make_device,
)
from hactl.stonith.ssh import REBOOT_COMMAND


async def _ssh(agents_directory: Path, log: Path, exit_code: int) -> FenceDevice:
    settings = DeviceSettings(environment={"FAKE_SSH_LOG": str(log),
                                           "FAKE_SSH_EXIT": str(exit_code)})  # fmt: skip
    return await make_device(
        DeviceSpec(device_type="ssh", positional_parameters=("master", "backup"),
                   named_parameters=(("ssh_command", f"{agents_directory}/fake_ssh -l root"),)),
        settings=settings,
    )  # fmt: skip


async def test_reset_runs_clusterglues_remote_reboot_through_ssh(
    agents_directory: Path, tmp_path: Path
) -> None:
    log = tmp_path / "ssh.log"
    device = await _ssh(agents_directory, log, 0)
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=10_000)
    assert result.is_success and result.operation is DeviceOperation.RESET
    assert log.read_text().splitlines() == ["-l", "root", "backup", REBOOT_COMMAND]
    assert await device.list_hosts(timeout_ms=1_000) == ("master", "backup")


async def test_ssh_failures_and_unsupported_actions_are_failures(
    agents_directory: Path, tmp_path: Path
) -> None:
    log = tmp_path / "ssh.log"
    device = await _ssh(agents_directory, log, 255)
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=10_000)
    assert not result.is_success and result.exit_code == 255
    log.unlink()
    for action in (FenceAction.ON, FenceAction.OFF):
        refused = await device.fence("backup", action, timeout_ms=10_000)
        assert not refused.is_success and "can only reset" in refused.detail
    stranger = await device.fence("client", FenceAction.RESET, timeout_ms=10_000)
    assert not stranger.is_success and "not in hostlist" in stranger.detail
    assert not log.exists()  # none of those ran ssh
