"""The `hactl` command line: a typer app over the modules in `hactl.commands`, loaded lazily.

Exit codes mean something throughout: 0 success, 1 the thing checked is wrong (bad config,
broken journal, failed action), 2 usage errors (typer's own).

Why lazy: importing every command module (and with them pyroute2, cryptography, trio, the
engine, the postmortem page code) took about a second before any command ran, which a
`hactl postmortem` that must answer in under a second, and a daemon whose every imported
module stays resident, cannot afford. So the root group knows each command by the table
`COMMANDS` below (name, module, the one line `hactl --help` shows) and imports a command's
module only when that command is resolved to run (or to print its own `--help`).
`tests/hactl/test_cli_lazy.py` checks the table against what the modules register, so a
new or changed command that the table does not mention fails a test. A module in
`hactl.commands` that the table does not know is still loaded, eagerly, as before: a
command family can be dropped in without touching this file (it is only slower to start).
Modules listed here but not installed (the RPM split installs some commands in other
packages) are left out, like before.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

import typer
import typer.core
import typer.main

import hactl
import hactl.commands

if TYPE_CHECKING:  # typer's own click (vendored since typer 0.25), for the overrides' types
    from typer._click import Command, Context

COMMANDS_PACKAGE = "hactl.commands"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LazyCommand:
    """One top-level command: where it is registered and what `hactl --help` says of it."""

    name: str
    modules: tuple[str, ...]  # modules of hactl.commands whose `register(app)` build it
    help: str  # the first paragraph of the command's help, as the root listing shows it


def _entry(name: str, *modules: str, help: str) -> LazyCommand:
    return LazyCommand(name=name, modules=modules, help=help)


# In the order `hactl --help` lists them (typer lists commands before command groups).
COMMANDS: tuple[LazyCommand, ...] = (
    _entry("standby", "admin", help="Give this node's groups to the peer (hb_standby)."),
    _entry("takeover", "admin", help="Take groups over from the peer (hb_takeover)."),
    _entry("shutdown", "admin", help="Stop this node cleanly, handing its groups over at once."),
    _entry("reload", "admin", help="Re-read ha.cf, haresources and authkeys (like SIGHUP)."),
    _entry("acknowledge", "admin", help="Acknowledge the start-up probe incidents `hactl "
           "status` shows (clears them)."),
    _entry("daemon", "daemon", help="Run the node daemon in the foreground."),
    _entry("plugins", "plugins", help="List installed plugins of each kind; exit status 1 if "
           "any is broken."),
    _entry("postmortem", "postmortem", help="Explain each failover, failback, standby, fence "
           "and split-brain as a causal chain."),
    _entry("replay", "replay", help="Replay a node's journal through the engine and print the "
           "state it derives."),
    _entry("sim", "sim", help="Simulate a cluster with seeded faults and check safety, "
           "liveness and replay."),
    _entry("status", "status", help="Show this node's view of the cluster."),
    _entry("stonith", "stonith", help="Fence nodes and inspect fencing devices (cluster-glue "
           "stonith flags; `hactl stonith -h` for them), or `hactl stonith confirm NODE` for "
           "meatware."),
    _entry("config", "config", help="Check the Heartbeat configuration (ha.cf, haresources, "
           "authkeys)."),
    _entry("journal", "journal", "journal_merge",
           help="Read, verify and export the signed event journal."),
    _entry("resource", "resource",
           help="Resource agents: try them by hand, outside the cluster."),
)


def installed_modules() -> list[str]:
    """The command modules present (one directory listing; nothing is imported)."""
    return sorted(info.name for info in pkgutil.iter_modules(hactl.commands.__path__))


def registered_group(modules: tuple[str, ...] | list[str]) -> typer.core.TyperGroup:
    """The click group that the modules' `register(app)` build, in order: the eager way."""
    app = typer.Typer()
    for name in modules:
        importlib.import_module(f"{COMMANDS_PACKAGE}.{name}").register(app)
    group = typer.main.get_group(app)
    assert isinstance(group, typer.core.TyperGroup)
    return group


@functools.cache
def _loaded(name: str) -> Command:
    """The real command `name`; cached, since a module registers its commands once."""
    entry = next(entry for entry in COMMANDS if entry.name == name)
    command = registered_group(entry.modules).commands.get(name)
    assert command is not None, f"hactl.commands.{entry.modules[0]} does not register {name}"
    return command


class LazyGroup(typer.core.TyperGroup):
    """The root group: placeholders (name and help) until a command is resolved to run."""

    def __init__(self, **attributes: Any) -> None:
        super().__init__(**attributes)
        present = installed_modules()
        for entry in COMMANDS:
            if entry.modules[0] in present:
                self.commands[entry.name] = typer.core.TyperCommand(
                    name=entry.name, help=entry.help, add_help_option=False)
        known = {module for entry in COMMANDS for module in entry.modules}
        unknown = [module for module in present if module not in known]
        if unknown:  # a command family the table does not name yet: load it as before
            self.commands.update(registered_group(unknown).commands)
        self._eager = set(self.commands) - {entry.name for entry in COMMANDS}

    def resolve_command(self, ctx: Context, args: list[str]
                        ) -> tuple[str | None, Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name not in self._eager:
            command = _loaded(name)
        return name, command, rest


app = typer.Typer(
    name="hactl",
    help="High-availability cluster manager with a signed, replayable event journal.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
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


def main() -> None:
    app()
