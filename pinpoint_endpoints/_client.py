"""`Client`: validate -> build the request -> retry loop over signed attempts -> parse.

An operation is data (`_Operation`); the three share one code path.
"""

from __future__ import annotations

import json
import logging
import platform
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import attrs

from pinpoint_endpoints import _convert
from pinpoint_endpoints._config import (
    CredentialSource,
    host_header,
    resolve_config,
    warn_if_cleartext,
)
from pinpoint_endpoints._errors import (
    ResponseParseError,
    ValidationError,
)
from pinpoint_endpoints._models import EndpointRequest, EndpointResponse, MessageBody
from pinpoint_endpoints._redact import redact_text
from pinpoint_endpoints._retry import (
    AdaptiveRateLimiter,
    RetryPolicy,
    RetryQuota,
    call_with_retries,
)
from pinpoint_endpoints._signing import Signer
from pinpoint_endpoints._transport import Reply, Timeout, Transport
from pinpoint_endpoints._version import __version__

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = ["Client"]

log: Final = logging.getLogger("pinpoint_endpoints")

DEFAULT_TIMEOUT: Final = (10.0, 60.0)
_BAD_ENDPOINT_CHARS: Final = frozenset("${}")
_USER_AGENT: Final = (
    f"pinpoint-endpoints/{__version__} python/{platform.python_version()} "
    f"{platform.system().lower() or 'unknown'}"
)


@attrs.frozen
class _Operation:
    name: str
    method: str
    output: type[Any]


GET_ENDPOINT: Final = _Operation("GetEndpoint", "GET", EndpointResponse)
UPDATE_ENDPOINT: Final = _Operation("UpdateEndpoint", "PUT", MessageBody)
DELETE_ENDPOINT: Final = _Operation("DeleteEndpoint", "DELETE", EndpointResponse)


def _segment(name: str, value: object, *, endpoint: bool) -> str:
    """Check one id and percent-encode it exactly as botocore does (``/`` included), or raise
    `ValidationError` before anything is sent."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValidationError(f"{name} must not be empty")
    if value in (".", ".."):
        raise ValidationError(f"{name} must not be {value!r}: it would address another resource")
    # an id may be a phone number or an email: messages show it redacted
    if endpoint and not _BAD_ENDPOINT_CHARS.isdisjoint(value):
        raise ValidationError(f"{name} {redact_text(value)} must not contain '$', '{{' or '}}'")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"{name} {redact_text(value)} holds a lone surrogate: it is not text that UTF-8 "
            "(and so a URL) can carry"
        ) from None
    return quote(raw, safe="-._~")


class _Shared:
    """What a client and its `with_options` children share: pool, signer, quota, limiter."""

    def __init__(
        self,
        *,
        region: str | None,
        profile: str | None,
        credentials: Credentials | None,
        endpoint_url: str | None,
        max_pool_connections: int,
        retry: RetryPolicy,
    ) -> None:
        config = resolve_config(region, profile, endpoint_url)
        self.config = config
        self.base_url = config.endpoint_url + "/v1/apps/"
        self.host = host_header(config.endpoint_url)
        warn_if_cleartext(config.endpoint_url)
        self.credentials = CredentialSource(credentials, profile)
        self.signer = Signer(config.region)
        self.transport = Transport(
            max_pool_connections=max_pool_connections,
            verify=config.verify,
            proxies=config.proxies,
        )
        self.quota = RetryQuota(
            retry.retry_quota, cost=retry.retry_cost, throttle_cost=retry.throttle_retry_cost
        )
        self.limiter = AdaptiveRateLimiter(clock=retry.clock, sleep=retry.sleep)
        self.closed = False


class Client:
    """A client for the Pinpoint Endpoint resource. One instance is safe to share by threads.

    Args:
        region: AWS region; else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's region.
        profile: a named profile of the AWS config files.
        credentials: botocore credentials; ``None`` uses botocore's default chain.
        endpoint_url: where to send requests; else ``AWS_ENDPOINT_URL_PINPOINT``,
            ``AWS_ENDPOINT_URL``, then the regional service URL (FIPS / dual-stack aware).
        retry: the `RetryPolicy`; ``None`` is ``RetryPolicy()`` (3 attempts).
        timeout: seconds, or ``(connect, read)``.
        max_pool_connections: connections kept open to the service.

    Examples:
        >>> with Client("us-east-1") as client:  # doctest: +SKIP
        ...     ep = client.get_endpoint("my-app", "device-1")
        ...     print(ep.location.city if ep.location else None)
    """

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
        if max_pool_connections < 1:
            raise ValidationError("max_pool_connections must be >= 1")
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = _check_timeout(timeout)
        self._shared = _Shared(
            region=region,
            profile=profile,
            credentials=credentials,
            endpoint_url=endpoint_url,
            max_pool_connections=max_pool_connections,
            retry=self._retry,
        )

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
        return f"Client(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: Timeout | None = None
    ) -> Client:
        """A client for one call site with other retry or timeout settings.

        It shares this client's connection pool, credentials, retry quota and clock offset;
        closing either closes both.

        Examples:
            >>> patient = client.with_options(retry=RetryPolicy(max_attempts=8))  # doctest: +SKIP
        """
        child = object.__new__(Client)
        child._retry = retry if retry is not None else self._retry
        child._timeout = _check_timeout(timeout) if timeout is not None else self._timeout
        child._shared = self._shared
        return child

    def get_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """GetEndpoint: read one endpoint.

        Raises:
            NotFoundException: no such application or endpoint.

        Examples:
            >>> ep = client.get_endpoint("my-app", "device-1")  # doctest: +SKIP
            >>> ep.channel_type, ep.endpoint_status  # doctest: +SKIP
            (<ChannelType.SMS: 'SMS'>, 'ACTIVE')
        """
        result: EndpointResponse = self._call(GET_ENDPOINT, application_id, endpoint_id, None)
        return result

    def update_endpoint(
        self, application_id: str, endpoint_id: str, request: EndpointRequest
    ) -> MessageBody:
        """UpdateEndpoint: create the endpoint or change the fields that are set (an upsert).

        Fields left ``None`` keep their current values; ``attributes``, ``metrics`` and user
        attributes merge per key.

        Examples:
            >>> client.update_endpoint("my-app", "device-1", EndpointRequest(  # doctest: +SKIP
            ...     channel_type=ChannelType.SMS, address="+12065550100"))
            MessageBody(request_id='...', message='Accepted')
        """
        if not isinstance(request, EndpointRequest):
            hint = (
                " (use EndpointRequest.from_dict(...) for a dict, or .to_request() on an "
                "EndpointResponse)"
            )
            raise ValidationError(
                f"request must be an EndpointRequest, got {type(request).__name__}{hint}"
            )
        result: MessageBody = self._call(UPDATE_ENDPOINT, application_id, endpoint_id, request)
        return result

    def delete_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """DeleteEndpoint: remove an endpoint and return it as it was.

        Examples:
            >>> gone = client.delete_endpoint("my-app", "device-1")  # doctest: +SKIP
            >>> gone.id  # doctest: +SKIP
            'device-1'
        """
        result: EndpointResponse = self._call(DELETE_ENDPOINT, application_id, endpoint_id, None)
        return result

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._shared.closed = True
        self._shared.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- one code path for every operation ---------------------------------------------------

    def _call(self, op: _Operation, app_id: str, endpoint_id: str, request: Any) -> Any:
        shared = self._shared
        if shared.closed:
            raise ValidationError("this client is closed")
        app = _segment("application_id", app_id, endpoint=False)
        endpoint = _segment("endpoint_id", endpoint_id, endpoint=True)
        url = f"{shared.base_url}{app}/endpoints/{endpoint}"
        headers = {
            "Host": shared.host,
            "User-Agent": _USER_AGENT,
            "amz-sdk-invocation-id": str(uuid.uuid4()),
        }
        body = b""
        if request is not None:
            try:
                body = json.dumps(request.to_dict(), allow_nan=False).encode("utf-8")
            except ValueError as exc:
                raise ValidationError(f"request cannot be sent as JSON: {exc}") from exc
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
        policy = self._retry

        def send(attempt: int, timeout: Timeout) -> Reply:
            headers["amz-sdk-request"] = f"attempt={attempt}; max={policy.max_attempts}"
            signed = shared.signer.sign(
                op.method, url, headers, body, shared.credentials.current()
            )
            return shared.transport.send(op.method, url, signed, body, timeout)

        reply = call_with_retries(
            send, operation=op.name, policy=policy, timeout=self._timeout, quota=shared.quota,
            limiter=shared.limiter,
            correct_clock=lambda reply_headers: shared.signer.learn_offset(
                reply_headers.get("Date")
            ),
        )
        return _parse(op, reply)



def _check_timeout(timeout: Timeout) -> Timeout:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if not all(isinstance(v, (int, float)) and v > 0 for v in values):
        raise ValidationError(
            f"timeout must be positive seconds or a (connect, read) pair, got {timeout!r}"
        )
    return timeout


def _parse(op: _Operation, reply: Reply) -> Any:
    def fail(message: str, paths: tuple[str, ...] = ()) -> ResponseParseError:
        return ResponseParseError(
            message, status_code=reply.status, request_id=reply.headers.get("x-amzn-RequestId"),
            operation=op.name,
            paths=paths,
        )

    try:
        data = json.loads(reply.body)
    except (ValueError, RecursionError):
        size = len(reply.body)
        raise fail(f"the body is not JSON ({size} bytes)") from None
    try:
        return _convert.from_wire(data, op.output)
    except _convert.ConversionError as exc:
        paths = tuple(m.rsplit(" @ ", 1)[-1] for m in exc.messages)
        raise fail("; ".join(exc.messages), paths) from None

