"""The emulator's HTTP/1.1 server: routing, SigV4, faults and replies on the wire.

One asyncio event loop in a thread of its own serves every connection (keep-alive and
pipelining included). Every reply (status line, headers, body) goes out in one write on a
TCP_NODELAY socket, so loopback clients never wait on a delayed ACK. Errors look like the
service's: status, ``x-amzn-ErrorType``, ``x-amzn-RequestId``,
``Content-Type: application/json`` and a body ``{"Message": ..., "RequestID": ...}``.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, cast

import attrs

from pinpoint_endpoints._errors import STATUS_ERRORS
from pinpoint_endpoints._operations import Operation, match_route
from pinpoint_endpoints._redact import safe_headers, scrub_url_text
from pinpoint_endpoints.testing._faults import Fault, Faults, RateLimiter
from pinpoint_endpoints.testing._handlers import handle
from pinpoint_endpoints.testing._sigv4 import SignatureError, normalize_path, verify
from pinpoint_endpoints.testing._store import Store, StoreError

if TYPE_CHECKING:
    import asyncio

__all__ = ["EmulatorServer", "RecordedRequest", "RequestLog"]

log: Final = logging.getLogger("pinpoint_endpoints.testing")

MAX_BODY: Final = 7 * 1024 * 1024
MAX_DRAIN: Final = 64 * 1024 * 1024
MAX_LOG: Final = 10_000
IDLE_TIMEOUT: Final = 120.0  # seconds a connection may send nothing before it is closed
_SWEEP: Final = 5.0
_MAX_LINE: Final = 65536
_MAX_HEADERS: Final = 100
_MAX_HEAD: Final = 1024 * 1024
_READ_SIZE: Final = 64 * 1024
_HEAD_END: Final = re.compile(rb"\r?\n\r?\n")
_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"})
# the service's error type for each modelled status: the names of the client's error classes
ERROR_TYPES: Final[Mapping[int, str]] = {
    status: cls.__name__ for status, cls in STATUS_ERRORS.items()
}
_CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "DELETE, GET, OPTIONS, PUT",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent, "
        "X-Amz-Content-Sha256, amz-sdk-invocation-id, amz-sdk-request"
    ),
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType",
    "Access-Control-Max-Age": "86400",
}


@attrs.frozen
class RecordedRequest:
    """One request the emulator received (secret headers masked) and the status it answered
    (0 when the connection was reset without a reply)."""

    method: str
    path: str = attrs.field(repr=lambda p: repr(scrub_url_text(p)))
    """The raw request target; its repr masks ids that are emails or phone numbers."""
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    status: int


class RequestLog:
    """A thread-safe log of the last `MAX_LOG` requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RecordedRequest] = deque(maxlen=MAX_LOG)

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Reply(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, status: int, payload: Any, headers: Mapping[str, str] | None = None,
                 error_type: str | None = None, *, close: bool = False) -> None:
        super().__init__(status)
        self.status, self.payload, self.error_type, self.close = status, payload, error_type, close
        self.headers = dict(headers or {})


def _error(status: int, message: str, code: str | None = None, **kw: Any) -> _Reply:
    return _Reply(status, {"Message": message}, error_type=code or ERROR_TYPES.get(status), **kw)


class _Headers:
    """A request's headers: ``get`` by any case (the first of repeats), ``items`` as sent."""

    __slots__ = ("_first", "_items")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        self._first: dict[str, str] = {}
        for name, value in items:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def lowered(self) -> dict[str, str]:
        """Lower-cased names, the first of repeats."""
        return self._first


class EmulatorServer:
    """The emulator's HTTP/1.1 server: one event loop serving every connection, run by
    `serve_forever` in a thread of its own. Use `Emulator`, not this.

    One thread, not one per connection: the handlers are short and CPU-bound, and threads
    taking turns at the GIL cost more than the handlers themselves (measured: GetEndpoint with
    4 connections used 60 % more CPU per request on threads than on one).

    Raises:
        OSError: the address cannot be bound (a port in use, say).
    """

    def __init__(
        self,
        address: tuple[str, int],
        *,
        store: Store,
        faults: Faults,
        limiter: RateLimiter,
        keys: Mapping[str, str],
        region: str,
        verify_signatures: bool,
        log: RequestLog,
    ) -> None:
        self.store, self.faults, self.limiter = store, faults, limiter
        self.keys, self.region, self.verify_signatures = dict(keys), region, verify_signatures
        self.log = log
        import asyncio  # here: importing the package (or its testing part) imports no asyncio

        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        # bound and listening now, so the port is known and clients queue until the loop runs
        self._sock = socket.create_server(address, family=family, backlog=128)
        self.server_address: tuple[Any, ...] = self._sock.getsockname()
        # made here, run only by serve_forever's thread: the caller's thread may be running
        # an event loop of its own (an async test)
        self.loop = asyncio.new_event_loop()
        self._stopped = self.loop.create_future()
        self.connections: set[_Connection] = set()
        self._sweeping: asyncio.TimerHandle | None = None
        self._done = threading.Event()

    def serve_forever(self) -> None:
        """Serve until `shutdown`, then close every connection."""
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            for conn in list(self.connections):
                conn.abort()
            self.loop.run_until_complete(_yield())
            self.loop.close()
            self._sock.close()
            self._done.set()

    async def _serve(self) -> None:
        protocol = _protocol_class()
        server = await self.loop.create_server(lambda: protocol(self), sock=self._sock)
        self._sweeping = self.loop.call_later(_SWEEP, self._sweep)
        try:
            await self._stopped
        finally:
            self._sweeping.cancel()
            server.close()

    def shutdown(self) -> None:
        """Stop `serve_forever` (from another thread; before it has begun, too) and wait until
        it has."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop)
            self._done.wait()

    def _stop(self) -> None:
        if not self._stopped.done():
            self._stopped.set_result(None)

    def _sweep(self) -> None:
        """Close connections that sent nothing for `IDLE_TIMEOUT` seconds (between requests or
        in the middle of one), unless a delayed reply of ours is pending."""
        now = time.monotonic()
        for conn in list(self.connections):
            if conn.waiting is None and now - conn.last_read > IDLE_TIMEOUT:
                conn.close()
        self._sweeping = self.loop.call_later(_SWEEP, self._sweep)


class _Request:
    """A request's head as parsed, and whether the connection closes after its reply."""

    __slots__ = ("close", "headers", "method", "target", "version")

    def __init__(self, method: str, target: str, version: str, headers: _Headers,
                 close: bool) -> None:
        self.method, self.target, self.version = method, target, version
        self.headers, self.close = headers, close


async def _yield() -> None:
    """One turn of the loop: aborted connections' callbacks run."""


@functools.cache
def _protocol_class() -> Callable[[EmulatorServer], asyncio.BufferedProtocol]:
    """`_Connection` as an `asyncio.BufferedProtocol` (made when a server starts: importing
    the package imports no asyncio)."""
    import asyncio

    class Connection(_Connection, asyncio.BufferedProtocol):
        pass

    return Connection


class _Connection:
    """One client connection, an `asyncio.BufferedProtocol`: bytes in (read into one buffer,
    no allocation a read), requests parsed in order, one write per reply."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "-"
        self.buffer = bytearray()
        self.view = memoryview(bytearray(_READ_SIZE))
        self.request: _Request | None = None  # a head read, its body awaited
        self.need = 0  # the body's length
        self.drain = 0  # bytes of a too-large body still to discard before answering 413
        self.waiting: asyncio.TimerHandle | None = None  # a delay fault running
        self.closing = False
        self.last_read = time.monotonic()

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "-"
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        if self.waiting is not None:
            self.waiting.cancel()

    def eof_received(self) -> None:
        """The client is done sending: the transport closes once our replies are out."""

    def pause_writing(self) -> None:
        """asyncio's flow control: replies queue in the transport meanwhile."""

    def resume_writing(self) -> None:
        """asyncio's flow control."""

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.closing:
            return
        self.buffer += self.view[:nbytes]
        self.last_read = time.monotonic()
        try:
            self._advance()
        except Exception:  # a bug of ours: the connection goes, the server stays
            log.exception("emulator error on a connection from %s", self.peer)
            self.abort()

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    # -- reading ------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Handle every complete request in the buffer, in order (pipelining), unless a
        delayed reply holds the connection."""
        while not self.closing and self.waiting is None:
            if self.drain:
                taken = min(self.drain, len(self.buffer))
                del self.buffer[:taken]
                self.drain -= taken
                if self.drain:
                    return
                self._answer(_error(413, "Request Entity Too Large", close=True),
                             self._take(), str(uuid.uuid4()), b"")
                return
            if self.request is None:
                if not self._read_head():
                    return
                continue
            if len(self.buffer) < self.need:
                return
            body = bytes(self.buffer[:self.need])
            del self.buffer[:self.need]
            self._dispatch(self._take(), body)

    def _take(self) -> _Request:
        request, self.request = self.request, None
        assert request is not None
        return request

    def _read_head(self) -> bool:
        """Parse a request head from the buffer: False until one is complete (or when the
        connection is closing after an answer to a malformed one)."""
        while self.buffer[:2] == b"\r\n" or self.buffer[:1] == b"\n":  # RFC 9112 2.2
            del self.buffer[:1 if self.buffer[:1] == b"\n" else 2]
        found = _HEAD_END.search(self.buffer)
        if found is None:
            first = self.buffer.find(b"\n")
            if first > _MAX_LINE or (first < 0 and len(self.buffer) > _MAX_LINE):
                self._refuse(414, "Request-URI Too Long")
            elif len(self.buffer) > _MAX_HEAD:
                self._refuse(431, "Request Header Fields Too Large")
            return False
        head = bytes(self.buffer[:found.start()]).decode("iso-8859-1")
        del self.buffer[:found.end()]
        try:
            request = _parse_head(head)
        except _BadRequest as exc:
            self._refuse(exc.status, exc.message)
            return False
        if request.method not in _METHODS:
            self._refuse(501, f"Unsupported method ({request.method!r})", request)
            return False
        self.request = request
        headers = request.headers
        if (headers.get("Transfer-Encoding") or "").lower() not in ("", "identity"):
            self._refuse(400, "Chunked request bodies are not supported; send Content-Length.",
                         request)
            return False
        length = (headers.get("Content-Length") or "0").strip()
        if not length.isdigit():
            self._refuse(400, "Invalid Content-Length header.", request)
            return False
        size = int(length)
        expect = ((headers.get("Expect") or "").lower() == "100-continue"
                  and request.version >= "HTTP/1.1")
        if size > MAX_BODY:
            if expect or size > MAX_DRAIN:  # nothing sent yet, or too much to read through
                self._refuse(413, "Request Entity Too Large", request)
                return False
            # Drain what the client still sends, so it reads our reply, not a reset.
            self.drain = size
            return True
        if expect and len(self.buffer) < size:
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.need = size
        return True

    def _refuse(self, status: int, message: str, request: _Request | None = None) -> None:
        """Answer a request that cannot be read, and close the connection."""
        self.request = None
        self._answer(_error(status, message, close=True), request, str(uuid.uuid4()), b"")

    # -- answering ----------------------------------------------------------------------------

    def _dispatch(self, request: _Request, body: bytes) -> None:
        request_id = str(uuid.uuid4())

        def first() -> None:
            op, params, allow = self._route(request)
            fault = self.server.faults.take(op.name if op is not None else None)
            if fault is not None and fault.kind == "delay":
                self.waiting = self.server.loop.call_later(
                    fault.seconds, self._after_delay, request, body, request_id,
                    lambda: self._serve(request, body, op, params, allow, request_id))
                return
            if fault is not None:
                self._apply(fault, request, request_id)
            self._serve(request, body, op, params, allow, request_id)

        self._run(request, body, request_id, first)

    def _after_delay(self, request: _Request, body: bytes, request_id: str,
                     rest: Callable[[], None]) -> None:
        self.waiting = None
        if self.closing:
            return
        self._run(request, body, request_id, rest)
        self._advance()

    def _run(self, request: _Request, body: bytes, request_id: str,
             step: Callable[[], None]) -> None:
        try:
            step()
        except _Reply as reply:
            self._answer(reply, request, request_id, body)
        except _Reset:
            self._record(request, body, 0)
            sock = self.transport.get_extra_info("socket") if self.transport else None
            if sock is not None:  # linger 0 makes the close send an RST instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.abort()
        except Exception:
            log.exception("emulator error on %s %s", request.method,
                          scrub_url_text(request.target.split("?")[0]))
            self._answer(_error(500, "Internal server error", close=True), request,
                         request_id, body)

    def _route(self, request: _Request) -> tuple[Operation[Any] | None, dict[str, str], str]:
        # route what the signature covers: the path with its dot segments resolved
        op, params, allowed = match_route(request.method,
                                          normalize_path(request.target.split("?", 1)[0]))
        if not allowed:
            raise _error(404, "Resource not found")
        allow = ", ".join((*allowed, "OPTIONS"))
        if request.method == "OPTIONS":
            raise _Reply(200, None, {"Allow": allow, **_CORS})
        return op, params, allow

    def _serve(self, request: _Request, body: bytes, op: Operation[Any] | None,
               params: dict[str, str], allow: str, request_id: str) -> None:
        server = self.server
        if server.verify_signatures:
            try:
                verify(request.method, request.target, request.headers.lowered(), body,
                       keys=server.keys, region=server.region, now=datetime.now(timezone.utc))
            except SignatureError as exc:
                raise _error(403, exc.message, exc.code) from None
        if op is None:
            raise _Reply(405, {"Message": "Method Not Allowed"}, {"Allow": allow},
                         "MethodNotAllowedException")
        if not server.limiter.allow(op.name):
            raise _error(429, "Too many requests")
        try:
            status, payload = handle(server.store, op, params, body, request_id)
        except StoreError as exc:
            raise _error(exc.status, exc.message, exc.code) from None
        raise _Reply(status, payload)

    def _apply(self, fault: Fault, request: _Request, request_id: str) -> None:
        if fault.kind == "throttle":
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            raise _error(429, "Too many requests", headers=headers)
        if fault.kind == "fail":
            if fault.body is not None:
                raise _Reply(fault.status, fault.body, fault.headers, fault.error_type)
            try:
                message = HTTPStatus(fault.status).phrase
            except ValueError:
                message = "Injected failure"
            code = fault.error_type or ERROR_TYPES.get(fault.status) or (
                "ServiceUnavailableException" if fault.status == 503 else None)
            raise _error(fault.status, message, code, headers=fault.headers)
        if fault.kind == "truncate":
            body = b'{"Message":"cut short'
            head = _head(200, {"Content-Type": "application/json",
                               "Content-Length": str(len(body) + 64),
                               "x-amzn-RequestId": request_id, "Connection": "close"})
            raise _Reply(-1, head + body, close=True)
        raise _Reset  # reset

    def _answer(self, reply: _Reply, request: _Request | None, request_id: str,
                body: bytes) -> None:
        if reply.status == -1:  # a truncated reply, already assembled
            self._record(request, body, 200)
            self._write(reply.payload)
            self.close()
            return
        payload = reply.payload
        if isinstance(payload, bytes):
            data = payload
        elif payload is None:
            data = b""
        else:
            if reply.status >= 400 and "Message" in payload:
                payload = {**payload, "RequestID": request_id}
            data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data)),
                   "x-amzn-RequestId": request_id}
        if reply.error_type:
            headers["x-amzn-ErrorType"] = reply.error_type
        headers.update(reply.headers)
        close = reply.close or request is None or request.close
        if close:
            headers["Connection"] = "close"
        if request is not None and request.method == "HEAD":
            data = b""
        self._record(request, body, reply.status)  # before the reply, so a client sees it logged
        self._write(_head(reply.status, headers) + data)
        if log.isEnabledFor(logging.DEBUG):
            line = "-" if request is None else f"{request.method} {request.target}"
            log.debug("%s %s %d %d", self.peer, scrub_url_text(line), reply.status, len(data))
        if close:
            self.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _record(self, request: _Request | None, body: bytes, status: int) -> None:
        if request is None:
            return
        entry = RecordedRequest(request.method, request.target,
                                safe_headers(dict(request.headers.items())), body, status)
        self.server.log.append(entry)


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {_http_date()}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _parse_head(head: str) -> _Request:
    """The request line and header fields (limits as the standard library's: 100 fields of
    at most 64 KiB a line)."""
    lines = head.split("\n")
    request_line = lines[0].rstrip("\r")
    words = request_line.split()
    if len(words) != 3:
        raise _BadRequest(400, f"Bad request syntax ({request_line!r})")
    method, target, version = words
    major, dot, minor = version[5:].partition(".")
    if not (version.startswith("HTTP/") and dot and major.isdigit() and minor.isdigit()
            and len(major) <= 10 and len(minor) <= 10):
        raise _BadRequest(400, f"Bad request version ({version!r})")
    if int(major) >= 2:
        raise _BadRequest(505, f"Invalid HTTP version ({version[5:]})")
    if len(lines) > _MAX_HEADERS + 1:
        raise _BadRequest(431, "Too many headers")
    items: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = raw.rstrip("\r")
        if len(line) > _MAX_LINE:
            raise _BadRequest(431, "Line too long")
        if line[:1] in (" ", "\t") and items:  # obsolete line folding
            name, value = items[-1]
            items[-1] = (name, value + " " + line.strip(" \t"))
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not name:
            raise _BadRequest(400, "Bad header line")
        items.append((name, value.strip(" \t")))
    headers = _Headers(items)
    connection = (headers.get("Connection") or "").lower()
    close = (int(major), int(minor)) < (1, 1)
    if connection == "close":
        close = True
    elif connection == "keep-alive":
        close = False
    return _Request(method, target, version, headers, close)


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The ``Date`` header's value, formatted once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True))
    return _date[1]


class _Reset(Exception):
    """The connection is to be reset without a reply."""
