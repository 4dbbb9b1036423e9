"""The lazy root CLI answers exactly as the eager one, and imports only what a command needs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from hactl import cli
from hactl.cli import COMMANDS, app, installed_modules, registered_group

HELP_PATHS = [[entry.name, "--help"] for entry in COMMANDS if entry.name != "stonith"] + [
    ["journal", "merge", "--help"], ["config", "check", "--help"],
    ["resource", "debug", "--help"], ["stonith", "-h"],
]  # fmt: skip


def eager_app() -> typer.Typer:
    """The app as it was built before: every module imported and registered up front."""
    eager = typer.Typer(name="hactl", help=app.info.help, no_args_is_help=True,
                        add_completion=True, pretty_exceptions_enable=False)  # fmt: skip
    eager.callback()(cli.root)
    for name in installed_modules():
        __import__(f"hactl.commands.{name}", fromlist=["register"]).register(eager)
    return eager


def test_the_table_names_every_command_the_modules_register_in_order() -> None:
    group = registered_group(installed_modules())
    commands = [name for name, command in group.commands.items()
                if not hasattr(command, "commands")]  # fmt: skip
    groups = [name for name, command in group.commands.items() if hasattr(command, "commands")]
    assert [entry.name for entry in COMMANDS] == commands + groups
    every_module = {module for entry in COMMANDS for module in entry.modules}
    assert every_module == set(installed_modules())


def test_root_help_is_the_eager_help() -> None:
    runner = CliRunner()
    lazy = runner.invoke(app, ["--help"], terminal_width=100)
    eager = runner.invoke(eager_app(), ["--help"], terminal_width=100)
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    for entry in COMMANDS:
        assert entry.name in lazy.output


@pytest.mark.parametrize("words", HELP_PATHS, ids=" ".join)
def test_each_command_help_is_the_eager_help(words: list[str]) -> None:
    runner = CliRunner()
    lazy = runner.invoke(app, words, terminal_width=100)
    eager = runner.invoke(eager_app(), words, terminal_width=100)
    assert (lazy.exit_code, lazy.output) == (eager.exit_code, eager.output)


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["postmortm"])
    assert result.exit_code == 2
    assert "postmortem" in result.output


def imported_after(*words: str) -> set[str]:
    """The modules a fresh `hactl WORDS` process has imported when typer is done."""
    script = ("import sys\nfrom hactl.cli import app\n"
              f"try:\n    app({list(words)!r})\nexcept SystemExit:\n    pass\n"
              "print('\\n'.join(sorted(sys.modules)))\n")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)  # fmt: skip
    return set(result.stdout.split())


HEAVY = ("pyroute2", "trio", "cryptography", "hactl.postmortem", "hactl.commands.sim",
         "hactl.daemon.main", "engine.sim")


def test_root_help_imports_no_command_module() -> None:
    modules = imported_after("--help")
    assert not any(module.startswith(HEAVY) for module in modules)
    assert not any(module.startswith("hactl.commands.") for module in modules)


def test_a_command_imports_its_module_and_no_other() -> None:
    modules = imported_after("postmortem", "--help")
    assert "hactl.commands.postmortem" in modules
    assert "hactl.commands.sim" not in modules and "hactl.commands.stonith" not in modules
    assert not any(module.startswith(("pyroute2", "hactl.daemon.main")) for module in modules)
