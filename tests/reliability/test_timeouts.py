"""Timeouts on real loopback sockets: a hanging server gives `TransportError` within the
timeout, and a `RetryPolicy` deadline bounds a call's whole wall time, sleeps included.

Every test runs on both client faces. Bounds are generous upper limits (the timeout or
deadline plus a margin); nothing asserts a call is fast.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from tests.faces import make
from tests.loopback import Behaviour, Server

MARGIN = 1.5


def hang(conn: socket.socket, n: int, stop: threading.Event) -> None:
    stop.wait(30)


def hang_mid_body(conn: socket.socket, n: int, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"Id\": ")
    stop.wait(30)


def slow_then(seconds: float, status: int, extra: str = "") -> Behaviour:
    def behaviour(conn: socket.socket, n: int, stop: threading.Event) -> None:
        if stop.wait(seconds):
            return
        body = b'{"Message": "unavailable"}'
        conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}"
                     f"Connection: close\r\n\r\n".encode() + body)
    return behaviour


def client(face: str, server: Server, creds: Credentials, *,
           timeout: float | tuple[float, float], **policy: float) -> Any:
    retry = pe.RetryPolicy(**policy)  # type: ignore[arg-type]
    return make(face, endpoint_url=server.url, credentials=creds, retry=retry, timeout=timeout)


@pytest.mark.parametrize("behaviour", [hang, hang_mid_body], ids=["no-reply", "mid-body"])
@pytest.mark.parametrize("timeout", [0.4, (5.0, 0.4)], ids=["float", "connect-read"])
def test_a_hanging_server_gives_transport_error_within_the_timeout(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str, behaviour: Behaviour,
    timeout: float | tuple[float, float],
) -> None:
    server = serve(behaviour)
    started = time.monotonic()
    with client(face, server, creds, timeout=timeout, max_attempts=1) as c, \
            pytest.raises(pe.TransportError, match="timed out") as info:
        c.get_endpoint("app", "ep")
    assert time.monotonic() - started < 0.4 + MARGIN
    assert info.value.attempts == 1 and info.value.operation == "GetEndpoint"
    assert server.connections == 1


def test_each_attempt_has_its_own_timeout_and_every_one_is_retried(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(hang)
    started = time.monotonic()
    with client(face, server, creds, timeout=0.3, max_attempts=3, base=0.01) as c, \
            pytest.raises(pe.TransportError, match="timed out") as info:
        c.update_endpoint("app", "ep", pe.EndpointRequest(opt_out="ALL"))
    assert time.monotonic() - started < 3 * 0.3 + MARGIN
    assert info.value.attempts == 3 and server.connections == 3


def test_the_deadline_cuts_an_attempt_that_would_outlive_it(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    """A 2 s read timeout and a 2.5 s deadline: the second attempt may only wait ~0.5 s."""
    server = serve(hang)
    started = time.monotonic()
    with client(face, server, creds, timeout=2.0, max_attempts=10, deadline=2.5,
                base=0.01) as c, \
            pytest.raises(pe.TransportError) as info:
        c.get_endpoint("app", "ep")
    elapsed = time.monotonic() - started
    assert elapsed < 2.5 + 0.9  # without the cut, the second attempt ends after 4 s
    assert info.value.attempts >= 2


def test_the_deadline_bounds_slow_error_replies_and_their_retries(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(slow_then(0.7, 500))
    started = time.monotonic()
    with client(face, server, creds, timeout=5.0, max_attempts=10, deadline=2.0,
                base=0.01) as c, \
            pytest.raises(pe.PinpointError) as info:
        c.delete_endpoint("app", "ep")
    assert time.monotonic() - started < 2.0 + 0.9
    assert isinstance(info.value, (pe.InternalServerErrorException, pe.TransportError))
    assert server.connections >= 2


def test_the_deadline_counts_server_sent_delays(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    """503 with Retry-After: 1 s; attempts at 0, 1 and 2 s, the next would end past 2.5 s."""
    server = serve(slow_then(0.0, 503, "Retry-After: 1\r\n"))
    started = time.monotonic()
    with client(face, server, creds, timeout=5.0, max_attempts=10, deadline=2.5) as c, \
            pytest.raises(pe.ServiceError) as info:
        c.get_endpoint("app", "ep")
    elapsed = time.monotonic() - started
    assert elapsed < 2.5 + 0.5
    assert info.value.status_code == 503 and info.value.retry_after == 1.0
    assert info.value.attempts == server.connections == 3


@pytest.mark.parametrize("deadline", [0.0, -1.0])
def test_a_deadline_that_leaves_no_time_is_refused(deadline: float) -> None:
    with pytest.raises(ValueError, match="deadline"):
        pe.RetryPolicy(deadline=deadline)
