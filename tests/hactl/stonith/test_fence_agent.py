"""Red Hat fence agents, driven through FenceAgentDevice: real agents from fence-agents.

`fence_dummy` ships with Debian's fence-agents and really acts on a test "host": with
`type=file` the power state of its plug lives in `status_file`, so on, off, reboot,
status and monitor all run the real agent and the real `fencing.py` library end to end.
A real agent for real hardware (`fence_redfish`) is driven inside a test namespace that
has no route anywhere: it is asked to fence 198.18.0.99, nothing can answer, and the
failure must come back as a clean result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hactl.stonith import (
    DeviceOperation,
    DeviceSettings,
    DeviceSpec,
    FenceAction,
    FenceDeviceError,
    StonithConfigError,
    make_device,
)
from hactl.stonith.fence_agent import FenceAgentDevice

requires_fence_dummy = pytest.mark.skipif(
    shutil.which("fence_dummy", path="/usr/sbin:/sbin") is None,
    reason="fence-agents is not installed (.ci/run installs it)",
)


async def _dummy(status_file: Path, *extra: tuple[str, str]) -> FenceAgentDevice:
    device = await make_device(DeviceSpec(
        device_type="fence_dummy", named_parameters=(("status_file", str(status_file)), *extra)
    ))  # fmt: skip
    assert isinstance(device, FenceAgentDevice)
    return device


@requires_fence_dummy
async def test_fence_dummy_powers_a_file_backed_node_off_and_on(tmp_path: Path) -> None:
    status_file = tmp_path / "backup.power"
    status_file.write_text("on")
    device = await _dummy(status_file)
    assert "status_file" in device.parameter_names()
    assert "action" not in device.parameter_names()
    assert device.metadata().lstrip().startswith("<?xml")

    off = await device.fence("backup", FenceAction.OFF, timeout_ms=30_000)
    assert off.is_success and off.exit_code == 0 and off.operation is DeviceOperation.OFF
    assert status_file.read_text() == "off"
    assert (await device.power_status("backup", timeout_ms=30_000)).detail == "power is off"

    on = await device.fence("backup", FenceAction.ON, timeout_ms=30_000)
    assert on.is_success and status_file.read_text() == "on"
    assert (await device.power_status("backup", timeout_ms=30_000)).detail == "power is on"

    reset = await device.fence("backup", FenceAction.RESET, timeout_ms=30_000)
    assert reset.is_success and "Rebooted" in reset.output_excerpt
    assert reset.detail == "fence_dummy action=reboot exited 0"
    assert (await device.status(timeout_ms=30_000)).is_success  # action=monitor


@requires_fence_dummy
async def test_fence_dummy_failures_are_results_not_exceptions(tmp_path: Path) -> None:
    # type=fail makes the real agent fail its power changes.
    device = await _dummy(tmp_path / "x", ("type", "fail"), ("power_timeout", "1"))
    result = await device.fence("backup", FenceAction.OFF, timeout_ms=30_000)
    assert not result.is_success and result.exit_code not in (0, None)
    with pytest.raises(FenceDeviceError) as raised:  # fence_dummy cannot list in file mode
        await (await _dummy(tmp_path / "y")).list_hosts(timeout_ms=30_000)
    assert raised.value.result.operation is DeviceOperation.LIST_HOSTS


@requires_fence_dummy
async def test_a_slow_real_agent_is_killed_at_the_deadline(tmp_path: Path) -> None:
    device = await _dummy(tmp_path / "x", ("random_sleep_range", "30"))
    result = await device.fence("backup", FenceAction.OFF, timeout_ms=300)
    assert result.is_timed_out and not result.is_success and result.exit_code is None


@requires_fence_dummy
async def test_parameters_are_checked_against_the_agents_metadata(tmp_path: Path) -> None:
    with pytest.raises(StonithConfigError, match="fence_dummy has no parameter 'ipadr'"):
        await _dummy(tmp_path / "x", ("ipadr", "198.18.0.99"))
    with pytest.raises(StonithConfigError, match="line break"):
        await _dummy(Path("/tmp/x\naction=off"))
    with pytest.raises(StonithConfigError, match="action is chosen by hactl"):
        await _dummy(tmp_path / "x", ("action", "off"))
    with pytest.raises(StonithConfigError, match="no positional parameters"):
        await make_device(DeviceSpec(device_type="fence_dummy", positional_parameters=("a",)))
    with pytest.raises(StonithConfigError, match="no fence agent 'fence_nosuch'"):
        await make_device(DeviceSpec(device_type="fence_agent/fence_nosuch"))


@requires_fence_dummy
async def test_the_plug_is_the_target_unless_configured(tmp_path: Path) -> None:
    device = await _dummy(tmp_path / "x")
    device.known_parameters += ("plug",)  # as agents for multi-outlet switches have
    assert "plug=backup\n" in device._stdin("off", "backup")
    device.parameters["plug"] = "outlet-4"
    assert "plug=outlet-4\n" in device._stdin("off", "backup")
    assert "outlet" not in repr(device) and "status_file" not in repr(device)


@pytest.fixture
def sealed_namespace() -> Iterator[str]:
    """A namespace with only loopback: nothing sent inside it can leave the machine."""
    name = f"hactl-fa{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.mark.needs_root
@pytest.mark.skipif(not Path("/usr/sbin/fence_redfish").is_file(), reason="no fence_redfish")
async def test_real_redfish_agent_against_an_unreachable_device_fails_cleanly(
    sealed_namespace: str, tmp_path: Path
) -> None:
    # Run the real agent through a wrapper that enters the sealed namespace.
    wrapper = tmp_path / "fence_redfish"
    wrapper.write_text(
        f'#!/bin/sh\nexec ip netns exec {sealed_namespace} /usr/sbin/fence_redfish "$@"\n'
    )
    wrapper.chmod(0o755)
    settings = DeviceSettings(fence_agent_directories=(tmp_path,))
    device = await make_device(
        DeviceSpec(device_type="fence_redfish", named_parameters=(
            ("ip", "198.18.0.99"), ("username", "admin"), ("password", "not-a-secret"))),
        settings=settings,
    )  # fmt: skip
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=60_000)
    assert not result.is_success and result.exit_code == 1 and not result.is_timed_out
    assert "198.18.0.99" in result.output_excerpt  # the agent said what it could not reach
    assert "not-a-secret" not in result.output_excerpt + result.detail
    assert not (await device.status(timeout_ms=60_000)).is_success
