"""`hactl plugins`: what is installed for each plugin kind, and what is broken.

An admin who installs a site's fencing or media plugin wants one place to see that hactl
found it and that it loads; a plugin that fails to import is listed with the reason
(and the exit status is 1), instead of surfacing later as a daemon that cannot start.
"""

from __future__ import annotations

import typer

from hactl.plugins import PluginKind, installed_registry

EXIT_SUCCESS = 0
EXIT_BROKEN = 1


def register(app: typer.Typer) -> None:
    @app.command("plugins")
    def plugins_command(
        kind: str | None = typer.Argument(
            None, help="only this kind: " + ", ".join(k.label for k in PluginKind)
        ),
    ) -> None:
        """List installed plugins of each kind; exit status 1 if any is broken."""
        kinds = tuple(PluginKind)
        if kind is not None:
            matching = [k for k in PluginKind if kind in (k.label, k.value)]
            if not matching:
                known = ", ".join(k.label for k in PluginKind)
                typer.echo(f"hactl plugins: unknown kind {kind!r}; kinds: {known}", err=True)
                raise typer.Exit(2)
            kinds = tuple(matching)
        registry = installed_registry()
        is_any_broken = False
        for plugin_kind in kinds:
            typer.echo(f"{plugin_kind.label} ({plugin_kind.value}):")
            reports = registry.describe(plugin_kind)
            if not reports:
                typer.echo("  (none installed)")
            for report in reports:
                source = f" [{report.distribution}]" if report.distribution else ""
                state = "ok" if report.problem is None else f"BROKEN: {report.problem}"
                typer.echo(f"  {report.name:<14} {report.target}{source}  {state}")
                is_any_broken = is_any_broken or not report.is_loadable
        raise typer.Exit(EXIT_BROKEN if is_any_broken else EXIT_SUCCESS)
