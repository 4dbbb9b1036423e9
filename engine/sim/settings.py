"""Construction of a simulated cluster from a shape: config, device models, harness.

Scenarios and seed runs build clusters the same way, so a scenario and `hactl sim` agree
on timings, device durations and fence behaviour. Durations follow a small real cluster:
agents take 100 ms, a fence 500 ms (a hanging device is given up after 3 s), and a fenced
node is power-cycled (`reset`, Heartbeat's default action) and boots 5 s later.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.config.model import ClusterConfig
from engine.sim.bridge import Bridge
from engine.sim.cluster import HarnessOptions, SimulatedCluster
from engine.sim.devices import FenceDeviceModel, ResourceAgentModel
from engine.sim.node_journal import MemoryJournal, NodeJournal

FENCE_DURATION_MS = 500
FENCE_TIMEOUT_MS = 3000
REBOOT_AFTER_FENCE_MS = 5000
FENCE_RETRY_MS = 5000  # the engine's retry interval after a failed fence (Heartbeat's)


def default_bridge() -> Bridge:
    from engine.sim.core_bridge import CoreBridge  # the real engine, imported when first used

    return CoreBridge()


def build_cluster(
    config: ClusterConfig,
    *,
    seed: int,
    action_ms: int = 100,
    journal_factory: Callable[[str], NodeJournal] | None = None,
    is_tracing_views: bool = True,
    bridge: Bridge | None = None,
) -> SimulatedCluster:
    return SimulatedCluster(
        config,
        bridge or default_bridge(),
        HarnessOptions(
            seed=seed,
            reboot_after_fence_ms=REBOOT_AFTER_FENCE_MS,
            is_tracing_views=is_tracing_views,
        ),
        journal_factory or (lambda node: MemoryJournal()),
        agents=ResourceAgentModel(start_ms=action_ms, stop_ms=action_ms),
        fence_device=FenceDeviceModel(duration_ms=FENCE_DURATION_MS, timeout_ms=FENCE_TIMEOUT_MS),
    )
