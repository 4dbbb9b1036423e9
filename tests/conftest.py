"""Shared test policy.

Tests that need root and network namespaces carry `@pytest.mark.needs_root`. On a laptop
without them they skip; in CI (`HACTL_REQUIRE_ROOT_TESTS=1`) the same condition is a
failure, so a namespace test can never be skipped there unnoticed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Speed is measured in bench/, never asserted: no per-example deadline on noisy CI machines.
settings.register_profile(
    "hactl", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("hactl")


@functools.cache
def root_test_obstacle() -> str | None:
    """Why namespace tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"hactl-probe-{os.getpid()}"
    created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if created.returncode != 0:
        return f"cannot create a network namespace: {created.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_root") is None:
        return
    obstacle = root_test_obstacle()
    if obstacle is None:
        return
    if os.environ.get("HACTL_REQUIRE_ROOT_TESTS") == "1":
        pytest.fail(f"HACTL_REQUIRE_ROOT_TESTS=1 but {obstacle}", pytrace=False)
    pytest.skip(f"needs root and network namespaces: {obstacle}")


# The host's real state and run directories: a test must work in its own tmp dirs, never
# here (a default left in a CLI call would otherwise read or write a real node's journal).
HOST_DIRECTORIES = (Path("/var/lib/hactl"), Path("/run/hactl"))


@pytest.fixture(autouse=True)
def _host_directories_untouched(request: pytest.FixtureRequest) -> Iterator[None]:
    before = {directory: directory.exists() for directory in HOST_DIRECTORIES}
    yield
    if request.node.get_closest_marker("uses_host_directories") is not None:
        return
    created = [str(d) for d, existed in before.items() if not existed and d.exists()]
    assert not created, f"this test created {created} on the host; give it a tmp dir"
