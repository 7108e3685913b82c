"""A loopback HTTP peer for tests that need real sockets: resets, hangs, short reads.

Each connection runs ``behaviour(conn, n, stop)`` in its own thread after the request has
been read whole (headers and ``Content-Length`` body, kept in `Server.requests`): ``n`` counts
connections from 1, and ``stop`` is set when the test ends, so a behaviour that hangs should
wait on it rather than sleep. `Canned` is a behaviour answering scripted replies.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

Behaviour = Callable[[socket.socket, int, threading.Event], object]


class Server:
    """A loopback server running `behaviour(conn, n, stop)` for every connection, each in its
    own thread; `stop` is set when the test ends so hanging behaviours return at once."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.sock.settimeout(0.01)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.connections = 0
        self.threads: list[threading.Thread] = []
        self.requests: list[bytes] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(conn, self.connections),
                                      daemon=True)
            self.threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket, n: int) -> None:
        with conn:
            conn.settimeout(10)
            try:
                self.requests.append(read_request(conn))
                self.behaviour(conn, n, self.stop)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.acceptor.join()
        for thread in self.threads:
            thread.join()
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    """One request, whole: its headers and as many body bytes as ``Content-Length`` says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


Reply = tuple[int, dict[str, str], bytes]


class Canned:
    """A behaviour answering each connection with the next scripted reply (the last one
    again once they run out), then closing the connection."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [(200, {}, b"{}")]

    def __call__(self, conn: socket.socket, n: int, stop: threading.Event) -> None:
        status, headers, body = self.replies[min(n, len(self.replies)) - 1]
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def target(request: bytes) -> str:
    """The request-target of a raw request (``/v1/apps/...``)."""
    return request.split(b" ", 2)[1].decode("ascii")
