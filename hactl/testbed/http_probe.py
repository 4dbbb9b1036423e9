"""The test clients' probe: a fresh HTTP request every interval, never waiting for the last.

A probe that fetches, waits for the answer and only then tries again cannot see the end of
an outage sooner than its timeout: while the cluster IP still resolves to the dead node's
MAC, a connection attempt hangs until it times out, and the backup's first answer is seen
up to one timeout late. This one starts a new connection every INTERVAL_S however many
are still outstanding (each gives up after TIMEOUT_S), so the first answer after a
takeover is seen within one interval of being possible.

    python -S -I http_probe.py HOST PORT INTERVAL_S [TIMEOUT_S]

One line per attempt on stdout, written when the attempt ends:
`STARTED_NS ENDED_NS ANSWER`, CLOCK_MONOTONIC nanoseconds (the same clock as the daemons'
journals on this machine), ANSWER the page's first line, or `-` for a refusal, a reset or
a timeout. Run with `-S -I` it imports only interpreter built-ins.
"""

import _socket
import errno
import os
import select
import sys
import time

RECEIVE_LIMIT_BYTES = 65536


class Attempt:
    __slots__ = ("connection", "deadline_ns", "is_connected", "received", "started_ns")

    def __init__(self, connection: _socket.socket, started_ns: int, deadline_ns: int) -> None:
        self.connection = connection
        self.started_ns = started_ns
        self.deadline_ns = deadline_ns
        self.received = b""
        self.is_connected = False


def answer_of(received: bytes) -> str:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/") or b" 200 " not in head.split(b"\r\n")[0]:
        return "-"
    first_line = body.decode(errors="replace").strip().split("\n")[0]
    return first_line.strip() or "-"


def report(attempt: Attempt, answer: str) -> None:
    os.write(1, f"{attempt.started_ns} {time.monotonic_ns()} {answer}\n".encode())


def probe(host: str, port: int, interval_ns: int, timeout_ns: int) -> None:
    request = f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
    poller = select.poll()
    attempts: dict[int, Attempt] = {}
    next_start_ns = time.monotonic_ns()

    def finish(descriptor: int, answer: str) -> None:
        attempt = attempts.pop(descriptor)
        poller.unregister(descriptor)
        attempt.connection.close()
        report(attempt, answer)

    while True:
        now_ns = time.monotonic_ns()
        if now_ns >= next_start_ns:
            connection = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            connection.setblocking(False)
            code = connection.connect_ex((host, port))
            attempt = Attempt(connection, now_ns, now_ns + timeout_ns)
            descriptor = connection.fileno()
            attempts[descriptor] = attempt
            poller.register(descriptor, select.POLLOUT)
            if code not in (0, errno.EINPROGRESS):
                finish(descriptor, "-")
            next_start_ns += interval_ns
            if next_start_ns < now_ns:  # fell behind (a stall): do not burst to catch up
                next_start_ns = now_ns + interval_ns
        for descriptor, attempt in list(attempts.items()):
            if now_ns >= attempt.deadline_ns:
                finish(descriptor, "-")
        wake_ns = min([next_start_ns] + [a.deadline_ns for a in attempts.values()])
        wait_ms = max(0, (wake_ns - time.monotonic_ns() + 999_999) // 1_000_000)
        for descriptor, events in poller.poll(wait_ms):
            attempt = attempts[descriptor]
            if not attempt.is_connected:
                failure = attempt.connection.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
                if failure or events & (select.POLLERR | select.POLLHUP):
                    finish(descriptor, "-")
                    continue
                attempt.is_connected = True
                try:
                    attempt.connection.send(request)  # a few bytes: fits the empty buffer
                except OSError:
                    finish(descriptor, "-")
                    continue
                poller.modify(descriptor, select.POLLIN)
                continue
            try:
                chunk = attempt.connection.recv(4096)
            except OSError:
                finish(descriptor, "-")
                continue
            attempt.received += chunk
            if not chunk or len(attempt.received) >= RECEIVE_LIMIT_BYTES:
                finish(descriptor, answer_of(attempt.received))


def main(argv: list[str]) -> int:
    if len(argv) not in (4, 5):
        os.write(2, b"usage: http_probe.py HOST PORT INTERVAL_S [TIMEOUT_S]\n")
        return 2
    timeout_s = float(argv[4]) if len(argv) == 5 else 1.0
    probe(argv[1], int(argv[2]), int(float(argv[3]) * 1e9), int(timeout_s * 1e9))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
