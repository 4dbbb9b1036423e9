"""`hactl daemon` refuses to start clearly: a bad configuration, a medium that cannot open."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hactl.daemon.lab import ClusterLab
from hactl.testbed.netns import topology


def run_daemon(config_dir: Path, base: Path, *, prefix: list[str] | None = None) -> str:
    argv = [*(prefix or []), sys.executable, "-m", "hactl", "daemon", "--node", "master",
            "--config-dir", str(config_dir), "--state-dir", str(base / "state"),
            "--run-dir", str(base / "run")]  # fmt: skip
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1, finished.stderr
    return finished.stderr


def test_a_config_error_names_file_and_line_and_nothing_starts(tmp_path: Path) -> None:
    config_dir = tmp_path / "ha.d"
    config_dir.mkdir()
    (config_dir / "ha.cf").write_text("node master\nnode backup\ndeadtime 500 ms\nbcast eth0\n")
    (config_dir / "haresources").write_text("master 198.18.0.50\n")
    (config_dir / "authkeys").write_text("auth 1\n1 sha256 secret\n")
    (config_dir / "authkeys").chmod(0o600)
    stderr = run_daemon(config_dir, tmp_path)
    assert "cannot start" in stderr and "ha.cf:3" in stderr
    assert not (tmp_path / "state" / "generation").exists()


@pytest.mark.needs_root
def test_a_missing_interface_is_refused_with_its_name() -> None:
    with topology(("master", "backup"), has_client=False) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-lab-") as base:  # fmt: skip
        lab = ClusterLab(net=net, base_dir=Path(base), media_lines=("bcast eth9",))
        lab.write_configs()
        stderr = run_daemon(lab.config_dir("master"), Path(base),
                            prefix=net.command("master", []))  # fmt: skip
        assert "cannot start" in stderr and "eth9" in stderr
