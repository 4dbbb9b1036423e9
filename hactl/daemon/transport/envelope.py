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
_NINE_FIELDS = b"\x99"  # msgpack fixarray of 9: the signed part
_ELEVEN_FIELDS = b"\x9b"  # msgpack fixarray of 11: the packet
_NO_BODY_YET = object()
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
    encoder = EnvelopeEncoder(udpport=envelope.udpport, sender=envelope.sender,
                              generation=envelope.generation)  # fmt: skip
    return encoder.encode(destination=envelope.destination, seq=envelope.seq,
                          kind=envelope.kind, body=envelope.body, seal=envelope.seal,
                          key=key)  # fmt: skip


class EnvelopeEncoder:
    """`encode_envelope` for one sender, packing what repeats between its packets once.

    A msgpack array is its header followed by its elements' encodings, so the signed
    9-field array is built from pieces: the version, port and sender (fixed for a daemon
    run), the generation, the packed body and seal of the previous packet while the same
    objects come again (a steady keepalive sends the codec's one encoding of an unchanged
    status), and only the seq packed anew. Bodies are codec output and never changed
    after they are sent; they are recognized by identity. The packet is then the signed
    array re-headed as 11 fields with the key index (a fixint, 1..15) and the MAC (bin 8,
    at most 64 bytes) appended: the same bytes as packing the whole list, which a test
    checks.
    """

    def __init__(self, *, udpport: int, sender: str, generation: int) -> None:
        self._head = _NINE_FIELDS + _pack(WIRE_VERSION) + _pack(udpport) + \
            _pack(sender)  # fmt: skip
        self._generation = _pack(generation)
        self._body: object = _NO_BODY_YET
        self._body_bytes = b""
        self._seal: bytes | None = None
        self._seal_bytes = _pack(None)

    def encode(self, *, destination: str | None, seq: int, kind: int, body: object,
               seal: bytes | None, key: AuthKey) -> bytes:  # fmt: skip
        if body is not self._body:
            self._body, self._body_bytes = body, _pack(body)
        if seal is not self._seal:
            self._seal, self._seal_bytes = seal, _pack(seal)
        signed = b"".join((
            self._head, _pack(destination), self._generation, _pack(seq),
            _pack(kind), self._body_bytes, self._seal_bytes,
        ))  # fmt: skip
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
    if not isinstance(mac, bytes) or not _verifies(key, packet, fields, mac):
        raise EnvelopeError("bad_signature", f"signature does not verify with key {key.index}")
    return _envelope_from_fields(fields)


def _verifies(key: AuthKey, packet: bytes, fields: list[object], mac: bytes) -> bool:
    """Whether `mac` is the MAC of the 9 fields' msgpack encoding, as the format defines.

    In a packet laid out as `EnvelopeEncoder` writes it (fixarray 11, ..., fixint index,
    bin 8 MAC) those bytes are cut out of the packet instead of packing the fields again.
    That is safe: a sender signs only a 9-array with nothing after it, and msgpack objects
    delimit themselves, so cut bytes that verify are exactly the fields decoded here. A
    packet that does not verify so (another encoder's layout, or a forgery) is judged on
    the fields packed again.
    """
    index = fields[9]
    if isinstance(index, int) and 0 < index < 128 and len(mac) < 256 \
            and packet[0] == _ELEVEN_FIELDS[0]:  # fmt: skip
        tail = bytes((index, _BIN8, len(mac))) + mac
        if packet.endswith(tail) and is_authentic(
            key, _NINE_FIELDS + packet[1 : len(packet) - len(tail)], mac
        ):
            return True
    return is_authentic(key, _pack(fields[:9]), mac)


def _pack(value: object) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
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
