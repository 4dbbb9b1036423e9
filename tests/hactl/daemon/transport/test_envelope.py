"""Envelope codec and signatures: round trips, key rotation, tampering, random bytes."""

from __future__ import annotations

import contextlib
import zlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config.model import AuthConfig, AuthKey, AuthMethod
from hactl.daemon.transport.envelope import (
    MAX_PACKET_BYTES,
    Envelope,
    EnvelopeEncoder,
    EnvelopeError,
    decode_envelope,
    encode_envelope,
)

SHA1_KEY = AuthKey(index=1, method=AuthMethod.SHA1, secret=b"PutYourSecretHere")
SHA256_KEY = AuthKey(index=2, method=AuthMethod.SHA256, secret=b"new secret")
MD5_KEY = AuthKey(index=3, method=AuthMethod.MD5, secret=b"md5 secret")
CRC_KEY = AuthKey(index=4, method=AuthMethod.CRC, secret=b"")
ALL_KEYS = AuthConfig(active_index=1, keys=(SHA1_KEY, SHA256_KEY, MD5_KEY, CRC_KEY))

ENVELOPE = Envelope(
    udpport=694, sender="master", destination=None, generation=3, seq=17, kind=5,
    body={"groups": ["IPaddr::198.18.0.50"]}, seal=b"\x01\x02",
)  # fmt: skip


@pytest.mark.parametrize("key", [SHA1_KEY, SHA256_KEY, MD5_KEY, CRC_KEY], ids=repr)
def test_every_method_round_trips(key: AuthKey) -> None:
    assert decode_envelope(encode_envelope(ENVELOPE, key), ALL_KEYS) == ENVELOPE


def test_every_listed_key_is_accepted_so_keys_rotate() -> None:
    signed_with_new = encode_envelope(ENVELOPE, SHA256_KEY)
    old_active_both_listed = AuthConfig(active_index=1, keys=(SHA1_KEY, SHA256_KEY))
    assert decode_envelope(signed_with_new, old_active_both_listed) == ENVELOPE


def test_unlisted_key_index_is_refused() -> None:
    packet = encode_envelope(ENVELOPE, SHA256_KEY)
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(packet, AuthConfig(active_index=1, keys=(SHA1_KEY,)))
    assert caught.value.reason == "unknown_key"


def test_wrong_secret_under_the_same_index_is_refused() -> None:
    impostor = AuthKey(index=1, method=AuthMethod.SHA1, secret=b"guessed")
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(encode_envelope(ENVELOPE, impostor), ALL_KEYS)
    assert caught.value.reason == "bad_signature"


def test_a_changed_field_breaks_the_signature() -> None:
    fields = msgpack.unpackb(encode_envelope(ENVELOPE, SHA1_KEY), raw=False)
    fields[5] = 18  # seq
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(msgpack.packb(fields, use_bin_type=True), ALL_KEYS)
    assert caught.value.reason == "bad_signature"


def test_oversize_packet_is_refused_before_parsing() -> None:
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(b"\x00" * (MAX_PACKET_BYTES + 1), ALL_KEYS)
    assert caught.value.reason == "oversize"


def test_well_signed_nonsense_fields_are_malformed() -> None:
    signed = [1, 694, "", None, -1, 1, 1, None, None]
    packet = msgpack.packb([*signed, 4, b"\0\0\0\0"], use_bin_type=True)
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(packet, ALL_KEYS)
    assert caught.value.reason in {"malformed", "bad_signature"}


@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_envelope_error(packet: bytes) -> None:
    try:
        decode_envelope(packet, ALL_KEYS)
    except EnvelopeError as error:
        assert error.reason in {"oversize", "malformed", "unknown_key", "bad_signature"}


ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=300),
    st.binary(max_size=20), st.lists(st.integers(0, 5), max_size=3),
)  # fmt: skip


@given(st.lists(ANY_VALUE, max_size=12))
def test_random_msgpack_arrays_only_ever_raise_envelope_error(fields: list[object]) -> None:
    packet = msgpack.packb(fields, use_bin_type=True)
    with contextlib.suppress(EnvelopeError):
        decode_envelope(packet, ALL_KEYS)


@given(st.lists(ANY_VALUE, min_size=8, max_size=8))
def test_correctly_signed_random_fields_decode_or_raise_envelope_error(
    fields: list[object],
) -> None:
    signed = [1, *fields]
    mac = zlib.crc32(msgpack.packb(signed, use_bin_type=True)).to_bytes(4, "big")
    packet = msgpack.packb([*signed, CRC_KEY.index, mac], use_bin_type=True)
    try:
        envelope = decode_envelope(packet, ALL_KEYS)
    except EnvelopeError as error:
        assert error.reason == "malformed"
    else:
        assert envelope.seq >= 0 and isinstance(envelope.sender, str)


@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=0, max_value=2**40))
def test_crc_packets_verify_but_only_their_own_bytes(generation: int, seq: int) -> None:
    envelope = Envelope(
        udpport=694, sender="backup", destination="master", generation=generation, seq=seq,
        kind=1, body=None, seal=None,
    )  # fmt: skip
    assert decode_envelope(encode_envelope(envelope, CRC_KEY), ALL_KEYS) == envelope


@pytest.mark.parametrize("key", [SHA1_KEY, SHA256_KEY, MD5_KEY, CRC_KEY], ids=repr)
@given(seq=st.integers(min_value=0, max_value=2**64 - 1), sender=st.text(min_size=1, max_size=40),
       body=st.recursive(st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=30)
                         | st.binary(max_size=30),
                         lambda inner: st.lists(inner, max_size=4), max_leaves=12))  # fmt: skip
def test_the_packet_is_the_msgpack_list_of_its_eleven_fields(
    key: AuthKey, seq: int, sender: str, body: object
) -> None:
    """Built without packing the fields twice, the bytes are still the plain encoding."""
    envelope = Envelope(udpport=694, sender=sender, destination=None, generation=1, seq=seq,
                        kind=5, body=body, seal=None)  # fmt: skip
    packet = encode_envelope(envelope, key)
    fields = msgpack.unpackb(packet, raw=False, strict_map_key=False)
    assert packet == msgpack.packb(fields, use_bin_type=True)
    assert fields[9] == key.index and len(fields) == 11


def test_an_encoder_reused_across_bodies_and_seals_gives_each_packets_own_bytes() -> None:
    """What it keeps from the last packet is used only for the same body and seal objects."""
    encoder = EnvelopeEncoder(udpport=694, sender="master", generation=3)
    first_body, second_body = {"groups": ["a"]}, {"groups": ["b"]}
    first_seal, second_seal = b"\x01" * 8, b"\x02" * 8
    sends = [(first_body, first_seal, None), (first_body, first_seal, None),
             (second_body, first_seal, "backup"), (second_body, second_seal, None),
             (first_body, None, None), ({"groups": ["a"]}, None, None)]  # fmt: skip
    for seq, (body, seal, destination) in enumerate(sends, start=1):
        expected = Envelope(udpport=694, sender="master", destination=destination,
                            generation=3, seq=seq, kind=1, body=body, seal=seal)  # fmt: skip
        packet = encoder.encode(destination=destination, seq=seq, kind=1, body=body, seal=seal,
                                key=SHA256_KEY)  # fmt: skip
        assert packet == msgpack.packb(
            [1, 694, "master", destination, 3, seq, 1, body, seal, SHA256_KEY.index,
             msgpack.unpackb(packet)[10]], use_bin_type=True)  # fmt: skip
        assert decode_envelope(packet, ALL_KEYS) == expected


def _relaid(packet: bytes, *, index_bytes: bytes, mac_header: bytes) -> bytes:
    """The same fields and MAC with the index and the MAC encoded another valid way."""
    fields = msgpack.unpackb(packet)
    mac: bytes = fields[10]
    return packet[: -(len(mac) + 3)] + index_bytes + mac_header + mac


@pytest.mark.parametrize(("index_bytes", "mac_header"), [
    (b"\xcc\x02", b"\xc4\x20"),  # the index as uint 8
    (b"\x02", b"\xc5\x00\x20"),  # the MAC as bin 16
    (b"\xd1\x00\x02", b"\xc6\x00\x00\x00\x20"),  # int 16 and bin 32
], ids=["uint8 index", "bin16 mac", "int16 index, bin32 mac"])  # fmt: skip
def test_another_encoders_layout_of_the_same_fields_verifies(
    index_bytes: bytes, mac_header: bytes
) -> None:
    """The MAC covers the fields' encoding, not our layout: the fields are packed again."""
    packet = encode_envelope(ENVELOPE, SHA256_KEY)
    relaid = _relaid(packet, index_bytes=index_bytes, mac_header=mac_header)
    assert relaid != packet
    assert decode_envelope(relaid, ALL_KEYS) == ENVELOPE


def test_bytes_moved_between_the_fields_and_the_index_do_not_verify() -> None:
    """Cut out of the packet, the signed part must be exactly the 9 fields that decode."""
    packet = encode_envelope(ENVELOPE, SHA256_KEY)
    fields = msgpack.unpackb(packet)
    seal_moved = msgpack.packb([*fields[:8], fields[8] + b"\xcc", *fields[9:]],
                               use_bin_type=True)  # fmt: skip
    with pytest.raises(EnvelopeError) as refused:
        decode_envelope(seal_moved, ALL_KEYS)
    assert refused.value.reason == "bad_signature"
