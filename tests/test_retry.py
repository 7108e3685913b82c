"""Retries: delays, which statuses retry, server-sent delays, quota, skew, headers, logs."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

import pytest
import requests
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints._retry import AdaptiveRateLimiter, RetryQuota

URL = "https://pinpoint.us-east-1.amazonaws.com/v1/apps/app/endpoints/ep"
OK = {"Id": "ep"}


class Sleeps:
    """An injected sleep that records instead of sleeping, advancing a fake clock."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(creds: Credentials, sleeps: Sleeps, **policy: object) -> pe.Client:
    retry = pe.RetryPolicy(sleep=sleeps, clock=sleeps.clock, random=lambda: 0.5,
                           **policy)  # type: ignore[arg-type]
    return pe.Client("us-east-1", credentials=creds, retry=retry)


# --- the delay math ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("retry", "throttling", "rand", "expected"),
    [
        (1, False, 1.0, 0.05),
        (2, False, 1.0, 0.1),
        (3, False, 1.0, 0.2),
        (1, False, 0.5, 0.025),
        (1, True, 1.0, 1.0),
        (2, True, 1.0, 2.0),
        (3, True, 0.25, 1.0),
        (6, True, 1.0, 20.0),   # capped: 32 > max_backoff
        (40, True, 1.0, 20.0),
        (2, True, 0.0, 0.0),
    ],
)
def test_backoff_is_capped_exponential_with_full_jitter(
    retry: int, throttling: bool, rand: float, expected: float
) -> None:
    policy = pe.RetryPolicy(random=lambda: rand)
    assert policy.backoff(retry, throttling=throttling) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 0.5), (0.0, 0.0), (3.0, 3.0), (20.0, 20.0), (20.5, None), (3600.0, None)],
)
def test_server_sent_delays_are_honoured_up_to_the_clamp(
    retry_after: float | None, expected: float | None
) -> None:
    policy = pe.RetryPolicy(random=lambda: 0.5)
    assert policy.delay(1, throttling=True, retry_after=retry_after) == expected


def test_policy_is_frozen_and_validated() -> None:
    policy = pe.RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_attempts"):
        pe.RetryPolicy(max_attempts=0)
    assert pe.RetryPolicy().max_attempts == 3


# --- what is retried --------------------------------------------------------------------------

def test_429_429_200_succeeds_with_three_requests(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    for _ in range(2):
        mock.add("GET", URL, status=429, json={"Message": "Too many requests"})
    mock.add("GET", URL, json=OK)
    assert make_client(creds, sleeps).get_endpoint("app", "ep").id == "ep"
    assert len(mock.calls) == 3
    assert sleeps.calls == [0.5, 1.0]  # throttling base 1 s, jitter 0.5


def test_always_429_raises_after_exactly_max_attempts(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=429, json={"Message": "Too many requests"})
    with pytest.raises(pe.TooManyRequestsException) as info:
        make_client(creds, sleeps, max_attempts=4).get_endpoint("app", "ep")
    assert len(mock.calls) == 4
    assert info.value.attempts == 4
    assert "(after 4 attempts)" in str(info.value)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413])
def test_client_errors_are_sent_once(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock, status: int
) -> None:
    mock.add("PUT", URL, status=status, json={"Message": "no"})
    with pytest.raises(pe.ServiceError) as info:
        make_client(creds, sleeps, max_attempts=5).update_endpoint(
            "app", "ep", pe.EndpointRequest(address="a"))
    assert len(mock.calls) == 1 and info.value.attempts == 1 and sleeps.calls == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_server_errors_are_retried_for_every_operation(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock, status: int, method: str
) -> None:
    mock.add(method, URL, status=status, body=b"")
    mock.add(method, URL, status=200 if method == "GET" else 202,
             json={"Message": "Accepted"} if method == "PUT" else OK)
    client = make_client(creds, sleeps)
    if method == "GET":
        client.get_endpoint("app", "ep")
    elif method == "PUT":
        client.update_endpoint("app", "ep", pe.EndpointRequest(address="a"))
    else:
        client.delete_endpoint("app", "ep")
    assert len(mock.calls) == 2 and sleeps.calls == [0.025]


def test_connection_errors_are_retried_then_raised_as_transport_error(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, body=requests.ConnectionError("Connection refused"))
    with pytest.raises(pe.TransportError) as info:
        make_client(creds, sleeps).get_endpoint("app", "ep")
    assert len(mock.calls) == 3 and info.value.attempts == 3
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert "GetEndpoint" in str(info.value)


def test_max_attempts_one_turns_retries_off(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=503, body=b"")
    with pytest.raises(pe.ServiceError):
        make_client(creds, sleeps, max_attempts=1).get_endpoint("app", "ep")
    assert len(mock.calls) == 1


# --- server-sent delays and deadlines ---------------------------------------------------------

def test_retry_after_one_second_waits_at_least_a_second(
    creds: Credentials, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=429, headers={"Retry-After": "1"}, json={"Message": "slow"})
    mock.add("GET", URL, json=OK)
    client = pe.Client("us-east-1", credentials=creds)
    started = time.monotonic()
    client.get_endpoint("app", "ep")
    assert time.monotonic() - started >= 1.0
    assert len(mock.calls) == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-amz-retry-after": "1500"}, 1.5),
        ({"Retry-After": "2"}, 2.0),
    ],
)
def test_server_sent_delay_replaces_the_backoff(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock,
    headers: dict[str, str], expected: float,
) -> None:
    mock.add("GET", URL, status=503, headers=headers, body=b"")
    mock.add("GET", URL, json=OK)
    make_client(creds, sleeps).get_endpoint("app", "ep")
    assert sleeps.calls == [expected]


def test_retry_after_as_an_http_date(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=429, headers={"Retry-After": formatdate(time.time() + 5,
                                                                         usegmt=True)})
    mock.add("GET", URL, json=OK)
    make_client(creds, sleeps).get_endpoint("app", "ep")
    assert len(sleeps.calls) == 1 and 3.0 <= sleeps.calls[0] <= 5.0


def test_a_delay_beyond_the_clamp_raises_at_once(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=429, headers={"Retry-After": "600"}, json={"Message": "later"})
    with pytest.raises(pe.TooManyRequestsException) as info:
        make_client(creds, sleeps).get_endpoint("app", "ep")
    assert sleeps.calls == [] and len(mock.calls) == 1
    assert info.value.retry_after == 600.0


def test_a_delay_past_the_deadline_raises_at_once(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=429, json={"Message": "slow"})
    with pytest.raises(pe.TooManyRequestsException) as info:
        make_client(creds, sleeps, max_attempts=10, deadline=2.0).get_endpoint("app", "ep")
    assert sum(sleeps.calls) <= 2.0
    assert info.value.attempts == len(mock.calls) < 10


# --- the retry quota --------------------------------------------------------------------------

def test_quota_stops_a_retry_storm_and_refills_on_success(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    client = make_client(creds, sleeps, retry_quota=30)  # two 500-retries cost 28
    mock.add("GET", URL, status=500, body=b"")
    with pytest.raises(pe.InternalServerErrorException):
        client.get_endpoint("app", "ep")
    assert len(mock.calls) == 3
    with pytest.raises(pe.InternalServerErrorException) as info:
        client.get_endpoint("app", "ep")
    assert len(mock.calls) == 4 and info.value.attempts == 1  # quota spent: no retry


def test_quota_accounting() -> None:
    quota = RetryQuota(20, cost=14, throttle_cost=5)
    assert quota.acquire(throttling=False) == 14
    assert quota.acquire(throttling=False) is None
    assert quota.acquire(throttling=True) == 5
    assert quota.tokens == 1
    quota.release(5)
    quota.release(0)
    assert quota.tokens == 7
    quota.release(100)
    assert quota.tokens == 20


# --- headers, logs and hooks ------------------------------------------------------------------

def test_each_attempt_carries_the_invocation_id_and_attempt_number(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=500, body=b"")
    mock.add("GET", URL, status=500, body=b"")
    mock.add("GET", URL, json=OK)
    make_client(creds, sleeps).get_endpoint("app", "ep")
    headers = [c.request.headers for c in mock.calls]
    assert len({h["amz-sdk-invocation-id"] for h in headers}) == 1
    assert [h["amz-sdk-request"] for h in headers] == [
        "attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]
    mock.add("GET", URL, json=OK)
    make_client(creds, sleeps).get_endpoint("app", "ep")
    assert mock.calls[3].request.headers["amz-sdk-invocation-id"] != headers[0][
        "amz-sdk-invocation-id"]


def test_every_retry_is_logged_and_reported_to_the_hook(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[pe.RetryEvent] = []
    mock.add("GET", URL, status=429, headers={"x-amzn-RequestId": "rid-1"}, body=b"")
    mock.add("GET", URL, json=OK)
    client = make_client(creds, sleeps, on_retry=events.append)
    with caplog.at_level(logging.DEBUG, logger="pinpoint_endpoints"):
        client.get_endpoint("app", "ep")
    (record,) = [r for r in caplog.records if r.levelno == logging.INFO]
    line = record.getMessage()
    for part in ("GetEndpoint", "attempt 1", "429", "0.500", "rid-1"):
        assert part in line
    assert [(e.operation, e.attempt, e.status_code, e.request_id, e.delay) for e in events] == [
        ("GetEndpoint", 1, 429, "rid-1", 0.5)]
    assert creds.secret_key not in caplog.text


def test_with_options_shares_the_pool_and_changes_the_policy(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    base = make_client(creds, sleeps)
    patient = base.with_options(retry=pe.RetryPolicy(max_attempts=5, sleep=sleeps,
                                                     random=lambda: 0.0), timeout=3.0)
    assert patient.retry_policy.max_attempts == 5 and base.retry_policy.max_attempts == 3
    assert patient._shared.transport is base._shared.transport
    mock.add("GET", URL, status=503, body=b"")
    with pytest.raises(pe.ServiceError):
        patient.get_endpoint("app", "ep")
    assert len(mock.calls) == 5
    assert mock.calls[0].request.req_kwargs["timeout"] == 3.0  # type: ignore[attr-defined]
    with pytest.raises(pe.ValidationError):
        base.with_options(timeout=-1)


# --- clock skew -------------------------------------------------------------------------------

def test_a_skewed_clock_is_corrected_once_from_the_server_date(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    server_now = time.time() + 3600
    mock.add("GET", URL, status=403, headers={
        "x-amzn-ErrorType": "InvalidSignatureException",
        "Date": formatdate(server_now, usegmt=True),
    }, json={"message": "Signature expired: 20261126T000000Z is now earlier than ..."})
    mock.add("GET", URL, json=OK)
    client = make_client(creds, sleeps)
    client.get_endpoint("app", "ep")
    first, second = (c.request.headers["X-Amz-Date"] for c in mock.calls)
    signed = time.mktime(time.strptime(second, "%Y%m%dT%H%M%SZ")) - time.mktime(
        time.strptime(first, "%Y%m%dT%H%M%SZ"))
    assert 3590 <= signed <= 3610
    assert sleeps.calls == []


def test_clock_skew_is_retried_only_once(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=403, headers={"Date": formatdate(time.time() + 3600,
                                                                 usegmt=True)},
             json={"message": "Signature expired: ..."})
    with pytest.raises(pe.ForbiddenException):
        make_client(creds, sleeps, max_attempts=5).get_endpoint("app", "ep")
    assert len(mock.calls) == 2


def test_an_ordinary_403_is_not_retried(
    creds: Credentials, sleeps: Sleeps, mock: responses.RequestsMock
) -> None:
    mock.add("GET", URL, status=403, headers={"Date": formatdate(usegmt=True)},
             json={"Message": "User is not authorized"})
    with pytest.raises(pe.ForbiddenException):
        make_client(creds, sleeps).get_endpoint("app", "ep")
    assert len(mock.calls) == 1


# --- the adaptive rate limiter ----------------------------------------------------------------

class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


class Service:
    """A quota of `rate` requests a second with a one-second burst, on the fake clock."""

    def __init__(self, t: FakeTime, rate: float) -> None:
        self.t, self.rate, self.tokens, self.last = t, rate, rate, t.now

    def allows(self) -> bool:
        self.tokens = min(self.rate, self.tokens + (self.t.now - self.last) * self.rate)
        self.last = self.t.now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def drive(limiter: AdaptiveRateLimiter, t: FakeTime, service: Service, seconds: float,
          offered: float) -> tuple[int, int]:
    """A sender offering `offered` requests a second through the limiter for `seconds`."""
    sent = throttled = 0
    end = t.now + seconds
    while t.now < end:
        before = t.now
        t.sleep(limiter.reserve())
        if t.now == before:
            t.now += 1.0 / offered
        ok = service.allows()
        sent += 1
        throttled += not ok
        limiter.record(throttled=not ok)
    return sent, throttled


def test_limiter_is_idle_until_the_first_throttle() -> None:
    t = FakeTime()
    limiter = AdaptiveRateLimiter(clock=t.clock)
    for _ in range(100):
        t.sleep(limiter.reserve())
        limiter.record(throttled=False)
    assert limiter.rate is None and t.slept == 0.0
    limiter.record(throttled=True)
    assert limiter.rate is not None


def test_limiter_settles_near_the_quota_without_hammering_it() -> None:
    t = FakeTime()
    limiter = AdaptiveRateLimiter(clock=t.clock)
    service = Service(t, 50.0)
    drive(limiter, t, service, 60.0, offered=500.0)
    late_sent, late_throttled = drive(limiter, t, service, 30.0, offered=500.0)
    rate = late_sent / 30.0
    assert 30.0 <= rate <= 60.0, rate          # near the quota of 50/s, not 500/s
    assert late_throttled / late_sent < 0.25    # most requests get through


def test_limiter_ignores_sporadic_throttles() -> None:
    t = FakeTime()
    limiter = AdaptiveRateLimiter(clock=t.clock, window=1.0, threshold=0.05)
    limiter.record(throttled=True)
    engaged_at = limiter.rate
    assert engaged_at is not None
    for i in range(2000):  # 200 requests a second, 1 % throttled
        t.now += 0.005
        t.sleep(limiter.reserve())
        limiter.record(throttled=i % 100 == 0)
    assert limiter.rate is None or limiter.rate >= engaged_at


def test_limiter_recovers_from_throttles_before_anything_got_through() -> None:
    # Throttles at the very start (a burst, or a Retry-After) measure a goodput of ~0; the
    # limiter must not crawl from there but ramp back up to the quota.
    t = FakeTime()
    limiter = AdaptiveRateLimiter(clock=t.clock)
    service = Service(t, 400.0)
    t.sleep(limiter.reserve())
    for _ in range(8):  # eight requests in flight together, all throttled
        limiter.record(throttled=True)
    for _ in range(12):  # and their retries, throttled again one by one
        t.sleep(limiter.reserve())
        limiter.record(throttled=True)
    drive(limiter, t, service, 20.0, offered=1000.0)
    late_sent, late_throttled = drive(limiter, t, service, 10.0, offered=1000.0)
    assert late_sent / 10.0 >= 250.0, late_sent / 10.0
    assert late_throttled / late_sent < 0.25


def test_limiter_does_not_crawl_when_the_first_replies_are_throttles() -> None:
    # A cold quota answers the first requests 429 before anything got through: the limiter
    # must start from what was being sent, not from a goodput of zero (0.5 requests/s, with
    # every turn booked that far apart), or a bulk import stalls for many seconds.
    t = FakeTime()
    limiter = AdaptiveRateLimiter(clock=t.clock)
    service = Service(t, 400.0)
    for _ in range(8):  # eight requests in flight, sent within 8 ms
        t.sleep(limiter.reserve())
        t.now += 0.001
    for _ in range(8):  # all eight throttled
        limiter.record(throttled=True)
    sent, _ = drive(limiter, t, service, 3.0, offered=1000.0)
    assert sent / 3.0 >= 100.0, sent / 3.0
