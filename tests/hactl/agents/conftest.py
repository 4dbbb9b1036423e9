"""Fixtures for agent tests: a throw-away /etc/ha.d and init directory with real scripts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hactl.agents import AgentContext

ScriptWriter = Callable[[Path, str, str], Path]


@pytest.fixture
def context(tmp_path: Path) -> AgentContext:
    config_dir = tmp_path / "ha.d"
    (config_dir / "resource.d").mkdir(parents=True)
    (tmp_path / "init.d").mkdir()
    return AgentContext(config_dir=config_dir, init_dir=tmp_path / "init.d", kill_grace_ms=300)


def write_script(directory: Path, name: str, body: str) -> Path:
    """Write an executable /bin/sh script."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def is_process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for a reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def pids_to_reap() -> Iterator[list[int]]:
    """PIDs of processes a test's scripts started; killed at the end, even on failure."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_process_alive(pid):
            os.kill(pid, 9)
