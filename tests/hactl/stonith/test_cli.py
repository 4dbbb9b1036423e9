"""`hactl stonith` with cluster-glue's flags, through typer's CliRunner and the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hactl.cli import app


def stonith(*words: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["stonith", *words], env=env)


def test_list_types_shows_built_ins_scripts_and_agents(agents_directory: Path) -> None:
    result = stonith("-L", "--external-dir", str(agents_directory))
    assert result.exit_code == 0
    types = result.output.split()
    for expected in ("null", "meatware", "ssh", "suicide", "external/recorder"):
        assert expected in types
    assert "external" not in types and "fence_agent" not in types


def test_parameter_names_and_metadata(agents_directory: Path) -> None:
    external = ("--external-dir", str(agents_directory))
    names = stonith("-t", "external/recorder", "-n", *external)
    assert (names.exit_code, names.output) == (0, "hostlist state_dir\n")
    assert stonith("-t", "meatware", "-n").output == "hostlist\n"
    metadata = stonith("-t", "external/recorder", "-m", *external)
    assert metadata.exit_code == 0
    assert "Records calls; powers test nodes" in metadata.output
    assert '<parameter name="state_dir"' in metadata.output


def test_fence_with_name_value_parameters(agents_directory: Path, tmp_path: Path) -> None:
    result = stonith("-t", "external/recorder", "--external-dir", str(agents_directory),
                     "hostlist=master backup", f"state_dir={tmp_path}", "-T", "off", "backup")
    assert result.exit_code == 0, result.output
    assert "external/recorder off backup succeeded" in result.output
    assert (tmp_path / "backup").read_text() == "off\n"
    failed = stonith("-t", "external/recorder", "--external-dir", str(agents_directory),
                     "hostlist=master", f"state_dir={tmp_path}", "client")  # default: reset
    assert failed.exit_code == 1
    assert "reset client FAILED" in failed.output and "is not mine" in failed.output


def test_positional_file_and_environment_parameters(
    agents_directory: Path, tmp_path: Path
) -> None:
    external = ("--external-dir", str(agents_directory))
    by_position = stonith("-t", "external/recorder", *external, "-p", f"master {tmp_path}", "-l")
    assert (by_position.exit_code, by_position.output) == (0, "master\n")
    config = tmp_path / "recorder.cfg"
    config.write_text(f"# as in `stonith TYPE FILE`\nmaster,backup {tmp_path}\n")
    from_file = stonith("-t", "external/recorder", *external, "-F", str(config), "-l")
    assert (from_file.exit_code, from_file.output) == (0, "master\nbackup\n")
    environment = {"hostlist": "backup", "state_dir": str(tmp_path)}
    from_environment = stonith("-t", "external/recorder", *external, "-E", "-S", env=environment)
    assert from_environment.exit_code == 0
    assert "external/recorder device OK" in from_environment.output


def test_status_failure_and_silence(agents_directory: Path, tmp_path: Path) -> None:
    external = ("--external-dir", str(agents_directory))
    failed = stonith("-t", "external/recorder", *external, "-p", "master /nonexistent", "-S")
    assert failed.exit_code == 1 and "FAILED" in failed.output
    quiet = stonith("-t", "null", "hostlist=a", "-s", "-T", "off", "a")
    assert (quiet.exit_code, quiet.output) == (0, "")


def test_null_device_warns_loudly() -> None:
    result = stonith("-t", "null", "-p", "master backup", "-T", "reset", "backup")
    assert result.exit_code == 0
    assert "null device: nothing is fenced" in result.output


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ((), "a device type is needed"),
        (("-t", "null", "hostlist=a"), "nothing to do"),
        (("-t", "null", "hostlist=a", "-T", "off"), "-T off needs a NODE"),
        (("-t", "null", "hostlist=a b", "a", "b"), "one node at a time"),
        (("-t", "null", "-T", "explode", "a"), "invalid choice"),
    ],
)
def test_usage_errors_exit_2(words: tuple[str, ...], message: str) -> None:
    result = stonith(*words)
    assert result.exit_code == 2 and message in result.output


def test_configuration_errors_exit_1_and_say_what_exists() -> None:
    unknown = stonith("-t", "acme_pdu", "-n")
    assert unknown.exit_code == 1
    assert "unknown stonith plugin 'acme_pdu'; available: external, fence_agent" in unknown.output
    missing = stonith("-t", "meatware", "-S")
    assert missing.exit_code == 1 and "missing parameter hostlist" in missing.output
    suicide = stonith("-t", "suicide", "-T", "reset", "master")
    assert suicide.exit_code == 1 and "only opened by the daemon in production" in suicide.output


def test_help_lists_the_cluster_glue_flags() -> None:
    result = stonith("-h")
    assert result.exit_code == 0
    for flag in ("-L", "-t", "-n", "-m", "-p", "-F", "-E", "-l", "-S", "-T", "-s"):
        assert f"{flag} " in result.output or f"{flag}," in result.output


@pytest.mark.skipif(not Path("/usr/sbin/fence_dummy").is_file(), reason="fence-agents missing")
def test_a_real_fence_agent_from_the_command_line(tmp_path: Path) -> None:
    power = tmp_path / "backup.power"
    power.write_text("on")
    result = stonith("-t", "fence_dummy", f"status_file={power}", "-T", "off", "backup")
    assert result.exit_code == 0, result.output
    assert "fence_dummy off backup succeeded" in result.output
    assert power.read_text() == "off"
    assert stonith("-t", "fence_dummy", f"status_file={power}", "-S").exit_code == 0
