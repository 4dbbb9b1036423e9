"""`journal merge`: several nodes' journals as one verified, causally ordered timeline.

Each journal is verified on its own first. Then the records are interleaved by a
topological sort: a node's records keep their seq order, and a record that a causal edge
(`causality`) says came after another node's record is never placed before it, whatever
the clocks say. Among records free to go next, the one with the earliest corrected wall
time (`clocks`) goes first, so unrelated records still read chronologically. Edges that
contradict each other (only forged or equivocating journals make a cycle) cannot all be
honoured: the sort then takes the earliest blocked record and counts the violation.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hactl.postmortem.causality import CausalEdge, causal_edges
from hactl.postmortem.clocks import ClockEstimate, estimate_clocks
from hactl.postmortem.equivocation import EquivocationFinding, find_equivocations
from hactl.postmortem.sources import NodeJournal
from hactl.postmortem.trace import NodeTrace, trace_node
from journal import FIRST_ENGINE_KIND, Record


@dataclass(frozen=True, slots=True, kw_only=True)
class MergedRecord:
    node: str
    record: Record
    corrected_wall_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MergedTimeline:
    nodes: tuple[str, ...]
    records: tuple[MergedRecord, ...]
    clocks: dict[str, ClockEstimate]
    edges: tuple[CausalEdge, ...]
    equivocations: tuple[EquivocationFinding, ...]
    problems: dict[str, list[str]]  # per node: verification problems (empty: verified)
    broken_edge_count: int  # edges the order could not honour (cycles)

    @property
    def is_consistent(self) -> bool:
        return not self.equivocations and not any(self.problems.values()) \
            and not self.broken_edge_count

    def corrected_wall_ms(self, node: str, wall_ms: int) -> int:
        return wall_ms - self.clocks[node].offset_at(wall_ms)


def merge_journals(journals: Sequence[NodeJournal],
                   traces: dict[str, NodeTrace] | None = None) -> MergedTimeline:
    by_node = {journal.node: journal for journal in journals}
    traces = traces if traces is not None else {j.node: trace_node(j) for j in journals}
    edges = causal_edges(by_node, traces)
    wall_of = record_times(journals)
    nodes = tuple(journal.node for journal in journals)
    clocks = estimate_clocks(nodes, edges, wall_of)
    records, broken = _order(by_node, edges, clocks, wall_of)
    return MergedTimeline(nodes=nodes, records=tuple(records), clocks=clocks,
                          edges=tuple(edges), equivocations=tuple(find_equivocations(by_node)),
                          problems={j.node: j.problems() for j in journals},
                          broken_edge_count=broken)  # fmt: skip


def record_times(journals: Sequence[NodeJournal]) -> dict[tuple[str, int], int]:
    """Wall milliseconds of every record. The journal's own records written without a time
    (seals; a simulator's creation record) take their predecessor's time (the first ones
    their successor's), so they sort with the records they belong to."""
    times: dict[tuple[str, int], int] = {}
    for journal in journals:
        known: list[int | None] = [
            None if record.kind < FIRST_ENGINE_KIND and record.wall_ns == 0
            else record.wall_ns // 1_000_000 for record in journal.records]  # fmt: skip
        first = next((value for value in known if value is not None), 0)
        previous = first
        for record, value in zip(journal.records, known, strict=True):
            previous = value if value is not None else previous
            times[(journal.node, record.seq)] = previous
    return times


def _order(journals: dict[str, NodeJournal], edges: Sequence[CausalEdge],
           clocks: dict[str, ClockEstimate], wall_of: dict[tuple[str, int], int]
           ) -> tuple[list[MergedRecord], int]:
    # For each effect record: the highest seq each cause node must have reached first.
    needs: dict[tuple[str, int], dict[str, int]] = {}
    for edge in edges:
        wanted = needs.setdefault((edge.effect_node, edge.effect_seq), {})
        wanted[edge.cause_node] = max(edge.cause_seq, wanted.get(edge.cause_node, -1))
    position = dict.fromkeys(journals, 0)
    emitted_seq = dict.fromkeys(journals, -1)
    merged: list[MergedRecord] = []
    broken = 0
    total = sum(len(journal.records) for journal in journals.values())
    while len(merged) < total:
        ready: list[tuple[int, str]] = []
        blocked: list[tuple[int, str]] = []
        for node, journal in journals.items():
            if position[node] >= len(journal.records):
                continue
            record = journal.records[position[node]]
            corrected = _corrected(clocks[node], wall_of[(node, record.seq)])
            wanted = needs.get((node, record.seq), {})
            is_free = all(emitted_seq.get(cause, 10**18) >= seq for cause, seq in wanted.items()
                          if cause in emitted_seq)  # fmt: skip
            (ready if is_free else blocked).append((corrected, node))
        if ready:
            heapq.heapify(ready)
            corrected, node = ready[0]
        else:
            corrected, node = min(blocked)
            broken += 1
        clock = clocks[node]

        def corrected_of(seq: int, node: str = node, clock: ClockEstimate = clock) -> int:
            return _corrected(clock, wall_of[(node, seq)])

        merged.extend(_run(journals[node], node, position, emitted_seq, needs, corrected_of,
                           _next_limit(ready, blocked, node)))
    return merged, broken


def _next_limit(ready: list[tuple[int, str]], blocked: list[tuple[int, str]], node: str) -> int:
    """Records of `node` may go on being emitted until another node's head is earlier."""
    others = [corrected for corrected, other in ready + blocked if other != node]
    return min(others) if others else 10**18


def _run(journal: NodeJournal, node: str, position: dict[str, int], emitted_seq: dict[str, int],
         needs: dict[tuple[str, int], dict[str, int]], corrected_of: Callable[[int], int],
         limit_ms: int) -> list[MergedRecord]:
    """Emit `node`'s records while they are not later than `limit_ms` and not blocked."""
    out = []
    first = True
    while position[node] < len(journal.records):
        record = journal.records[position[node]]
        corrected = corrected_of(record.seq)
        wanted = needs.get((node, record.seq), {})
        is_free = all(emitted_seq.get(cause, 10**18) >= seq for cause, seq in wanted.items()
                      if cause in emitted_seq)  # fmt: skip
        if not first and (corrected > limit_ms or not is_free):
            break
        out.append(MergedRecord(node=node, record=record, corrected_wall_ms=corrected))
        position[node] += 1
        emitted_seq[node] = record.seq
        first = False
    return out


def _corrected(clock: ClockEstimate, wall_ms: int) -> int:
    return wall_ms - clock.offset_at(wall_ms)
