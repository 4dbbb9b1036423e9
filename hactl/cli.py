"""The `hactl` command line: a typer app assembled from the modules in `hactl.commands`.

Exit codes mean something throughout: 0 success, 1 the thing checked is wrong (bad config,
broken journal, failed action), 2 usage errors (typer's own).
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import hactl
import hactl.commands

app = typer.Typer(
    name="hactl",
    help="High-availability cluster manager with a signed, replayable event journal.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(is_requested: bool) -> None:
    if is_requested:
        typer.echo(f"hactl {hactl.__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """hactl: Heartbeat-compatible HA cluster manager."""


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(hactl.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"hactl.commands.{module_info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    app()
