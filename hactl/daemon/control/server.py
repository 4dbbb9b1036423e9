"""The control socket server: a unix stream socket in the run dir, one request per connection.

Access control is the socket file's mode: owner-only (0600) by default, or 0660 with
group `haclient` when that group exists (Heartbeat's admin group). The caller's uid, gid
and pid come from SO_PEERCRED, not from anything the client says, and are handed to the
shell with the request so every admin command is journaled with who asked.

Each connection is served under a deadline, so a client that connects and says nothing
cannot hold a task forever.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from hactl.daemon.control.protocol import (
    MAX_MESSAGE_BYTES,
    Caller,
    ControlProtocolError,
    ControlRequest,
    decode_request,
    encode_response,
    socket_path,
)

ADMIN_GROUP = "haclient"
CONNECTION_TIMEOUT_S = 30  # covers a takeover request waiting for its journal commit
LISTEN_BACKLOG = 16

Handler = Callable[[ControlRequest, Caller], Awaitable[object]]
logger = logging.getLogger("hactl.control")


class ControlHandlerError(Exception):
    """The request was understood but cannot be done; the message goes to the client."""


def _admin_group_id() -> int | None:
    try:
        return grp.getgrnam(ADMIN_GROUP).gr_gid
    except KeyError:
        return None


async def open_control_socket(run_dir: Path) -> trio.socket.SocketType:
    """Bind and listen on `<run_dir>/control.sock`, with owner-only or haclient access."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = socket_path(run_dir)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale socket of a previous run; the pid lock is the journal's
    sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # never exist, even briefly, with a wider mode
    try:
        await sock.bind(str(path))
    finally:
        os.umask(old_mask)
    group_id = _admin_group_id()
    if group_id is not None:
        os.chown(path, -1, group_id)
        os.chmod(path, 0o660)
    sock.listen(LISTEN_BACKLOG)
    return sock


def peer_credentials(sock: trio.socket.SocketType) -> Caller:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Caller(uid=uid, gid=gid, pid=pid)


async def serve_control(
    listener: trio.socket.SocketType,
    handler: Handler,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept connections until cancelled; each one is served in its own task."""
    async with trio.open_nursery() as nursery:
        task_status.started()
        while True:
            connection, _ = await listener.accept()
            nursery.start_soon(_serve_connection, connection, handler)


async def _serve_connection(connection: trio.socket.SocketType, handler: Handler) -> None:
    with connection, trio.move_on_after(CONNECTION_TIMEOUT_S):
        try:
            caller = peer_credentials(connection)
            line = await _read_line(connection)
            request = decode_request(line)
            result = await handler(request, caller)
            answer = encode_response(result=result)
        except (ControlProtocolError, ControlHandlerError) as error:
            answer = encode_response(error=str(error))
        except OSError as error:
            logger.debug("control connection failed: %s", error)
            return
        with contextlib.suppress(OSError, trio.BrokenResourceError):
            await trio.SocketStream(connection).send_all(answer)


async def _read_line(connection: trio.socket.SocketType) -> bytes:
    received = bytearray()
    while b"\n" not in received:
        chunk = await connection.recv(65536)
        if not chunk:
            break
        received += chunk
        if len(received) > MAX_MESSAGE_BYTES:
            raise ControlProtocolError(f"request longer than {MAX_MESSAGE_BYTES} bytes")
    return bytes(received.split(b"\n", 1)[0])
