"""Throw-away cluster networks in Linux network namespaces, for tests, `make demo` and benches.

A topology is a switch namespace holding one bridge per network ("main" for clients and
services, optionally "hb" for a dedicated heartbeat link), one namespace per cluster node
and, optionally, a client namespace. Every namespace is named `hactl-<tag>-<role>`; every
interface lives inside those namespaces (switch ports are `hactl-<n><net>`, and the node
side keeps the names the configuration files use, `eth0`/`eth1`, so the article's
`bcast eth0` works unchanged). Nothing is created in the host's own namespace, so deleting
the namespaces removes everything, and `destroy()` runs even when a test fails.

Addresses come from 198.18.0.0/15 only: network k is 198.18.k.0/24, node i is .(10+i),
the client .100; cluster IPs are the caller's choice from the same ranges.

This is deliberately synchronous `ip` invocations: set-up happens once per test, and
plain commands are easy to read in a failure log and to repeat by hand.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

NETWORK_PREFIX = "198.18"
NODE_HOST_BASE = 10
CLIENT_HOST = 100
CLIENT_ROLE = "client"


class TopologyError(RuntimeError):
    """An `ip` command failed while building or changing a topology."""


def run_ip(*argv: str, namespace: str | None = None, check: bool = True) -> str:
    """Run `ip ARGV` (inside `namespace` when given) and return its stdout."""
    command = ["ip"] + (["-n", namespace] if namespace else []) + list(argv)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise TopologyError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    name: str  # "main", "hb", ...
    index: int  # third octet of its /24

    def address(self, host: int) -> str:
        return f"{NETWORK_PREFIX}.{self.index}.{host}"

    @property
    def prefix_length(self) -> int:
        return 24


@dataclass(slots=True, kw_only=True)
class Topology:
    tag: str
    node_names: tuple[str, ...]
    networks: tuple[Network, ...]
    has_client: bool
    started_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    is_destroyed: bool = False

    # ---- names -------------------------------------------------------------------------

    @property
    def switch_namespace(self) -> str:
        return f"hactl-{self.tag}-sw"

    def namespace(self, role: str) -> str:
        """The namespace of a node (or of the client, role "client")."""
        assert role in self.node_names or role == CLIENT_ROLE, role
        return f"hactl-{self.tag}-{role}"

    def interface(self, network: str) -> str:
        """The host-side interface name on `network`, the same in every node namespace."""
        return f"eth{self.network(network).index}"

    def network(self, name: str) -> Network:
        for network in self.networks:
            if network.name == name:
                return network
        raise KeyError(name)

    def address(self, role: str, network: str = "main") -> str:
        host = CLIENT_HOST if role == CLIENT_ROLE else NODE_HOST_BASE + self.node_names.index(role)
        return self.network(network).address(host)

    def _switch_port(self, role: str, network: Network) -> str:
        position = "c" if role == CLIENT_ROLE else str(self.node_names.index(role))
        return f"hactl-{position}{network.name}"[:15]

    def _roles(self) -> tuple[str, ...]:
        return self.node_names + ((CLIENT_ROLE,) if self.has_client else ())

    # ---- building ----------------------------------------------------------------------

    def build(self) -> None:
        run_ip("netns", "add", self.switch_namespace)
        run_ip("link", "set", "lo", "up", namespace=self.switch_namespace)
        for network in self.networks:
            bridge = f"hactl-br{network.name}"[:15]
            run_ip("link", "add", bridge, "type", "bridge", namespace=self.switch_namespace)
            run_ip("link", "set", bridge, "up", namespace=self.switch_namespace)
        for role in self._roles():
            self._build_host(role)

    def _build_host(self, role: str) -> None:
        namespace = self.namespace(role)
        run_ip("netns", "add", namespace)
        run_ip("link", "set", "lo", "up", namespace=namespace)
        networks = self.networks if role != CLIENT_ROLE else self.networks[:1]
        for network in networks:
            port = self._switch_port(role, network)
            inner = self.interface(network.name)
            run_ip(
                "link", "add", port, "type", "veth", "peer", "name", inner, "netns", namespace,
                namespace=self.switch_namespace,
            )  # fmt: skip
            run_ip("link", "set", port, "master", f"hactl-br{network.name}"[:15],
                   namespace=self.switch_namespace)  # fmt: skip
            run_ip("link", "set", port, "up", namespace=self.switch_namespace)
            address = f"{self.address(role, network.name)}/{network.prefix_length}"
            run_ip("addr", "add", address, "dev", inner, namespace=namespace)
            run_ip("link", "set", inner, "up", namespace=namespace)

    # ---- faults ------------------------------------------------------------------------

    def set_link(self, role: str, network: str, *, is_up: bool) -> None:
        """Cut or restore one host's link on one network (at the switch, like a pulled cable)."""
        port = self._switch_port(role, self.network(network))
        run_ip("link", "set", port, "up" if is_up else "down", namespace=self.switch_namespace)

    def cut_links(self, role: str) -> None:
        for network in self.networks:
            self.set_link(role, network.name, is_up=False)

    def restore_links(self, role: str) -> None:
        for network in self.networks:
            self.set_link(role, network.name, is_up=True)

    def wait_reachable(self, role: str, address: str, *, timeout_s: float = 10) -> bool:
        """Ping `address` from `role` until it answers (a restored link takes a moment)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.run(role, ["ping", "-c", "1", "-W", "1", address]).returncode == 0:
                return True
            if time.monotonic() >= deadline:
                return False

    # ---- processes ---------------------------------------------------------------------

    def command(self, role: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(role), *argv]

    def run(self, role: str, argv: Sequence[str], *, timeout_s: float = 30,
            check: bool = False) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return subprocess.run(
            self.command(role, argv), capture_output=True, text=True, timeout=timeout_s,
            check=check,
        )  # fmt: skip

    def start(
        self, role: str, argv: Sequence[str], **popen_options: object
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process in `role`'s namespace; `destroy()` stops it by PID."""
        process: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            self.command(role, argv), start_new_session=True, **popen_options
        )
        self.started_processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Signal a process this topology started (its whole session: `ip netns exec` forks)."""
        assert process in self.started_processes, "only stop processes we started"
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    # ---- teardown ----------------------------------------------------------------------

    def destroy(self) -> None:
        """Stop what we started and delete our namespaces; safe to call twice."""
        if self.is_destroyed:
            return
        self.is_destroyed = True
        for process in self.started_processes:
            self.kill(process)
        namespaces = [self.namespace(role) for role in self._roles()] + [self.switch_namespace]
        for namespace in namespaces:
            kill_left_in(namespace)
        for namespace in namespaces:
            run_ip("netns", "delete", namespace, check=False)


def kill_left_in(namespace: str) -> None:
    """SIGKILL, by PID, what still runs in one of our namespaces: a daemon's services.

    A resource script's server detaches into a session of its own (as a daemonised Apache
    does), so stopping the `ip netns exec` sessions we started leaves it running, and a
    namespace with a process in it outlives `ip netns delete`. Everything in a namespace
    this topology made was started by us or by a daemon we started.
    """
    for _attempt in range(3):  # a dying process may have forked: look again
        pids = [int(word) for word in run_ip("netns", "pids", namespace, check=False).split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


_tags_made = itertools.count()


def new_tag() -> str:
    """A short tag that keeps topologies apart: this process's pid, a counter for the ones
    it made before, and random bits for processes that reuse a pid (leftovers)."""
    return f"{os.getpid() % 100000:05d}{next(_tags_made)}{os.urandom(2).hex()}"


@contextlib.contextmanager
def topology(
    node_names: Sequence[str] = ("master", "backup"),
    *,
    networks: Sequence[str] = ("main",),
    has_client: bool = True,
    tag: str | None = None,
) -> Iterator[Topology]:
    """Build a topology and always destroy it, also when the body raises."""
    built = Topology(
        tag=tag or new_tag(),
        node_names=tuple(node_names),
        networks=tuple(Network(name=name, index=index) for index, name in enumerate(networks)),
        has_client=has_client,
    )
    try:
        built.build()
        yield built
    finally:
        built.destroy()
