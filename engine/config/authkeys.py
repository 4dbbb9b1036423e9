"""The authkeys reader: which keys sign and verify heartbeats.

    auth N
    N METHOD [KEY]

`auth N` picks the key that signs what this node sends; every listed key is accepted on
receipt, which is how keys are rotated. Methods are crc (no key, no security), md5, sha1 and
hactl's sha256. The key is the rest of the line after the method, so it may contain blanks;
for the same reason only whole lines starting with `#` are comments (a `#` inside a key is
part of it). The file's permission bits are passed in as an int (the I/O layer stat()s it):
Heartbeat refuses keys that group or others can read, and so do we. Messages never quote a
key.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.errors import ProblemLog, ValueProblem
from engine.config.model import AuthConfig, AuthKey, AuthMethod, ConfigWarning
from engine.config.values import parse_integer

MAX_KEY_INDEX = 15
_BLANKS = " \t\r\f\v"
_METHODS = ", ".join(method.value for method in AuthMethod)


@dataclass(frozen=True, slots=True, kw_only=True)
class Authkeys:
    auth: AuthConfig
    warnings: tuple[ConfigWarning, ...]


def _encode_secret(text: str) -> bytes:
    # The I/O layer decodes the file with surrogateescape so that any byte string round-trips.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ValueProblem("the key is not valid text", "use printable ASCII keys") from None


def _parse_key_line(index_text: str, rest: str) -> AuthKey:
    index = parse_integer(index_text, minimum=1, maximum=MAX_KEY_INDEX, what="key number")
    method_text, secret_text = _split_line(rest)
    secret_text = secret_text.strip(_BLANKS)
    try:
        method = AuthMethod(method_text.lower())
    except ValueError:
        raise ValueProblem(f"unknown method {method_text!r}", f"one of {_METHODS}") from None
    if method is AuthMethod.CRC:
        return AuthKey(index=index, method=method, secret=b"")
    if not secret_text:
        raise ValueProblem(f"method {method.value} needs a key", f"{index} {method.value} SECRET")
    return AuthKey(index=index, method=method, secret=_encode_secret(secret_text))


def _split_line(text: str) -> tuple[str, str]:
    stripped = text.strip(_BLANKS)
    for position, character in enumerate(stripped):
        if character in _BLANKS:
            return stripped[:position], stripped[position + 1 :]
    return stripped, ""


def parse_authkeys(text: str, *, file_name: str = "authkeys", mode: int = 0o600) -> Authkeys:
    """Read authkeys text; raises ConfigError listing every problem (including the mode)."""
    log = ProblemLog(file_name)
    if mode & 0o077:
        log.error(
            None,
            "",
            f"mode {mode & 0o777:04o} lets group or others read the keys",
            f"run: chmod 600 {file_name}",
        )
    active: tuple[int, int] | None = None  # (index, line)
    keys: dict[int, tuple[AuthKey, int]] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        first, rest = _split_line(raw)
        if not first or first.startswith("#"):
            continue
        if first.lower() == "auth":
            active = _read_auth_line(rest, number, active, log)
            continue
        try:
            key = _parse_key_line(first, rest)
        except ValueProblem as problem:
            log.value_error(number, first, problem)
            continue
        if key.index in keys:
            log.error(
                number,
                first,
                f"key {key.index} is already listed on line {keys[key.index][1]}",
                "give each key its own number",
            )
            continue
        keys[key.index] = (key, number)
    _check_active(active, keys, log)
    log.raise_if_errors()
    assert active is not None
    return Authkeys(
        auth=AuthConfig(active_index=active[0], keys=tuple(key for key, _ in keys.values())),
        warnings=tuple(log.warnings),
    )


def _read_auth_line(
    rest: str, number: int, active: tuple[int, int] | None, log: ProblemLog
) -> tuple[int, int] | None:
    values = rest.split()
    if active is not None:
        log.error(
            number, "auth", f"auth is already given on line {active[1]}", "keep one auth line"
        )
        return active
    if len(values) != 1:
        log.error(number, "auth", "needs one key number", "auth 1")
        return None
    try:
        index = parse_integer(values[0], minimum=1, maximum=MAX_KEY_INDEX, what="key number")
    except ValueProblem as problem:
        log.value_error(number, "auth", problem)
        return None
    return index, number


def _check_active(
    active: tuple[int, int] | None, keys: dict[int, tuple[AuthKey, int]], log: ProblemLog
) -> None:
    if active is None:
        if not any(problem.directive == "auth" for problem in log.problems):
            log.error(None, "auth", "no `auth N` line chooses the signing key", "auth 1")
        return
    index, number = active
    if index not in keys:
        listed = ", ".join(str(known) for known in sorted(keys)) or "none"
        log.error(
            number,
            "auth",
            f"key {index} is not listed (listed: {listed})",
            f"add a line `{index} sha256 SECRET`",
        )
        return
    key, key_line = keys[index]
    if key.method is AuthMethod.CRC:
        log.warn(
            key_line,
            "crc",
            "signs nothing: anyone on the network can forge heartbeats; use sha256 or sha1",
        )
