"""Real sockets on loopback: resets, hangs, short reads and refusals become `TransportError`,
on both client faces."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from tests.faces import make
from tests.loopback import Behaviour, Server, read_request

OK_BODY = b'{"Id": "ep"}'


def reply(conn: socket.socket, body: bytes = OK_BODY, length: int | None = None) -> None:
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n")
    conn.sendall(head.encode() + body)


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def client_for(face: str, server: Server, creds: Credentials, **kw: Any) -> Any:
    retry = pe.RetryPolicy(sleep=lambda _: None, max_attempts=kw.pop("attempts", 3))
    return make(face, endpoint_url=server.url, credentials=creds, retry=retry, **kw)


def test_a_reset_connection_is_retried(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(lambda conn, n, stop: reset(conn) if n == 1 else reply(conn))
    with client_for(face, server, creds) as client:
        assert client.get_endpoint("app", "ep").id == "ep"
    assert server.connections == 2


def test_resets_on_every_attempt_raise_transport_error(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(lambda conn, n, stop: reset(conn))
    with client_for(face, server, creds) as client, pytest.raises(pe.TransportError) as info:
        client.get_endpoint("app", "ep")
    assert info.value.attempts == 3 and server.connections == 3
    assert info.value.__cause__ is not None


def test_a_reply_cut_short_is_a_transport_error_and_retried(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(lambda conn, n, stop: reply(conn, OK_BODY[:5], len(OK_BODY)) if n == 1
                   else reply(conn))
    with client_for(face, server, creds) as client:
        assert client.get_endpoint("app", "ep").id == "ep"
    assert server.connections == 2


def test_a_server_that_hangs_times_out(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(lambda conn, n, stop: stop.wait(2))
    started = time.monotonic()
    with client_for(face, server, creds, attempts=1, timeout=0.3) as client:
        with pytest.raises(pe.TransportError, match="timed out") as info:
            client.get_endpoint("app", "ep")
    assert time.monotonic() - started < 2.0
    assert info.value.attempts == 1


def test_a_request_the_server_drops_is_not_resent_behind_the_policys_back(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    """A pooled connection the server closes on the next request: one attempt, one error
    (aiohttp would resend an idempotent request once by itself)."""

    def once_then_drop(conn: socket.socket, n: int, stop: object) -> None:
        reply(conn)
        read_request(conn)  # the second call's request, left unanswered

    server = serve(once_then_drop)
    with client_for(face, server, creds, attempts=1) as client:
        assert client.get_endpoint("app", "ep").id == "ep"
        with pytest.raises(pe.TransportError, match="closed the connection") as info:
            client.get_endpoint("app", "ep")
    assert info.value.attempts == 1 and server.connections == 1


def test_a_refused_connection_is_a_transport_error(creds: Credentials, face: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    client = make(face, endpoint_url=f"http://127.0.0.1:{port}", credentials=creds,
                  retry=pe.RetryPolicy(max_attempts=2, sleep=lambda _: None))
    with client, pytest.raises(pe.TransportError, match="refused") as info:
        client.get_endpoint("app", "ann@example.com")
    assert info.value.attempts == 2
    # says where it failed, without the path (ids may be personal data)
    assert f"(http://127.0.0.1:{port})" in str(info.value)
    assert "example.com" not in str(info.value) and "/v1/apps" not in str(info.value)
