"""How far each node's wall clock was off, estimated from causal edges (NTP's reasoning).

An edge "A's record x happened before B's record y" means B's true time at y is later than
A's at x, so offset(B) - offset(A) <= wall(B, y) - wall(A, x): an upper bound. Edges the
other way give lower bounds; the estimate is the middle of the tightest bounds, and half
their width is the uncertainty. Clocks jump (NTP steps, an admin's `date`), so bounds are
gathered per window of time and each window gets its own estimate; a record's corrected
time uses the estimate of its nearest window. Offsets are relative to a reference node
(the first journal given) and reach other nodes through chains of pairs.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hactl.postmortem.causality import CausalEdge

WINDOW_MS = 30_000


@dataclass(frozen=True, slots=True, kw_only=True)
class OffsetWindow:
    from_wall_ms: int  # the node's own wall time
    to_wall_ms: int
    offset_ms: int  # this node's clock minus the reference's
    uncertainty_ms: int | None  # None: only a one-sided bound was available


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockEstimate:
    node: str
    reference: str
    windows: tuple[OffsetWindow, ...]  # empty: no edge connects this node

    def offset_at(self, wall_ms: int) -> int:
        if not self.windows:
            return 0
        starts = [window.from_wall_ms for window in self.windows]
        index = max(0, bisect.bisect_right(starts, wall_ms) - 1)
        return self.windows[index].offset_ms

    def describe(self) -> str:
        if self.node == self.reference:
            return f"{self.node}: reference clock"
        if not self.windows:
            return f"{self.node}: no causal link to {self.reference}; its clock is taken as is"
        parts = []
        for window in self.windows:
            within = "one-sided bound" if window.uncertainty_ms is None \
                else f"+/- {window.uncertainty_ms} ms"
            parts.append(f"{window.offset_ms:+d} ms ({within})")
        changes = " then ".join(dict.fromkeys(parts))
        return f"{self.node}: clock off by {changes} relative to {self.reference}"


def estimate_clocks(nodes: Sequence[str], edges: Sequence[CausalEdge],
                    wall_of: Mapping[tuple[str, int], int]) -> dict[str, ClockEstimate]:
    reference = nodes[0]
    estimates = {reference: ClockEstimate(node=reference, reference=reference, windows=())}
    frontier = [reference]
    while frontier:
        known = frontier.pop(0)
        for node in nodes:
            if node in estimates:
                continue
            windows = _pair_windows(known, node, edges, wall_of, estimates[known])
            if windows:
                estimates[node] = ClockEstimate(node=node, reference=reference, windows=windows)
                frontier.append(node)
    for node in nodes:
        estimates.setdefault(node, ClockEstimate(node=node, reference=reference, windows=()))
    return estimates


def _pair_windows(known: str, node: str, edges: Sequence[CausalEdge],
                  wall_of: Mapping[tuple[str, int], int],
                  known_estimate: ClockEstimate) -> tuple[OffsetWindow, ...]:
    """Windows of offset(node) - offset(reference), from edges between `known` and `node`."""
    uppers: dict[int, int] = {}
    lowers: dict[int, int] = {}
    for edge in edges:
        cause = wall_of.get((edge.cause_node, edge.cause_seq))
        effect = wall_of.get((edge.effect_node, edge.effect_seq))
        if cause is None or effect is None:
            continue
        if edge.cause_node == known and edge.effect_node == node:
            bound = effect - (cause - known_estimate.offset_at(cause))
            window = effect // WINDOW_MS
            uppers[window] = min(bound, uppers.get(window, bound))
        elif edge.cause_node == node and edge.effect_node == known:
            bound = cause - (effect - known_estimate.offset_at(effect))
            window = cause // WINDOW_MS
            lowers[window] = max(bound, lowers.get(window, bound))
    windows = []
    for window in sorted(set(uppers) | set(lowers)):
        upper, lower = uppers.get(window), lowers.get(window)
        if upper is not None and lower is not None and lower <= upper:
            offset, uncertainty = (upper + lower) // 2, (upper - lower + 1) // 2
        else:
            offset = upper if upper is not None else lower  # type: ignore[assignment]
            uncertainty = None
        windows.append(OffsetWindow(from_wall_ms=window * WINDOW_MS,
                                    to_wall_ms=(window + 1) * WINDOW_MS - 1,
                                    offset_ms=offset, uncertainty_ms=uncertainty))
    return tuple(windows)
