"""`hactl`'s entry point: `hactl daemon` starts without the CLI framework; the rest is typer.

The daemon lives for months and keeps every module it imported resident, so a well-formed
`hactl daemon --option VALUE ...` is read by `parse_daemon_arguments` and runs the daemon
directly (issue 5: typer and its coercion layer are about 17 MB of the idle RSS budget).
Every other command line, and `hactl daemon --help` or a malformed one, goes to the typer
app in hactl.cli, whose help and errors are the reference.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hactl.daemon.options import DaemonOptions


def main() -> None:
    words = sys.argv[1:]
    options = _daemon_options(words[1:]) if words[:1] == ["daemon"] else None
    if options is not None:
        from hactl.daemon.main import run_daemon

        sys.exit(run_daemon(options))
    from hactl.cli import main as typer_main

    typer_main()


def _daemon_options(words: Sequence[str]) -> DaemonOptions | None:
    try:
        from hactl.daemon.options import parse_daemon_arguments
    except ModuleNotFoundError:  # hactl-pils alone: typer then says there is no such command
        return None
    return parse_daemon_arguments(words)
