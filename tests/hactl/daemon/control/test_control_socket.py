"""The control socket: a real unix socket served by trio, the real synchronous client."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import trio

from hactl.control_client import ControlClientError, request
from hactl.daemon.control.protocol import (
    Caller,
    ControlProtocolError,
    ControlRequest,
    decode_request,
    socket_path,
)
from hactl.daemon.control.server import (
    ControlHandlerError,
    _admin_group_id,
    open_control_socket,
    serve_control,
)


async def serve(run_dir: Path, nursery: trio.Nursery) -> list[tuple[ControlRequest, Caller]]:
    seen: list[tuple[ControlRequest, Caller]] = []

    async def handler(control_request: ControlRequest, caller: Caller) -> object:
        seen.append((control_request, caller))
        if control_request.command == "reload":
            raise ControlHandlerError("reload failed: ha.cf:3: bad directive")
        return {"command": control_request.command, "scope": control_request.scope}

    listener = await open_control_socket(run_dir)
    await nursery.start(serve_control, listener, handler)
    return seen


async def test_request_reaches_handler_with_peer_credentials(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        seen = await serve(tmp_path, nursery)
        result = await trio.to_thread.run_sync(
            lambda: request(tmp_path, "standby", scope="foreign")
        )
        nursery.cancel_scope.cancel()
    assert result == {"command": "standby", "scope": "foreign"}
    ((received, caller),) = seen
    assert received == ControlRequest(command="standby", scope="foreign")
    assert caller.uid == os.getuid() and caller.pid == os.getpid()


async def test_handler_error_reaches_the_client_as_a_message(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        await serve(tmp_path, nursery)
        with pytest.raises(ControlClientError, match=r"reload: reload failed: ha.cf:3"):
            await trio.to_thread.run_sync(lambda: request(tmp_path, "reload"))
        nursery.cancel_scope.cancel()


async def test_socket_is_owner_only_or_haclient(tmp_path: Path) -> None:
    listener = await open_control_socket(tmp_path)
    listener.close()
    mode = stat.S_IMODE(socket_path(tmp_path).stat().st_mode)
    assert mode == (0o660 if _admin_group_id() is not None else 0o600)
    if _admin_group_id() is not None:
        assert socket_path(tmp_path).stat().st_gid == _admin_group_id()


def test_no_daemon_names_the_socket_and_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(ControlClientError) as caught:
        request(tmp_path, "status")
    message = str(caught.value)
    assert str(tmp_path / "control.sock") in message
    assert "hactl daemon --config-dir" in message


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json", "not a JSON object"),
        (b"[1]", "not a JSON object"),
        (b'{"command": "reboot"}', "unknown command"),
        (b'{"command": "standby", "scope": "everything"}', "scope must be one of"),
        (b'{"command": "status", "scope": "all"}', "takes no scope"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(line: bytes, problem: str) -> None:
    with pytest.raises(ControlProtocolError, match=problem):
        decode_request(line)


def test_scoped_commands_default_to_all() -> None:
    assert decode_request(b'{"command": "takeover"}').scope == "all"
