"""Safety and liveness checks of a simulated cluster, against the model world's truth.

Safety is checked as things happen: with working fencing no resource is ever held by two
powered nodes at once (a fence powers the victim off before anyone takes over, so a
duplicate is always a bug); in clusters of three or more nodes no node starts a resource
while its own view lacks quorum. Without fencing, a partition makes duplicates expected
(that is why Heartbeat warns "shared data unprotected"), so those are only counted.

Liveness is checked once the faults have stopped and the cluster had time to settle:
every group is held, completely, by exactly one live node, every live node agrees who
that is, and with auto_failback on each group is back on its preferred node when that
node is live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.config.model import AutoFailback, ClusterConfig
from engine.sim.durations import format_time_ms
from engine.sim.world import World


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeView:
    """What one node's engine believes, in the simulator's terms."""

    members: Mapping[str, str]  # node -> "init" | "up" | "active" | "dead" (engine's words)
    holders: Mapping[str, str | None]  # group name -> node it believes holds it
    has_quorum: bool
    links: Mapping[str, str] = field(default_factory=dict)  # "peer link" -> up | dead


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    at_ms: int
    kind: str  # "safety" | "liveness" | "replay"
    message: str

    def __str__(self) -> str:
        return f"{format_time_ms(self.at_ms)} {self.kind} violation: {self.message}"


@dataclass(slots=True)
class Checker:
    config: ClusterConfig
    violations: list[Violation] = field(default_factory=list)
    expected_duplicates: int = 0

    @property
    def is_fencing(self) -> bool:
        return self.config.is_fencing_configured

    def on_start_ordered(
        self, at_ms: int, node: str, resource_id: str, *, is_quorate: bool
    ) -> None:
        """Called when an engine orders a start: it must have quorum (3+ nodes) to do so."""
        if len(self.config.nodes) >= 3 and not is_quorate:
            self._add(at_ms, "safety", f"{node} ordered a start of {resource_id} without quorum")

    def on_resource_started(self, at_ms: int, world: World, node: str, resource_id: str) -> None:
        """Called when a start succeeds, before the world records it."""
        holders = world.other_holders(node, resource_id)
        others = sorted(other for other in holders if world.power[other].is_powered)
        if others:
            if self.is_fencing:
                self._add(at_ms, "safety", f"{node} started {resource_id} while {others} held it")
            else:
                self.expected_duplicates += 1

    def check_liveness(self, at_ms: int, world: World, views: Mapping[str, NodeView]) -> None:
        live = world.live_nodes()
        for group in self.config.groups:
            holders = sorted(world.group_holders(group.name))
            if len(holders) != 1:
                self._add(at_ms, "liveness", f"{group.name} is held by {holders or 'nobody'}")
                continue
            holder = holders[0]
            missing = [
                resource.resource_id
                for resource in group.resources
                if not world.is_running(holder, resource.resource_id)
            ]
            if holder not in live or missing:
                detail = f"missing {missing}" if missing else "its daemon is not running"
                self._add(at_ms, "liveness", f"{group.name} on {holder}: {detail}")
            beliefs = {node: views[node].holders.get(group.name) for node in live if node in views}
            if any(belief != holder for belief in beliefs.values()):
                message = f"{group.name} is on {holder} but nodes believe {beliefs}"
                self._add(at_ms, "liveness", message)
            if (
                self.config.auto_failback is AutoFailback.ON
                and group.preferred_node in live
                and holder != group.preferred_node
            ):
                self._add(
                    at_ms,
                    "liveness",
                    f"auto_failback on: {group.name} stays on {holder}, "
                    f"preferred {group.preferred_node} is up",
                )

    def add_replay_mismatch(self, at_ms: int, node: str, detail: str) -> None:
        self._add(at_ms, "replay", f"{node}'s journal replayed offline differs: {detail}")

    def _add(self, at_ms: int, kind: str, message: str) -> None:
        self.violations.append(Violation(at_ms=at_ms, kind=kind, message=message))
