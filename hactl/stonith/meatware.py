"""The `meatware` device: a human fences the node, then confirms with `hactl stonith confirm`.

For clusters without a power switch: the device logs that NODE must be power-cycled by hand
and waits until an operator runs `hactl stonith confirm NODE`, and only then reports the
node fenced, so the takeover waits for the human. The rendezvous is cluster-glue's: a FIFO
`meatware.NODE` in the run directory, which the waiting side creates and reads and the
confirming side opens and writes "meatware reply NODE" to. With the run directory set to
`/run`, cluster-glue's own `meatclient -c NODE` confirms hactl's waits too.

The FIFO is opened non-blocking and waited on with trio, so the wait can be cancelled or
time out like any other device call; it is removed when the wait ends, however it ends.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import trio

from hactl.stonith.device import (
    DeviceOperation,
    DeviceRequest,
    FenceAction,
    FenceResult,
    refused,
    target_problem,
)
from hactl.stonith.parameters import assign_parameters, split_hostlist

PARAMETER_NAMES = ("hostlist",)
REPLY_WORDS = ("meatware", "reply")

logger = logging.getLogger(__name__)


class MeatwareConfirmError(Exception):
    """`hactl stonith confirm NODE` found nobody waiting for NODE."""


def fifo_path(run_directory: Path, node: str) -> Path:
    return run_directory / f"meatware.{node.lower()}"


def confirmation_message(node: str) -> bytes:
    return f"{' '.join(REPLY_WORDS)} {node.lower()}\n".encode()


def confirmed_node(message: bytes) -> str | None:
    """The node a confirmation names; meatclient pads its message with NUL bytes."""
    words = message.split(b"\0", 1)[0].decode(errors="replace").split()
    if len(words) == 3 and tuple(words[:2]) == REPLY_WORDS:
        return words[2].lower()
    return None


def confirm(node: str, run_directory: Path) -> None:
    """Release a pending meatware fence of `node` (what `hactl stonith confirm` does)."""
    path = fifo_path(run_directory, node)
    try:
        if not stat.S_ISFIFO(path.stat().st_mode):
            raise MeatwareConfirmError(f"{path} is not a meatware FIFO")
        descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise MeatwareConfirmError(f"no meatware fence is waiting for {node} ({path})") from None
    except OSError as error:
        if error.errno == errno.ENXIO:  # a FIFO nobody reads: its waiter is gone
            raise MeatwareConfirmError(f"no meatware fence is waiting for {node}") from None
        raise MeatwareConfirmError(f"cannot open {path}: {error.strerror}") from error
    try:
        os.write(descriptor, confirmation_message(node))
    finally:
        os.close(descriptor)


async def _read_until_closed(descriptor: int) -> bytes:
    """What one writer wrote, once it has closed its end."""
    received = bytearray()
    while True:
        await trio.lowlevel.wait_readable(descriptor)
        try:
            chunk = os.read(descriptor, 4096)
        except BlockingIOError:
            continue  # woken, but the writer has not written yet
        if not chunk:
            return bytes(received)
        received += chunk
        if len(received) > 4096:  # not a confirmation; stop reading
            return bytes(received)


async def wait_confirmation(path: Path, node: str) -> None:
    """Wait until someone writes a confirmation for `node` into the FIFO at `path`."""
    while True:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            message = await _read_until_closed(descriptor)
        finally:
            os.close(descriptor)
        named = confirmed_node(message)
        if named == node.lower():
            return
        # A confirmation for someone else, or garbage: keep waiting for the right one.
        logger.error("meatware: ignored %r on %s (expected a reply for %s)", message[:80], path,
                     node)  # fmt: skip


@dataclass(slots=True, kw_only=True)
class MeatwareDevice:
    hosts: tuple[str, ...]
    run_directory: Path
    pending: set[str] = field(default_factory=set)
    device_type: str = "meatware"

    def parameter_names(self) -> tuple[str, ...]:
        return PARAMETER_NAMES

    def metadata(self) -> str:
        return (
            '<?xml version="1.0"?>\n<resource-agent name="meatware">\n'
            '<shortdesc lang="en">Human (meatware) intervention STONITH device: confirm with'
            " hactl stonith confirm NODE</shortdesc>\n<parameters>\n"
            '<parameter name="hostlist" unique="0" required="1"><content type="string"/>'
            '<shortdesc lang="en">Hostlist</shortdesc></parameter>\n'
            "</parameters>\n</resource-agent>\n"
        )

    def _problem(self, target: str) -> str | None:
        problem = target_problem(target)
        if problem is None and "/" in target:
            problem = f"invalid node name {target!r}"
        if problem is None and target.lower() not in self.hosts:
            problem = f"{target} is not in hostlist"
        if problem is None and target.lower() in self.pending:
            problem = f"a meatware wait for {target} is already pending"
        return problem

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        operation = DeviceOperation.of(action)
        problem = self._problem(target)
        if problem is not None:
            return refused(self.device_type, target, operation, problem)
        node = target.lower()
        path = fifo_path(self.run_directory, node)
        started = trio.current_time()
        self.pending.add(node)
        try:
            await trio.to_thread.run_sync(self._make_fifo, path)
            logger.critical("meatware: %s node %s by hand, then run `hactl stonith confirm %s`",
                            action.value, target, node)  # fmt: skip
            with trio.move_on_after(timeout_ms / 1000):
                await wait_confirmation(path, node)
                return self._result(target, operation, started, is_success=True,
                                    detail="operator confirmed")  # fmt: skip
            return self._result(target, operation, started, is_success=False,
                                detail=f"no confirmation within {timeout_ms} ms")  # fmt: skip
        finally:
            self.pending.discard(node)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _make_fifo(self, path: Path) -> None:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a FIFO left by a crashed daemon: nobody waits on it
        os.mkfifo(path, 0o600)

    def _result(self, target: str, operation: DeviceOperation, started: float, *,
                is_success: bool, detail: str) -> FenceResult:  # fmt: skip
        return FenceResult(
            device_type=self.device_type, target=target, operation=operation,
            is_success=is_success, exit_code=None,
            duration_ms=max(0, round((trio.current_time() - started) * 1000)),
            output_excerpt="", detail=detail, is_timed_out=False,
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=True, exit_code=None, duration_ms=0, output_excerpt="",
            detail=f"confirmations go through {self.run_directory}",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return self.hosts


async def open_device(request: DeviceRequest) -> MeatwareDevice:
    parameters = assign_parameters(request, PARAMETER_NAMES, required=PARAMETER_NAMES)
    return MeatwareDevice(
        hosts=split_hostlist(parameters.get("hostlist", "")),
        run_directory=request.settings.run_directory,
    )
