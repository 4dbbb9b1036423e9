"""The control protocol: one JSON request line, one JSON response line, then close.

JSON rather than msgpack so an admin can poke a node by hand
(`echo '{"command":"status"}' | socat - UNIX:/run/hactl/control.sock`). Requests are
small and validated here, in one pure place, so the server and the client agree on
what is well formed and a bad request gets an answer that names the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SOCKET_FILE_NAME = "control.sock"
MAX_MESSAGE_BYTES = 1024 * 1024  # a status of a large cluster stays far below this
COMMANDS = ("status", "standby", "takeover", "shutdown", "reload", "acknowledge")
SCOPED_COMMANDS = ("standby", "takeover")
SCOPES = ("all", "local", "foreign")


class ControlProtocolError(Exception):
    """A request or response that does not follow the protocol."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlRequest:
    command: str
    scope: str | None  # only for standby/takeover


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who is asking, from SO_PEERCRED: journaled with every admin command."""

    uid: int
    gid: int
    pid: int


def socket_path(run_dir: Path) -> Path:
    return run_dir / SOCKET_FILE_NAME


def encode_request(request: ControlRequest) -> bytes:
    fields: dict[str, object] = {"command": request.command}
    if request.scope is not None:
        fields["scope"] = request.scope
    return json.dumps(fields).encode() + b"\n"


def decode_request(line: bytes) -> ControlRequest:
    try:
        fields = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ControlProtocolError("the request is not a JSON object") from None
    if not isinstance(fields, dict):
        raise ControlProtocolError("the request is not a JSON object")
    command = fields.get("command")
    if command not in COMMANDS:
        raise ControlProtocolError(f"unknown command {command!r}; expected one of {COMMANDS}")
    scope = fields.get("scope")
    if command in SCOPED_COMMANDS:
        scope = "all" if scope is None else scope
        if scope not in SCOPES:
            raise ControlProtocolError(f"{command}: scope must be one of {SCOPES}, not {scope!r}")
    elif scope is not None:
        raise ControlProtocolError(f"{command} takes no scope")
    assert isinstance(command, str)
    return ControlRequest(command=command, scope=scope)


def encode_response(*, result: object = None, error: str | None = None) -> bytes:
    fields = {"ok": error is None, "result": result, "error": error}
    return json.dumps(fields, sort_keys=True).encode() + b"\n"


def decode_response(line: bytes) -> object:
    """The result of a successful response; raise `ControlProtocolError` with the daemon's
    message otherwise."""
    try:
        fields = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ControlProtocolError("the daemon's answer is not JSON") from None
    if not isinstance(fields, dict) or "ok" not in fields:
        raise ControlProtocolError("the daemon's answer is not a response object")
    if not fields["ok"]:
        raise ControlProtocolError(str(fields.get("error")))
    return fields.get("result")
