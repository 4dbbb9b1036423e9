"""Message authentication per authkeys: crc, HMAC-MD5, HMAC-SHA1, HMAC-SHA256.

Heartbeat signs every packet with the `auth N` key and accepts any listed key on receipt,
so keys rotate without downtime: add the new key everywhere, switch `auth`, remove the
old one. `crc` has no secret; it only catches corruption, and the daemon warns about it.
"""

from __future__ import annotations

import hmac
import zlib
from typing import assert_never

from engine.config.model import AuthKey, AuthMethod


def sign(key: AuthKey, data: bytes) -> bytes:
    """The MAC of `data` under `key`."""
    match key.method:
        case AuthMethod.CRC:
            return zlib.crc32(data).to_bytes(4, "big")
        # hmac.digest: one call into OpenSSL, where hmac.new builds a Python object per packet.
        case AuthMethod.MD5:
            return hmac.digest(key.secret, data, "md5")
        case AuthMethod.SHA1:
            return hmac.digest(key.secret, data, "sha1")
        case AuthMethod.SHA256:
            return hmac.digest(key.secret, data, "sha256")
        case _:
            assert_never(key.method)


def is_authentic(key: AuthKey, data: bytes, mac: bytes) -> bool:
    """Constant-time check that `mac` is `data`'s MAC under `key`."""
    return hmac.compare_digest(sign(key, data), mac)
