"""`hactl config check`: read /etc/ha.d as the daemon would and say what it means.

Exit codes: 0 the configuration is valid (the summary or JSON follows, with warnings);
1 it is not (every problem, one `FILE:LINE: directive: message (hint)` per line, on
stderr; with --json a document with `"valid": false` on stdout); 2 usage errors, from typer.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.config.errors import ConfigError
from engine.config.summary import config_document, render_summary
from hactl.agents import AgentContext
from hactl.config_files import DEFAULT_CONFIG_DIR, DEFAULT_INIT_DIR, DEFAULT_OCF_ROOT, load_config
from hactl.config_validation import with_ocf_validation

config_app = typer.Typer(
    help="Check the Heartbeat configuration (ha.cf, haresources, authkeys).",
    no_args_is_help=True,
)


@config_app.command("check")
def check(
    config_dir: Path = typer.Option(
        DEFAULT_CONFIG_DIR,
        "--config-dir",
        exists=True,
        file_okay=False,
        dir_okay=True,
        help="Directory holding ha.cf, haresources and authkeys.",
    ),
    node: str | None = typer.Option(
        None, "--node", help="This node's name, as in ha.cf `node` lines (default: uname -n)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    init_dir: Path = typer.Option(
        DEFAULT_INIT_DIR,
        "--init-dir",
        file_okay=False,
        help="Where LSB init scripts live (checked after <config-dir>/resource.d/).",
    ),
    ocf_root: Path = typer.Option(
        DEFAULT_OCF_ROOT, "--ocf-root", file_okay=False, help="OCF_ROOT of the OCF agents."
    ),
    is_validating: bool = typer.Option(
        True,
        "--validate/--no-validate",
        help="Run each OCF agent's validate-all on its parameters (failures are warnings).",
    ),
) -> None:
    """Check the configuration; print a summary (exit 0) or every problem (exit 1)."""
    try:
        config = load_config(config_dir, node=node, init_dir=init_dir, ocf_root=ocf_root)
    except ConfigError as error:
        if as_json:
            problems = [
                {
                    "file": problem.file,
                    "line": problem.line,
                    "directive": problem.directive,
                    "message": problem.message,
                    "hint": problem.hint,
                    "text": str(problem),
                }
                for problem in error.problems
            ]
            typer.echo(json.dumps({"valid": False, "errors": problems}, indent=2))
        else:
            for problem in error.problems:
                typer.echo(str(problem), err=True)
            typer.echo(f"{len(error.problems)} problem(s) found in {config_dir}", err=True)
        raise typer.Exit(1) from None
    if is_validating:
        context = AgentContext(config_dir=config_dir, init_dir=init_dir, ocf_root=ocf_root)
        config = with_ocf_validation(config, context)
    if as_json:
        typer.echo(json.dumps(config_document(config), indent=2))
    else:
        typer.echo(render_summary(config, config_dir=str(config_dir)))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
