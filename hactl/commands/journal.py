"""`hactl journal show|tail|verify|export|keys`: read, audit and export a node's journal.

Every command reads files only (it never opens the journal for writing), so it is safe
next to a running daemon. Exit codes: 0 success; 1 the journal is broken (`verify`) or
unreadable; 2 usage errors (typer's own).

Times (`--since`, `--until`) accept ISO-8601 (`2025-11-25T14:00:00+01:00`; without an
offset the time is UTC), a relative time back from now (`-10m`, `-2h`, `-30s`, `-1d`),
or `now`. Printed times are UTC.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import typer

from journal import JournalError, Record, Seal, kinds, read_records, verify_journal
from journal.entanglement import peer_held_seals
from journal.inventory import describe_keys
from journal.keys import fingerprint
from journal.reader import journal_node
from journal.verify import VerifyReport

DEFAULT_STATE_DIR = Path("/var/lib/hactl")
_RELATIVE_TIME = re.compile(r"^-(\d+(?:\.\d+)?)(s|m|h|d)$")
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_FOLLOW_POLL_S = 0.5

journal_app = typer.Typer(
    help="Read, verify and export the signed event journal.", no_args_is_help=True
)

StateDirOption = typer.Option(DEFAULT_STATE_DIR, "--state-dir", file_okay=False,
                              help="hactl state directory; the journal is <state-dir>/journal.")
JournalOption = typer.Option(None, "--journal", file_okay=False,
                             help="The journal directory itself (overrides --state-dir).")


def _register_known_kind_names() -> None:
    """Let show/export print names for the engine's and the daemon's record kinds."""
    with contextlib.suppress(ImportError):
        importlib.import_module("hactl.daemon.records")  # registers itself on import
    with contextlib.suppress(ImportError, AttributeError):
        codec = importlib.import_module("engine.core.codec")
        names: dict[int, str] = codec.EVENT_KIND_NAMES
        summarize_event: Callable[[int, list[object]], str] = codec.summarize_event

        def summarize(kind: int, payload: object) -> str:
            if kind in names and isinstance(payload, list):
                return summarize_event(kind, payload)
            return ""

        kinds.register_kind_names(names, summarize)


def _journal_directory(state_dir: Path, journal: Path | None) -> Path:
    directory = journal if journal is not None else state_dir / "journal"
    if not directory.is_dir():
        typer.echo(f"no journal at {directory} (use --state-dir or --journal)", err=True)
        raise typer.Exit(1)
    return directory


def parse_time_ns(text: str, *, now_ns: int | None = None, is_upper_bound: bool = False) -> int:
    """Parse a --since/--until value into wall-clock nanoseconds since the epoch.

    As an upper bound an ISO time covers its last written digit, so `--until` with a time
    copied from `show` (milliseconds) includes that record.
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    stripped = text.strip()
    if stripped == "now":
        return now_ns
    relative = _RELATIVE_TIME.match(stripped)
    if relative is not None:
        seconds = float(relative.group(1)) * _SECONDS_PER_UNIT[relative.group(2)]
        return now_ns - int(seconds * 1_000_000_000)
    try:
        moment = datetime.datetime.fromisoformat(stripped)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: expected ISO-8601 (2025-11-25T14:00:00Z), -10m, -2h, -30s, -1d or now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    moment_ns = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    return moment_ns + (_precision_ns(stripped) - 1 if is_upper_bound else 0)


def _precision_ns(iso_text: str) -> int:
    fraction = re.search(r":\d\d[.,](\d+)", iso_text)
    digits = 0 if fraction is None else min(len(fraction.group(1)), 9)
    precision_ns: int = 10 ** (9 - digits)
    return precision_ns


def format_time(wall_ns: int) -> str:
    seconds, remainder_ns = divmod(wall_ns, 1_000_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{remainder_ns // 1_000_000:03d}Z"


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(_jsonable(key)): _jsonable(item) for key, item in value.items()}
    return value


def record_document(record: Record) -> dict[str, object]:
    """One record as JSON: bytes are hex strings, the time is also given readable."""
    return {
        "seq": record.seq,
        "time": format_time(record.wall_ns),
        "wall_ns": record.wall_ns,
        "monotonic_ns": record.monotonic_ns,
        "kind": record.kind,
        "kind_name": kinds.kind_name(record.kind),
        "summary": kinds.summarize(record.kind, record.payload),
        "payload": _jsonable(record.payload),
        "head": record.head.hex(),
    }


def _render_line(record: Record) -> str:
    return (f"{format_time(record.wall_ns)}  {record.seq:>8}  "
            f"{kinds.kind_name(record.kind):<20}  {kinds.summarize(record.kind, record.payload)}")


def _mentions(value: object, node: str) -> bool:
    if isinstance(value, str):
        return value.lower() == node
    if isinstance(value, list | tuple):
        return any(_mentions(item, node) for item in value)
    if isinstance(value, dict):
        return any(_mentions(item, node) for item in value.values())
    return False


def _filtered(records: Iterable[Record], *, since_ns: int | None, until_ns: int | None,
              kind_numbers: set[int], node: str | None, owner: str | None,
              is_seals_shown: bool) -> Iterator[Record]:
    for record in records:
        if since_ns is not None and record.wall_ns < since_ns:
            continue
        if until_ns is not None and record.wall_ns > until_ns:
            continue
        if kind_numbers and record.kind not in kind_numbers:
            continue
        if not kind_numbers and not is_seals_shown and record.kind == kinds.SEAL:
            continue
        if node is not None and node != owner and not _mentions(record.payload, node):
            continue
        yield record


def _emit(records: Iterable[Record], *, as_json: bool) -> None:
    for record in records:
        typer.echo(json.dumps(record_document(record)) if as_json else _render_line(record))


def _read(directory: Path, since_seq: int = 0) -> Iterator[Record]:
    try:
        yield from read_records(directory, since_seq=since_seq)
    except JournalError as error:
        typer.echo(f"cannot read the journal: {error}", err=True)
        raise typer.Exit(1) from None


def _parse_kinds(values: list[str]) -> set[int]:
    parsed: set[int] = set()
    for value in values:
        try:
            parsed.add(kinds.kind_from_name(value))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--kind") from None
    return parsed


@journal_app.command("show")
def show(
    since: str | None = typer.Option(None, "--since", help="Only records at or after T."),
    until: str | None = typer.Option(None, "--until", help="Only records at or before T."),
    kind: list[str] = typer.Option([], "--kind", help="Only this kind (number or name); "
                                   "repeatable."),
    node: str | None = typer.Option(None, "--node", help="Only records concerning node N: "
                                    "all if N wrote this journal, else those naming N."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    seals: bool = typer.Option(False, "--seals", help="Also list seal records (hidden "
                               "unless --kind selects them)."),
    state_dir: Path = StateDirOption,
    journal: Path | None = JournalOption,
) -> None:
    """List records: time (UTC), seq, kind and a one-line summary."""
    _register_known_kind_names()
    directory = _journal_directory(state_dir, journal)
    since_ns = None if since is None else parse_time_ns(since)
    until_ns = None if until is None else parse_time_ns(until, is_upper_bound=True)
    wanted_node = None if node is None else node.lower()
    owner = journal_node(directory) if wanted_node is not None else None
    _emit(_filtered(_read(directory), since_ns=since_ns, until_ns=until_ns,
                    kind_numbers=_parse_kinds(kind), node=wanted_node, owner=owner,
                    is_seals_shown=seals), as_json=as_json)


@journal_app.command("tail")
def tail(
    lines: int = typer.Option(10, "-n", "--lines", min=0, help="How many records to show."),
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new records "
                                "(polls; stop with Ctrl-C)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    state_dir: Path = StateDirOption,
    journal: Path | None = JournalOption,
) -> None:
    """Show the newest records (seals hidden), and with -f the ones that follow."""
    _register_known_kind_names()
    directory = _journal_directory(state_dir, journal)
    newest: deque[Record] = deque(maxlen=lines)
    next_seq = 0
    for record in _read(directory):
        next_seq = record.seq + 1
        if record.kind != kinds.SEAL:
            newest.append(record)
    _emit(newest, as_json=as_json)
    if not follow:
        return
    try:
        while True:
            time.sleep(_FOLLOW_POLL_S)
            for record in _read(directory, since_seq=next_seq):
                next_seq = record.seq + 1
                if record.kind != kinds.SEAL:
                    _emit([record], as_json=as_json)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def parse_public_key(text: str) -> bytes:
    """--key: 64 hex digits, or a file holding them (or the 32 raw bytes)."""
    candidate = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", candidate):
        return bytes.fromhex(candidate)
    path = Path(candidate)
    if path.is_file():
        raw = path.read_bytes()
        if len(raw) == 32:
            return raw
        stripped = raw.decode(errors="replace").strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", stripped):
            return bytes.fromhex(stripped)
        raise typer.BadParameter(f"{path}: expected 64 hex digits or 32 raw bytes",
                                 param_hint="--key")
    raise typer.BadParameter(f"{text!r}: neither 64 hex digits nor a readable key file",
                             param_hint="--key")


def _read_peer_seals(peer: Path, node: str) -> list[Seal]:
    try:
        return peer_held_seals(peer, node=node)
    except JournalError as error:
        typer.echo(f"cannot read the peer journal {peer}: {error}", err=True)
        raise typer.Exit(1) from None


def _render_verify_summary(directory: Path, report: VerifyReport) -> list[str]:
    last_seq = "-" if report.last_seq is None else str(report.last_seq)
    pruned = f" ({report.pruned_segments} pruned before them)" if report.pruned_segments else ""
    first = "-" if report.first_wall_ns is None else format_time(report.first_wall_ns)
    last = "-" if report.last_wall_ns is None else format_time(report.last_wall_ns)
    genesis = report.genesis_public_key
    key_line = "-" if genesis is None else f"{genesis.hex()} ({fingerprint(genesis)})"
    trust = ("checked against --key" if report.is_genesis_key_trusted else
             "taken from the journal itself: pass --key with a copy kept off this node")
    return [
        f"journal {directory}: OK",
        f"  node:        {report.node}",
        f"  records:     {report.records} (seq {report.first_seq}..{last_seq})",
        f"  segments:    {report.segments}{pruned}",
        f"  seals:       {report.seals}",
        f"  key epochs:  {report.key_epochs}",
        f"  first time:  {first}",
        f"  last time:   {last}",
        f"  genesis key: {key_line}",
        f"               {trust}",
    ]


@journal_app.command("verify")
def verify(
    key: str | None = typer.Option(None, "--key", help="The trusted genesis public key: 64 "
                                   "hex digits or a file (as printed by `hactl journal keys`)."),
    peer_journals: list[Path] = typer.Option(
        [], "--peer-journal", file_okay=False, help="A peer's journal directory: the seals "
        "of this node it recorded must match (exposes truncation and rewrites); repeatable."),
    state_dir: Path = StateDirOption,
    journal: Path | None = JournalOption,
) -> None:
    """Check CRCs, the hash chain, every seal and key rotation; exit 1 naming any break."""
    directory = _journal_directory(state_dir, journal)
    public_key = None if key is None else parse_public_key(key)
    node = journal_node(directory)
    held = [seal for peer in peer_journals
            for seal in _read_peer_seals(peer, node)] if node is not None else []
    report = verify_journal(directory, public_key=public_key, held_seals=held)
    if not report.is_ok:
        for problem in report.problems:
            typer.echo(f"BROKEN {problem.describe()}", err=True)
        typer.echo(f"journal {directory}: verification FAILED "
                   f"({report.records} records checked before the break)", err=True)
        raise typer.Exit(1)
    for line in _render_verify_summary(directory, report):
        typer.echo(line)
    if peer_journals:
        typer.echo(f"  held seals:  {len(held)} seal(s) of {node} recorded by "
                   f"{len(peer_journals)} peer journal(s) match")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}")


@journal_app.command("export")
def export(
    output_format: str = typer.Option("jsonl", "--format", help="Output format (jsonl)."),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False,
                                       help="Write here instead of standard output."),
    state_dir: Path = StateDirOption,
    journal: Path | None = JournalOption,
) -> None:
    """Every record, decoded, one JSON object per line, with its seq and chain head."""
    if output_format != "jsonl":
        raise typer.BadParameter(f"{output_format!r}: only jsonl is supported",
                                 param_hint="--format")
    _register_known_kind_names()
    directory = _journal_directory(state_dir, journal)
    lines = (json.dumps(record_document(record)) + "\n" for record in _read(directory))
    if output is None:
        for line in lines:
            typer.echo(line, nl=False)
        return
    with open(output, "w", encoding="utf-8") as file:
        file.writelines(lines)


@journal_app.command("keys")
def keys(
    state_dir: Path = StateDirOption,
    journal: Path | None = JournalOption,
) -> None:
    """Print the genesis public key (store it off the node) and every key epoch."""
    directory = _journal_directory(state_dir, journal)
    try:
        inventory = describe_keys(directory)
    except JournalError as error:
        typer.echo(f"cannot read the journal: {error}", err=True)
        raise typer.Exit(1) from None
    genesis = inventory.genesis_public_key
    if genesis is None:
        typer.echo(f"{directory}: no genesis public key found", err=True)
        raise typer.Exit(1)
    typer.echo(f"genesis public key: {genesis.hex()}")
    typer.echo(f"fingerprint:        {fingerprint(genesis)}")
    typer.echo("keep a copy off this node; check with: hactl journal verify --key <that copy>")
    typer.echo("epochs:")
    for entry in inventory.epochs:
        began = "pruned" if entry.seq is None or entry.wall_ns is None else \
            f"seq {entry.seq} at {format_time(entry.wall_ns)}"
        typer.echo(f"  {entry.epoch:>6}  {entry.public_key.hex()}  {began}")
    for path in inventory.private_key_files:
        typer.echo(f"current private key: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(journal_app, name="journal")
