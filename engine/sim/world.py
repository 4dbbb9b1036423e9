"""The model world: which node really holds each floating IP and service.

The engines only *believe* things; the world is the ground truth the checkers compare
their beliefs against. A resource is held from the moment its start action succeeds (or,
for a stop that failed, stays held) until its stop succeeds or its node loses power:
powering a node off, by a crash or by a fence device, drops everything it held, while a
daemon crash leaves the node and its resources up (Heartbeat's "resources left behind",
which issue 9's probes must find).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, kw_only=True)
class NodePower:
    is_powered: bool = True
    is_daemon_running: bool = True
    generation: int = 1
    wall_offset_ms: int = 0  # this node's wall clock minus the virtual clock


@dataclass(slots=True)
class World:
    """Ground truth for every node and every resource of the cluster."""

    nodes: tuple[str, ...]
    group_of_resource: dict[str, str]
    power: dict[str, NodePower] = field(default_factory=dict)
    holders: dict[str, set[str]] = field(default_factory=dict)
    resources_of_group: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Grows with every change of holders, power or daemons, so that a checker can tell
    # that nothing changed since it last looked without looking at everything.
    version: int = 0

    def __post_init__(self) -> None:
        grouped: dict[str, list[str]] = {}
        for resource_id, group in self.group_of_resource.items():
            grouped.setdefault(group, []).append(resource_id)
        self.resources_of_group = {group: tuple(ids) for group, ids in grouped.items()}
        for node in self.nodes:
            self.power.setdefault(node, NodePower())
        for resource_id in self.group_of_resource:
            self.holders.setdefault(resource_id, set())

    # ---- resources ----------------------------------------------------------------------

    def start(self, node: str, resource_id: str) -> None:
        assert self.power[node].is_powered, f"{node} is off and cannot start {resource_id}"
        self.holders[resource_id].add(node)
        self.version += 1

    def stop(self, node: str, resource_id: str) -> None:
        self.holders[resource_id].discard(node)
        self.version += 1

    def is_running(self, node: str, resource_id: str) -> bool:
        return node in self.holders[resource_id]

    def other_holders(self, node: str, resource_id: str) -> set[str]:
        return self.holders[resource_id] - {node}

    def group_holders(self, group: str) -> set[str]:
        """Nodes that hold at least one resource of the group."""
        held: set[str] = set()
        for resource_id in self.resources_of_group.get(group, ()):
            held |= self.holders[resource_id]
        return held

    def groups(self) -> tuple[str, ...]:
        return tuple(self.resources_of_group)

    def held_by(self, node: str) -> tuple[str, ...]:
        return tuple(r for r, holders in self.holders.items() if node in holders)

    # ---- nodes --------------------------------------------------------------------------

    def power_off(self, node: str) -> None:
        """A crash or a fence: the machine stops, its IPs and services vanish."""
        power = self.power[node]
        power.is_powered = False
        power.is_daemon_running = False
        for holders in self.holders.values():
            holders.discard(node)
        self.version += 1

    def crash_daemon(self, node: str) -> None:
        """The daemon dies but the machine runs on, and so do its resources."""
        self.power[node].is_daemon_running = False
        self.version += 1

    def boot(self, node: str) -> int:
        """Power on (if off) and start the daemon with a new generation; returns it."""
        power = self.power[node]
        assert not power.is_daemon_running, f"{node}'s daemon already runs"
        power.is_powered = True
        power.is_daemon_running = True
        power.generation += 1
        self.version += 1
        return power.generation

    def is_live(self, node: str) -> bool:
        power = self.power[node]
        return power.is_powered and power.is_daemon_running

    def live_nodes(self) -> tuple[str, ...]:
        return tuple(node for node in self.nodes if self.is_live(node))

    def wall_ms(self, node: str, now_ms: int) -> int:
        return now_ms + self.power[node].wall_offset_ms
