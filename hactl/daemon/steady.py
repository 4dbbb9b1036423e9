"""What a steady keepalive repeats, encoded once: status bodies, seals, heartbeat records.

An idle cluster sends the same status payload every keepalive and hears the same one
back; only the envelope's seq and the record's times change. Encoding and decoding those
payloads field by field on every packet was most of an idle daemon's CPU (at keepalive
100 ms, cold caches make each Python call count). These memos keep the last encoding of
each and reuse it while the value is the same object (outgoing: the engine hands back its
`last_payload` itself) or an equal body (incoming: from that sender). The results are
exactly what the engine's codec returns; tests/hactl/daemon/test_steady.py checks that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.core.codec import EVENT_KINDS, decode_status, encode_event, encode_status
from engine.core.events import Event, HeartbeatReceived
from engine.core.messages import StatusPayload
from journal import Seal

HEARTBEAT_KIND = EVENT_KINDS[HeartbeatReceived]


@dataclass(slots=True)
class OutgoingHeartbeat:
    """The wire body of our status and the bytes of our seal, re-encoded only on change."""

    _payload: StatusPayload | None = None
    _body: list[Any] = field(default_factory=list)
    _seal: Seal | None = None
    _seal_bytes: bytes = b""

    def body(self, payload: StatusPayload) -> list[Any]:
        if payload is not self._payload:
            self._payload, self._body = payload, encode_status(payload)
        return self._body

    def seal_bytes(self, seal: Seal) -> bytes:
        if seal is not self._seal:
            self._seal, self._seal_bytes = seal, seal.to_bytes()
        return self._seal_bytes


@dataclass(slots=True)
class IncomingStatus:
    """`decode_status` that remembers each sender's last body and what it decoded to.

    A body equal to the sender's previous one yields the same `StatusPayload` object, so
    the heartbeat record encoder below can reuse its encoding too. (msgpack values that
    compare equal across types, 1 and 1.0, could only differ in a body from a peer that
    authenticated and then sent a malformed status; it is read as the valid one it equals.)
    """

    _last: dict[str, tuple[object, StatusPayload]] = field(default_factory=dict)

    def decode(self, sender: str, body: object) -> StatusPayload:
        last = self._last.get(sender)
        if last is not None and last[0] == body:
            return last[1]
        status = decode_status(body)  # raises MalformedMessageError: nothing remembered
        self._last[sender] = (body, status)
        return status


@dataclass(slots=True)
class EventEncoder:
    """`encode_event` with the status of the last heartbeat record kept encoded.

    A HeartbeatReceived packs as its fields in declaration order, the status last; while
    heartbeats carry the same status object, only the scalar fields are new.
    """

    _status: StatusPayload | None = None
    _status_packed: list[Any] = field(default_factory=list)

    def encode(self, event: Event) -> tuple[int, list[Any]]:
        if type(event) is not HeartbeatReceived:
            return encode_event(event)
        if event.status is not self._status:
            kind, payload = encode_event(event)
            self._status, self._status_packed = event.status, payload[-1]
            return kind, payload
        return HEARTBEAT_KIND, [event.now_ms, event.from_node, event.link, event.generation,
                                event.seq, self._status_packed]  # fmt: skip
