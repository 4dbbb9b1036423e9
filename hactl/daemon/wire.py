"""Engine messages on the wire: which envelope kind carries what, and back into events.

The transport moves signed envelopes with an opaque body; the engine speaks
`StatusPayload` and `ControlMessage`. This module is the seam: it picks the envelope kind,
uses the engine's codec for the body, and turns a delivered envelope into the engine event
(`HeartbeatReceived` per link copy, `ControlMessageReceived`). A body that passes the
signature but not the codec is a peer bug or a forged key: it is refused and counted like
any other bad packet, never handed to the engine.
"""

from __future__ import annotations

from engine.core.codec import (
    MalformedMessageError,
    decode_control,
    decode_status,
    encode_control,
    encode_status,
)
from engine.core.events import ControlMessageReceived, HeartbeatReceived
from engine.core.messages import ControlMessage, StatusPayload
from hactl.daemon.steady import IncomingStatus
from hactl.daemon.transport.receiver import Delivered

STATUS_KIND = 1
CONTROL_KIND = 2


class BodyError(Exception):
    """An authenticated envelope whose body the engine cannot read."""


def status_body(payload: StatusPayload) -> object:
    return encode_status(payload)


def control_body(message_id: int, message: ControlMessage) -> object:
    return [message_id, encode_control(message)]


def event_from_delivery(
    delivered: Delivered, now_ms: int, statuses: IncomingStatus | None = None
) -> HeartbeatReceived | ControlMessageReceived | None:
    """The engine event for a delivered envelope (None: a control copy on a second link).

    Control messages are delivered once (their first copy); the engine de-duplicates
    retransmissions by message id, and link liveness comes from heartbeats. `statuses`
    (the daemon's) remembers each peer's last status body, so a repeated one is not decoded
    again.
    """
    envelope = delivered.envelope
    try:
        if envelope.kind == STATUS_KIND:
            status = (decode_status(envelope.body) if statuses is None
                      else statuses.decode(envelope.sender, envelope.body))  # fmt: skip
            return HeartbeatReceived(
                now_ms=now_ms, from_node=envelope.sender, link=delivered.link,
                generation=envelope.generation, seq=envelope.seq, status=status,
            )  # fmt: skip
        if envelope.kind == CONTROL_KIND:
            if not delivered.is_first_copy:
                return None
            message_id, message = _control_parts(envelope.body)
            return ControlMessageReceived(
                now_ms=now_ms, from_node=envelope.sender, generation=envelope.generation,
                message_id=message_id, message=message,
            )  # fmt: skip
    except (MalformedMessageError, ValueError, TypeError, AssertionError) as error:
        raise BodyError(f"kind {envelope.kind}: {error}") from None
    raise BodyError(f"unknown envelope kind {envelope.kind}")


def _control_parts(body: object) -> tuple[int, ControlMessage]:
    if not isinstance(body, list) or len(body) != 2:
        raise BodyError("a control body is [message_id, message]")
    message_id, encoded = body
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 0:
        raise BodyError("a control message id is an integer >= 0")
    return message_id, decode_control(encoded)
