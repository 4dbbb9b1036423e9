"""The `netns_test` device: "powers off" a test node living in network namespaces.

Namespace tests and `make demo` run each node's daemon in its own namespace; fencing such a
node means doing what pulling its power cord would do: the daemon dies at once (SIGKILL,
by the PID in its PID file) and its links go dark (`ip -n NAMESPACE link set IF down`).
`on` brings the links back up (restarting the daemon is the test's business).

Parameters (named; `{node}` is replaced by the target's name):
  hostlist   the nodes it fences
  pid_file   e.g. /run/hactl-test/{node}.pid
  links      space-separated NAMESPACE/INTERFACE (or a bare INTERFACE of this namespace);
             optional

Safety: it acts only on namespaces named `hactl-...`, or on `hactl-...` interfaces of the
current namespace, and it never signals PID 1 or itself. The process is signalled through
a pidfd, so a PID reused between reading the file and killing cannot be hit.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

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
from hactl.stonith.process import run_agent

PARAMETER_NAMES = ("hostlist", "pid_file", "links")
SAFE_PREFIX = "hactl-"


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    namespace: str | None
    interface: str

    def command(self, state: str) -> list[str]:
        where = ["-n", self.namespace] if self.namespace else []
        return ["ip", *where, "link", "set", "dev", self.interface, state]


def parse_links(text: str, node: str) -> tuple[Link, ...]:
    """The links of `node`; raises ValueError for anything outside the test namespaces."""
    links = []
    for item in text.replace("{node}", node).split():
        namespace, slash, interface = item.rpartition("/")
        link = Link(namespace=namespace if slash else None, interface=interface)
        guarded = link.namespace if link.namespace is not None else link.interface
        if not guarded.startswith(SAFE_PREFIX) or not interface:
            raise ValueError(f"{item}: only hactl-* namespaces or interfaces may be cut")
        links.append(link)
    return tuple(links)


async def kill_by_pid_file(path: str, *, timeout_ms: int) -> str:
    """SIGKILL the process named by `path` and wait until it is gone; returns what happened."""
    try:
        pid = int((await trio.Path(path).read_text()).strip())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read a PID from {path}: {error}") from error
    if pid <= 1 or pid == os.getpid():
        raise ValueError(f"{path} names PID {pid}, which is never a test node's daemon")
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return f"PID {pid} was already gone"
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        with trio.move_on_after(timeout_ms / 1000) as scope:
            await trio.lowlevel.wait_readable(pidfd)  # readable once the process has exited
        if scope.cancelled_caught:
            raise ValueError(f"PID {pid} did not die within {timeout_ms} ms of SIGKILL")
    except ProcessLookupError:
        return f"PID {pid} exited before the signal"
    finally:
        os.close(pidfd)
    return f"killed PID {pid}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetnsTestDevice:
    hosts: tuple[str, ...]
    pid_file: str
    links: str
    environment: dict[str, str]
    device_type: str = "netns_test"

    def parameter_names(self) -> tuple[str, ...]:
        return PARAMETER_NAMES

    def metadata(self) -> str:
        return (
            '<?xml version="1.0"?>\n<resource-agent name="netns_test">\n'
            '<shortdesc lang="en">Test device: kills a namespace node\'s daemon and cuts its'
            " links</shortdesc>\n<parameters>\n"
            + "".join(
                f'<parameter name="{name}" required="1"><content type="string"/></parameter>\n'
                for name in PARAMETER_NAMES
            )
            + "</parameters>\n</resource-agent>\n"
        )

    async def _set_links(self, links: tuple[Link, ...], state: str, timeout_ms: int) -> str:
        for link in links:
            outcome = await run_agent(link.command(state), timeout_ms=timeout_ms,
                                      environment=self.environment)  # fmt: skip
            if outcome.exit_code != 0:
                raise ValueError(f"{' '.join(link.command(state))}: {outcome.output.strip()}")
        return f"{len(links)} link(s) {state}"

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        operation = DeviceOperation.of(action)
        problem = target_problem(target)
        if problem is None and target.lower() not in self.hosts:
            problem = f"{target} is not in hostlist"
        if problem is not None:
            return refused(self.device_type, target, operation, problem)
        started = trio.current_time()
        node = target.lower()
        try:
            links = parse_links(self.links, node)
            if action is FenceAction.ON:
                detail = await self._set_links(links, "up", timeout_ms)
            else:
                killed = await kill_by_pid_file(self.pid_file.replace("{node}", node),
                                                timeout_ms=timeout_ms)  # fmt: skip
                detail = f"{killed}; {await self._set_links(links, 'down', timeout_ms)}"
            is_success = True
        except ValueError as error:
            detail, is_success = str(error), False
        return FenceResult(
            device_type=self.device_type, target=target, operation=operation,
            is_success=is_success, exit_code=None,
            duration_ms=max(0, round((trio.current_time() - started) * 1000)),
            output_excerpt="", detail=detail,
        )  # fmt: skip

    async def status(self, *, timeout_ms: int) -> FenceResult:
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=bool(self.hosts), exit_code=None, duration_ms=0, output_excerpt="",
            detail=f"fences {' '.join(self.hosts) or 'nobody'}",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return self.hosts


async def open_device(request: DeviceRequest) -> NetnsTestDevice:
    parameters = assign_parameters(request, PARAMETER_NAMES, required=("hostlist", "pid_file"))
    hosts = split_hostlist(parameters.get("hostlist", ""))
    links = parameters.get("links", "")
    for host in hosts:
        try:
            parse_links(links, host)
        except ValueError as error:
            raise request.error(str(error)) from error
    return NetnsTestDevice(
        hosts=hosts,
        pid_file=parameters.get("pid_file", ""),
        links=links,
        environment=dict(request.settings.environment),
    )
