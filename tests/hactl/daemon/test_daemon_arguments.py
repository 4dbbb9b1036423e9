"""`hactl daemon`'s words read without typer (hactl/entry.py) mean what typer reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from hactl.cli import LazyGroup, app
from hactl.daemon.options import OPTION_FIELDS, daemon_options, parse_daemon_arguments

FULL = ["--config-dir", "/tmp/hactl-x/ha.d", "--state-dir=/tmp/hactl-x/state",
        "--run-dir", "/tmp/hactl-x/run", "--node", "Master"]  # fmt: skip


def typer_reading(words: list[str]) -> tuple[set[str], dict[str, object]]:
    """The daemon command's option names, and its parameters as typer parses the words."""
    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    context = root.make_context("hactl", ["daemon", *words])
    _name, command, rest = root.resolve_command(context, ["daemon", *words])
    assert command is not None
    declared = {name for parameter in command.params for name in parameter.opts}
    return declared, dict(command.make_context("daemon", rest, parent=context).params)


@pytest.mark.parametrize("words", [FULL, [], ["--node", "backup"], ["--node=b", "--node=c"]],
                         ids=["all", "none", "node", "repeated"])
def test_the_fast_reading_equals_typers(words: list[str]) -> None:
    fast = parse_daemon_arguments(words)
    assert fast is not None
    assert fast == daemon_options(**typer_reading(words)[1])  # type: ignore[arg-type]


def test_both_know_the_same_options() -> None:
    assert typer_reading([])[0] == set(OPTION_FIELDS)


@pytest.mark.parametrize("words", [["--help"], ["--node"], ["--nod", "x"], ["extra"],
                                   ["--node", "--run-dir", "/x"], ["--node="]])
def test_anything_else_is_left_to_typer(words: list[str]) -> None:
    assert parse_daemon_arguments(words) is None


def test_node_names_are_lower_cased_and_paths_kept() -> None:
    options = parse_daemon_arguments(FULL)
    assert options is not None
    assert options.node == "master"
    assert options.config_dir == Path("/tmp/hactl-x/ha.d")
    assert options.journal_dir == Path("/tmp/hactl-x/state/journal")


def test_hactl_daemon_help_still_comes_from_typer() -> None:
    result = subprocess.run([sys.executable, "-m", "hactl", "daemon", "--help"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0
    assert "Run the node daemon in the foreground." in result.stdout
    assert "--state-dir" in result.stdout
