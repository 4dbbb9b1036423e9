"""The sender takes its own broadcast's loopback copy off the socket, and nothing else."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from hactl.daemon.transport.media import LinkPlan
from hactl.daemon.transport.udp import _discard_echo, _Link


@pytest.fixture
def link() -> Iterator[_Link]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    plan = LinkPlan(link="bcast lo", interface="lo", port=sock.getsockname()[1],
                    is_broadcast=True, unicast_peers=(), multicast_groups=())  # fmt: skip
    with sock:
        yield _Link(plan, sock, (("127.0.0.1", plan.port),))


def queued(link: _Link) -> list[bytes]:
    found = []
    while True:
        try:
            found.append(link.sock.recv(4096))
        except BlockingIOError:
            return found


def deliver(link: _Link, packet: bytes) -> None:
    link.sock.sendto(packet, link.targets[0])
    assert link.sock.recv(4096, socket.MSG_PEEK)  # loopback delivery is immediate


def test_the_echo_is_discarded(link: _Link) -> None:
    deliver(link, b"our heartbeat")
    _discard_echo(link, b"our heartbeat")
    assert queued(link) == []


def test_a_peer_packet_queued_first_stays_queued_for_the_loop(link: _Link) -> None:
    deliver(link, b"the peer's heartbeat")
    deliver(link, b"our heartbeat")
    _discard_echo(link, b"our heartbeat")
    assert queued(link) == [b"the peer's heartbeat", b"our heartbeat"]


def test_a_longer_datagram_starting_like_ours_is_not_taken_for_the_echo(link: _Link) -> None:
    deliver(link, b"our heartbeat and more")
    _discard_echo(link, b"our heartbeat")
    assert queued(link) == [b"our heartbeat and more"]


def test_nothing_queued_is_not_an_error(link: _Link) -> None:
    _discard_echo(link, b"our heartbeat")
    assert queued(link) == []
