"""Opening devices from parsed ha.cf lines and through the plugin registry."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import parse_hacf
from hactl.plugins import PluginRegistry
from hactl.stonith import (
    DeviceSettings,
    DeviceSpec,
    FenceAction,
    FenceDevice,
    StonithConfigError,
    applies_to,
    list_device_types,
    make_device,
)
from hactl.stonith.factory import split_device_type
from hactl.stonith.meatware import MeatwareDevice
from hactl.stonith.null import NullDevice
from hactl.stonith.testing import FlakyDevice


def _hacf(directory: Path, stonith_lines: str) -> Path:
    path = directory / "ha.cf"
    path.write_text(f"node master\nnode backup\nbcast eth0\n{stonith_lines}")
    return path


async def test_devices_open_from_heartbeat_lines(settings: DeviceSettings, tmp_path: Path) -> None:
    (tmp_path / "meatware.cfg").write_text("# hosts this device covers\nmaster backup\n")
    path = _hacf(tmp_path, (
        "stonith_host * null master backup\n"
        f"stonith_host backup external/recorder hostlist=master state_dir={tmp_path}\n"
        "stonith meatware meatware.cfg\n"))  # fmt: skip
    hacf = parse_hacf(path.read_text(), file_name=str(path))
    null, recorder, meatware = [
        await make_device(stonith, settings=settings) for stonith in hacf.stonith_devices
    ]
    assert isinstance(null, NullDevice) and null.hosts == ("master", "backup")
    assert await recorder.list_hosts(timeout_ms=10_000) == ("master",)
    assert isinstance(meatware, MeatwareDevice)  # FILE is read relative to ha.cf
    assert meatware.hosts == ("master", "backup")
    assert [applies_to(stonith, "master") for stonith in hacf.stonith_devices] == [
        True, False, True]  # fmt: skip


async def test_errors_name_the_file_line_and_directive(tmp_path: Path) -> None:
    path = _hacf(tmp_path, "stonith_host * meatware\nstonith null missing.cfg\n")
    hacf = parse_hacf(path.read_text(), file_name=str(path))
    with pytest.raises(StonithConfigError) as missing_parameter:
        await make_device(hacf.stonith_devices[0])
    assert str(missing_parameter.value) == (
        f"{path}:4: stonith meatware: missing parameter hostlist (parameters: hostlist)")
    with pytest.raises(StonithConfigError) as missing_file:
        await make_device(hacf.stonith_devices[1])
    assert str(missing_file.value).startswith(f"{path}:5: stonith null missing.cfg: cannot read")


async def test_unknown_types_list_what_exists() -> None:
    with pytest.raises(StonithConfigError, match=r"unknown stonith plugin 'apc'; available: "
                       r"external, fence_agent, meatware, netns_test, null, ssh, suicide"):
        await make_device(DeviceSpec(device_type="apc"))


def test_device_type_names_split_into_plugin_and_subtype() -> None:
    assert split_device_type("external/ipmi") == ("external", "ipmi")
    assert split_device_type("fence_ipmilan") == ("fence_agent", "fence_ipmilan")
    assert split_device_type("fence_agent/fence_ipmilan") == ("fence_agent", "fence_ipmilan")
    assert split_device_type("meatware") == ("meatware", None)


async def test_a_third_party_device_registers_through_an_entry_point() -> None:
    entry_point = importlib.metadata.EntryPoint(
        name="flaky", value="hactl.stonith.testing:open_device", group="hactl.stonith"
    )
    registry = PluginRegistry([entry_point])
    device = await make_device(
        DeviceSpec(device_type="flaky", named_parameters=(("failures", "3"),)), registry=registry
    )
    assert isinstance(device, FlakyDevice) and isinstance(device, FenceDevice)
    outcomes = [(await device.fence("backup", FenceAction.RESET, timeout_ms=1)).is_success
                for _ in range(4)]  # fmt: skip
    assert outcomes == [False, False, False, True]
    assert len(device.attempts) == 4
    assert "flaky" in list_device_types(registry=registry)


async def test_a_plugin_that_returns_no_device_is_reported() -> None:
    registry = PluginRegistry([importlib.metadata.EntryPoint(
        name="odd", value="builtins:len", group="hactl.stonith")])  # fmt: skip
    with pytest.raises(StonithConfigError, match="plugin 'odd' failed to open: TypeError"):
        await make_device(DeviceSpec(device_type="odd"), registry=registry)


def test_every_result_carries_what_the_journal_needs() -> None:
    from hactl.stonith import DeviceOperation, FenceResult

    result = FenceResult(
        device_type="external/ipmi", target="backup", operation=DeviceOperation.RESET,
        is_success=False, exit_code=1, duration_ms=1200, output_excerpt="no route",
        detail="exited 1",
    )  # fmt: skip
    record = result.to_record()
    journaled = ("device", "target", "operation", "is_success", "duration_ms")
    assert [record[key] for key in journaled] == [
        "external/ipmi", "backup", "reset", False, 1200]
    assert result.summary() == "external/ipmi reset backup FAILED in 1200 ms: exited 1"


def test_fencing_imports_without_the_engine_package() -> None:
    # The RPM split ships hactl-stonith with hactl-pils only; the engine is in `hactl`.
    probe = (
        "import sys, hactl.stonith, hactl.commands.stonith\n"
        "assert not [m for m in sys.modules if m.startswith('engine')], 'engine imported'\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
