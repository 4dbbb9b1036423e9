"""`hactl replay`: a node's derived cluster state at any moment, from its journal alone.

State is never stored: it is the fold of the journal's events through the engine. This
command does that fold offline (`journal.read_records`, `engine.core.codec.decode_event`,
`engine.core.step`) and prints what the node believed: members and their links, each
group's holder and resource states, quorum. `--at` stops the fold at a wall-clock time
(ISO-8601, or `+90s` after the journal's first record, handy for simulator journals) and
advances the engine's clock to that instant, so timers due by then have fired, exactly
as they had on the live node. Exit codes: 0 printed; 1 the journal is unreadable or holds
no engine events before that time; 2 usage errors.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

import typer

from engine.core import NodeState, initial_state, step
from engine.core.codec import decode_event, is_engine_kind
from engine.core.events import Event, TimeAdvanced
from engine.core.view import ClusterView, cluster_view
from engine.sim.durations import DurationError, parse_duration_ms
from hactl.commands.journal import DEFAULT_STATE_DIR, format_time, parse_time_ns
from journal import JournalError, Record, read_records


class NothingToReplayError(Exception):
    pass


def derive_state(records: Iterable[Record], *, at_wall_ns: int | None) -> NodeState:
    """Fold every engine event up to `at_wall_ns` (all when None) and advance time to it."""
    state = initial_state()
    last: tuple[Event, int] | None = None
    for record in records:
        if not is_engine_kind(record.kind):
            continue
        if at_wall_ns is not None and record.wall_ns > at_wall_ns:
            break
        payload = record.payload
        if not isinstance(payload, list):
            raise NothingToReplayError(f"record {record.seq}: not an engine event payload")
        event = decode_event(record.kind, payload)
        state, _ = step(state, event)
        last = (event, record.wall_ns)
    if last is None or state.config is None:
        raise NothingToReplayError("no engine event in the journal before that time")
    event, wall_ns = last
    if at_wall_ns is not None and at_wall_ns > wall_ns:
        later_ms = event.now_ms + (at_wall_ns - wall_ns) // 1_000_000
        state, _ = step(state, TimeAdvanced(now_ms=later_ms))
    return state


def _at_wall_ns(text: str | None, directory: Path) -> int | None:
    if text is None:
        return None
    if text.startswith("+"):
        try:
            offset_ms = parse_duration_ms(text[1:])
        except DurationError as error:
            raise typer.BadParameter(str(error), param_hint="--at") from None
        first = next((r for r in read_records(directory) if is_engine_kind(r.kind)), None)
        if first is None:
            raise NothingToReplayError("the journal holds no engine event")
        return first.wall_ns + offset_ms * 1_000_000
    return parse_time_ns(text, is_upper_bound=True)


def render_view(view: ClusterView, *, at_text: str) -> str:
    lines = [
        f"node {view.local_node} ({view.phase}, generation {view.generation}) at {at_text}",
        f"quorum: {'yes' if view.is_quorate else 'no'}",
        "members:",
    ]
    for member in view.members:
        links = ", ".join(f"{link} {status}" for link, status in member.links)
        lines.append(
            f"  {member.name:<12} {member.status:<8}" + (f" links: {links}" if links else "")
        )
    lines.append("groups:")
    for group in view.groups:
        holder = group.holder or "nobody"
        lines.append(
            f"  {group.name}: held by {holder} (preferred {group.preferred_node}), "
            f"here {group.local_phase}"
        )
        lines.extend(f"    {resource} {status}" for resource, status in group.resources)
    return "\n".join(lines)


def replay(
    state_dir: Path = typer.Option(
        DEFAULT_STATE_DIR,
        "--state-dir",
        file_okay=False,
        help="The journal is <state-dir>/journal.",
    ),
    journal_dir: Path | None = typer.Option(
        None, "--journal", file_okay=False, help="The journal directory itself."
    ),
    at: str | None = typer.Option(
        None, "--at", help="ISO-8601 wall time, or +DURATION after the first record [default: end]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    what_if: list[str] = typer.Option(
        [],
        "--what-if",
        help="Re-run the recorded heartbeats and events with another timing, e.g. "
        "deadtime=5s (repeatable: keepalive, deadtime, warntime, initdead), and report "
        "which incidents would not have happened and which new ones would have.",
    ),
) -> None:
    """Replay a node's journal through the engine and print the state it derives."""
    directory = journal_dir if journal_dir is not None else state_dir / "journal"
    if not directory.is_dir():
        typer.echo(f"no journal at {directory} (use --state-dir or --journal)", err=True)
        raise typer.Exit(1)
    if what_if:
        _print_what_if(directory, what_if)
        return
    try:
        at_wall_ns = _at_wall_ns(at, directory)
        state = derive_state(read_records(directory), at_wall_ns=at_wall_ns)
    except (JournalError, NothingToReplayError) as error:
        typer.echo(f"{directory}: {error}", err=True)
        raise typer.Exit(1) from None
    view = cluster_view(state)
    if as_json:
        document = dataclasses.asdict(view)
        document["at"] = None if at_wall_ns is None else format_time(at_wall_ns)
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    at_text = "the end of the journal" if at_wall_ns is None else format_time(at_wall_ns)
    typer.echo(render_view(view, at_text=at_text))


def _print_what_if(directory: Path, options: list[str]) -> None:
    # Imported here: the postmortem machinery is only needed for what-if questions.
    from hactl.postmortem.whatif import (
        WhatIfError,
        parse_what_if_options,
        render_what_if,
        run_what_if,
    )

    try:
        report = run_what_if([directory], parse_what_if_options(options))
    except WhatIfError as error:
        raise typer.BadParameter(str(error), param_hint="--what-if") from None
    except JournalError as error:
        typer.echo(f"{directory}: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(render_what_if(report), nl=False)


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
