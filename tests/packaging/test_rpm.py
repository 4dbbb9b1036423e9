"""The three RPMs are built here, lint clean, installed with `rpm -ivh`, upgraded and removed.

This installs into the host's real rpm database and file system (CI's fresh machine, as
root), because that is what an admin does; it refuses to run where hactl RPMs are already
installed, and removes everything it installed even when an assertion fails.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import hactl

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hactl", "hactl-stonith", "hactl-pils")
CONFIG_DIR = Path("/etc/ha.d")
STATE_DIR = Path("/var/lib/hactl")
LAUNCHER_PYTHON = "python3.11"  # the interpreter CI's build targets (Debian's /usr/bin/python3.11)

pytestmark = [pytest.mark.needs_root, pytest.mark.slow, pytest.mark.uses_host_directories]


def _run(*argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def _build(out: Path, release: int) -> dict[str, Path]:
    _run(REPO / "packaging/rpm/build-rpms.sh", "--python", LAUNCHER_PYTHON, "--local",
         "--release", str(release), "--out", out)  # fmt: skip
    rpms = sorted((out / "RPMS").rglob("*.rpm"))
    by_name = {_run("rpm", "-qp", "--qf", "%{NAME}", rpm).stdout: rpm for rpm in rpms}
    assert set(by_name) == set(PACKAGES), by_name
    return by_name


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Path]]:
    for tool in ("rpmbuild", "rpm", "rpmlint"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (.ci/run installs Debian's rpm and rpmlint)")
    if not Path(f"/usr/bin/{LAUNCHER_PYTHON}").exists():
        pytest.fail(f"/usr/bin/{LAUNCHER_PYTHON} is missing (.ci/run installs it)")
    root = tmp_path_factory.mktemp("rpm")
    return {release: _build(root / f"release{release}", release) for release in (1, 2)}


@pytest.fixture
def installed_host() -> Iterator[None]:
    already = [p for p in PACKAGES if _run("rpm", "-q", p, check=False).returncode == 0]
    if already:
        pytest.fail(f"{already} already installed on this host; remove them before this test")
    if STATE_DIR.exists():  # never risk a real node's journal: the cleanup below removes it
        pytest.fail(f"{STATE_DIR} exists on this host; this test installs and removes it")
    try:
        yield
    finally:
        present = [p for p in PACKAGES if _run("rpm", "-q", p, check=False).returncode == 0]
        if present:
            _run("rpm", "-e", "--nodeps", *present, check=False)
        for leftover in ("ha.cf", "haresources", "authkeys"):
            for suffix in ("", ".rpmsave", ".rpmnew", ".rpmorig"):
                (CONFIG_DIR / f"{leftover}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(STATE_DIR, ignore_errors=True)


def test_packages_pass_rpmlint(builds: dict[int, dict[str, Path]]) -> None:
    result = _run("rpmlint", "-r", REPO / "packaging/rpm/hactl.rpmlintrc",
                  *builds[1].values(), check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_dependency_chain(builds: dict[int, dict[str, Path]]) -> None:
    def requires(name: str) -> set[str]:
        return set(_run("rpm", "-qpR", builds[1][name]).stdout.split("\n"))

    version = f"{hactl.__version__}-1"
    assert f"hactl-stonith = {version}" in requires("hactl")
    assert f"hactl-pils = {version}" in requires("hactl")
    assert f"hactl-pils = {version}" in requires("hactl-stonith")
    assert not any(line.startswith("hactl") for line in requires("hactl-pils"))


ARTICLE_HA_CF = "node node1\nnode node2\nkeepalive 1\ndeadtime 10\nbcast lo\nauto_failback on\n"


def test_install_upgrade_and_remove(
    builds: dict[int, dict[str, Path]], installed_host: None
) -> None:
    release1, release2 = builds[1], builds[2]
    _run("rpm", "-ivh", release1["hactl-pils"], release1["hactl-stonith"], release1["hactl"])

    version = _run("/usr/bin/hactl", "--version")
    assert version.stdout.strip() == f"hactl {hactl.__version__}"
    assert (CONFIG_DIR / "authkeys").stat().st_mode & 0o777 == 0o600
    assert STATE_DIR.stat().st_mode & 0o777 == 0o750
    _run("getent", "group", "haclient")
    _run("getent", "passwd", "hacluster")

    # The admin fills the installed templates in, as the article did.
    with (CONFIG_DIR / "ha.cf").open("a") as ha_cf:
        ha_cf.write(ARTICLE_HA_CF)
    with (CONFIG_DIR / "haresources").open("a") as haresources:
        haresources.write("node1 198.18.0.50\n")
    with (CONFIG_DIR / "authkeys").open("a") as authkeys:
        authkeys.write("auth 1\n1 sha256 test-secret-for-the-rpm-test\n")
    check = _run("/usr/bin/hactl", "config", "check", "--config-dir", CONFIG_DIR,
                 "--node", "node1", check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "node2" in check.stdout

    # A journal written by the node must outlive upgrade and removal.
    journal_file = STATE_DIR / "journal" / "admin-kept-record"
    journal_file.parent.mkdir()
    journal_file.write_text("kept")

    _installed_launcher_fails_over()

    _run("rpm", "-Uvh", release2["hactl-pils"], release2["hactl-stonith"], release2["hactl"])
    assert ARTICLE_HA_CF in (CONFIG_DIR / "ha.cf").read_text()  # the edit stays
    new_template = (CONFIG_DIR / "ha.cf.rpmnew").read_text()  # the new template beside it
    assert f"hactl {hactl.__version__}-2" in new_template
    assert ARTICLE_HA_CF not in new_template
    assert _run("rpm", "-q", "hactl").stdout.strip().startswith(f"hactl-{hactl.__version__}-2")

    _run("rpm", "-e", "hactl", "hactl-stonith", "hactl-pils")
    assert not Path("/usr/bin/hactl").exists()
    assert journal_file.read_text() == "kept"
    # rpm keeps an edited %config file on removal as .rpmsave, the convention RHEL admins know.
    assert ARTICLE_HA_CF in (CONFIG_DIR / "ha.cf.rpmsave").read_text()


def _installed_launcher_fails_over() -> None:
    """The daemon issue's article failover, run by the installed /usr/bin/hactl."""
    from tests.hactl.daemon.namespace_support import (
        check_journals_and_replay,
        cluster_lab,
        wait_client_sees,
        wait_holder,
    )

    with cluster_lab(hactl_command=("/usr/bin/hactl",)) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=("master", "backup"))
        wait_client_sees(lab, "master")
        lab.power_off("master")  # kill -9 the daemon, cut its links
        wait_holder(lab, "backup", observers=("backup",))
        wait_client_sees(lab, "backup")
        check_journals_and_replay(lab)
