"""The control messages awaiting an ACK, keeping their earliest retransmission time.

Each step asks whether a retransmission is due and `next_deadline` asks when the first
is; a node that just claimed its groups waits for hundreds of ACKs (one ACQUIRE per group
and live peer), and scanning them on every heartbeat and every ACK cost more than the
rest of those steps. The queue is a tuple, so the answer can be kept with it:
`OutgoingQueue` is that tuple (`step` hands `state.outgoing` back as one), it keeps the
earliest time and how many messages are due then, and `with_item`/`without_item` derive
both for the next queue (the queue is scanned again only when the last message due at
the earliest time leaves). `earliest_send_ms` answers for any tuple.
"""

from __future__ import annotations

from engine.core.state import OutgoingControl

_UNKNOWN = -1  # not known yet (times are never negative)


class OutgoingQueue(tuple[OutgoingControl, ...]):
    """`state.outgoing` with its earliest `next_send_ms`, computed once when first asked."""

    _earliest_ms: int | None = _UNKNOWN  # class defaults; an instance sets its own
    _earliest_count: int = 0  # messages due at _earliest_ms


def earliest_send_ms(outgoing: tuple[OutgoingControl, ...]) -> int | None:
    if type(outgoing) is not OutgoingQueue:
        return _earliest_of(outgoing)[0]
    if outgoing._earliest_ms == _UNKNOWN:
        outgoing._earliest_ms, outgoing._earliest_count = _earliest_of(outgoing)
    return outgoing._earliest_ms


def frozen_outgoing(outgoing: tuple[OutgoingControl, ...]) -> OutgoingQueue:
    return outgoing if type(outgoing) is OutgoingQueue else OutgoingQueue(outgoing)


def with_item(outgoing: tuple[OutgoingControl, ...], item: OutgoingControl) -> OutgoingQueue:
    """`outgoing` with `item` queued last."""
    queue = OutgoingQueue((*outgoing, item))
    earliest_ms = earliest_send_ms(outgoing) if type(outgoing) is OutgoingQueue else _UNKNOWN
    if earliest_ms == _UNKNOWN:
        return queue
    assert isinstance(outgoing, OutgoingQueue)
    if earliest_ms is None or item.next_send_ms < earliest_ms:
        queue._earliest_ms, queue._earliest_count = item.next_send_ms, 1
    elif item.next_send_ms == earliest_ms:
        queue._earliest_ms, queue._earliest_count = earliest_ms, outgoing._earliest_count + 1
    else:
        queue._earliest_ms, queue._earliest_count = earliest_ms, outgoing._earliest_count
    return queue


def without_item(outgoing: tuple[OutgoingControl, ...], index: int) -> OutgoingQueue:
    """`outgoing` without its item at `index` (acknowledged)."""
    removed = outgoing[index]
    queue = OutgoingQueue(outgoing[:index] + outgoing[index + 1 :])
    if type(outgoing) is not OutgoingQueue or outgoing._earliest_ms == _UNKNOWN:
        return queue
    if removed.next_send_ms != outgoing._earliest_ms:
        queue._earliest_ms, queue._earliest_count = outgoing._earliest_ms, outgoing._earliest_count
    elif outgoing._earliest_count > 1:
        queue._earliest_ms = outgoing._earliest_ms
        queue._earliest_count = outgoing._earliest_count - 1
    return queue  # else the last message due first left: scanned when asked


def _earliest_of(outgoing: tuple[OutgoingControl, ...]) -> tuple[int | None, int]:
    earliest_ms = min((item.next_send_ms for item in outgoing), default=None)
    count = sum(1 for item in outgoing if item.next_send_ms == earliest_ms)
    return earliest_ms, count
