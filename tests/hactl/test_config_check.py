"""`hactl config check` through typer's CliRunner: summary, JSON, errors and exit codes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hactl.cli import app

# The article's files as shipped in ../shared/reference, kept in the repo so CI has them.
ARTICLE_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples" / "article-cluster"
runner = CliRunner()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "ha.d"
    directory.mkdir()
    for name in ("ha.cf", "haresources", "authkeys"):
        shutil.copyfile(ARTICLE_DIR / name, directory / name)
    (directory / "authkeys").chmod(0o600)
    (tmp_path / "init.d").mkdir()
    return directory


def _check(config_dir: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "config",
            "check",
            "--config-dir",
            str(config_dir),
            "--node",
            "master",
            "--init-dir",
            str(config_dir.parent / "init.d"),
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_valid_config_prints_summary_and_exits_0(config_dir: Path) -> None:
    exit_code, stdout, _ = _check(config_dir)
    assert exit_code == 0
    assert "Nodes: master (this node), backup" in stdout
    assert "deadtime        30s  (set)" in stdout
    assert "keepalive        1s  (default)" in stdout
    assert "initdead        30s  (derived)" in stdout
    assert "bcast eth0 port 694" in stdout
    assert "UDP port: 694" in stdout
    assert "Authentication: key 1, sha1" in stdout
    assert "auto_failback: on" in stdout
    assert "IPaddr::198.18.0.50 (preferred node master), start order:" in stdout
    assert (
        stdout.index("1. IPaddr::198.18.0.50") < stdout.index("2. httpd") < stdout.index("3. smb")
    )
    assert "httpd: script not found" in stdout
    assert "smb: script not found" in stdout
    assert "PutYourSecretHere" not in stdout


def test_json_has_times_in_milliseconds(config_dir: Path) -> None:
    exit_code, stdout, _ = _check(config_dir, "--json")
    assert exit_code == 0
    document = json.loads(stdout)
    assert document["valid"] is True
    assert document["nodes"] == ["master", "backup"]
    assert document["timings"]["deadtime_ms"] == 30_000
    assert document["timings"]["warntime_ms"] == 10_000
    assert document["timings"]["keepalive_ms"] == 1_000
    assert document["timings"]["keepalive_source"] == "default"
    assert document["timings"]["initdead_ms"] == 30_000
    assert document["media"] == [{"type": "bcast", "interface": "eth0", "port": 694}]
    assert document["auth"]["method"] == "sha1"
    assert document["auto_failback"] == "on"
    (group,) = document["groups"]
    assert group["preferred_node"] == "master"
    assert [resource["spec"] for resource in group["resources"]] == [
        "IPaddr::198.18.0.50",
        "httpd",
        "smb",
    ]
    assert len(document["warnings"]) == 2
    assert "PutYourSecretHere" not in stdout


def test_every_error_is_printed_with_file_and_line_and_exit_1(config_dir: Path) -> None:
    hacf = config_dir / "ha.cf"
    hacf.write_text(hacf.read_text() + "keepalive 500 ms\nbcst eth1\n")
    (config_dir / "haresources").write_text("master 198.18.0.300 httpd\n")
    exit_code, stdout, stderr = _check(config_dir)
    assert exit_code == 1
    assert stdout == ""
    assert f"{hacf}:7: keepalive 500 ms: the unit must follow the number" in stderr
    assert f"{hacf}:8: bcst: unknown directive (did you mean bcast?)" in stderr
    assert f"{config_dir / 'haresources'}:1: 198.18.0.300:" in stderr


def test_errors_as_json(config_dir: Path) -> None:
    (config_dir / "authkeys").chmod(0o640)
    exit_code, stdout, _ = _check(config_dir, "--json")
    assert exit_code == 1
    document = json.loads(stdout)
    assert document["valid"] is False
    (error,) = document["errors"]
    assert error["file"] == str(config_dir / "authkeys")
    assert f"chmod 600 {config_dir / 'authkeys'}" in error["hint"]


def test_unknown_node_is_an_error(config_dir: Path) -> None:
    result = runner.invoke(
        app, ["config", "check", "--config-dir", str(config_dir), "--node", "Stranger"]
    )
    assert result.exit_code == 1
    assert "this node, 'stranger', is not one of the nodes (master, backup)" in result.stderr


def test_node_name_is_compared_lower_case(config_dir: Path) -> None:
    result = runner.invoke(
        app, ["config", "check", "--config-dir", str(config_dir), "--node", "MASTER", "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["local_node"] == "master"


@pytest.mark.parametrize(
    "arguments",
    [
        ["config", "check", "--config-dir", "/nonexistent/hactl-test"],
        ["config", "check", "--no-such-option"],
        ["config", "frobnicate"],
    ],
)
def test_usage_errors_exit_2(arguments: list[str]) -> None:
    assert runner.invoke(app, arguments).exit_code == 2


def test_missing_file_is_reported(config_dir: Path) -> None:
    (config_dir / "haresources").unlink()
    exit_code, _, stderr = _check(config_dir)
    assert exit_code == 1
    assert f"{config_dir / 'haresources'}: haresources not found" in stderr


DUMMY_AGENT = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")


def _require_dummy_agent() -> None:
    if DUMMY_AGENT.exists():
        return
    message = "Debian's resource-agents package (OCF Dummy) is not installed"
    if os.environ.get("HACTL_REQUIRE_ROOT_TESTS") == "1":
        pytest.fail(f"{message}; .ci/run installs it")
    pytest.skip(message)


@pytest.mark.parametrize(
    ("state_file", "is_warned"),
    [("{tmp}/d1.state", False), ("/nonexistent-hactl-dir/d1.state", True)],
)
def test_ocf_validate_all_failures_are_warnings(
    config_dir: Path, tmp_path: Path, state_file: str, is_warned: bool
) -> None:
    _require_dummy_agent()
    (config_dir / "haresources").write_text("master OCF::Dummy::d1\n")
    parameters = config_dir / "conf" / "OCF" / "Dummy"
    parameters.mkdir(parents=True)
    (parameters / "d1").write_text(f"state={state_file.format(tmp=tmp_path)}\n")
    exit_code, stdout, _ = _check(config_dir)
    assert exit_code == 0, stdout
    warning = "OCF::Dummy::d1: validate-all failed"
    assert (warning in stdout) is is_warned, stdout
    exit_code, stdout, _ = _check(config_dir, "--no-validate")
    assert warning not in stdout
