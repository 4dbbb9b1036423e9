"""Message authentication per authkeys: crc, HMAC-MD5, HMAC-SHA1, HMAC-SHA256.

Heartbeat signs every packet with the `auth N` key and accepts any listed key on receipt,
so keys rotate without downtime: add the new key everywhere, switch `auth`, remove the
old one. `crc` has no secret; it only catches corruption, and the daemon warns about it.

The HMACs are RFC 2104 computed from the key's two padded hash states, made once per key
and copied per packet. `hmac.digest` rebuilds them from the secret on every call: on the
test VM, where each keepalive runs with cold caches, it took ~110 µs a packet against
~55 µs for the copies, and every keepalive signs one packet and checks another
(BENCHMARKS.md, "Idle CPU").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import zlib
from typing import assert_never

from engine.config.model import AuthKey, AuthMethod


def sign(key: AuthKey, data: bytes) -> bytes:
    """The MAC of `data` under `key`."""
    match key.method:
        case AuthMethod.CRC:
            return zlib.crc32(data).to_bytes(4, "big")
        case AuthMethod.MD5 | AuthMethod.SHA1 | AuthMethod.SHA256:
            inner_start, outer_start = _padded_states(key)
            inner = inner_start.copy()
            inner.update(data)
            outer = outer_start.copy()
            outer.update(inner.digest())
            return outer.digest()
        case _:
            assert_never(key.method)


def is_authentic(key: AuthKey, data: bytes, mac: bytes) -> bool:
    """Constant-time check that `mac` is `data`'s MAC under `key`."""
    return hmac.compare_digest(sign(key, data), mac)


@functools.lru_cache(maxsize=64)  # a handful of keys per configuration, a few reloads
def _padded_states(key: AuthKey) -> tuple[hashlib._Hash, hashlib._Hash]:
    """The hash states after the key XOR ipad and XOR opad blocks (RFC 2104, section 2)."""
    name = key.method.value
    block_bytes = hashlib.new(name).block_size
    secret = key.secret
    if len(secret) > block_bytes:
        secret = hashlib.new(name, secret).digest()
    secret = secret.ljust(block_bytes, b"\0")
    inner = hashlib.new(name, bytes(byte ^ 0x36 for byte in secret))
    outer = hashlib.new(name, bytes(byte ^ 0x5C for byte in secret))
    return inner, outer
