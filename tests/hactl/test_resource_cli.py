"""`hactl resource debug`: what it prints and what its exit status means."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hactl.cli import app

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "ha.d"
    (directory / "resource.d").mkdir(parents=True)
    script = directory / "resource.d" / "svc"
    flag = tmp_path / "svc.running"
    script.write_text(
        "#!/bin/sh\n"
        'case "$2" in\n'
        f'  start) [ "$1" = broken ] && {{ echo "cannot start"; exit 1; }}; touch {flag};;\n'
        f"  stop) rm -f {flag};;\n"
        f'  status) [ -e {flag} ] && echo "svc is running" || echo "svc is stopped";;\n'
        "esac\n"
        "exit 0\n"
    )
    script.chmod(0o755)
    return directory


def debug(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["resource", "debug", *arguments])
    return result.exit_code, result.output


def test_script_start_status_stop_with_heartbeat_text_status(config_dir: Path) -> None:
    options = ("--config-dir", str(config_dir))
    assert debug("status", "svc::ok", *options)[0] == 3  # "svc is stopped" with exit 0
    code, output = debug("start", "svc::ok", *options)
    assert code == 0
    assert "resource: svc::ok (Heartbeat resource.d or LSB init script)" in output
    assert f"did:      {config_dir}/resource.d/svc ok start: exit 0" in output
    assert "outcome:  success" in output
    code, output = debug("status", "svc::ok", *options)
    assert code == 0
    assert "  | svc is running" in output
    assert debug("monitor", "svc::ok", *options)[0] == 0
    assert debug("stop", "svc::ok", *options)[0] == 0
    assert debug("status", "svc::ok", *options)[0] == 3


def test_failed_start_exits_1_and_shows_the_output(config_dir: Path) -> None:
    code, output = debug("start", "svc::broken", "--config-dir", str(config_dir))
    assert code == 1
    assert "exit:     1" in output
    assert "outcome:  failed" in output
    assert "  | cannot start" in output


def test_timeout_option(config_dir: Path) -> None:
    hang = config_dir / "resource.d" / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(0o755)
    code, output = debug("start", "hang", "--config-dir", str(config_dir), "--timeout", "300ms")
    assert code == 1
    assert "action:   start (timeout 300 ms)" in output
    assert "outcome:  timeout" in output
    assert "exit:     none (killed after the timeout)" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("start", "IPaddr::1.2.3/24"), "'1.2.3' is not an IP address"),
        (("start", "OCF::Dummy"), "is not OCF::TYPE::INSTANCE"),
        (("start", "svc", "--timeout", "5 s"), "--timeout"),
    ],
)
def test_bad_spec_or_option_exits_2(arguments: tuple[str, ...], message: str) -> None:
    code, output = debug(*arguments)
    assert code == 2
    assert message in output


def test_ocf_dummy_with_its_parameter_file(config_dir: Path, tmp_path: Path) -> None:
    if not DUMMY.is_file():
        if os.environ.get("HACTL_REQUIRE_ROOT_TESTS") == "1":
            pytest.fail(f"{DUMMY} missing: install Debian's resource-agents package")
        pytest.skip(f"{DUMMY} missing (Debian package resource-agents)")
    state = tmp_path / "d1.state"
    parameters = config_dir / "conf" / "OCF" / "Dummy" / "d1"
    parameters.parent.mkdir(parents=True)
    parameters.write_text(f"# Dummy's state file\nstate={state}\n")
    options = ("--config-dir", str(config_dir))
    code, output = debug("start", "OCF::Dummy::d1", *options)
    assert code == 0, output
    assert f"parameters from {parameters}: state" in output
    assert "action:   start (timeout 20000 ms)" in output  # from Dummy's meta-data
    assert state.exists()
    assert debug("monitor", "OCF::Dummy::d1", *options)[0] == 0
    assert debug("stop", "OCF::Dummy::d1", *options)[0] == 0
    code, output = debug("monitor", "OCF::Dummy::d1", *options)
    assert code == 3
    assert "exit:     7" in output
