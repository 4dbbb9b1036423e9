"""external/* scripts: cluster-glue's real ssh script, and test agents for what acts.

No cluster-glue external script can power a test node off: each drives real hardware or
a hypervisor (ipmi, drac5, libvirt, xen0, vcenter, ...) or, for ssh, a root login on the
target followed by `reboot -nf`. So the real external/ssh is driven as far as is safe
(its self-description, parameter naming, host listing, its refusals), and fencing itself is
tested with `agents/recorder`, a script written to the same protocol that powers "nodes"
kept as files. `agents/flaky` and `agents/hang` give the retry and timeout cases.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from hactl.stonith import (
    DeviceOperation,
    DeviceSettings,
    DeviceSpec,
    FenceAction,
    FenceDeviceError,
    StonithConfigError,
    make_device,
)
from hactl.stonith.external import ExternalDevice

REAL_EXTERNAL_DIRECTORY = Path("/usr/lib/stonith/plugins/external")
requires_cluster_glue = pytest.mark.skipif(
    not (REAL_EXTERNAL_DIRECTORY / "ssh").is_file(),
    reason="cluster-glue is not installed (.ci/run installs it)",
)


async def _real_ssh(*positional: str) -> ExternalDevice:
    device = await make_device(DeviceSpec(device_type="external/ssh",
                                          positional_parameters=positional))  # fmt: skip
    assert isinstance(device, ExternalDevice)
    return device


@requires_cluster_glue
async def test_real_ssh_script_describes_itself_and_names_positional_parameters() -> None:
    device = await _real_ssh("node1", "node2,node3")
    assert device.parameter_names() == ("hostlist",)
    assert device.parameters == {"hostlist": "node1 node2,node3"}  # the last name takes the rest
    metadata = device.metadata()
    assert "ssh-based host reset" in metadata
    assert '<parameter name="hostlist"' in metadata
    assert await device.list_hosts(timeout_ms=10_000) == ("node1", "node2", "node3")


@requires_cluster_glue
async def test_real_ssh_script_refusals_come_back_as_clean_failures() -> None:
    device = await _real_ssh("198.18.0.11")
    for action in (FenceAction.ON, FenceAction.OFF):  # ssh cannot power on, so will not off
        result = await device.fence("198.18.0.11", action, timeout_ms=10_000)
        assert not result.is_success
        assert (result.exit_code, result.target, result.operation) == (
            1, "198.18.0.11", DeviceOperation(action.value))
    # A node outside the hostlist: the script refuses before it would run ssh.
    result = await device.fence("198.18.0.12", FenceAction.RESET, timeout_ms=10_000)
    assert not result.is_success and result.exit_code == 1
    assert result.device_type == "external/ssh" and result.duration_ms >= 0


async def test_recorder_powers_test_nodes_and_gets_parameters_in_its_environment(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    state = tmp_path / "power"
    state.mkdir()
    device = await make_device(
        DeviceSpec(device_type="external/recorder",
                   positional_parameters=("master,backup", str(state))),
        settings=settings,
    )  # fmt: skip
    assert device.parameter_names() == ("hostlist", "state_dir")
    assert isinstance(device, ExternalDevice)
    assert device.parameters == {"hostlist": "master,backup", "state_dir": str(state)}
    off = await device.fence("backup", FenceAction.OFF, timeout_ms=10_000)
    assert off.is_success and off.exit_code == 0
    assert off.output_excerpt == "recorder: off backup done"
    assert (state / "backup").read_text() == "off\n"
    reset = await device.fence("backup", FenceAction.RESET, timeout_ms=10_000)
    assert reset.is_success and (state / "backup").read_text() == "on\n"
    stranger = await device.fence("client", FenceAction.RESET, timeout_ms=10_000)
    assert not stranger.is_success and "is not mine" in stranger.output_excerpt
    assert (await device.status(timeout_ms=10_000)).is_success
    assert await device.list_hosts(timeout_ms=10_000) == ("master", "backup")
    calls = (state / "calls").read_text().splitlines()
    assert calls[:3] == ["off backup hostlist=master backup",
                         "reset backup hostlist=master backup",
                         "reset client hostlist=master backup"]  # fmt: skip


async def test_named_parameters_win_and_the_hostlist_is_one_environment_variable(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    state = tmp_path / "power"
    state.mkdir()
    device = await make_device(
        DeviceSpec(device_type="external/recorder",
                   named_parameters=(("hostlist", "master backup"), ("state_dir", str(state)))),
        settings=settings,
    )  # fmt: skip
    assert await device.list_hosts(timeout_ms=10_000) == ("master", "backup")
    assert (await device.fence("backup", FenceAction.OFF, timeout_ms=10_000)).is_success


async def test_a_failing_host_listing_raises_with_the_result(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    device = await make_device(
        DeviceSpec(device_type="external/recorder", positional_parameters=("a", "/nonexistent")),
        settings=settings,
    )  # fmt: skip
    with pytest.raises(FenceDeviceError) as raised:
        await device.list_hosts(timeout_ms=10_000)
    assert raised.value.result.operation is DeviceOperation.LIST_HOSTS
    assert raised.value.result.exit_code == 1
    assert not (await device.status(timeout_ms=10_000)).is_success


async def test_flaky_agent_fails_three_times_then_succeeds(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    state_file = tmp_path / "attempts"
    device = await make_device(
        DeviceSpec(device_type="external/flaky",
                   positional_parameters=("backup", "3", str(state_file))),
        settings=settings,
    )  # fmt: skip
    results = [await device.fence("backup", FenceAction.RESET, timeout_ms=10_000)
               for _ in range(4)]  # fmt: skip
    assert [result.is_success for result in results] == [False, False, False, True]
    assert [result.exit_code for result in results] == [1, 1, 1, 0]
    assert "attempt 3 fails on purpose" in results[2].output_excerpt
    assert all(r.target == "backup" and r.device_type == "external/flaky" for r in results)
    assert state_file.read_text().splitlines() == ["reset backup"] * 4


async def test_a_hanging_agent_is_killed_with_its_children_at_the_deadline(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    device = await make_device(
        DeviceSpec(device_type="external/hang", positional_parameters=(str(pid_file),)),
        settings=settings,
    )  # fmt: skip
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=500)
    assert not result.is_success and result.is_timed_out and result.exit_code is None
    assert "timed out" in result.detail
    child_pid = int(pid_file.read_text())
    with trio.fail_after(10):  # the orphaned sleep is reaped by init once killed
        while _is_alive(child_pid):
            await trio.sleep(0.01)


def _is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_scripts_writable_by_others_are_refused(
    settings: DeviceSettings, agents_directory: Path
) -> None:
    (agents_directory / "recorder").chmod(0o775)
    with pytest.raises(StonithConfigError, match="writable by group or others"):
        await make_device(DeviceSpec(device_type="external/recorder"), settings=settings)


async def test_a_missing_script_names_the_directories_searched(
    settings: DeviceSettings, agents_directory: Path
) -> None:
    with pytest.raises(StonithConfigError) as raised:
        await make_device(DeviceSpec(device_type="external/nosuch", origin="ha.cf:9"),
                          settings=settings)  # fmt: skip
    message = str(raised.value)
    assert message.startswith("ha.cf:9: stonith external/nosuch: no script 'nosuch'")
    assert str(agents_directory) in message


async def test_targets_that_could_change_the_command_are_refused(
    settings: DeviceSettings, tmp_path: Path
) -> None:
    device = await make_device(
        DeviceSpec(device_type="external/recorder", positional_parameters=("a", str(tmp_path))),
        settings=settings,
    )  # fmt: skip
    for target in ("", "-x", "a b", "a\nb"):
        result = await device.fence(target, FenceAction.RESET, timeout_ms=10_000)
        assert not result.is_success and result.exit_code is None
    assert not (tmp_path / "calls").exists()  # the script was never run


def test_agents_are_executable_in_the_tree() -> None:
    for agent in (Path(__file__).parent / "agents").iterdir():
        assert os.access(agent, os.X_OK), agent
