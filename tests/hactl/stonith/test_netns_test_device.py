"""The namespace test device really kills a node's process and takes its link down."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hactl.stonith import DeviceSpec, FenceAction, StonithConfigError, make_device
from hactl.stonith.netns_test import Link, parse_links


def test_links_outside_test_namespaces_are_refused() -> None:
    assert parse_links("hactl-x-{node}/eth0 hactl-veth9", "a") == (
        Link(namespace="hactl-x-a", interface="eth0"),
        Link(namespace=None, interface="hactl-veth9"),
    )
    for bad in ("eth0", "prod/eth0", "hactl-x/", "/eth0"):
        with pytest.raises(ValueError, match="only hactl-"):
            parse_links(bad, "a")


async def test_opening_with_unsafe_links_fails_with_the_origin() -> None:
    with pytest.raises(StonithConfigError, match=r"ha.cf:3: stonith netns_test: eth0: only"):
        await make_device(DeviceSpec(device_type="netns_test", origin="ha.cf:3", named_parameters=(
            ("hostlist", "a"), ("pid_file", "/x"), ("links", "eth0"))))  # fmt: skip


async def test_pid_1_and_ourselves_are_never_killed(tmp_path: Path) -> None:
    device = await make_device(DeviceSpec(device_type="netns_test", named_parameters=(
        ("hostlist", "a b"), ("pid_file", str(tmp_path / "{node}.pid")), ("links", ""))))
    (tmp_path / "a.pid").write_text("1\n")
    (tmp_path / "b.pid").write_text(f"{os.getpid()}\n")
    for node in ("a", "b"):
        result = await device.fence(node, FenceAction.OFF, timeout_ms=5_000)
        assert not result.is_success and "never a test node's daemon" in result.detail
    missing = await device.fence("c", FenceAction.OFF, timeout_ms=5_000)
    assert not missing.is_success and "not in hostlist" in missing.detail


@pytest.fixture
def node_namespace() -> Iterator[str]:
    """A namespace with a veth pair inside it, both ends ours."""
    name = f"hactl-nt{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer",
                        "name", "hactl-peer0"], check=True)  # fmt: skip
        for interface in ("eth0", "hactl-peer0"):
            subprocess.run(["ip", "-n", name, "link", "set", interface, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def _is_up(namespace: str, interface: str) -> bool:
    shown = subprocess.run(["ip", "-n", namespace, "-o", "link", "show", interface],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    flags = shown.split("<", 1)[1].split(">", 1)[0].split(",")
    return "UP" in flags


@pytest.mark.needs_root
async def test_off_kills_the_daemon_and_cuts_its_links_and_on_restores_them(
    node_namespace: str, tmp_path: Path
) -> None:
    sleeper = subprocess.Popen(["ip", "netns", "exec", node_namespace, "sleep", "600"])
    try:
        (tmp_path / "backup.pid").write_text(f"{sleeper.pid}\n")
        device = await make_device(DeviceSpec(device_type="netns_test", named_parameters=(
            ("hostlist", "master backup"), ("pid_file", str(tmp_path / "{node}.pid")),
            ("links", f"{node_namespace}/eth0"))))  # fmt: skip
        assert _is_up(node_namespace, "eth0")
        off = await device.fence("backup", FenceAction.OFF, timeout_ms=10_000)
        assert off.is_success, off.detail
        assert f"killed PID {sleeper.pid}; 1 link(s) down" == off.detail
        assert sleeper.wait(timeout=10) == -9
        assert not _is_up(node_namespace, "eth0")
        again = await device.fence("backup", FenceAction.RESET, timeout_ms=10_000)
        assert again.is_success  # already dead counts: the node is off
        on = await device.fence("backup", FenceAction.ON, timeout_ms=10_000)
        assert on.is_success and _is_up(node_namespace, "eth0")
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        sleeper.wait(timeout=10)
