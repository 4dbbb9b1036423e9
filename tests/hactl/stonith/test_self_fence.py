"""Self-fencing reaches only the action it is built with; the real reboot is out of reach.

These tests never hold a callable that could reboot: they build the device with a
recording action, and check that every door to the real one is shut inside pytest.
"""

from __future__ import annotations

import pytest

from hactl.stonith import DeviceSettings, DeviceSpec, FenceAction, StonithConfigError, make_device
from hactl.stonith.self_fence import (
    SelfFenceDevice,
    SelfFenceRefused,
    production_power_action,
    refuse_under_test,
)


class RecordingPowerAction:
    def __init__(self) -> None:
        self.actions: list[FenceAction] = []

    async def __call__(self, action: FenceAction) -> None:
        self.actions.append(action)


async def test_self_fence_runs_its_action_for_this_node_only() -> None:
    recorder = RecordingPowerAction()
    device = SelfFenceDevice(local_node="master", power_action=recorder)
    reset = await device.fence("MASTER", FenceAction.RESET, timeout_ms=1_000)
    assert reset.is_success and reset.target == "MASTER" and reset.device_type == "suicide"
    off = await device.fence("master", FenceAction.OFF, timeout_ms=1_000)
    assert off.is_success
    other = await device.fence("backup", FenceAction.RESET, timeout_ms=1_000)
    assert not other.is_success and "only fences this node (master)" in other.detail
    on = await device.fence("master", FenceAction.ON, timeout_ms=1_000)
    assert not on.is_success
    assert recorder.actions == [FenceAction.RESET, FenceAction.OFF]
    assert await device.list_hosts(timeout_ms=1_000) == ("master",)


async def test_the_plugin_refuses_to_open_outside_production() -> None:
    settings = DeviceSettings(local_node="master")  # is_production defaults to False
    with pytest.raises(StonithConfigError, match="only opened by the daemon in production"):
        await make_device(DeviceSpec(device_type="suicide"), settings=settings)


async def test_describing_suicide_gives_a_device_that_cannot_act() -> None:
    device = await make_device(DeviceSpec(device_type="suicide"), is_describe_only=True)
    assert device.parameter_names() == ()
    with pytest.raises(SelfFenceRefused):
        await device.fence("this-node", FenceAction.RESET, timeout_ms=1_000)


def test_the_real_action_is_never_handed_out_under_test() -> None:
    with pytest.raises(SelfFenceRefused, match="production flag"):
        production_power_action(is_production=False)
    with pytest.raises(SelfFenceRefused, match="never run under tests"):
        production_power_action(is_production=True)  # refused: pytest is loaded
    with pytest.raises(SelfFenceRefused):
        refuse_under_test()
