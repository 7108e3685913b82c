"""Fault injection and per-operation rate limits, for tests of retry logic.

Faults are queued and consumed in order, one per request to an operation's path; a fault given
an ``operation`` (a name of `_operations.OPERATIONS`) waits for a request to that operation.
A fault is applied after the request is received and *before* it is handled, so an injected
failure never changes the store (a `Faults.delay` is the exception that proves the rule: it
only waits, then the request is handled normally).

Examples:
    >>> faults = Faults()
    >>> faults.throttle(2, retry_after=0.5)
    >>> faults.take().kind, faults.take().retry_after, faults.take()
    ('throttle', 0.5, None)
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import attrs

from pinpoint_endpoints._errors import ValidationError
from pinpoint_endpoints._operations import OPERATIONS

__all__ = ["Fault", "Faults", "RateLimiter"]

RANDOM_KINDS: Final = frozenset({"throttle", "500", "503", "reset", "truncate"})


@attrs.frozen(kw_only=True)
class Fault:
    """One injected fault.

    ``kind`` is ``"throttle"`` (429), ``"fail"`` (``status``), ``"delay"`` (wait ``seconds``,
    then answer normally), ``"reset"`` (close with a TCP RST, no reply) or ``"truncate"``
    (a reply whose Content-Length is larger than its body, then close).
    """

    kind: str
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    body: bytes | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    error_type: str | None = None
    operation: str | None = None
    """Only a request to this operation takes the fault; ``None``: any request."""


def _operation(name: str | None) -> str | None:
    if name is not None and name not in OPERATIONS:
        raise ValidationError(f"operation must be one of {', '.join(OPERATIONS)}, got {name!r}")
    return name


class Faults:
    """The fault queue of one emulator (``emu.faults``). Thread-safe.

    Examples:
        >>> emu.faults.throttle(1, retry_after=0.2)  # doctest: +SKIP
        >>> emu.faults.fail(503, n=2)  # doctest: +SKIP
        >>> emu.faults.random(0.1, kinds=("throttle", "reset"), seed=7)  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self._random: tuple[float, tuple[str, ...], random.Random] | None = None

    def __repr__(self) -> str:
        with self._lock:
            return f"Faults(queued={len(self._queue)}, random={self._random is not None})"

    def _add(self, fault: Fault, n: int, operation: str | None) -> None:
        if n < 0:
            raise ValidationError(f"n must be >= 0, got {n}")
        fault = attrs.evolve(fault, operation=_operation(operation))
        with self._lock:
            self._queue.extend([fault] * n)

    def throttle(self, n: int = 1, retry_after: float | None = None, *,
                 operation: str | None = None) -> None:
        """Answer the next ``n`` requests (to ``operation``, if given) 429
        TooManyRequestsException (with ``Retry-After`` seconds when given)."""
        self._add(Fault(kind="throttle", status=429, retry_after=retry_after), n, operation)

    def fail(
        self,
        status: int,
        n: int = 1,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (to ``operation``, if given) with ``status``.

        Args:
            status: the HTTP status, e.g. 500 or 503.
            body: the raw body; ``None`` sends a service-like JSON error.
            headers: extra reply headers.
            error_type: the ``x-amzn-ErrorType``; ``None`` picks the service's name for the
                status (none for statuses the service does not model, unless ``body`` is None).
        """
        if not 100 <= status <= 599:
            raise ValidationError(f"status must be an HTTP status, got {status}")
        fault = Fault(
            kind="fail", status=status, body=body, headers=dict(headers or {}),
            error_type=error_type,
        )
        self._add(fault, n, operation)

    def delay(self, seconds: float, n: int = 1, *, operation: str | None = None) -> None:
        """Wait ``seconds`` before handling each of the next ``n`` requests (normally)."""
        if seconds < 0:
            raise ValidationError(f"seconds must be >= 0, got {seconds}")
        self._add(Fault(kind="delay", seconds=seconds), n, operation)

    def reset(self, n: int = 1, *, operation: str | None = None) -> None:
        """Close the connection of the next ``n`` requests with a TCP RST and no reply."""
        self._add(Fault(kind="reset"), n, operation)

    def truncate(self, n: int = 1, *, operation: str | None = None) -> None:
        """Cut the next ``n`` replies short: Content-Length larger than the body, then close."""
        self._add(Fault(kind="truncate", status=200), n, operation)

    def random(
        self,
        rate: float,
        kinds: Sequence[str] = ("throttle", "500", "reset"),
        seed: int | None = None,
    ) -> None:
        """From now on, each request draws: with probability ``rate`` it gets a fault picked
        from ``kinds`` (``"throttle"``, ``"500"``, ``"503"``, ``"reset"``, ``"truncate"``).
        Queued faults go first. `clear` stops it; ``rate=0`` too."""
        if not 0.0 <= rate <= 1.0:
            raise ValidationError(f"rate must be within 0..1, got {rate}")
        unknown = set(kinds) - RANDOM_KINDS
        if unknown or not kinds:
            raise ValidationError(f"kinds must be among {sorted(RANDOM_KINDS)}, got {list(kinds)}")
        with self._lock:
            self._random = (rate, tuple(kinds), random.Random(seed)) if rate > 0 else None

    def clear(self) -> None:
        """Drop every queued fault and stop random faults."""
        with self._lock:
            self._queue.clear()
            self._random = None

    @property
    def pending(self) -> int:
        """How many queued faults are still to be applied."""
        with self._lock:
            return len(self._queue)

    def take(self, operation: str | None = None) -> Fault | None:
        """The fault for a request to ``operation`` (``None``: a path no operation has), if
        any (used by the server)."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.operation is None or fault.operation == operation:
                    del self._queue[index]
                    return fault
            if self._random is None:
                return None
            rate, kinds, rng = self._random
            if rng.random() >= rate:
                return None
            kind = rng.choice(kinds)
        if kind == "throttle":
            return Fault(kind="throttle", status=429)
        if kind in ("reset", "truncate"):
            return Fault(kind=kind, status=200)
        return Fault(kind="fail", status=int(kind))


class RateLimiter:
    """Token buckets per operation: ``rates`` maps "GetEndpoint", ... to requests a second.

    The bucket holds up to one second's worth of requests (at least one), as the service's
    burst allowance; a request that finds it empty is throttled.

    Examples:
        >>> limiter = RateLimiter({"GetEndpoint": 1.0}, clock=lambda: 0.0)
        >>> limiter.allow("GetEndpoint"), limiter.allow("GetEndpoint"), limiter.allow("X")
        (True, False, True)
    """

    def __init__(
        self, rates: Mapping[str, float], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        for name, rate in rates.items():
            _operation(name)
            if rate <= 0:
                raise ValidationError(f"rate for {name} must be > 0, got {rate}")
        self._rates = dict(rates)
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._buckets = {name: (max(1.0, rate), now) for name, rate in rates.items()}

    def allow(self, operation: str) -> bool:
        """Take a token for one request; ``False`` means answer 429."""
        rate = self._rates.get(operation)
        if rate is None:
            return True
        with self._lock:
            tokens, last = self._buckets[operation]
            now = self._clock()
            tokens = min(max(1.0, rate), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[operation] = (tokens, now)
                return False
            self._buckets[operation] = (tokens - 1.0, now)
            return True
