"""`hactl standby|takeover|shutdown|reload|acknowledge`: admin commands for the running node.

Heartbeat's hb_standby and hb_takeover, with the same scopes: `all`, `local` (groups whose
preferred node is this one) and `foreign` (the others). The daemon journals each command
with the caller's uid and pid before acting. Exit codes: 0 accepted, 1 no daemon or the
daemon refused (the message says why).
"""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from hactl.control_client import DEFAULT_RUN_DIR, ControlClientError, request

RUN_DIR_HELP = "The node's run directory (its control socket)."


class ScopeChoice(enum.Enum):
    ALL = "all"
    LOCAL = "local"
    FOREIGN = "foreign"


def _send(run_dir: Path, command: str, scope: ScopeChoice | None, done: str) -> None:
    try:
        result = request(run_dir, command, scope=scope.value if scope else None)
    except ControlClientError as error:
        typer.echo(f"hactl {command}: {error}", err=True)
        raise typer.Exit(1) from None
    seq = result.get("journal_seq") if isinstance(result, dict) else None
    suffix = f" (journal seq {seq})" if seq is not None else ""
    typer.echo(f"{done}{suffix}")


def standby(
    scope: ScopeChoice = typer.Argument(ScopeChoice.ALL, help="Which groups to give away."),
    run_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--run-dir", help=RUN_DIR_HELP),
) -> None:
    """Give this node's groups to the peer (hb_standby)."""
    _send(run_dir, "standby", scope, f"standby {scope.value}: requested")


def takeover(
    scope: ScopeChoice = typer.Argument(ScopeChoice.ALL, help="Which groups to take."),
    run_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--run-dir", help=RUN_DIR_HELP),
) -> None:
    """Take groups over from the peer (hb_takeover)."""
    _send(run_dir, "takeover", scope, f"takeover {scope.value}: requested")


def shutdown(
    run_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--run-dir", help=RUN_DIR_HELP),
) -> None:
    """Stop this node cleanly, handing its groups over at once."""
    _send(run_dir, "shutdown", None, "shutdown: requested; groups are handed over")


def reload(
    run_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--run-dir", help=RUN_DIR_HELP),
) -> None:
    """Re-read ha.cf, haresources and authkeys (like SIGHUP)."""
    _send(run_dir, "reload", None, "reload: configuration re-read")


def acknowledge(
    run_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--run-dir", help=RUN_DIR_HELP),
) -> None:
    """Acknowledge the start-up probe incidents `hactl status` shows (clears them)."""
    _send(run_dir, "acknowledge", None, "incidents acknowledged")


def register(app: typer.Typer) -> None:
    app.command("standby")(standby)
    app.command("takeover")(takeover)
    app.command("shutdown")(shutdown)
    app.command("reload")(reload)
    app.command("acknowledge")(acknowledge)
