"""What `hactl status` gets from a running node: the engine's view plus the shell's facts.

The engine's `cluster_view(state)` says what the node believes (members, links, groups,
quorum, last failover); the shell adds what only it knows (pid, generation, uptime,
journal head, packet counters, pending fences: the engine's view does not carry those, so
they come from the executor, which sees every FenceNode order and every attempt's end).
Everything is turned into plain JSON values here, with enums as their values and
dataclasses as objects, so the CLI can print it or dump it.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from typing import TYPE_CHECKING

from engine.core.view import cluster_view

if TYPE_CHECKING:
    from hactl.daemon.shell import Shell


def to_json_value(value: object) -> object:
    """Plain JSON for dataclasses, enums, tuples, dicts, bytes and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json_value(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.name != "config"
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(to_json_value(key)): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [to_json_value(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def status_snapshot(shell: Shell) -> dict[str, object]:
    from hactl.daemon.shell import monotonic_ms

    seal = shell.journal.latest_seal()
    receiver = shell.transport.receiver
    return {
        "node": shell.config.local_node,
        "pid": os.getpid(),
        "generation": shell.generation,
        "uptime_ms": monotonic_ms() - shell.started_ms,
        "journal": {
            "directory": str(shell.journal.directory),
            "next_seq": shell.journal.next_seq,
            "sealed_seq": seal.seq,
            "sealed_head": seal.head.hex(),
        },
        "transport": {
            "links": list(shell.transport.links),
            "sent_packets": shell.transport.sent_packet_count,
            "send_errors": dict(shell.transport.send_error_counts),
            "refused_packets": dict(receiver.refused_counts),
            "unreadable_peer_seals": shell.seals.unreadable_count,
            "equivocations": shell.seals.equivocation_count,
        },
        "last_failover": shell.last_failover,
        "pending_fences": pending_fences(shell),
        "cluster": to_json_value(cluster_view(shell.state)),
    }


def pending_fences(shell: Shell) -> list[dict[str, object]]:
    """Fences ordered and not yet successful, for peers the engine still holds dead.

    A peer that came back (or left cleanly) needs no fence any more: its entry is dropped.
    """
    from engine.core.state import PeerStatus

    shown = []
    for target, pending in list(shell.executor.pending_fences.items()):
        peer = shell.state.peers.get(target)
        if peer is None or peer.status is not PeerStatus.DEAD:
            shell.executor.forget_fence(target)
            continue
        shown.append(pending.to_json())
    return shown
