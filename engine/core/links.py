"""How links are named, so that the daemon, the simulator and the engine agree.

The engine learns links from the `link` (and `also_links`) of each HeartbeatReceived; it
needs no list. The shell names each medium with `link_name` when it reports a packet.
"""

from __future__ import annotations

from typing import assert_never

from engine.config.model import (
    BcastMedium,
    ClusterConfig,
    McastMedium,
    Medium,
    SerialMedium,
    UcastMedium,
)


def link_name(medium: Medium) -> str:
    match medium:
        case BcastMedium():
            return f"bcast {medium.interface}"
        case UcastMedium():
            return f"ucast {medium.interface}"
        case McastMedium():
            return f"mcast {medium.interface}"
        case SerialMedium():
            return f"serial {medium.device}"
        case _:
            assert_never(medium)


def link_names(config: ClusterConfig) -> tuple[str, ...]:
    """Distinct link names in ha.cf order (two ucast lines on one interface are one link)."""
    return tuple(dict.fromkeys(link_name(medium) for medium in config.media))
