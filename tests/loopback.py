"""A loopback HTTP peer for tests that need real sockets: resets, hangs, short reads.

Each connection runs ``behaviour(conn, n, stop)`` in its own thread after the request has
been read: ``n`` counts connections from 1, and ``stop`` is set when the test ends, so a
behaviour that hangs should wait on it rather than sleep.
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
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.connections = 0
        self.threads: list[threading.Thread] = []
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
                conn.recv(65536)
                self.behaviour(conn, n, self.stop)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.acceptor.join()
        for thread in self.threads:
            thread.join()
        self.sock.close()
