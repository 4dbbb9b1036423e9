"""The root-test policy itself: under HACTL_REQUIRE_ROOT_TESTS=1 a missing capability fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _run_pytest_on(
    tmp_path: Path, env_flag: str | None, fake_euid: int
) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_probe.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.needs_root
            def test_needs_root():
                pass
            """
        )
    )
    conftest_source = (Path(__file__).parent / "conftest.py").read_text()
    # Pretend to be a user without root so the obstacle path is exercised even under CI.
    conftest_source = conftest_source.replace("os.geteuid()", str(fake_euid))
    (tmp_path / "conftest.py").write_text(conftest_source)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    needs_root: test\n")
    env = {k: v for k, v in os.environ.items() if k != "HACTL_REQUIRE_ROOT_TESTS"}
    if env_flag is not None:
        env["HACTL_REQUIRE_ROOT_TESTS"] = env_flag
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:trio",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_missing_root_skips_on_a_laptop(tmp_path: Path) -> None:
    result = _run_pytest_on(tmp_path, env_flag=None, fake_euid=1000)
    assert "1 skipped" in result.stdout, result.stdout


def test_missing_root_fails_when_required(tmp_path: Path) -> None:
    result = _run_pytest_on(tmp_path, env_flag="1", fake_euid=1000)
    assert result.returncode != 0
    assert "HACTL_REQUIRE_ROOT_TESTS=1 but not running as root" in result.stdout, result.stdout


@pytest.mark.needs_root
def test_namespaces_are_usable_here() -> None:
    result = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    assert result.returncode == 0
