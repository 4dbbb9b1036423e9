"""The control messages awaiting an ACK, keeping their earliest retransmission time.

Each step asks whether a retransmission is due and `next_deadline` asks when the first
is; a node that just claimed its groups waits for hundreds of ACKs (one ACQUIRE per group
and live peer), and scanning them on every heartbeat cost more than the heartbeat. The
queue is a tuple, so the answer can be kept with it: `OutgoingQueue` is that tuple (`step`
hands `state.outgoing` back as one), and `earliest_send_ms` answers for any tuple.
"""

from __future__ import annotations

from engine.core.state import OutgoingControl

_UNKNOWN = -1  # not asked yet (times are never negative)


class OutgoingQueue(tuple[OutgoingControl, ...]):
    """`state.outgoing` with its earliest `next_send_ms`, computed once when first asked."""

    _earliest_ms: int | None = _UNKNOWN  # a class default; an instance sets its own


def earliest_send_ms(outgoing: tuple[OutgoingControl, ...]) -> int | None:
    if type(outgoing) is not OutgoingQueue:
        return _earliest_of(outgoing)
    if outgoing._earliest_ms == _UNKNOWN:
        outgoing._earliest_ms = _earliest_of(outgoing)
    return outgoing._earliest_ms


def frozen_outgoing(outgoing: tuple[OutgoingControl, ...]) -> OutgoingQueue:
    return outgoing if type(outgoing) is OutgoingQueue else OutgoingQueue(outgoing)


def _earliest_of(outgoing: tuple[OutgoingControl, ...]) -> int | None:
    return min((item.next_send_ms for item in outgoing), default=None)
