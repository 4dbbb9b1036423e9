"""The client side of the control socket, used by `hactl status|standby|takeover|...`.

Synchronous on purpose: each command makes one request and prints one answer. When no
daemon answers, the error says which socket was tried and how to start a daemon, because
that is the first thing an admin needs to know at 3 a.m.
"""

from __future__ import annotations

import socket
from pathlib import Path

from hactl.daemon.control.protocol import (
    MAX_MESSAGE_BYTES,
    ControlProtocolError,
    ControlRequest,
    decode_response,
    encode_request,
    socket_path,
)

DEFAULT_RUN_DIR = Path("/run/hactl")
DEFAULT_TIMEOUT_S = 35.0


class ControlClientError(Exception):
    """No daemon answered, or it refused the request; the message says what to do."""


def request(
    run_dir: Path, command: str, *, scope: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> object:
    """Send one request to the daemon behind `run_dir` and return its result."""
    path = socket_path(run_dir)
    payload = encode_request(ControlRequest(command=command, scope=scope))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            sock.sendall(payload)
            answer = _read_all(sock)
    except (FileNotFoundError, ConnectionRefusedError) as error:
        raise ControlClientError(_no_daemon_message(path, error.strerror or str(error))) from None
    except PermissionError:
        raise ControlClientError(
            f"{path}: permission denied; run as root or as a member of group haclient"
        ) from None
    except TimeoutError:
        message = f"{path}: the daemon did not answer within {timeout_s:g} s"
        raise ControlClientError(message) from None
    except OSError as error:
        raise ControlClientError(f"{path}: {error.strerror or error}") from None
    try:
        return decode_response(answer)
    except ControlProtocolError as error:
        raise ControlClientError(f"{command}: {error}") from None


def _read_all(sock: socket.socket) -> bytes:
    received = bytearray()
    while len(received) <= MAX_MESSAGE_BYTES:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
        if received.endswith(b"\n"):
            break
    return bytes(received)


def _no_daemon_message(path: Path, problem: str) -> str:
    return (
        f"no hactl daemon answers on {path} ({problem}).\n"
        f"Start one with `hactl daemon --config-dir /etc/ha.d --run-dir {path.parent}`, "
        "or point --run-dir at the directory of a running node."
    )
