"""Fixed timings and limits of the engine that ha.cf does not set (Heartbeat's own values)."""

from __future__ import annotations

FENCE_RETRY_INTERVAL_MS = 5_000  # Heartbeat retried STONITH every 5 s until it succeeded
STOP_RETRY_INTERVAL_MS = 1_000
STOP_RETRY_LIMIT = 10  # failed stops retried this many times, then the node self-fences
ACTION_TIMEOUT_MS = 120_000  # start/stop/status of a v1 resource (Heartbeat had no limit)
STATUS_TIMEOUT_MS = 30_000
PING_SETTLE_KEEPALIVES = 2  # a lower ping count must last this long before groups move
# Status coalescing: after a new status goes out, the next change waits this long, so a burst
# of changes in one millisecond (hundreds of probes ending together) makes two heartbeats,
# not one per change. Within a millisecond no peer could act on the difference.
STATUS_HOLD_MS = 1
