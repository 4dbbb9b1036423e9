"""meatware: a fence waits for the operator's `hactl stonith confirm NODE`, and only that.

The confirmation goes through the real CLI (typer's CliRunner) in a worker thread while
the fence waits in trio, so the FIFO rendezvous is exercised exactly as an operator would.
cluster-glue's own `meatclient -c NODE` must release hactl's wait too.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest
import trio
import trio.testing
from typer.testing import CliRunner

from hactl.cli import app
from hactl.stonith import DeviceSettings, DeviceSpec, FenceAction, FenceResult, make_device
from hactl.stonith.device import FenceDevice
from hactl.stonith.meatware import confirmed_node, fifo_path


async def _meatware(settings: DeviceSettings, hostlist: str = "master backup") -> FenceDevice:
    return await make_device(DeviceSpec(device_type="meatware", positional_parameters=tuple(
        hostlist.split())), settings=settings)  # fmt: skip


async def wait_fifo(path: Path) -> None:
    with trio.fail_after(10):
        while not path.exists():
            await trio.sleep(0.01)


def _confirm(node: str, run_directory: Path, *extra: str, answer: str = "y\n") -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["stonith", "confirm", node, "--run-dir", str(run_directory), *extra], input=answer
    )
    return result.exit_code, result.output


async def test_fence_waits_until_the_operator_confirms_through_the_cli(
    settings: DeviceSettings,
) -> None:
    device = await _meatware(settings)
    results: list[FenceResult] = []

    async def fence() -> None:
        results.append(await device.fence("backup", FenceAction.RESET, timeout_ms=60_000))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fence)
        await wait_fifo(fifo_path(settings.run_directory, "backup"))
        # Confirming another node, or declining, releases nothing.
        assert _confirm("master", settings.run_directory, "-y")[0] == 1
        code, output = _confirm("backup", settings.run_directory, answer="n\n")
        assert code == 1 and "canceled" in output
        await trio.testing.wait_all_tasks_blocked()
        assert results == []
        code, output = await trio.to_thread.run_sync(_confirm, "backup", settings.run_directory)
        assert code == 0, output
        assert "WARNING!" in output and "reset of backup confirmed" in output
    (result,) = results
    assert result.is_success and result.detail == "operator confirmed"
    assert (result.target, result.device_type) == ("backup", "meatware")
    assert not fifo_path(settings.run_directory, "backup").exists()


async def test_an_unconfirmed_fence_times_out_and_removes_its_fifo(
    settings: DeviceSettings,
) -> None:
    device = await _meatware(settings)
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=200)
    assert not result.is_success and "no confirmation within 200 ms" in result.detail
    assert not fifo_path(settings.run_directory, "backup").exists()
    code, output = _confirm("backup", settings.run_directory, "-y")
    assert code == 1 and "no meatware fence is waiting for backup" in output


async def test_a_wrong_message_is_ignored_and_the_wait_goes_on(settings: DeviceSettings) -> None:
    device = await _meatware(settings)
    results: list[FenceResult] = []

    async def fence() -> None:
        results.append(await device.fence("backup", FenceAction.OFF, timeout_ms=60_000))

    path = fifo_path(settings.run_directory, "backup")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fence)
        await wait_fifo(path)
        for garbage in (b"hello\n", b"meatware reply master\n", b""):
            await trio.to_thread.run_sync(path.write_bytes, garbage)
        await trio.testing.wait_all_tasks_blocked()
        assert results == []
        await trio.to_thread.run_sync(path.write_bytes, b"meatware reply backup" + b"\0" * 200)
    assert results[0].is_success


async def test_nodes_outside_the_hostlist_are_refused(settings: DeviceSettings) -> None:
    device = await _meatware(settings, "master")
    result = await device.fence("backup", FenceAction.RESET, timeout_ms=60_000)
    assert not result.is_success and "not in hostlist" in result.detail
    result = await device.fence("../etc", FenceAction.RESET, timeout_ms=60_000)
    assert not result.is_success


def test_confirmation_messages_parse_like_meatclient_writes_them() -> None:
    assert confirmed_node(b"meatware reply Backup\0\0\0garbage") == "backup"
    assert confirmed_node(b"meatware reply backup\n") == "backup"
    assert confirmed_node(b"meatware backup") is None
    assert confirmed_node(b"") is None


@pytest.mark.skipif(shutil.which("meatclient") is None, reason="cluster-glue not installed")
@pytest.mark.skipif(not os.access("/run", os.W_OK), reason="meatclient's FIFOs live in /run")
async def test_cluster_glue_meatclient_releases_a_hactl_wait() -> None:
    node = f"hactl-test-{os.getpid()}"  # unique: /run is shared with the host
    device = await _meatware(DeviceSettings(run_directory=Path("/run")), node)
    results: list[FenceResult] = []

    async def fence() -> None:
        results.append(await device.fence(node, FenceAction.RESET, timeout_ms=60_000))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fence)
        await wait_fifo(fifo_path(Path("/run"), node))
        client = await trio.run_process(["meatclient", "-c", node], stdin=b"y\n",
                                        capture_stdout=True, check=False)  # fmt: skip
        assert client.returncode == 0, client.stdout
    assert results[0].is_success
    assert not fifo_path(Path("/run"), node).exists()


async def test_a_second_wait_for_the_same_node_is_refused(settings: DeviceSettings) -> None:
    device = await _meatware(settings)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(functools.partial(device.fence, "backup", FenceAction.RESET,
                                             timeout_ms=60_000))  # fmt: skip
        await wait_fifo(fifo_path(settings.run_directory, "backup"))
        second = await device.fence("backup", FenceAction.RESET, timeout_ms=60_000)
        assert not second.is_success and "already pending" in second.detail
        nursery.cancel_scope.cancel()  # the daemon giving up: the FIFO must go too
    assert not fifo_path(settings.run_directory, "backup").exists()
