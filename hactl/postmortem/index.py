"""The postmortem index: each segment's trace, cached beside it, so an answer reads no records.

A postmortem re-steps every engine event through the engine (`trace`), which for a month
of journal at keepalive 1 s is five million steps. Nearly all of them are heartbeats and
clock ticks that decide nothing; what the detector needs is small: the records whose step
decided something (with the commands), the configurations, the status versions, and the
heartbeat series (of which a query needs a few summaries). The index keeps exactly that,
per segment, in `<journal>/index/segment-NNNNNNNN.trace`, as a list of parts:

* a part covers the segment's bytes from where the previous part ended to a byte offset
  where a verification ended (a checkpoint of `journal.checkpoint`); it is valid only
  while that checkpoint (offset and SHA-256 of the segment up to it) is one the current
  verification vouches for, so a changed segment invalidates its parts and they are
  rebuilt from the changed bytes after those bytes were verified in full;
* it ends with the engine state after its last record (`engine.core.snapshot`), the chain
  position there (seq, head) and the trace builder's own state, so the next part (the
  journal grew, or a new segment) is built by stepping on from that snapshot instead of
  from the journal's first record;
* heartbeats are stored per (run, peer, link) in chunks of 2048, each compressed (deltas
  between neighbours, zlib) with a summary (count, first, last, worst gap, sender
  generations); queries decode a chunk only when its summary cannot answer (see
  `HeartbeatSeries`), so an answer decodes a few chunks around the incident;
* the journal's seals and peer seals (one per commit, one per peer heartbeat) are left
  out of the entries: the detector takes nothing from a record the engine did not step,
  except that the very last record ends an unfinished incident, which is kept.

Building the index costs one replay of what it does not cover yet (the first postmortem of
a long journal is as slow as before); every later answer reads only the index. An index of
another version, or one whose bytes do not decode, is rebuilt. The index is derived data,
not evidence: `hactl postmortem --no-index` recomputes everything from the records.
"""

from __future__ import annotations

import array
import functools
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from engine.config.model import ClusterConfig
from engine.core.codec import (
    MalformedMessageError,
    decode_config,
    decode_event,
    encode_config,
    is_engine_kind,
)
from engine.core.machine import initial_state, step
from engine.core.packing import PackingError
from engine.core.snapshot import decode_command, decode_state, encode_command, encode_state
from engine.core.state import NodeState
from hactl.postmortem.sources import NodeJournal
from hactl.postmortem.trace import (
    HeartbeatChunk,
    HeartbeatLists,
    HeartbeatSeries,
    NodeTrace,
    StatusSent,
    TraceBuilder,
    TraceEntry,
)
from journal import JournalCorruptError, Record
from journal import kinds as journal_kinds
from journal.checkpoint import Checkpoints, cache_directory, verify_from_checkpoint
from journal.files import make_directory, write_file_atomically
from journal.framing import decode_segment_header
from journal.reader import read_segment_records
from journal.segments import list_segments

INDEX_VERSION = 1
CHUNK_HEARTBEATS = 2048  # a query decodes a few of these, never a whole month
UNSTEPPED_KINDS = (journal_kinds.SEAL, journal_kinds.PEER_SEAL)  # left out of the entries


class IndexUnusable(Exception):
    """The index cannot serve this journal (the caller falls back to reading every record)."""


@dataclass(slots=True, kw_only=True)
class _Resume:
    """Where the next part starts: the engine, the builder and the chain just after a part."""

    state: NodeState
    last_version: tuple[int, int]
    seq: int
    head: bytes


@dataclass(slots=True, kw_only=True)
class IndexedJournal:
    trace: NodeTrace
    record_count: int
    first_record: Record | None
    last_record: Record | None
    last_wall_ns: int  # of the newest record that carries a wall time
    records_stepped: int  # replayed now to extend the index (0: the index covered it all)
    parts_used: int
    is_index_written: bool


@dataclass(slots=True, kw_only=True)
class _Part:
    raw: dict[str, Any]

    @property
    def end_offset(self) -> int:
        return int(self.raw["end"][0])

    @property
    def end_digest(self) -> bytes:
        return bytes(self.raw["end"][1])


@dataclass(slots=True, kw_only=True)
class _Assembly:
    trace: NodeTrace
    series: dict[tuple[int, str, str], HeartbeatSeries] = field(default_factory=dict)
    record_count: int = 0
    first_record: Record | None = None
    last_record: Record | None = None
    last_wall_ns: int = 0
    tail_entry: TraceEntry | None = None  # a left-out record that is the journal's last


def index_path(directory: Path, segment_index: int) -> Path:
    return cache_directory(directory) / f"segment-{segment_index:08d}.trace"


def load_indexed(directory: Path, node: str, checkpoints: dict[int, Checkpoints], *,
                 write_index: bool = True) -> IndexedJournal:
    """The journal's trace from its index, extending the index over what it lacks.

    `checkpoints` must come from a verification without problems of this same directory
    (`verify_from_checkpoint`): they say which bytes of each segment may be trusted.
    """
    segments = list_segments(directory)
    if not segments or any(index not in checkpoints for index, _path in segments):
        raise IndexUnusable("the index serves verified journals only")
    assembly = _Assembly(trace=NodeTrace(node=node))
    resume: _Resume | None = None
    previous: _Part | None = None  # the last part taken: the next one resumes after it
    stepped = 0
    parts_used = 0
    is_written = False
    is_rebuilding = False  # once a part is rebuilt, later ones may rest on a stale state
    for index, path in segments:
        verified_end = checkpoints[index][-1][0]
        valid_points = set(checkpoints[index])
        parts = [] if is_rebuilding else _read_parts(directory, index)
        kept: list[_Part] = []
        for part in parts:
            if (part.end_offset, part.end_digest) not in valid_points \
                    or part.end_offset > verified_end \
                    or part.raw.get("first_segment") != segments[0][0]:  # pruned since
                break
            kept.append(part)
        end = kept[-1].end_offset if kept else None
        for part in kept:
            _take(assembly, part)
            previous = part
            parts_used += 1
        if end == verified_end:
            continue
        if previous is not None:
            resume = _resume_after(previous)
        data = path.read_bytes()[:verified_end]
        header, _problem = decode_segment_header(data, len(data))
        if header is None:
            raise IndexUnusable(f"{path.name}: unreadable header")
        is_rebuilding = True
        if end is None:
            if resume is None:
                resume = _Resume(state=initial_state(), last_version=(-1, -1),
                                 seq=header.first_seq, head=header.previous_head)
            elif (resume.seq, resume.head) != (header.first_seq, header.previous_head):
                raise IndexUnusable(f"{path.name} does not continue the indexed chain")
            start = header.header_bytes
        else:
            assert resume is not None
            start = end
        part, resume = _build_part(data, path.name, start, resume, node, checkpoints[index])
        part.raw["first_segment"] = segments[0][0]
        stepped += int(part.raw["count"])
        _take(assembly, part)
        previous = None  # `resume` already holds the state after it
        parts_used += 1
        if write_index:
            is_written = _write_parts(directory, index, [*kept, part]) or is_written
    trace = assembly.trace
    for key, series in assembly.series.items():
        trace.heartbeats[key] = series
    if assembly.tail_entry is not None:
        trace.entries.append(assembly.tail_entry)
    return IndexedJournal(trace=trace, record_count=assembly.record_count,
                          first_record=assembly.first_record, last_record=assembly.last_record,
                          last_wall_ns=assembly.last_wall_ns, records_stepped=stepped,
                          parts_used=parts_used, is_index_written=is_written)


def load_journal_indexed(directory: Path, *, write_cache: bool = True
                         ) -> tuple[NodeJournal, NodeTrace] | None:
    """The journal and its trace without reading its records, or None when the journal does
    not verify (the caller then reads it whole: a damaged journal is explained from what
    is readable, as without the index)."""
    checked = verify_from_checkpoint(directory, write_cache=write_cache)
    report = checked.report
    if not report.is_ok or report.node is None:
        return None
    try:
        indexed = load_indexed(directory, report.node, checked.checkpoints,
                               write_index=write_cache)
    except IndexUnusable:
        return None
    coverage = checked.coverage.describe()
    if indexed.records_stepped:
        coverage += f"; index extended over {indexed.records_stepped} records"
    journal = NodeJournal(directory=directory, node=report.node, records=(), verify=report,
                          read_problem=None, indexed_count=indexed.record_count,
                          indexed_edges=(indexed.first_record, indexed.last_record),
                          indexed_last_wall_ns=indexed.last_wall_ns, coverage=coverage)
    return journal, indexed.trace


# ---- building a part ---------------------------------------------------------------------


def _build_part(data: bytes, name: str, start: int, resume: _Resume, node: str,
                checkpoints: Checkpoints) -> tuple[_Part, _Resume]:
    """Step the records of `data[start:]` on from `resume`; the part ends at len(data)."""
    builder = TraceBuilder(node)
    builder.set_last_version(resume.last_version)
    state = resume.state
    seq, head = resume.seq, resume.head
    count = 0
    first: Record | None = None
    last: Record | None = None
    last_wall_ns = 0
    tail: list[Any] | None = None  # the last left-out record after the last entry
    entries = builder.trace.entries
    try:
        for record in read_segment_records(data, name, offset=start, seq=seq, head=head):
            count += 1
            first = first or record
            last = record
            if record.wall_ns:
                last_wall_ns = record.wall_ns
            seq, head = record.seq + 1, record.head
            entry_count = len(entries)
            if not is_engine_kind(record.kind):
                if record.kind in UNSTEPPED_KINDS:
                    tail = _record_list(record, state.generation)
                else:
                    builder.record_only(record, state.generation)
                    tail = None
                continue
            try:
                event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            except MalformedMessageError:
                builder.trace.undecodable_count += 1
                continue
            state, commands = step(state, event)
            builder.stepped(record, event, state, commands)
            if len(entries) != entry_count:
                tail = None
    except JournalCorruptError as error:
        raise IndexUnusable(str(error)) from None
    trace = builder.trace
    digest = next(digest for offset, digest in checkpoints if offset == len(data))
    raw = {
        "start": start, "end": [len(data), digest], "count": count,
        "first": None if first is None else _record_list(first, 0),
        "last": None if last is None else _record_list(last, 0),
        "last_wall_ns": last_wall_ns, "tail": tail,
        "entries": [[*_record_list(entry.record, entry.generation),
                     [encode_command(command) for command in entry.commands]]
                    for entry in trace.entries],
        "heartbeats": [[generation, peer, link, _pack_series(series)]
                       for (generation, peer, link), series in trace.heartbeats.items()],
        "configs": [[generation, encode_config(config)]
                    for generation, config in trace.configs.items()],
        "status_sent": [[s.generation, s.version, s.seq, s.wall_ms] for s in trace.status_sent],
        "status_received": [[sender, generation, version, seq_wall[0], seq_wall[1]]
                            for (sender, generation, version), seq_wall
                            in trace.status_received.items()],
        "undecodable": trace.undecodable_count,
        "resume": {"state": encode_state(state), "last_version": list(builder.last_version),
                   "seq": seq, "head": head},
    }
    part = _Part(raw=msgpack.unpackb(msgpack.packb(raw, use_bin_type=True), raw=False,
                                     strict_map_key=False))
    return part, _Resume(state=state, last_version=builder.last_version, seq=seq, head=head)


def _record_list(record: Record, generation: int) -> list[Any]:
    return [record.seq, record.kind, record.monotonic_ns, record.wall_ns, record.payload,
            record.head, generation]


def _pack_series(series: HeartbeatSeries) -> list[list[Any]]:
    """The series in chunks of CHUNK_HEARTBEATS, each with its summary."""
    packed = []
    for start in range(0, len(series.now_ms), CHUNK_HEARTBEATS):
        end = start + CHUNK_HEARTBEATS
        lists: HeartbeatLists = (series.now_ms[start:end], series.wall_ms[start:end],
                                 series.seqs[start:end], series.sender_generations[start:end])
        chunk = HeartbeatChunk.summarize(lists, functools.partial(_same, lists))
        packed.append([chunk.count, list(chunk.first), list(chunk.last), chunk.min_now_ms,
                       chunk.min_wall_ms, chunk.max_wall_ms, chunk.worst_gap_ms,
                       chunk.is_sorted, sorted(chunk.generations),
                       [zlib.compress(_deltas(values), 1) for values in lists]])
    return packed


def _same(lists: HeartbeatLists) -> HeartbeatLists:
    return lists


def _deltas(values: list[int]) -> bytes:
    """Differences between neighbours as int64: regular heartbeats compress to almost nothing."""
    deltas = array.array("q", [values[0]])
    deltas.extend(b - a for a, b in itertools.pairwise(values))
    return deltas.tobytes()


def _undeltas(packed: bytes) -> list[int]:
    deltas = array.array("q")
    deltas.frombytes(zlib.decompress(packed))
    return list(itertools.accumulate(deltas))


# ---- reading parts back ------------------------------------------------------------------


def _take(assembly: _Assembly, part: _Part) -> None:
    raw = part.raw
    trace = assembly.trace
    try:
        assembly.record_count += int(raw["count"])
        if raw["first"] is not None and assembly.first_record is None:
            assembly.first_record = _record(raw["first"])
        if raw["last"] is not None:
            assembly.last_record = _record(raw["last"])
        if raw["entries"]:
            assembly.tail_entry = None
        if raw["last_wall_ns"]:
            assembly.last_wall_ns = int(raw["last_wall_ns"])
        for fields in raw["entries"]:
            record = _record(fields[:7])
            payload: Any = record.payload
            event = decode_event(record.kind, payload) if is_engine_kind(record.kind) else None
            trace.entries.append(TraceEntry(
                node=trace.node, generation=int(fields[6]), record=record, event=event,
                commands=tuple(decode_command(command) for command in fields[7])))
        if raw["tail"] is not None:
            assembly.tail_entry = TraceEntry(node=trace.node, generation=int(raw["tail"][6]),
                                             record=_record(raw["tail"]), event=None,
                                             commands=())
        for generation, peer, link, chunks in raw["heartbeats"]:
            key = (int(generation), str(peer), str(link))
            series = assembly.series.setdefault(key, HeartbeatSeries())
            series.chunks.extend(_chunk(packed) for packed in chunks)
        for generation, config in raw["configs"]:
            decoded: ClusterConfig = decode_config(config)
            trace.configs[int(generation)] = decoded
        trace.status_sent.extend(StatusSent(generation=g, version=v, seq=s, wall_ms=w)
                                 for g, v, s, w in raw["status_sent"])
        for sender, generation, version, seq, wall_ms in raw["status_received"]:
            trace.status_received.setdefault((sender, generation, version), (seq, wall_ms))
        trace.undecodable_count += int(raw["undecodable"])
    except (KeyError, IndexError, TypeError, ValueError, PackingError) as error:
        raise IndexUnusable(f"unreadable index part: {error}") from None


def _resume_after(part: _Part) -> _Resume:
    """Decoded only for the part a new one is built after (a snapshot costs milliseconds)."""
    try:
        resume = part.raw["resume"]
        return _Resume(state=decode_state(resume["state"]),
                       last_version=(int(resume["last_version"][0]),
                                     int(resume["last_version"][1])),
                       seq=int(resume["seq"]), head=bytes(resume["head"]))
    except (KeyError, IndexError, TypeError, ValueError, PackingError) as error:
        raise IndexUnusable(f"unreadable index part: {error}") from None


def _record(fields: list[Any]) -> Record:
    seq, kind, monotonic_ns, wall_ns, payload, head = fields[:6]
    return Record(seq=seq, kind=kind, monotonic_ns=monotonic_ns, wall_ns=wall_ns,
                  payload=payload, head=bytes(head))


def _chunk(packed: list[Any]) -> HeartbeatChunk:
    count, first, last, min_now, min_wall, max_wall, worst_gap, is_sorted, generations, \
        arrays = packed

    def load() -> HeartbeatLists:
        now_ms, wall_ms, seqs, senders = (_undeltas(data) for data in arrays)
        return now_ms, wall_ms, seqs, senders

    return HeartbeatChunk(count=count, first=(first[0], first[1], first[2], first[3]),
                          last=(last[0], last[1], last[2], last[3]),
                          min_now_ms=min_now, min_wall_ms=min_wall, max_wall_ms=max_wall,
                          worst_gap_ms=worst_gap, is_sorted=is_sorted,
                          generations=frozenset(generations), loader=load)


def _read_parts(directory: Path, segment_index: int) -> list[_Part]:
    try:
        document = msgpack.unpackb(index_path(directory, segment_index).read_bytes(),
                                   raw=False, strict_map_key=False)
    except (OSError, ValueError, msgpack.UnpackException):
        return []
    if not (isinstance(document, dict) and document.get("version") == INDEX_VERSION
            and isinstance(document.get("parts"), list)):
        return []
    return [_Part(raw=part) for part in document["parts"] if isinstance(part, dict)]


def _write_parts(directory: Path, segment_index: int, parts: list[_Part]) -> bool:
    document = {"version": INDEX_VERSION, "parts": [part.raw for part in parts]}
    try:
        make_directory(cache_directory(directory), mode=0o750, sync=False)
        write_file_atomically(index_path(directory, segment_index),
                              msgpack.packb(document, use_bin_type=True), mode=0o640,
                              sync=False)
    except OSError:
        return False
    return True


def iter_index_files(directory: Path) -> Iterator[Path]:
    """Every index file of `directory` (for `hactl postmortem --rebuild-index`)."""
    folder = cache_directory(directory)
    if folder.is_dir():
        yield from sorted(folder.glob("segment-*.trace"))
