"""The one place where the simulator meets `engine.core`'s vocabulary.

The harness speaks in a few shell-level terms: send this message, run this resource
action, fence that node, log this line, the daemon may exit. `Bridge` turns the engine's
commands into those terms and the harness's stimuli (a packet arrived, an action ended,
the timer fired, an admin asked for standby) into engine events. Keeping the translation
here keeps the harness readable and lets it be written, and tested, before the engine's
vocabulary settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.config.model import ClusterConfig
from engine.sim.checkers import NodeView
from engine.sim.devices import ResourceAction
from engine.sim.scenario_language import AdminScope, AdminVerb


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    destinations: tuple[str, ...] | None  # None: every peer (a broadcast heartbeat)
    message: object  # the engine's message value, delivered as is
    # The daemon's shell hands the engine one copy per link of a heartbeat (per-link
    # liveness) but only the first copy of anything else (hactl/daemon/wire.py).
    is_first_copy_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResourceAction:
    group: str
    resource_id: str
    action: ResourceAction
    token: object  # handed back in the result event, whatever the engine correlates with


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFence:
    target: str
    token: object


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfFence:
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    """Ping one ping-node address; the answer depends on the node's simulated uplink."""

    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A line worth putting on the timeline (alert, warning, membership change)."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonExits:
    """The engine finished a clean shutdown."""


ShellAction = Send | RunResourceAction | RunFence | SelfFence | Ping | Note | DaemonExits


@dataclass(frozen=True, slots=True, kw_only=True)
class Stepped:
    state: object
    actions: tuple[ShellAction, ...]
    is_decisional: bool  # commit the journal before carrying the actions out


class Bridge(Protocol):
    """The engine, as the simulated shell sees it. Every method is pure."""

    def boot(
        self,
        config: ClusterConfig,
        *,
        now_ms: int,
        wall_ms: int,
        generation: int,
        journal_records: Sequence[tuple[int, object]],
    ) -> object:
        """The first event of a daemon's life (journaled, then stepped from no state).

        `journal_records` is the node's committed journal so far: like the daemon, the
        shell replays it to tell the engine what this node may still hold (issue 9).
        """

    def initial_state(self, config: ClusterConfig) -> object: ...

    def step(self, state: object, event: object) -> Stepped: ...

    def next_deadline_ms(self, state: object) -> int | None: ...

    def timer(self, *, now_ms: int) -> object: ...

    def received(
        self,
        *,
        now_ms: int,
        source: str,
        links: tuple[str, ...],  # the links its copies came on at this instant, first first
        generation: int,
        seq: int,
        message: object,
    ) -> object: ...

    def resource_result(
        self,
        *,
        now_ms: int,
        action: RunResourceAction,
        is_success: bool,
        is_running: bool,
        duration_ms: int,
    ) -> object: ...

    def fence_result(
        self, *, now_ms: int, fence: RunFence, is_success: bool, duration_ms: int
    ) -> object: ...

    def admin(self, *, now_ms: int, wall_ms: int, verb: AdminVerb, scope: AdminScope) -> object: ...

    def shutdown(self, *, now_ms: int) -> object: ...

    def ping_result(self, *, now_ms: int, address: str, is_reachable: bool) -> object: ...

    def view(self, state: object) -> NodeView: ...

    def is_quorate(self, state: object) -> bool:
        """Cheaper than view(): asked at every resource start in 3+ node clusters."""

    def encode(self, event: object) -> tuple[int, object]:
        """(kind, msgpack-friendly payload), as the journal stores it."""

    def replay(self, config: ClusterConfig, records: Sequence[tuple[int, object]]) -> object: ...
