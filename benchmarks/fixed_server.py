"""A fixed-reply HTTP/1.1 server on loopback, run as its own process by the benchmarks.

Every request gets a canned reply chosen by method (GET 200 and DELETE 202 with a full
EndpointResponse, PUT 202 with a MessageBody), in one write, keep-alive, TCP_NODELAY. It
checks nothing, so the figures measured against it are the client's alone. Prints its port.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from payloads import ENDPOINT_RESPONSE, MESSAGE_BODY


def _reply(status: int, reason: str, body: dict[str, object]) -> bytes:
    raw = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n"
        "x-amzn-RequestId: 3f0c6b1e-0000-4000-8000-000000000000\r\n"
        "Date: Thu, 26 Nov 2026 00:00:00 GMT\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + raw


REPLIES = {
    b"GET": _reply(200, "OK", ENDPOINT_RESPONSE),
    b"PUT": _reply(202, "Accepted", MESSAGE_BODY),
    b"DELETE": _reply(202, "Accepted", ENDPOINT_RESPONSE),
}


class _Http(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length:]
            method = head.split(b" ", 1)[0]
            assert self.transport is not None
            self.transport.write(REPLIES.get(method, REPLIES[b"GET"]))


async def _main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Http, "127.0.0.1", 0, backlog=128)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        pass
