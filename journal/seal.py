"""Seals: one Ed25519 signature per group commit over (domain tag, node, seq, head, epoch).

A seal vouches for the whole chain up to `seq`, because `head` commits to every earlier
body. It is small on purpose (about 120 bytes encoded) so heartbeats can carry the latest
one and peers can journal it: two valid seals from one node with the same seq and
different heads prove that node rewrote its history (equivocation).

Key-epoch announcements are signed here too, with their own domain tag, so a seal can
never be replayed as an announcement or the other way round.
"""

from __future__ import annotations

import dataclasses
import functools
import struct

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from journal.framing import HEAD_BYTES

SEAL_DOMAIN_TAG = b"hactl-journal-seal-v1\x00"
EPOCH_DOMAIN_TAG = b"hactl-journal-epoch-v1\x00"
# Stored at the front of seal and key-epoch payloads: recovery finds seals in a damaged
# tail by searching for these bytes, without trusting any framing there.
SEAL_PAYLOAD_TAG = b"SEAL"
EPOCH_PAYLOAD_TAG = b"EPOC"
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32

_SEQ_EPOCH = struct.Struct("<QI")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Seal:
    """A node's signed statement: "my journal up to `seq` has head `head`"."""

    node: str
    seq: int
    head: bytes
    epoch: int
    signature: bytes

    def __post_init__(self) -> None:
        assert len(self.head) == HEAD_BYTES, "a head is a SHA-256 digest"
        assert len(self.signature) == SIGNATURE_BYTES, "an Ed25519 signature is 64 bytes"
        assert self.seq >= 0 and self.epoch >= 0

    def to_bytes(self) -> bytes:
        return msgpack.packb(self.to_list(), use_bin_type=True)  # type: ignore[no-any-return]

    def to_list(self) -> list[object]:
        return [self.node, self.seq, self.head, self.epoch, self.signature]

    @classmethod
    def from_bytes(cls, data: bytes) -> Seal:
        """Decode a seal from a peer; raises ValueError on anything malformed."""
        try:
            fields = msgpack.unpackb(data, raw=False)
        except Exception as error:
            raise ValueError(f"seal does not decode: {error}") from error
        return cls.from_list(fields)

    @classmethod
    def from_list(cls, fields: object) -> Seal:
        if not (
            isinstance(fields, list)
            and len(fields) == 5
            and isinstance(fields[0], str)
            and isinstance(fields[1], int)
            and isinstance(fields[2], bytes)
            and len(fields[2]) == HEAD_BYTES
            and isinstance(fields[3], int)
            and isinstance(fields[4], bytes)
            and len(fields[4]) == SIGNATURE_BYTES
            and fields[1] >= 0
            and fields[3] >= 0
        ):
            raise ValueError("seal has the wrong shape: want [node, seq, head, epoch, signature]")
        node, seq, head, epoch, signature = fields
        return cls(node=node, seq=seq, head=head, epoch=epoch, signature=signature)

    def is_signed_by(self, public_key: bytes) -> bool:
        return verify_signature(public_key, self.signature, seal_message(
            node=self.node, seq=self.seq, head=self.head, epoch=self.epoch
        ))


def seal_message(*, node: str, seq: int, head: bytes, epoch: int) -> bytes:
    node_bytes = node.encode()
    return b"".join(
        (SEAL_DOMAIN_TAG, struct.pack("<H", len(node_bytes)), node_bytes,
         _SEQ_EPOCH.pack(seq, epoch), head)
    )


def epoch_message(*, node: str, epoch: int, public_key: bytes) -> bytes:
    node_bytes = node.encode()
    return b"".join(
        (EPOCH_DOMAIN_TAG, struct.pack("<H", len(node_bytes)), node_bytes,
         struct.pack("<I", epoch), public_key)
    )


def seal_payload(seal: Seal) -> list[object]:
    """The stored payload of a SEAL record: [tag, seq, head, epoch, signature].

    The node is left out (the segment header names it) to keep seals small: one is
    written per commit, which for heartbeats can be several a second. Seq and head stay,
    redundant with the chain, so a seal can be checked on its own in a damaged tail.
    """
    return [SEAL_PAYLOAD_TAG, seal.seq, seal.head, seal.epoch, seal.signature]


def seal_from_payload(payload: object, node: str) -> Seal | None:
    if not (isinstance(payload, list) and len(payload) == 5 and payload[0] == SEAL_PAYLOAD_TAG):
        return None
    try:
        return Seal.from_list([node, *payload[1:]])
    except (ValueError, AssertionError):
        return None


def sign_seal(private_key: Ed25519PrivateKey, *, node: str, seq: int, head: bytes,
              epoch: int) -> Seal:
    signature = private_key.sign(seal_message(node=node, seq=seq, head=head, epoch=epoch))
    return Seal(node=node, seq=seq, head=head, epoch=epoch, signature=signature)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        _public_key_object(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=256)
def _public_key_object(public_key: bytes) -> Ed25519PublicKey:
    """Parsing a key costs about as much as a verification; a journal reuses a few keys."""
    return Ed25519PublicKey.from_public_bytes(public_key)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EpochAnnouncement:
    """A new signing key, vouched for by the previous epoch's key."""

    node: str
    epoch: int
    public_key: bytes
    previous_public_key: bytes
    signature: bytes  # by the previous key over epoch_message(node, epoch, public_key)

    def to_payload(self) -> list[object]:
        return [EPOCH_PAYLOAD_TAG, self.node, self.epoch, self.public_key,
                self.previous_public_key, self.signature]

    def to_list(self) -> list[object]:
        return self.to_payload()[1:]

    @classmethod
    def from_payload(cls, payload: object) -> EpochAnnouncement | None:
        if not (isinstance(payload, list) and len(payload) == 6
                and payload[0] == EPOCH_PAYLOAD_TAG):
            return None
        return cls.from_list(payload[1:])

    @classmethod
    def from_list(cls, fields: object) -> EpochAnnouncement | None:
        if not (
            isinstance(fields, list) and len(fields) == 5
            and isinstance(fields[0], str) and isinstance(fields[1], int)
            and isinstance(fields[2], bytes) and len(fields[2]) == PUBLIC_KEY_BYTES
            and isinstance(fields[3], bytes) and len(fields[3]) == PUBLIC_KEY_BYTES
            and isinstance(fields[4], bytes) and len(fields[4]) == SIGNATURE_BYTES
        ):
            return None
        node, epoch, public_key, previous_public_key, signature = fields
        return cls(node=node, epoch=epoch, public_key=public_key,
                   previous_public_key=previous_public_key, signature=signature)

    def is_signed_by_previous(self) -> bool:
        message = epoch_message(node=self.node, epoch=self.epoch, public_key=self.public_key)
        return verify_signature(self.previous_public_key, self.signature, message)


def announce_epoch(previous_private_key: Ed25519PrivateKey, *, node: str, epoch: int,
                   public_key: bytes) -> EpochAnnouncement:
    signature = previous_private_key.sign(
        epoch_message(node=node, epoch=epoch, public_key=public_key)
    )
    return EpochAnnouncement(node=node, epoch=epoch, public_key=public_key,
                             previous_public_key=public_key_bytes(previous_private_key),
                             signature=signature)
