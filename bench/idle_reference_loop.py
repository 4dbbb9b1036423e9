"""The reference loop of bench/idle_reference.py: a bare Python heartbeat exchange.

    idle_reference_loop.py send|answer INTERFACE PEER_ADDRESS

`send` broadcasts a signed heartbeat on INTERFACE every 100 ms (timerfd); `answer` sends
its own as soon as it has checked one from PEER_ADDRESS. Each packet is a msgpack list
the size of hactl's heartbeat with an HMAC-SHA256, checked on receipt. Nothing else: no
journal, no engine, no trio. Runs until killed.
"""

from __future__ import annotations

import hmac
import select
import socket
import sys
import time
from pathlib import Path

import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hactl.daemon.timer_fd import TimerFd

PORT = 695  # beside hactl's 694, so the two never read each other's packets
PERIOD_NS = 100_000_000
KEY = b"reference loop key, 32 bytes...."
MAC_BYTES = 32


def main(mode: str, interface: str, peer_address: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
    sock.bind(("", PORT))
    sock.setblocking(False)
    timer = TimerFd()
    poller = select.epoll()
    poller.register(sock.fileno(), select.EPOLLIN)
    poller.register(timer.fd, select.EPOLLIN)
    seq = 0
    due_ns = time.monotonic_ns() + PERIOD_NS
    timer.arm_at_ns(due_ns if mode == "send" else None)

    def send() -> None:
        nonlocal seq
        seq += 1
        body = msgpack.packb([1, 694, mode, None, 1, seq, 1,
                              {"status": "active", "groups": ["IPaddr::198.18.0.50"],
                               "version": 3}, b"s" * 64])  # fmt: skip
        sock.sendto(body + hmac.digest(KEY, body, "sha256"), ("255.255.255.255", PORT))

    while True:
        for fd, _ in poller.poll():
            if fd == timer.fd:
                timer.note_fired()
                send()
                due_ns += PERIOD_NS
                timer.arm_at_ns(due_ns)
                continue
            while True:
                try:
                    packet, (address, _port) = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if address != peer_address:
                    continue  # our own broadcast, looped back
                body, mac = packet[:-MAC_BYTES], packet[-MAC_BYTES:]
                if hmac.compare_digest(hmac.digest(KEY, body, "sha256"), mac):
                    msgpack.unpackb(body)
                    if mode == "answer":
                        send()


if __name__ == "__main__":
    main(*sys.argv[1:4])
