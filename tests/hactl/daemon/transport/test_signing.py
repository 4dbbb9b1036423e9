"""`sign` is RFC 2104 HMAC (precomputed pads), exactly what `hmac.digest` gives."""

from __future__ import annotations

import hmac
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config.model import AuthKey, AuthMethod
from hactl.daemon.transport.signing import is_authentic, sign

HASH_NAMES = {AuthMethod.MD5: "md5", AuthMethod.SHA1: "sha1", AuthMethod.SHA256: "sha256"}


@pytest.mark.parametrize("method", list(HASH_NAMES), ids=lambda method: method.value)
@given(secret=st.binary(max_size=200), data=st.binary(max_size=2000))
def test_sign_is_the_standard_hmac(method: AuthMethod, secret: bytes, data: bytes) -> None:
    key = AuthKey(index=1, method=method, secret=secret)
    assert sign(key, data) == hmac.digest(secret, data, HASH_NAMES[method])


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 128, 300])
def test_secrets_around_the_block_size(length: int) -> None:
    secret = bytes(range(256))[:length] if length <= 256 else b"k" * length
    key = AuthKey(index=2, method=AuthMethod.SHA256, secret=secret)
    assert sign(key, b"heartbeat") == hmac.digest(secret, b"heartbeat", "sha256")


def test_signing_twice_gives_the_same_mac_and_keys_do_not_mix() -> None:
    first = AuthKey(index=1, method=AuthMethod.SHA1, secret=b"one")
    second = AuthKey(index=2, method=AuthMethod.SHA1, secret=b"two")
    assert sign(first, b"x") == sign(first, b"x") != sign(second, b"x")
    assert is_authentic(first, b"x", sign(first, b"x"))
    assert not is_authentic(second, b"x", sign(first, b"x"))


def test_crc_is_crc32_big_endian() -> None:
    key = AuthKey(index=3, method=AuthMethod.CRC, secret=b"")
    assert sign(key, b"data") == zlib.crc32(b"data").to_bytes(4, "big")
