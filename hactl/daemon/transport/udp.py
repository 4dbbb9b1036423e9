"""The trio side of the transport: send one envelope on every link, receive on all.

One sequence counter per daemon run: the same (generation, seq) goes out on every link,
so the receiver can drop the copies after noting each link alive. The node's loop reads
the sockets itself when its epoll says they are readable (hactl/daemon/input_wait.py):
`take_datagrams` returns every reception that matters (delivered, link copy, refusal);
an ignored one (our own broadcast echoed back, another node's unicast) stops here. It
never raises on bad input (the pure `Receiver` cannot), and a send that fails because
a link is down is counted per link, never fatal: a dead link is exactly what redundant
media are for.
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass, field

import trio

from engine.config.model import AuthConfig
from hactl.daemon.transport.envelope import MAX_PACKET_BYTES, EnvelopeEncoder
from hactl.daemon.transport.faults import FaultInjector
from hactl.daemon.transport.media import LinkPlan, destinations, open_link_socket
from hactl.daemon.transport.receiver import Ignored, Receiver, Reception

SEND_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrival:
    """A reception with the monotonic time it was read, for the shell."""

    reception: Reception
    monotonic_ns: int


@dataclass(slots=True)
class _Link:
    plan: LinkPlan
    sock: socket.socket  # non-blocking
    targets: tuple[tuple[str, int], ...]
    last_sent_packet: bytes = b""  # a broadcast comes back to us: known by its bytes


@dataclass(slots=True, kw_only=True)
class UdpTransport:
    local_node: str
    udpport: int
    generation: int
    auth: AuthConfig
    plans: tuple[LinkPlan, ...]
    receiver: Receiver
    faults: FaultInjector | None = None
    next_seq: int = 1
    send_error_counts: dict[str, int] = field(default_factory=dict)
    sent_packet_count: int = 0
    _links: list[_Link] = field(default_factory=list)
    _nursery: trio.Nursery | None = None
    _encoder: EnvelopeEncoder = field(init=False)

    def __post_init__(self) -> None:
        self._encoder = EnvelopeEncoder(udpport=self.udpport, sender=self.local_node,
                                        generation=self.generation)  # fmt: skip

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Open every link, then keep them (and any delayed sends) until cancelled."""
        try:
            for plan in self.plans:
                sock = open_link_socket(plan)
                self._links.append(_Link(plan, sock, destinations(plan)))
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started()
                await trio.sleep_forever()
        finally:
            for link in self._links:
                link.sock.close()

    def set_auth(self, auth: AuthConfig) -> None:
        """SIGHUP: new keys sign from the next packet; every listed key is accepted."""
        self.auth = auth
        self.receiver.auth = auth

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(plan.link for plan in self.plans)

    async def send(
        self, *, kind: int, body: object, destination: str | None, seal: bytes | None
    ) -> int:
        """Sign and send one envelope on every link; return its seq."""
        seq = self.next_seq
        self.next_seq += 1
        packet = self._encoder.encode(destination=destination, seq=seq, kind=kind, body=body,
                                      seal=seal, key=self.auth.active_key)  # fmt: skip
        for link in self._links:
            for target in link.targets:
                if self.faults is None and self._sent_at_once(link, packet, target):
                    continue
                await self._transmit(link, packet, target)
        return seq

    def _sent_at_once(self, link: _Link, packet: bytes, target: tuple[str, int]) -> bool:
        is_sent = _try_send(link, packet, target)
        if is_sent is None:
            return False
        self._note_sent(link, packet, is_sent)
        return True

    def _note_sent(self, link: _Link, packet: bytes, is_sent: bool) -> None:
        if is_sent:
            self.sent_packet_count += 1
            link.last_sent_packet = packet
            if link.plan.is_broadcast:
                _discard_echo(link, packet)
            return
        name = link.plan.link
        self.send_error_counts[name] = self.send_error_counts.get(name, 0) + 1

    async def _transmit(self, link: _Link, packet: bytes, target: tuple[str, int]) -> None:
        if self.faults is None:
            await self._send_now(link, packet, target)
            return
        assert self._nursery is not None, "send() before run() started"
        for transmission in self.faults.transmissions():
            if transmission.delay_ms == 0:
                await self._send_now(link, packet, target)
            else:
                self._nursery.start_soon(self._send_later, link, packet, target,
                                         transmission.delay_ms)  # fmt: skip

    async def _send_later(
        self, link: _Link, packet: bytes, target: tuple[str, int], delay_ms: int
    ) -> None:
        await trio.sleep(delay_ms / 1000)
        await self._send_now(link, packet, target)

    async def _send_now(self, link: _Link, packet: bytes, target: tuple[str, int]) -> None:
        """Send at once; only a full socket buffer waits (for at most SEND_TIMEOUT_S)."""
        is_sent = _try_send(link, packet, target)
        if is_sent is None:
            with trio.move_on_after(SEND_TIMEOUT_S):
                while is_sent is None:
                    await trio.lowlevel.wait_writable(link.sock)
                    is_sent = _try_send(link, packet, target)
        self._note_sent(link, packet, bool(is_sent))

    def link_sockets(self) -> tuple[socket.socket, ...]:
        """Each link's socket, in `plans` order, for the loop's epoll to watch."""
        return tuple(link.sock for link in self._links)

    def take_datagrams(self, link_index: int, limit: int) -> list[Arrival]:
        """Read up to `limit` queued datagrams from one link; those that matter, stamped.

        Never raises on what arrives: the pure `Receiver` judges the bytes, and a socket
        error (an ICMP error reported while a link is down) is not a packet.
        """
        link = self._links[link_index]
        arrivals: list[Arrival] = []
        for _ in range(limit):
            try:
                packet, _ = link.sock.recvfrom(MAX_PACKET_BYTES + 1)
            except BlockingIOError:
                break
            except OSError:
                continue  # the error is reported once, then the queue goes on
            if packet == link.last_sent_packet:
                continue  # our own broadcast, echoed: the receiver would ignore it too
            reception = self.receiver.receive(packet, link.plan.link)
            if not isinstance(reception, Ignored):
                arrivals.append(Arrival(reception=reception, monotonic_ns=time.monotonic_ns()))
        return arrivals


def _discard_echo(link: _Link, packet: bytes) -> None:
    """Take our broadcast's loopback copy off the socket, if it is the next datagram.

    The kernel loops a broadcast back at once, so reading it here spares the loop a wake-up
    for it. Only peeked at first: anything else queued stays, for the loop to read in
    order (`take_datagrams`).
    """
    try:
        queued = link.sock.recv(len(packet) + 1, socket.MSG_PEEK)
        if queued == packet:
            link.sock.recv(len(packet) + 1)
    except OSError:  # nothing queued (BlockingIOError), or a pending ICMP error: no packet
        pass


def _try_send(link: _Link, packet: bytes, target: tuple[str, int]) -> bool | None:
    """True: sent; False: the link is down (counted, never fatal); None: it would block."""
    try:
        link.sock.sendto(packet, target)
        return True
    except BlockingIOError:
        return None
    except OSError as error:
        if error.errno not in _LINK_DOWN_ERRORS:
            raise
        return False


_LINK_DOWN_ERRORS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ENOBUFS, errno.EPERM,
     errno.ECONNREFUSED, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}
)  # fmt: skip
