"""The emulator's HTTP/1.1 server: routing, SigV4, faults and replies on the wire.

Every reply (status line, headers, body) goes out in one write on a TCP_NODELAY socket, so
loopback clients never wait on a delayed ACK. Errors look like the service's: status,
``x-amzn-ErrorType``, ``x-amzn-RequestId``, ``Content-Type: application/json`` and a body
``{"Message": ..., "RequestID": ...}``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import attrs

from pinpoint_endpoints._errors import STATUS_ERRORS
from pinpoint_endpoints._operations import match_route
from pinpoint_endpoints._redact import safe_headers, scrub_url_text
from pinpoint_endpoints.testing._faults import Fault, Faults, RateLimiter
from pinpoint_endpoints.testing._handlers import handle
from pinpoint_endpoints.testing._sigv4 import SignatureError, normalize_path, verify
from pinpoint_endpoints.testing._store import Store, StoreError

__all__ = ["EmulatorServer", "RecordedRequest", "RequestLog"]

log: Final = logging.getLogger("pinpoint_endpoints.testing")

MAX_BODY: Final = 7 * 1024 * 1024
MAX_DRAIN: Final = 64 * 1024 * 1024
MAX_LOG: Final = 10_000
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


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server holding the emulator's state. Use `Emulator`, not this."""

    daemon_threads = True
    allow_reuse_address = True

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
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every keep-alive connection's thread so it closes its socket."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Server"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), scrub_url_text(format % args))

    def handle_expect_100(self) -> bool:
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            self._answer(_error(413, "Request Entity Too Large", close=True),
                         str(uuid.uuid4()), b"")
            return False
        return super().handle_expect_100()

    def do_GET(self) -> None:
        self._dispatch()

    do_PUT = do_DELETE = do_POST = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def _dispatch(self) -> None:
        request_id = str(uuid.uuid4())
        body = b""
        try:
            body = self._read_body()
            self._route(body, request_id)
        except _Reply as reply:
            self._answer(reply, request_id, body)
        except _Reset:
            self._record(body, 0)
        except Exception:
            log.exception("emulator error on %s %s", self.command,
                          scrub_url_text(self.path.split("?")[0]))
            self._answer(_error(500, "Internal server error", close=True), request_id, body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
            raise _error(400, "Chunked request bodies are not supported; send Content-Length.",
                         close=True)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise _error(400, "Invalid Content-Length header.", close=True)
        size = int(length)
        if size > MAX_BODY:
            # Drain what a client may still be sending, so it reads our reply, not a reset.
            remaining = size if size <= MAX_DRAIN else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise _error(413, "Request Entity Too Large", close=True)
        return self.rfile.read(size)

    def _route(self, body: bytes, request_id: str) -> None:
        # route what the signature covers: the path with its dot segments resolved
        op, params, allowed = match_route(self.command, normalize_path(self.path.split("?", 1)[0]))
        if not allowed:
            raise _error(404, "Resource not found")
        allow = ", ".join((*allowed, "OPTIONS"))
        if self.command == "OPTIONS":
            raise _Reply(200, None, {"Allow": allow, **_CORS})
        fault = self.server.faults.take(op.name if op is not None else None)
        if fault is not None:
            self._apply(fault, request_id)
        if self.server.verify_signatures:
            try:
                verify(self.command, self.path, dict(self.headers.items()), body,
                       keys=self.server.keys, region=self.server.region,
                       now=datetime.now(timezone.utc))
            except SignatureError as exc:
                raise _error(403, exc.message, exc.code) from None
        if op is None:
            raise _Reply(405, {"Message": "Method Not Allowed"}, {"Allow": allow},
                         "MethodNotAllowedException")
        if not self.server.limiter.allow(op.name):
            raise _error(429, "Too many requests")
        try:
            status, payload = handle(self.server.store, op, params, body, request_id)
        except StoreError as exc:
            raise _error(exc.status, exc.message, exc.code) from None
        raise _Reply(status, payload)

    def _apply(self, fault: Fault, request_id: str) -> None:
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return
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
            head = self._head(200, {"Content-Type": "application/json",
                                    "Content-Length": str(len(body) + 64),
                                    "x-amzn-RequestId": request_id, "Connection": "close"})
            self.close_connection = True
            raise _Reply(-1, head + body)
        # reset: linger 0 makes close() send an RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        raise _Reset

    def _head(self, status: int, headers: Mapping[str, str]) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _answer(self, reply: _Reply, request_id: str, body: bytes) -> None:
        if reply.status == -1:  # a truncated reply, already assembled
            self._record(body, 200)
            self.wfile.write(reply.payload)
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
        if reply.close:
            self.close_connection = True
        if self.close_connection:
            headers["Connection"] = "close"
        if self.command == "HEAD":
            data = b""
        self._record(body, reply.status)  # before the reply, so a client sees it logged
        self.wfile.write(self._head(reply.status, headers) + data)
        self.log_request(reply.status, len(data))

    def _record(self, body: bytes, status: int) -> None:
        entry = RecordedRequest(self.command or "", self.path or "",
                                safe_headers(dict(self.headers.items())), body, status)
        self.server.log.append(entry)

    def finish(self) -> None:
        super().finish()
        linger = self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
        if struct.unpack("ii", linger)[0]:
            self.connection.close()  # send the RST now, before shutdown_request's FIN


class _Reset(Exception):
    """The connection is to be reset without a reply."""
