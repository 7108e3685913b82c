"""Fault injection: each fault as a client sees it, and no state change on an injected failure."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints import (
    EndpointRequest,
    InternalServerErrorException,
    RetryEvent,
    RetryPolicy,
    ServiceError,
    TooManyRequestsException,
    TransportError,
)
from pinpoint_endpoints.testing import Emulator, Faults
from pinpoint_endpoints.testing._faults import RateLimiter
from tests.testing.conftest import raw

PATH = "/v1/apps/app/endpoints/ep"
ONCE = RetryPolicy(max_attempts=1)


def test_throttle_with_retry_after_is_retried_by_the_client(emu: Emulator) -> None:
    events: list[RetryEvent] = []
    emu.faults.throttle(2, retry_after=0.05)
    with emu.client(retry=RetryPolicy(max_attempts=3, on_retry=events.append)) as client:
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
    assert [e.status_code for e in events] == [429, 429]
    assert [e.delay for e in events] == [0.05, 0.05]
    assert [r.status for r in emu.requests] == [429, 429, 202]
    assert emu.faults.pending == 0


def test_throttle_without_retry_after_and_store_untouched(emu: Emulator) -> None:
    emu.faults.throttle()
    with emu.client(retry=ONCE) as client, pytest.raises(TooManyRequestsException) as info:
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
    assert info.value.retry_after is None and info.value.message == "Too many requests"
    assert emu.get("app", "ep") is None


def test_fail_with_status_default_and_custom_body(emu: Emulator) -> None:
    emu.faults.fail(500)
    emu.faults.fail(503, error_type="ServiceUnavailable")
    emu.faults.fail(502, body=b"<html><title>Bad Gateway</title></html>",
                    headers={"Content-Type": "text/html"})
    with emu.client(retry=ONCE) as client:
        with pytest.raises(InternalServerErrorException):
            client.get_endpoint("app", "ep")
        with pytest.raises(ServiceError) as unavailable:
            client.get_endpoint("app", "ep")
        assert (unavailable.value.status_code, unavailable.value.code) == (
            503, "ServiceUnavailable")
        with pytest.raises(ServiceError) as gateway:
            client.get_endpoint("app", "ep")
        assert gateway.value.status_code == 502 and gateway.value.message == "Bad Gateway"


def test_delay_waits_then_answers_normally(emu: Emulator) -> None:
    emu.faults.delay(0.3)
    with emu.client(retry=ONCE) as client:
        started = time.monotonic()
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
        assert time.monotonic() - started >= 0.3
    assert emu.get("app", "ep") is not None


def test_reset_and_truncate_are_transport_errors_and_retried(emu: Emulator) -> None:
    emu.faults.reset()
    emu.faults.truncate()
    with emu.client(retry=ONCE) as client:
        with pytest.raises(TransportError):
            client.update_endpoint("app", "ep", EndpointRequest(address="x"))
        with pytest.raises(TransportError):
            client.update_endpoint("app", "ep", EndpointRequest(address="x"))
    assert emu.get("app", "ep") is None
    emu.faults.reset()
    emu.faults.truncate()
    with emu.client(retry=RetryPolicy(max_attempts=3, base=0.0)) as client:
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
    assert [r.status for r in emu.requests][-3:] == [0, 200, 202]


def test_reset_sends_no_reply_bytes(emu: Emulator) -> None:
    emu.faults.reset()
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            conn.request("GET", PATH)
            conn.getresponse()
    finally:
        conn.close()


def test_options_and_unknown_paths_do_not_consume_faults(emu: Emulator) -> None:
    emu.faults.fail(500)
    assert raw(emu, "OPTIONS", PATH, signed=False).status == 200
    assert raw(emu, "GET", "/nope").status == 404
    assert raw(emu, "GET", PATH).status == 500


def test_random_faults_under_concurrency_never_change_state() -> None:
    with Emulator(seed=3) as emu:
        emu.faults.random(0.3, kinds=("throttle", "500", "503", "reset", "truncate"), seed=11)
        with emu.client(retry=ONCE, max_pool_connections=8) as client:
            def put(i: int) -> bool:
                try:
                    client.update_endpoint("app", f"e{i}", EndpointRequest(address=f"a{i}"))
                except (ServiceError, TransportError):
                    return False
                return True

            with ThreadPoolExecutor(8) as pool:
                ok = list(pool.map(put, range(120)))
        stored = emu.endpoints("app")
        assert 0 < sum(ok) < 120
        assert {f"e{i}" for i, done in enumerate(ok) if done} == set(stored)
        emu.faults.clear()
        assert emu.faults.take() is None


def test_fault_arguments_are_checked() -> None:
    faults = Faults()
    with pytest.raises(pe.ValidationError):
        faults.fail(42)
    with pytest.raises(pe.ValidationError):
        faults.random(1.5)
    with pytest.raises(pe.ValidationError):
        faults.random(0.5, kinds=("explode",))
    with pytest.raises(pe.ValidationError):
        faults.delay(-1)


def test_emulator_misuse_raises_the_package_s_errors() -> None:
    with pytest.raises(pe.ValidationError, match="keys"):
        Emulator(keys={})
    with pytest.raises(pe.ValidationError, match="propagation_delay"):
        Emulator(propagation_delay=-1.0)
    emu = Emulator()
    with pytest.raises(pe.PinpointError, match="not running"):
        _ = emu.endpoint_url
    with emu:
        with pytest.raises(pe.PinpointError, match="already running"):
            emu.start()


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter({"GetEndpoint": 2.0}, clock=lambda: now[0])
    assert [limiter.allow("GetEndpoint") for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert [limiter.allow("GetEndpoint") for _ in range(2)] == [True, False]
    assert limiter.allow("DeleteEndpoint")
