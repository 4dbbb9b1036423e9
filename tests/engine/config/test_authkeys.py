"""authkeys: the signing key, every method, key rotation, the file mode, and errors."""

from __future__ import annotations

import pytest

from engine.config.authkeys import parse_authkeys
from engine.config.errors import ConfigError
from engine.config.model import AuthKey, AuthMethod


def test_article_authkeys() -> None:
    auth = parse_authkeys("auth 1\n1 sha1 PutYourSecretHere\n").auth
    assert auth.active_index == 1
    assert auth.active_key == AuthKey(index=1, method=AuthMethod.SHA1, secret=b"PutYourSecretHere")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1 crc", AuthKey(index=1, method=AuthMethod.CRC, secret=b"")),
        ("1 CRC ignored", AuthKey(index=1, method=AuthMethod.CRC, secret=b"")),
        ("1 md5 s3cret", AuthKey(index=1, method=AuthMethod.MD5, secret=b"s3cret")),
        ("1 sha1 s3cret", AuthKey(index=1, method=AuthMethod.SHA1, secret=b"s3cret")),
        ("1 sha256 s3cret", AuthKey(index=1, method=AuthMethod.SHA256, secret=b"s3cret")),
        (
            "1\tSHA256\tkey with blanks  ",
            AuthKey(index=1, method=AuthMethod.SHA256, secret=b"key with blanks"),
        ),
        ("1 sha1 has#hash", AuthKey(index=1, method=AuthMethod.SHA1, secret=b"has#hash")),
        ("1 sha1 caf\udce9", AuthKey(index=1, method=AuthMethod.SHA1, secret=b"caf\xe9")),
    ],
)
def test_methods(line: str, expected: AuthKey) -> None:
    assert parse_authkeys(f"auth 1\n{line}\n").auth.keys == (expected,)


def test_every_listed_key_is_kept_for_rotation() -> None:
    text = "# rotating\nauth 15\n1 sha1 old\n\n15 sha256 new\n"
    auth = parse_authkeys(text).auth
    assert auth.active_key.method is AuthMethod.SHA256
    assert [key.index for key in auth.keys] == [1, 15]


def test_crc_active_is_warned_about() -> None:
    (warning,) = parse_authkeys("auth 2\n2 crc\n").warnings
    assert str(warning).startswith("authkeys:2: crc: signs nothing")


def test_secret_never_appears_in_repr() -> None:
    auth = parse_authkeys("auth 1\n1 sha256 TopSecretValue\n").auth
    assert "TopSecretValue" not in repr(auth)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601, 0o666, 0o700 | 0o040])
def test_group_or_other_access_is_refused(mode: int) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_authkeys("auth 1\n1 sha1 x\n", file_name="/etc/ha.d/authkeys", mode=mode)
    (problem,) = raised.value.problems
    assert problem.file == "/etc/ha.d/authkeys"
    assert problem.hint == "run: chmod 600 /etc/ha.d/authkeys"
    assert f"mode {mode:04o} lets group or others read the keys" in str(problem)


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700, 0o100600])
def test_private_modes_are_accepted(mode: int) -> None:
    parse_authkeys("auth 1\n1 sha1 x\n", mode=mode)


ERRORS: list[tuple[str, str]] = [
    ("1 sha1 x\n", "authkeys: auth: no `auth N` line chooses the signing key (auth 1)"),
    ("", "authkeys: auth: no `auth N` line chooses the signing key"),
    (
        "auth 2\n1 sha1 x\n",
        "authkeys:1: auth: key 2 is not listed (listed: 1) (add a line `2 sha256 SECRET`)",
    ),
    ("auth\n1 sha1 x\n", "authkeys:1: auth: needs one key number (auth 1)"),
    ("auth 1 2\n1 sha1 x\n", "authkeys:1: auth: needs one key number"),
    ("auth 16\n1 sha1 x\n", "authkeys:1: auth: key number 16 is out of range (1..15)"),
    ("auth one\n1 sha1 x\n", "authkeys:1: auth: key number 'one' is not a whole number"),
    ("auth 1\nauth 1\n1 sha1 x\n", "authkeys:2: auth: auth is already given on line 1"),
    ("auth 1\n0 sha1 x\n", "authkeys:2: 0: key number 0 is out of range (1..15)"),
    ("auth 1\n1 md4 x\n", "authkeys:2: 1: unknown method 'md4' (one of crc, md5, sha1, sha256)"),
    ("auth 1\n1\n", "authkeys:2: 1: unknown method ''"),
    ("auth 1\n1 sha1\n", "authkeys:2: 1: method sha1 needs a key (1 sha1 SECRET)"),
    ("auth 1\n1 md5   \n", "authkeys:2: 1: method md5 needs a key"),
    ("auth 1\n1 sha1 a\n1 sha1 b\n", "authkeys:3: 1: key 1 is already listed on line 2"),
    ("auth 1\n1 sha1 \ud800\n", "authkeys:2: 1: the key is not valid text"),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_authkeys(text)
    problems = [str(problem) for problem in raised.value.problems]
    assert any(problem.startswith(expected) for problem in problems), problems


def test_errors_never_quote_a_secret() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_authkeys("auth 3\n1 sha1 VerySecret1\n2 nope VerySecret2\n", mode=0o644)
    assert "VerySecret" not in str(raised.value)
    assert len(raised.value.problems) == 3
