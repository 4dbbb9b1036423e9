"""The packet envelope: who sent what, in which generation and order, signed.

Wire form: a msgpack array `[version, udpport, sender, destination, generation, seq,
kind, body, seal, auth_index, mac]`. The MAC covers the msgpack encoding of everything
before `auth_index`, so any change to a signed field breaks it. `udpport` doubles as the
cluster identity (Heartbeat clusters sharing a segment differ by port). `body` is the
engine's message (opaque here); `seal` is the sender's latest journal seal, which
heartbeats carry so peers can witness each other's journals.

Decoding never raises anything but `EnvelopeError`, whose `reason` is one of a few fixed
strings the receiver counts; a malformed packet must never reach the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

from engine.config.model import AuthConfig, AuthKey
from hactl.daemon.transport.signing import is_authentic, sign

WIRE_VERSION = 1
MAX_PACKET_BYTES = 32 * 1024  # Heartbeat's MAXMSG is 40000; our heartbeats are < 1 KiB
MAX_NODE_NAME_CHARS = 255
_ELEVEN_FIELDS = b"\x9b"  # msgpack fixarray of 11
_BIN8 = 0xC4  # msgpack bin 8: one length byte, then the bytes


class EnvelopeError(Exception):
    """A packet that cannot be accepted; `reason` is a short counter name."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    udpport: int
    sender: str
    destination: str | None  # None: every node
    generation: int
    seq: int
    kind: int
    body: object
    seal: bytes | None


def encode_envelope(envelope: Envelope, key: AuthKey) -> bytes:
    """Serialize and sign `envelope` with `key` (the `auth N` key)."""
    # The packet is the signed 9-field array re-headed as 11 fields, with the key index and
    # the MAC appended: the msgpack encoding of the whole list, without packing the fields
    # twice. Both headers are fixarrays (one byte); an index is 1..15 (a fixint) and a MAC
    # at most 64 bytes (bin 8).
    signed = _pack(_signed_part(envelope))
    mac = sign(key, signed)
    packet = _ELEVEN_FIELDS + signed[1:] + bytes((key.index, _BIN8, len(mac))) + mac
    assert len(packet) <= MAX_PACKET_BYTES, f"packet of {len(packet)} bytes is too large"
    return packet


def decode_envelope(packet: bytes, auth: AuthConfig) -> Envelope:
    """Parse and authenticate `packet`; raise `EnvelopeError` for anything wrong."""
    if len(packet) > MAX_PACKET_BYTES:
        raise EnvelopeError("oversize", f"{len(packet)} bytes > {MAX_PACKET_BYTES}")
    fields = _unpack_fields(packet)
    key = _key_for(auth, fields[9])
    mac = fields[10]
    if not isinstance(mac, bytes) or not is_authentic(key, _pack(fields[:9]), mac):
        raise EnvelopeError("bad_signature", f"signature does not verify with key {key.index}")
    return _envelope_from_fields(fields)


def _signed_part(envelope: Envelope) -> list[object]:
    return [
        WIRE_VERSION, envelope.udpport, envelope.sender, envelope.destination,
        envelope.generation, envelope.seq, envelope.kind, envelope.body, envelope.seal,
    ]  # fmt: skip


def _pack(fields: list[object]) -> bytes:
    packed: bytes = msgpack.packb(fields, use_bin_type=True)
    return packed


def _unpack_fields(packet: bytes) -> list[object]:
    try:
        fields = msgpack.unpackb(packet, raw=False, strict_map_key=False)
    except Exception as error:  # msgpack raises many types; all mean "not our packet"
        raise EnvelopeError("malformed", f"not msgpack: {type(error).__name__}") from None
    if not isinstance(fields, list) or len(fields) != 11:
        raise EnvelopeError("malformed", "not an 11-field envelope")
    if fields[0] != WIRE_VERSION:
        raise EnvelopeError("malformed", f"wire version {fields[0]!r} is not {WIRE_VERSION}")
    return fields


def _key_for(auth: AuthConfig, index: object) -> AuthKey:
    if not isinstance(index, int) or isinstance(index, bool):
        raise EnvelopeError("malformed", "auth index is not an integer")
    for key in auth.keys:
        if key.index == index:
            return key
    raise EnvelopeError("unknown_key", f"auth index {index} is not in authkeys")


def _envelope_from_fields(fields: list[object]) -> Envelope:
    _, udpport, sender, destination, generation, seq, kind, body, seal = fields[:9]
    if not _is_natural(udpport) or not _is_natural(generation) or not _is_natural(seq):
        raise EnvelopeError("malformed", "udpport, generation and seq must be integers >= 0")
    if not _is_natural(kind):
        raise EnvelopeError("malformed", "kind must be an integer >= 0")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_NODE_NAME_CHARS:
        raise EnvelopeError("malformed", "sender must be a node name")
    if destination is not None and not isinstance(destination, str):
        raise EnvelopeError("malformed", "destination must be a node name or nil")
    if seal is not None and not isinstance(seal, bytes):
        raise EnvelopeError("malformed", "seal must be bytes or nil")
    assert isinstance(udpport, int) and isinstance(generation, int)
    assert isinstance(seq, int) and isinstance(kind, int)
    return Envelope(
        udpport=udpport, sender=sender, destination=destination, generation=generation,
        seq=seq, kind=kind, body=body, seal=seal,
    )  # fmt: skip


def _is_natural(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
