"""The test clusters' web service: a real HTTP server on a port, naming the node it runs on.

It stands in for the article's Apache. Run it as a script with `python -S -I` (no site, no
environment): it then imports only interpreter built-ins, so it is listening ~10 ms after
the resource script starts it, where Python's http.server took ~150 ms. That start-up time
is part of every failover a test or bench measures, and it is the service's cost, not the
cluster manager's.

    python -S -I web_service.py PORT PIDFILE PAGE

The process binds and listens, then forks: the child serves, the parent writes the
child's PID to PIDFILE and exits 0. So when the resource script's `start` returns, the
port already accepts connections (no polling), as a forking daemon's start should.
Each connection gets one `200 OK` whose body is PAGE and a newline, then is closed.
"""

import _socket
import os
import sys

RECEIVE_LIMIT_BYTES = 65536
CLIENT_TIMEOUT_S = 1.0  # a client that connects and says nothing cannot stall the others


def listening_socket(port: int) -> _socket.socket:
    server = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    # Failback starts the service again right after it stopped here: rebind at once.
    server.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(128)
    return server


def response(page: str) -> bytes:
    body = (page + "\n").encode()
    head = (f"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n")  # fmt: skip
    return head.encode() + body


def serve_one(connection: _socket.socket, answer: bytes) -> None:
    connection.settimeout(CLIENT_TIMEOUT_S)
    request = b""
    while b"\r\n\r\n" not in request and len(request) < RECEIVE_LIMIT_BYTES:
        chunk = connection.recv(4096)
        if not chunk:
            return
        request += chunk
    connection.sendall(answer)


def serve(server: _socket.socket, answer: bytes) -> None:
    while True:
        # _socket has no accept(): socket.accept() wraps this, at 10 ms of imports.
        descriptor, _address = server._accept()  # type: ignore[attr-defined]
        connection = _socket.socket(fileno=descriptor)
        try:
            serve_one(connection, answer)
        except OSError:
            pass  # that client's loss only: a reset or a timeout
        finally:
            connection.close()


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        os.write(2, b"usage: web_service.py PORT PIDFILE PAGE\n")
        return 2
    port, pid_file, page = int(argv[1]), argv[2], argv[3]
    server = listening_socket(port)
    child = os.fork()
    if child:
        with open(pid_file + ".new", "w") as sink:
            sink.write(f"{child}\n")
        os.replace(pid_file + ".new", pid_file)  # a reader never sees half a PID
        return 0
    os.setsid()  # outlives the resource script, like a daemonised Apache
    serve(server, response(page))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
