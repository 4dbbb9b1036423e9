"""`hactl journal merge DIR DIR ...`: several nodes' journals as one verified timeline.

Registered after `hactl.commands.journal` (hactl/cli.py lists both modules for the
`journal` command, in that order) and added to its `journal` group. Each journal is
verified; the records are interleaved in causal order (entanglement records first, then
derived message edges), each node's clock offset is printed, and a node whose journal was
truncated or rewritten after a peer journaled its seal is reported with the records that
prove it. Exit codes: 0 every journal verified and no equivocation; 1 otherwise (the
timeline is still printed); 2 usage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hactl.commands.journal import journal_app
from journal.kinds import kind_name, summarize

if TYPE_CHECKING:
    from hactl.postmortem.merge import MergedTimeline


def merge(
    directories: list[Path] = typer.Argument(..., file_okay=False, exists=True,
                                             help="Journal directories, one per node."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    is_showing_seals: bool = typer.Option(False, "--seals", help="Also list seal records."),
) -> None:
    """Verify several nodes' journals and merge them into one causally ordered timeline."""
    # Imported here: every `hactl journal ...` loads this module, only `merge` needs these.
    from hactl.postmortem.merge import merge_journals
    from hactl.postmortem.names import register_record_names
    from hactl.postmortem.sources import JournalSourceError, load_journals
    from hactl.postmortem.text import render_merge

    register_record_names()
    try:
        journals = load_journals(directories)
    except JournalSourceError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    merged = merge_journals(journals)
    if as_json:
        _emit_json(merged)
    else:
        typer.echo(render_merge(merged, is_showing_seals=is_showing_seals), nl=False)
    if not merged.is_consistent:
        raise typer.Exit(1)


def _emit_json(merged: MergedTimeline) -> None:
    header = {
        "nodes": list(merged.nodes),
        "problems": merged.problems,
        "clocks": {node: merged.clocks[node].describe() for node in merged.nodes},
        "equivocations": [finding.describe() for finding in merged.equivocations],
        "causal_edges": len(merged.edges),
        "broken_edges": merged.broken_edge_count,
    }
    typer.echo(json.dumps(header))
    for item in merged.records:
        record = item.record
        typer.echo(json.dumps({
            "node": item.node, "seq": record.seq, "kind": record.kind,
            "kind_name": kind_name(record.kind), "wall_ns": record.wall_ns,
            "corrected_wall_ms": item.corrected_wall_ms,
            "summary": summarize(record.kind, record.payload)}))  # fmt: skip


def register(app: typer.Typer) -> None:
    del app  # the command joins the `journal` group, which `journal.py` registered
    journal_app.command("merge")(merge)
