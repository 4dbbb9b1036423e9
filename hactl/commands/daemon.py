"""`hactl daemon`: run this node in the foreground (systemd, a terminal, or a test).

Several daemons can run side by side (one per network namespace) with their own
--config-dir, --state-dir, --run-dir and --node. Exit codes: 0 after a clean shutdown,
1 when it cannot start (the log says why) or had to stop, 70 after a self-fence in a
non-production run. A well-formed `hactl daemon --option VALUE ...` does not reach typer:
hactl/entry.py reads it with `parse_daemon_arguments` (hactl/daemon/options.py), so the
daemon does not keep the CLI framework resident; typer still serves `--help` and errors.
"""

from __future__ import annotations

from pathlib import Path

import typer

from hactl.daemon.options import (
    DEFAULT_CONFIG_DIR,
    DEFAULT_RUN_DIR,
    DEFAULT_STATE_DIR,
    daemon_options,
)


def daemon(
    config_dir: Path = typer.Option(
        DEFAULT_CONFIG_DIR, "--config-dir", help="Directory with ha.cf, haresources, authkeys."
    ),
    state_dir: Path = typer.Option(
        DEFAULT_STATE_DIR, "--state-dir", help="Generation file and journal (<dir>/journal)."
    ),
    run_dir: Path = typer.Option(
        DEFAULT_RUN_DIR, "--run-dir", help="Control socket and PID file."
    ),
    node: str | None = typer.Option(
        None, "--node", help="This node's name as in ha.cf `node` lines [default: uname -n]."
    ),
) -> None:
    """Run the node daemon in the foreground."""
    from hactl.daemon.main import run_daemon

    options = daemon_options(config_dir=config_dir, state_dir=state_dir, run_dir=run_dir,
                             node=node)  # fmt: skip
    raise typer.Exit(run_daemon(options))


def register(app: typer.Typer) -> None:
    app.command("daemon")(daemon)
