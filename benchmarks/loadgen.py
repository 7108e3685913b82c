"""A light load generator for measuring a server rather than a client: requests signed up front
(SigV4 with botocore, as any SDK signs them), sent over keep-alive sockets from N threads, each
reply read to its last byte and its status checked.

Our client spends about 0.4 ms of CPU a call (requests, urllib3 and http.client), so 4 of its
threads on a 2-core machine cap what they can measure near the server's own rate; this spends
tens of µs a call, so the figure is the server's.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed(url: str, access: str, secret: str, method: str, path: str,
           body: object | None = None, region: str = "us-east-1") -> bytes:
    """One HTTP/1.1 request to ``url + path``, signed, as bytes on the wire."""
    data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    host = urlsplit(url).netloc
    request = AWSRequest(method=method, url=url + path, data=data,
                         headers={"Content-Type": "application/json"} if data else {})
    SigV4Auth(Credentials(access, secret), "mobiletargeting", region).add_auth(request)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data


def rate(url: str, requests: Sequence[bytes], *, threads: int, seconds: float,
         ok: Callable[[int], bool] = lambda status: 200 <= status < 300) -> float:
    """Replies a second from ``threads`` connections sending ``requests`` round-robin (each
    thread from its own offset) for ``seconds``; raises if a reply's status is not ``ok``."""
    address = urlsplit(url)
    stop = threading.Event()
    counts = [0] * threads
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            with socket.create_connection((address.hostname, address.port)) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                reader = sock.makefile("rb")
                i = index * len(requests) // threads
                while not stop.is_set():
                    sock.sendall(requests[i % len(requests)])
                    status = _read_reply(reader)
                    if not ok(status):
                        raise RuntimeError(f"the server answered {status}")
                    counts[index] += 1
                    i += 1
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"load generator failed: {errors[0]!r}")
    return sum(counts) / elapsed


def _read_reply(reader: BinaryIO) -> int:
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        reader.read(length)
    return status
