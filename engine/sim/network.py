"""The simulated network: directed links between nodes, each with its own faults.

A link is one heartbeat medium between two nodes in one direction (`node1 -> node2 on
eth1`), because real failures are often one-way. Each link has a loss ratio, a delay
range, a duplication ratio and a reordering ratio (a reordered packet is held back by an
extra delay so later packets overtake it), and can be stopped outright (`cut`); a
partition is a set of cut links. The network only decides *when* (if ever) each copy of a
packet arrives; the caller schedules the deliveries. All randomness comes from the
`random.Random` it is given, so a run is a function of its seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFaults:
    """How one directed link misbehaves; the default is a healthy 1 ms link."""

    loss_ratio: float = 0.0
    delay_ms_min: int = 1
    delay_ms_max: int = 1
    duplicate_ratio: float = 0.0
    reorder_ratio: float = 0.0
    reorder_delay_ms: int = 50

    def __post_init__(self) -> None:
        assert 0.0 <= self.loss_ratio <= 1.0
        assert 0 <= self.delay_ms_min <= self.delay_ms_max
        assert 0.0 <= self.duplicate_ratio <= 1.0
        assert 0.0 <= self.reorder_ratio <= 1.0


HEALTHY = LinkFaults()


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectedLink:
    source: str
    destination: str
    link: str


@dataclass(slots=True, kw_only=True)
class NetworkCounters:
    sent: int = 0
    lost: int = 0
    cut: int = 0
    duplicated: int = 0
    reordered: int = 0


@dataclass(slots=True)
class Network:
    """Every directed link of a cluster and what is currently wrong with it."""

    nodes: tuple[str, ...]
    link_names: tuple[str, ...]
    random_source: random.Random
    faults: dict[DirectedLink, LinkFaults] = field(default_factory=dict)
    cut_links: set[DirectedLink] = field(default_factory=set)
    counters: NetworkCounters = field(default_factory=NetworkCounters)

    def links_between(
        self, node_a: str, node_b: str, link: str | None = None
    ) -> tuple[DirectedLink, ...]:
        """Both directions between two nodes, on one link or (link=None) on all."""
        assert node_a in self.nodes and node_b in self.nodes, (node_a, node_b)
        names = self.link_names if link is None else (link,)
        assert all(name in self.link_names for name in names), names
        return tuple(
            DirectedLink(source=source, destination=destination, link=name)
            for name in names
            for source, destination in ((node_a, node_b), (node_b, node_a))
        )

    def all_links(self) -> tuple[DirectedLink, ...]:
        return tuple(
            DirectedLink(source=source, destination=destination, link=name)
            for source in self.nodes
            for destination in self.nodes
            if source != destination
            for name in self.link_names
        )

    def cut(self, links: Iterable[DirectedLink]) -> None:
        self.cut_links.update(links)

    def restore(self, links: Iterable[DirectedLink]) -> None:
        self.cut_links.difference_update(links)

    def partition(self, sides: Iterable[Iterable[str]]) -> None:
        """Cut every link between nodes on different sides; nodes not named form one more side."""
        side_of: dict[str, int] = {}
        for index, side in enumerate(sides):
            for node in side:
                assert node in self.nodes, node
                side_of[node] = index
        rest = len(side_of) + 1000
        for link in self.all_links():
            if side_of.get(link.source, rest) != side_of.get(link.destination, rest):
                self.cut_links.add(link)

    def set_faults(self, links: Iterable[DirectedLink], faults: LinkFaults) -> None:
        for link in links:
            if faults == HEALTHY:
                self.faults.pop(link, None)
            else:
                self.faults[link] = faults

    def heal(self) -> None:
        """Every link healthy and connected again."""
        self.cut_links.clear()
        self.faults.clear()

    def is_healthy(self) -> bool:
        return not self.cut_links and not self.faults

    def can_reach(self, source: str, destination: str) -> bool:
        """True when at least one link from source to destination is not cut."""
        return any(
            DirectedLink(source=source, destination=destination, link=name) not in self.cut_links
            for name in self.link_names
        )

    def transmit(self, link: DirectedLink) -> tuple[int, ...]:
        """The delays (ms) after which copies of one packet arrive: none, one, or two."""
        self.counters.sent += 1
        if link in self.cut_links:
            self.counters.cut += 1
            return ()
        faults = self.faults.get(link, HEALTHY)
        if faults is HEALTHY:
            return (HEALTHY.delay_ms_min,)
        chance = self.random_source.random
        if faults.loss_ratio and chance() < faults.loss_ratio:
            self.counters.lost += 1
            return ()
        copies = 1
        if faults.duplicate_ratio and chance() < faults.duplicate_ratio:
            self.counters.duplicated += 1
            copies = 2
        delays: list[int] = []
        for _ in range(copies):
            delay_ms = self.random_source.randint(faults.delay_ms_min, faults.delay_ms_max)
            if faults.reorder_ratio and chance() < faults.reorder_ratio:
                self.counters.reordered += 1
                delay_ms += faults.reorder_delay_ms
            delays.append(delay_ms)
        return tuple(delays)
