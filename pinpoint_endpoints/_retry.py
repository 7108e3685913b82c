"""When to retry and how long to wait: the policy (pure delay math), the quota, the rate limiter.

`RetryPolicy` is a small frozen object; its `random`, `sleep` and `clock` are injectable, so
tests are deterministic. The delay before retry *n* (n = 1 after the first failure) is
``random() * min(base * 2 ** (n - 1), max_backoff)`` (full jitter), with a larger base for
throttling errors, as botocore's standard mode; a server-sent delay replaces it.

Examples:
    >>> policy = RetryPolicy(max_attempts=5, random=lambda: 1.0)
    >>> [policy.backoff(n, throttling=False) for n in (1, 2, 3)]
    [0.05, 0.1, 0.2]
"""

from __future__ import annotations

import logging
import math
import random as _random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final

import attrs

from pinpoint_endpoints._errors import (
    PinpointError,
    ServiceError,
    TransportError,
    ValidationError,
    error_from_reply,
)

if TYPE_CHECKING:
    from pinpoint_endpoints._transport import Reply, Timeout

__all__ = [
    "AdaptiveRateLimiter",
    "Attempts",
    "RetryEvent",
    "RetryPolicy",
    "RetryQuota",
    "whole_number",
]

log: Final = logging.getLogger("pinpoint_endpoints")


@attrs.frozen(kw_only=True)
class RetryEvent:
    """What `RetryPolicy.on_retry` receives before each retry's sleep."""

    operation: str
    attempt: int
    """The attempt that failed (1 for the first)."""
    delay: float
    status_code: int | None
    request_id: str | None
    error: str


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not _is_number(value) or value < 0:
        raise ValidationError(f"{attribute.name} must be a number >= 0, got {value!r}")


def whole_number(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``, else `ValidationError`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def _count(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    whole_number(attribute.name, value, 0)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a call retries. ``max_attempts`` counts the first try; 1 turns retries off.

    Attributes:
        max_attempts: attempts in all, the first included.
        base: backoff base for non-throttling errors (seconds).
        throttle_base: backoff base for 429 and other throttling errors (seconds).
        max_backoff: cap on any computed backoff (seconds).
        max_retry_after: longest server-sent delay (``Retry-After``) we will wait; a longer
            one raises at once instead of sleeping.
        deadline: optional bound on a call's total time, sleeps included (seconds); a retry
            whose delay would end past it is not made, and each attempt's timeout is cut to
            what is left of it.
        retry_quota: tokens in the client's retry quota (botocore's 500); a retry costs
            ``retry_cost`` (``throttle_retry_cost`` after a throttle), a success refunds.
            0 disables the quota.
        adaptive: slow the client's send rate after throttling, recovering on success.
        on_retry: called with a `RetryEvent` before each retry's sleep.
        random: injectable randomness, a float in 0..1 per call (tests pass a constant).
        sleep: injectable sleep, for tests that must not wait.
        async_sleep: the `AsyncClient`'s sleep; ``None`` is `asyncio.sleep`.
        clock: injectable monotonic clock, in seconds.

    Examples:
        >>> policy = RetryPolicy(max_attempts=5, deadline=30.0)
        >>> policy.max_attempts
        5
    """

    max_attempts: int = attrs.field(default=3)
    base: float = attrs.field(default=0.05, validator=_positive)
    throttle_base: float = attrs.field(default=1.0, validator=_positive)
    max_backoff: float = attrs.field(default=20.0, validator=_positive)
    max_retry_after: float = attrs.field(default=20.0, validator=_positive)
    deadline: float | None = attrs.field(default=None)
    retry_quota: int = attrs.field(default=500, validator=_count)
    retry_cost: int = attrs.field(default=14, validator=_count)
    throttle_retry_cost: int = attrs.field(default=5, validator=_count)
    adaptive: bool = False
    on_retry: Callable[[RetryEvent], None] | None = attrs.field(default=None, eq=False)
    random: Callable[[], float] = attrs.field(default=_random.random, eq=False, repr=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] | None = attrs.field(
        default=None, eq=False, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)

    @max_attempts.validator
    def _check_attempts(self, _: attrs.Attribute[int], value: int) -> None:
        whole_number("max_attempts", value, 1)

    @deadline.validator
    def _check_deadline(self, _: attrs.Attribute[float | None], value: float | None) -> None:
        if value is not None and (not _is_number(value) or not value > 0):
            raise ValidationError(f"deadline must be > 0 seconds (or None), got {value!r}")

    def backoff(self, retry: int, *, throttling: bool) -> float:
        """The jittered delay before retry number ``retry`` (1 for the first retry)."""
        base = self.throttle_base if throttling else self.base
        return self.random() * min(base * 2.0 ** (retry - 1), self.max_backoff)

    def delay(self, retry: int, *, throttling: bool, retry_after: float | None) -> float | None:
        """The delay before retry ``retry``, or ``None`` when the server asks for longer than
        ``max_retry_after`` (then the caller raises instead of sleeping)."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(retry, throttling=throttling)


class RetryQuota:
    """A token bucket shared by one client: retries spend tokens, successes refund them.

    When the service is down every call fails; without a quota each would retry and triple the
    load. With it, retries stop once the bucket is empty, until successes fill it again.
    """

    def __init__(self, capacity: int, *, cost: int = 14, throttle_cost: int = 5) -> None:
        self.capacity = capacity
        self._cost = cost
        self._throttle_cost = throttle_cost
        self._tokens = capacity
        self._lock = threading.Lock()

    @property
    def tokens(self) -> int:
        return self._tokens

    def acquire(self, *, throttling: bool) -> int | None:
        """Take the cost of one retry; ``None`` when the quota is spent (do not retry)."""
        if self.capacity <= 0:
            return 0
        cost = self._throttle_cost if throttling else self._cost
        with self._lock:
            if self._tokens < cost:
                return None
            self._tokens -= cost
            return cost

    def refund(self, spent: int) -> None:
        """Give back exactly what was taken (no success bonus)."""
        if self.capacity <= 0 or not spent:
            return
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + spent)

    def release(self, spent: int) -> None:
        """Refund after a success: what the call spent on retries, or 1 if it spent nothing."""
        if self.capacity <= 0:
            return
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + (spent or 1))


class AdaptiveRateLimiter:
    """A client-side send rate that settles near the service's quota.

    Idle until the first throttle. Then it watches the share of throttled replies over a
    sliding window rather than reacting to each one, so sporadic 429s (noise) do not collapse
    the rate: when the share passes ``threshold`` it cuts the rate to ``beta`` times what was
    actually getting through; otherwise it grows the rate, doubling per window while below the
    last cut (slow start) and by ``step`` of itself afterwards. The first throttle sets no
    ceiling (it may be noise, or a burst of throttles before anything got through): it starts
    from what was getting through, or from what was being sent when nothing was yet, and
    doubles from there until a window's share of throttles shows the quota; a window needs at least
    ``min_throttles`` throttles to count as evidence, so at a low rate a lone 429 cannot pin
    the rate down. When the limiter is no longer what holds the sender back it switches
    itself off.
    """

    def __init__(
        self,
        *,
        window: float = 1.0,
        threshold: float = 0.05,
        beta: float = 0.7,
        step: float = 0.1,
        min_rate: float = 0.5,
        min_throttles: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._threshold = threshold
        self._beta = beta
        self._step = step
        self._min_rate = min_rate
        self._min_throttles = min_throttles
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._sends: deque[float] = deque()  # while idle: when requests went out
        self._rate: float | None = None
        self._ssthresh = 0.0
        self._since: float | None = None
        self._next_send = 0.0
        self._last_adjust = 0.0

    @property
    def rate(self) -> float | None:
        """The current send rate (requests a second), ``None`` while not engaged."""
        return self._rate

    def reserve(self) -> float:
        """Take this request's turn under the current rate: the seconds to wait before sending
        it (0 when not engaged). The caller waits; the limiter never sleeps."""
        with self._lock:
            now = self._clock()
            if self._rate is None:
                self._sends.append(now)
                while self._sends[0] < now - self._window:
                    self._sends.popleft()
                return 0.0
            start = max(now, self._next_send)
            self._next_send = start + 1.0 / self._rate
            return start - now

    def record(self, *, throttled: bool) -> None:
        """Feed one reply's outcome; adjusts the rate at most once a window."""
        with self._lock:
            now = self._clock()
            self._outcomes.append((now, throttled))
            while self._outcomes and self._outcomes[0][0] < now - self._window:
                self._outcomes.popleft()
            sent = len(self._outcomes)
            throttles = sum(1 for _, t in self._outcomes if t)
            measured = sent / self._window
            if self._rate is None:
                if self._since is None:
                    self._since = now
                if throttled:
                    span = max(min(self._window, now - self._since), self._window / 10)
                    sends = self._sends
                    offered = len(sends) / max(now - sends[0], self._window / 100) \
                        if sends else sent / span
                    self._engage(now, offered, (sent - throttles) / span)
                return
            if now - self._last_adjust < self._window:
                return
            self._last_adjust = now
            if throttles >= self._min_throttles and throttles / sent > self._threshold:
                good = (sent - throttles) / self._window
                if good > 0:
                    self._ssthresh = max(self._min_rate, good)
                    self._rate = max(self._min_rate, good * self._beta)
                else:  # nothing got through: no quota to learn from, back off and probe again
                    self._ssthresh = math.inf
                    self._rate = max(self._min_rate, self._rate * self._beta)
                return
            if self._rate < self._ssthresh:
                self._rate = min(self._ssthresh, self._rate * 2)
            else:
                self._rate += max(self._step * self._rate, self._min_rate)
            if self._rate > 4 * max(measured, self._min_rate):
                self._rate = None  # we are no longer the bottleneck
                self._outcomes.clear()
                self._sends.clear()
                self._since = None

    def _engage(self, now: float, sent: float, good: float) -> None:
        # One throttle says little about the quota (it may be noise, or a burst of throttles
        # before anything got through), so start from what was getting through, measured over
        # the time actually observed, or from what was sent when nothing got through yet (a
        # goodput of 0 would start at min_rate and book every turn that far apart), and keep
        # doubling (slow start) until a window's share of throttles shows where the quota is.
        self._ssthresh = math.inf
        self._rate = max(self._min_rate, (good if good > 0 else sent) * self._beta)
        self._last_adjust = now
        self._next_send = now
        self._sends.clear()
        self._outcomes.clear()  # the window's evidence starts under the limiter's own rate


class Attempts:
    """The retry decisions of one call, as a pure state machine: no sleeping, no I/O.

    The client's loop (sync or async) asks `begin` before each attempt (how long to wait for
    the adaptive rate, and the attempt's timeout), sends, and reports the outcome to `failed`
    or `succeeded`; `failed` answers how long to wait before the next attempt, or raises the
    error to give the caller. The loop only waits and sends.

    Examples:
        >>> attempts = Attempts("GetEndpoint", RetryPolicy(), RetryQuota(500), None, 10.0)
        >>> attempts.begin()
        (0.0, 10.0)
        >>> attempts.failed(TransportError("connection refused")) is not None
        True
    """

    def __init__(
        self,
        operation: str,
        policy: RetryPolicy,
        quota: RetryQuota,
        limiter: AdaptiveRateLimiter | None,
        timeout: Timeout,
        correct_clock: Callable[[Mapping[str, str]], bool] = lambda _: False,
    ) -> None:
        self.operation = operation
        self.policy = policy
        self.attempt = 0
        self._quota = quota
        self._limiter = limiter if policy.adaptive else None
        self._timeout = timeout
        self._correct_clock = correct_clock
        self._started = policy.clock()
        self._spent = 0
        self._skew_retried = False
        self._error: PinpointError | None = None

    def begin(self) -> tuple[float, Timeout]:
        """Start the next attempt: the seconds to wait before sending it (the adaptive rate)
        and its timeout (cut to what is left of the deadline)."""
        self.attempt += 1
        wait = self._limiter.reserve() if self._limiter is not None else 0.0
        policy = self.policy
        if policy.deadline is None:
            return wait, self._timeout
        # an attempt may only wait for what is left of the deadline, so a hanging server
        # cannot stretch the call past it by a whole read timeout
        remaining = policy.deadline - (policy.clock() - self._started) - wait
        if remaining <= 0 and self._error is not None:
            raise self._error
        return wait, _capped(self._timeout, max(remaining, 0.001))

    def succeeded(self, reply: Reply) -> bool:
        """Whether ``reply`` ends the call; when not (a non-2xx status), pass it to `failed`."""
        if not 200 <= reply.status < 300:
            return False
        if self._limiter is not None:
            self._limiter.record(throttled=False)
        self._quota.release(self._spent)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s -> %s (attempt %d) [request %s]", self.operation, reply.status,
                      self.attempt, reply.headers.get("x-amzn-RequestId", "-"))
        return True

    def cancelled(self) -> None:
        """The call was abandoned (an asyncio cancellation): give back what its retries took
        from the quota, so the quota is as it was before the call."""
        self._quota.refund(self._spent)
        self._spent = 0

    def failed(self, outcome: Reply | TransportError) -> float:
        """The seconds to wait before the next attempt, or raise the error that ends the call."""
        status: int | None = None
        error: PinpointError
        throttled = False
        if isinstance(outcome, TransportError):
            outcome.operation, outcome.attempts = self.operation, self.attempt
            error = outcome
        else:
            service_error = error_from_reply(
                outcome.status, outcome.headers, outcome.body, operation=self.operation
            )
            service_error.attempts = self.attempt
            error, status = service_error, outcome.status
            throttled = service_error.is_throttling
            if self._limiter is not None:
                self._limiter.record(throttled=throttled)
            if service_error.is_clock_skew and not self._skew_retried:
                self._skew_retried = True
                if self.attempt < self.policy.max_attempts and \
                        self._correct_clock(outcome.headers):
                    log.info("%s: clock skew, re-signing with the server's clock",
                             self.operation)
                    self._error = error
                    return 0.0
            if not service_error.is_retryable:
                raise service_error
        self._error = error
        delay = _next_delay(self.policy, self.attempt, error, throttled, self._started)
        if delay is None:
            raise error
        cost = self._quota.acquire(throttling=throttled)
        if cost is None:
            log.info("%s: retry quota spent, not retrying", self.operation)
            raise error
        self._spent += cost
        request_id = getattr(error, "request_id", None)
        log.info(
            "retrying %s: attempt %d failed (%s), next in %.3f s [request %s]",
            self.operation, self.attempt, status if status is not None else "transport error",
            delay, request_id or "-",
        )
        if self.policy.on_retry is not None:
            self.policy.on_retry(RetryEvent(
                operation=self.operation, attempt=self.attempt, delay=delay,
                status_code=status, request_id=request_id, error=str(error),
            ))
        return delay


def _next_delay(
    policy: RetryPolicy, attempt: int, error: PinpointError, throttled: bool, started: float
) -> float | None:
    if attempt >= policy.max_attempts:
        return None
    retry_after = error.retry_after if isinstance(error, ServiceError) else None
    delay = policy.delay(attempt, throttling=throttled, retry_after=retry_after)
    if delay is None:
        return None
    if policy.deadline is not None and policy.clock() - started + delay > policy.deadline:
        return None
    return delay


def _capped(timeout: Timeout, limit: float) -> Timeout:
    if isinstance(timeout, tuple):
        return (min(timeout[0], limit), min(timeout[1], limit))
    return min(timeout, limit)

