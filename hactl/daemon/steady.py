"""What a steady keepalive repeats, decoded or encoded once: peers' statuses, our seal.

An idle cluster sends the same status payload every keepalive and hears the same one
back; only the envelope's seq and the record's times change. Decoding a peer's status
field by field on every packet, and our seal on every send, was a large part of an idle
daemon's CPU (at keepalive 100 ms, cold caches make each Python call count). These memos
reuse the last result while the input is an equal body from that sender, or the same
seal object. (Encoding needs no memo here: the engine's codec packs each status payload
object once, engine/core/packing.py, and the engine hands back its `last_payload` itself.)
The results are exactly the codec's; tests/hactl/daemon/test_steady.py checks that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.core.codec import decode_status
from engine.core.messages import StatusPayload
from journal import Seal


@dataclass(slots=True)
class SealBytes:
    """The bytes of our latest seal, serialized again only when the seal changes."""

    _seal: Seal | None = None
    _bytes: bytes = b""

    def of(self, seal: Seal) -> bytes:
        if seal is not self._seal:
            self._seal, self._bytes = seal, seal.to_bytes()
        return self._bytes


@dataclass(slots=True)
class IncomingStatus:
    """`decode_status` that remembers each sender's last body and what it decoded to.

    A body equal to the sender's previous one yields the same `StatusPayload` object, so
    the codec's packing of it, for the heartbeat record, is reused too. (msgpack values that
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
