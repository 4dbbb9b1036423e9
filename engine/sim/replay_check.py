"""The replay check: each node's journal, read back and replayed offline, is its live state.

This is what makes "state is never stored" true: at the end of a run every live node's
journal is committed (a clean flush), decoded and folded through the engine again, and
the result must equal the state the node actually ran with, field for field.
"""

from __future__ import annotations

import dataclasses

from engine.sim.cluster import SimulatedCluster


def check_replay(cluster: SimulatedCluster) -> None:
    for name, node in cluster.nodes.items():
        if node.state is None:
            continue
        node.journal.commit()
        records = [(record.kind, record.payload) for record in node.journal.committed()]
        replayed = cluster.bridge.replay(node.config, records)
        if replayed != node.state:
            cluster.checker.add_replay_mismatch(
                cluster.now_ms, name, first_difference(replayed, node.state)
            )


def first_difference(replayed: object, live: object) -> str:
    """The first top-level field that differs, for a failure message a person can act on."""
    if dataclasses.is_dataclass(replayed) and dataclasses.is_dataclass(live):
        for field in dataclasses.fields(replayed):
            left, right = getattr(replayed, field.name), getattr(live, field.name)
            if left != right:
                return f"{field.name}: replayed {_short(left)} != live {_short(right)}"
    return f"replayed {_short(replayed)} != live {_short(live)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."
