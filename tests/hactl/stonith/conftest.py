"""Fixtures for the fencing tests: the test agents, copied where cluster-glue's rules hold.

cluster-glue (and hactl) refuse a fencing script that group or others can write. A checkout
made under a permissive umask could leave the agents group-writable, so each test gets a
private copy with mode 0755 rather than depending on how the tree was cloned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hactl.stonith.device import DeviceSettings

AGENTS_SOURCE = Path(__file__).parent / "agents"


@pytest.fixture
def agents_directory(tmp_path: Path) -> Path:
    target = tmp_path / "agents"
    target.mkdir()
    for agent in AGENTS_SOURCE.iterdir():
        copied = target / agent.name
        shutil.copyfile(agent, copied)
        copied.chmod(0o755)
    return target


@pytest.fixture
def settings(agents_directory: Path, tmp_path: Path) -> DeviceSettings:
    """Test agents as the only external scripts; meatware FIFOs in a private run dir."""
    return DeviceSettings(
        run_directory=tmp_path / "run",
        external_directories=(agents_directory,),
        probe_timeout_ms=10_000,
    )
