"""What `Client` and `AsyncClient` share: the constructor, the per-client state (credentials,
signer, retry quota, rate limiter, transport) and the steps of a call around the send.

The two faces differ only in how they wait and send; everything here is the same for both.
"""

from __future__ import annotations

import platform
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from pinpoint_endpoints import _operations as ops
from pinpoint_endpoints._config import (
    Config,
    CredentialSource,
    host_header,
    resolve_config,
    warn_if_cleartext,
)
from pinpoint_endpoints._errors import ValidationError
from pinpoint_endpoints._retry import (
    AdaptiveRateLimiter,
    Attempts,
    RetryPolicy,
    RetryQuota,
    whole_number,
)
from pinpoint_endpoints._signing import Signer
from pinpoint_endpoints._version import __version__

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from pinpoint_endpoints._transport import Timeout

__all__ = ["DEFAULT_TIMEOUT", "Face", "Shared"]

DEFAULT_TIMEOUT: Final = (10.0, 60.0)
TransportT = TypeVar("TransportT")
FaceT = TypeVar("FaceT", bound="Face[Any]")
_USER_AGENT: Final = (
    f"pinpoint-endpoints/{__version__} python/{platform.python_version()} "
    f"{platform.system().lower() or 'unknown'}"
)


class Shared(Generic[TransportT]):
    """What a client and its `with_options` children share: transport, signer, quota, limiter."""

    def __init__(self, config: Config, credentials: CredentialSource, transport: TransportT,
                 retry: RetryPolicy) -> None:
        self.config = config
        self.base_url = config.endpoint_url
        self.host = host_header(config.endpoint_url)
        self.credentials = credentials
        self.signer = Signer(config.region)
        self.transport = transport
        self.quota = RetryQuota(
            retry.retry_quota, cost=retry.retry_cost, throttle_cost=retry.throttle_retry_cost
        )
        self.limiter = AdaptiveRateLimiter(clock=retry.clock)
        self.closed = False

    def prepare(self, request: ops.Request) -> tuple[str, dict[str, str]]:
        """The URL and the unsigned headers of one call (the same for every attempt)."""
        if self.closed:
            raise ValidationError("this client is closed")
        headers = {
            "Host": self.host,
            "User-Agent": _USER_AGENT,
            "amz-sdk-invocation-id": str(uuid.uuid4()),
        }
        if request.body:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(request.body))
        return self.base_url + request.path, headers

    def sign(self, request: ops.Request, url: str, headers: dict[str, str],
             attempts: Attempts, credentials: Any) -> dict[str, str]:
        """One attempt's signed headers, with frozen ``credentials`` read for this attempt."""
        limit = attempts.policy.max_attempts
        headers["amz-sdk-request"] = f"attempt={attempts.attempt}; max={limit}"
        return self.signer.sign(request.method, url, headers, request.body, credentials)

    def attempts(self, request: ops.Request, policy: RetryPolicy,
                 timeout: Timeout) -> Attempts:
        """The retry decisions for one call."""
        return Attempts(request.operation, policy, self.quota, self.limiter, timeout,
                        lambda reply_headers: self.signer.learn_offset(
                            reply_headers.get("Date")))


class Face(Generic[TransportT]):
    """The constructor, properties and `with_options` of both clients; see `Client`."""

    _shared: Shared[TransportT]

    def __init__(
        self,
        region: str | None = None,
        *,
        profile: str | None = None,
        credentials: Credentials | None = None,
        endpoint_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_pool_connections: int = 10,
    ) -> None:
        factory = self._transport_factory()
        whole_number("max_pool_connections", max_pool_connections, 1)
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = check_timeout(timeout)
        config = resolve_config(region, profile, endpoint_url)
        warn_if_cleartext(config.endpoint_url)
        transport = factory(
            max_pool_connections=max_pool_connections,
            verify=config.verify,
            proxies=config.proxies,
        )
        self._shared = Shared(config, CredentialSource(credentials, profile), transport,
                              self._retry)

    @classmethod
    def _transport_factory(cls) -> Callable[..., TransportT]:
        raise NotImplementedError

    @property
    def region(self) -> str:
        """The region requests are signed for."""
        return self._shared.config.region

    @property
    def endpoint_url(self) -> str:
        """The base URL requests go to."""
        return self._shared.config.endpoint_url

    @property
    def retry_policy(self) -> RetryPolicy:
        """This client's retry policy."""
        return self._retry

    def __repr__(self) -> str:
        return f"{type(self).__name__}(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def with_options(
        self: FaceT, *, retry: RetryPolicy | None = None, timeout: Timeout | None = None
    ) -> FaceT:
        """A client for one call site with other retry or timeout settings.

        It shares this client's connection pool, credentials, retry quota and clock offset;
        closing either closes both.

        Examples:
            >>> patient = client.with_options(retry=RetryPolicy(max_attempts=8))  # doctest: +SKIP
        """
        child = object.__new__(type(self))
        child._retry = retry if retry is not None else self._retry
        child._timeout = check_timeout(timeout) if timeout is not None else self._timeout
        child._shared = self._shared
        return child


def check_timeout(timeout: Timeout) -> Timeout:
    """``timeout`` if it is positive seconds or a (connect, read) pair; else `ValidationError`."""
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if not all(isinstance(v, (int, float)) and v > 0 for v in values):
        raise ValidationError(
            f"timeout must be positive seconds or a (connect, read) pair, got {timeout!r}"
        )
    return timeout
