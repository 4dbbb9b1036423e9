"""Safety and liveness checks of a simulated cluster, against the model world's truth.

Safety is checked as things happen: with working fencing no resource is ever held by two
powered nodes at once (a fence powers the victim off before anyone takes over, so a
duplicate is always a bug); in clusters of three or more nodes no node starts a resource
while its own view lacks quorum. Without fencing, a partition makes duplicates expected
(that is why Heartbeat warns "shared data unprotected"), so those are only counted.

After a daemon crash (the machine and its resources stay up) and the daemon's restart,
a resource the restarted node still holds may have a second holder (the peer took over
without fencing) only briefly: once every holder's daemon runs, the duplicate must end
within `restart_bound_ms` (issue 9: the probes plus one stop; see `restart_bound_ms`).
This bound is judged only when enabled (runs without network faults: a partition keeps a
duplicate legitimately), by `observe` after every simulated event; it looks at the whole
world only when the world changed or while a duplicate is being timed.

Liveness is checked once the faults have stopped and the cluster had time to settle:
every group is held, completely, by exactly one live node, every live node agrees who
that is, and with auto_failback on each group is back on its preferred node when that
node is live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.config.model import AutoFailback, ClusterConfig
from engine.sim.devices import ResourceAgentModel
from engine.sim.durations import format_time_ms
from engine.sim.world import World


def restart_bound_ms(config: ClusterConfig, agents: ResourceAgentModel) -> int:
    """How long a restarted daemon's resource may have two live holders.

    The probe time and one stop of the largest group (one resource at a time), plus what
    the decision needs: one keepalive for the statuses to cross, and one action the peer
    may have in flight (a start it must finish before it can stop).
    """
    largest = max((len(group.resources) for group in config.groups), default=0)
    in_flight_ms = max(agents.start_ms, agents.stop_ms, agents.status_ms)
    return (
        largest * agents.status_ms
        + largest * agents.stop_ms
        + config.timings.keepalive.value_ms
        + in_flight_ms
    )


@dataclass(frozen=True, slots=True)
class _Seen:
    is_powered: bool
    is_daemon_running: bool
    generation: int
    held: frozenset[str]


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
    restart_bound_ms: int | None = None  # None: the restart bound is not judged
    longest_restart_duplicate_ms: int = 0  # the longest seen (bench and tests read it)
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _left_behind: dict[str, set[str]] = field(default_factory=dict)  # node -> resource ids
    _duplicate_since: dict[str, int] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)
    _observed_version: int = -1  # world.version at the last observe

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

    def observe(self, at_ms: int, world: World) -> None:
        """After a simulated event: track daemon restarts and time their duplicates."""
        bound_ms = self.restart_bound_ms
        if bound_ms is None:
            return
        if world.version == self._observed_version and not self._duplicate_since:
            return  # nothing changed, and no duplicate is being timed: nothing to find
        self._observed_version = world.version
        for node in world.nodes:
            power = world.power[node]
            seen = self._seen.get(node)
            held = frozenset(world.held_by(node))
            if (
                seen is not None
                and seen.is_powered
                and power.is_powered
                and power.is_daemon_running
                and power.generation != seen.generation
            ):
                self._left_behind[node] = set(seen.held & held)  # a daemon restart
            if not power.is_powered:
                self._left_behind.pop(node, None)
            elif node in self._left_behind:
                self._left_behind[node] &= held
            self._seen[node] = _Seen(
                power.is_powered, power.is_daemon_running, power.generation, held
            )
        judged = {rid for rids in self._left_behind.values() for rid in rids}
        for resource_id in sorted(judged | set(self._duplicate_since)):
            holders = world.holders[resource_id]
            is_duplicate = (
                resource_id in judged
                and len(holders) >= 2
                and all(world.is_live(node) for node in holders)
            )
            if not is_duplicate:
                self._duplicate_since.pop(resource_id, None)
                self._reported.discard(resource_id)
                continue
            since_ms = self._duplicate_since.setdefault(resource_id, at_ms)
            lasted_ms = at_ms - since_ms
            self.longest_restart_duplicate_ms = max(self.longest_restart_duplicate_ms, lasted_ms)
            if lasted_ms > bound_ms and resource_id not in self._reported:
                self._reported.add(resource_id)
                self._add(
                    at_ms,
                    "safety",
                    f"{resource_id} held by {sorted(holders)} for {lasted_ms} ms after a "
                    f"daemon restart (bound {bound_ms} ms: probes plus one stop)",
                )

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
