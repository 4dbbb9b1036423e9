"""`hactl postmortem`: explain what happened, from one or several nodes' journals.

    hactl postmortem [--state-dir DIR | --journal DIR ...] [--at TIME | --last | --all]
                     [--json | --html FILE] [--no-index]

With several `--journal` directories (copied from several nodes) the journals are merged
on one causally ordered time axis first (see `hactl journal merge`). Exit codes: 0 the
journals verified; 1 a journal did not verify, or one node's history changed behind a
peer's seal (the report is still printed: a damaged journal is evidence too); 2 usage.
One journal is answered from the postmortem index beside its segments (docs/postmortem.md):
only what is new since the last run is verified and replayed.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hactl.commands.journal import parse_time_ns
from hactl.postmortem.chain import Incident
from hactl.postmortem.index import load_journal_indexed
from hactl.postmortem.names import register_record_names
from hactl.postmortem.report import PostmortemReport, postmortem
from hactl.postmortem.sources import JournalSourceError, load_journals
from hactl.postmortem.text import render_report, report_document

DEFAULT_STATE_DIR = Path("/var/lib/hactl")


def _directories(state_dir: Path, journals: list[Path] | None) -> list[Path]:
    directories = list(journals) if journals else [state_dir / "journal"]
    for directory in directories:
        if not directory.is_dir():
            typer.echo(f"no journal at {directory} (use --state-dir or --journal)", err=True)
            raise typer.Exit(1)
    return directories


def _select(report: PostmortemReport, at: str | None, is_last: bool,
            is_all: bool) -> tuple[Incident, ...]:
    if sum((at is not None, is_last, is_all)) > 1:
        raise typer.BadParameter("give one of --at, --last, --all")
    if is_all:
        return report.incidents
    if at is not None:
        return report.at(parse_time_ns(at) // 1_000_000)
    last = report.last()
    return () if last is None else (last,)


def postmortem_command(
    state_dir: Path = typer.Option(
        DEFAULT_STATE_DIR, "--state-dir", file_okay=False,
        help="hactl state directory; the journal is <state-dir>/journal."),
    journal: list[Path] | None = typer.Option(
        None, "--journal", file_okay=False, help="A journal directory; repeat for several nodes."),
    at: str | None = typer.Option(None, "--at", help="The incident under way at this time "
                                  "(ISO-8601, -10m, now)."),
    is_last: bool = typer.Option(False, "--last", help="The last incident (the default)."),
    is_all: bool = typer.Option(False, "--all", help="Every incident, node starts included."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document."),
    html: Path | None = typer.Option(None, "--html", dir_okay=False,
                                     help="Write the timeline page (one self-contained file)."),
    use_index: bool = typer.Option(True, "--index/--no-index",
                                   help="Use (and extend) the postmortem index beside the "
                                   "segments; --no-index verifies, reads and replays every "
                                   "record."),
) -> None:
    """Explain each failover, failback, standby, fence and split-brain as a causal chain."""
    register_record_names()
    directories = _directories(state_dir, journal)
    try:
        report = _load_report(directories, use_index=use_index)
    except JournalSourceError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    incidents = _select(report, at, is_last, is_all)
    if html is not None:
        from hactl.postmortem.page import render_page

        html.write_text(render_page(report, incidents), encoding="utf-8")
        typer.echo(f"wrote {html}")
    elif as_json:
        typer.echo(json.dumps(report_document(report, incidents), indent=1, default=str))
    else:
        typer.echo(render_report(report, incidents), nl=False)
    is_consistent = report.merged is None or report.merged.is_consistent
    if not is_consistent or not all(j.is_verified for j in report.journals):
        raise typer.Exit(1)


def _load_report(directories: list[Path], *, use_index: bool) -> PostmortemReport:
    """One journal: from its index (verified from the checkpoint, extended over what is
    new); a journal that does not verify, several journals (the merge orders every record)
    or --no-index: every record is verified, read and replayed."""
    if use_index and len(directories) == 1:
        loaded = load_journal_indexed(directories[0])
        if loaded is not None:
            journal, trace = loaded
            return postmortem([journal], {journal.node: trace})
    return postmortem(load_journals(directories))


def register(app: typer.Typer) -> None:
    app.command("postmortem")(postmortem_command)
