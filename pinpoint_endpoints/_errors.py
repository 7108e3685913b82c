"""Everything this library raises, and the one place errors are built from a reply.

```
PinpointError                      base of everything this library raises
├── ValidationError (also ValueError)   bad input caught before sending
├── CredentialsError               no credentials could be found
├── TransportError                 connection refused/reset, DNS, TLS, timeouts, short reads
├── ResponseParseError             a 2xx reply whose body is not the documented shape
└── ServiceError                   any non-2xx reply
    ├── BadRequestException            400
    ├── ForbiddenException             403
    ├── NotFoundException              404
    ├── MethodNotAllowedException      405
    ├── PayloadTooLargeException       413
    ├── TooManyRequestsException       429
    └── InternalServerErrorException   500
```

Examples:
    >>> try:
    ...     client.get_endpoint("app", "missing")  # doctest: +SKIP
    ... except NotFoundException as e:
    ...     print(e)  # doctest: +SKIP
    NotFoundException (404) on GetEndpoint: Resource not found [request 1b2c...]
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from pinpoint_endpoints._redact import scrub

__all__ = [
    "THROTTLING_STATUSES",
    "BadRequestException",
    "CredentialsError",
    "ForbiddenException",
    "InternalServerErrorException",
    "MethodNotAllowedException",
    "NotFoundException",
    "PayloadTooLargeException",
    "PinpointError",
    "ResponseParseError",
    "ServiceError",
    "TooManyRequestsException",
    "TransportError",
    "ValidationError",
    "error_from_reply",
]

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
THROTTLING_STATUSES: Final = frozenset({429})
_MAX_MESSAGE: Final = 300


class PinpointError(Exception):
    """Base of every exception this library raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[PinpointError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    err = Exception.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class ValidationError(PinpointError, ValueError):
    """Bad input, caught before anything is sent."""


class CredentialsError(PinpointError):
    """No AWS credentials could be found; the message says where we looked."""


class TransportError(PinpointError):
    """The request did not get a complete reply: refused, reset, DNS, TLS, timeout, short read.

    The original exception is ``__cause__``. ``attempts`` tells how many attempts were made.
    """

    def __init__(self, message: str, *, operation: str = "", attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.attempts = attempts

    def __str__(self) -> str:
        where = f" on {self.operation}" if self.operation else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"TransportError{where}: {self.message}{tries}"


class ResponseParseError(PinpointError):
    """A 2xx reply whose body is not JSON or not the documented shape."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None,
        operation: str,
        paths: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.operation = operation
        self.paths = paths

    def __str__(self) -> str:
        req = f" [request {self.request_id}]" if self.request_id else ""
        return (
            f"ResponseParseError ({self.status_code}) on {self.operation}: {self.message}{req}"
        )


class ServiceError(PinpointError):
    """The service answered with a non-2xx status. Subclasses follow the status code."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        operation: str = "",
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.operation = operation
        self.headers: dict[str, str] = dict(headers or {})
        self.attempts = attempts

    @property
    def is_retryable(self) -> bool:
        """Whether a retry may succeed (429, 500, 502, 503, 504)."""
        return self.status_code in RETRYABLE_STATUSES

    @property
    def is_throttling(self) -> bool:
        """Whether the service asked us to slow down."""
        return self.status_code in THROTTLING_STATUSES or self.code in _THROTTLING_CODES

    @property
    def is_clock_skew(self) -> bool:
        """Whether the service refused our signature's timestamp (our clock is off)."""
        if self.status_code != 403:
            return False
        return self.code in _SKEW_CODES or bool(re.search(_SKEW_TEXT, self.message, re.IGNORECASE))

    def __str__(self) -> str:
        name = type(self).__name__
        where = f" on {self.operation}" if self.operation else ""
        req = f" [request {self.request_id}]" if self.request_id else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{name} ({self.status_code}){where}: {self.message}{req}{tries}"


class BadRequestException(ServiceError):
    """400: the request is malformed or breaks a limit (attributes, endpoints per user)."""


class ForbiddenException(ServiceError):
    """403: access denied, or the signature was refused."""


class NotFoundException(ServiceError):
    """404: no such application or endpoint."""


class MethodNotAllowedException(ServiceError):
    """405: the method is not allowed on this resource."""


class PayloadTooLargeException(ServiceError):
    """413: the request body is over the service's 7 MB limit."""


class TooManyRequestsException(ServiceError):
    """429: throttled; retried with backoff by default."""


class InternalServerErrorException(ServiceError):
    """500: the service failed; retried with backoff by default."""


STATUS_ERRORS: Final[Mapping[int, type[ServiceError]]] = {
    400: BadRequestException,
    403: ForbiddenException,
    404: NotFoundException,
    405: MethodNotAllowedException,
    413: PayloadTooLargeException,
    429: TooManyRequestsException,
    500: InternalServerErrorException,
}
_THROTTLING_CODES: Final = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)
_SKEW_CODES: Final = frozenset({"RequestTimeTooSkewed", "RequestExpired", "SignatureExpired"})
# patterns as text, compiled by `re` on first use (an error path), not at import
_SKEW_TEXT: Final = (r"signature expired|signature not yet current|request time too skewed"
                      r"|too skewed")
_MESSAGE_IN_TEXT: Final = r'"[Mm]essage"\s*:\s*"((?:[^"\\]|\\.)*)'
_TITLE: Final = r"<title[^>]*>(.*?)</title>"
_TAG: Final = r"<[^>]+>"
_SPACE: Final = r"\s+"


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``x-amz-retry-after`` (ms) or ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date; a date in the past means 0.
    """
    amz = headers.get("x-amz-retry-after")
    if amz is not None:
        try:
            return max(0.0, float(amz) / 1000.0)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _short(text: str) -> str:
    text = re.sub(_SPACE, " ", text).strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _message_and_request_id(status: int, body: bytes) -> tuple[str, str | None]:
    """A readable message from whatever the body is: JSON, truncated JSON, HTML or nothing."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = data.get("Message", data.get("message"))
        request_id = data.get("RequestID", data.get("RequestId"))
        rid = request_id if isinstance(request_id, str) else None
        if isinstance(message, str) and message:
            return _short(message), rid
        if text.strip():
            return _short(text), rid
    found = re.search(_MESSAGE_IN_TEXT, text)
    if found:
        return _short(found.group(1).replace('\\"', '"')), None
    import html  # only for a body that is not JSON: not worth a cold start's millisecond

    title = re.search(_TITLE, text, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        return _short(html.unescape(title.group(1))), None
    if "<" in text and ">" in text:
        stripped = _short(html.unescape(re.sub(_TAG, " ", text)))
        if stripped:
            return stripped, None
    if text.strip():
        return _short(text), None
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown status"
    return f"{phrase} (no message in the reply)", None


def error_from_reply(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    operation: str,
    now: float | None = None,
) -> ServiceError:
    """Build the `ServiceError` subclass for a non-2xx reply. The only place errors are made."""
    message, body_request_id = _message_and_request_id(status, body)
    error_type = headers.get("x-amzn-ErrorType")
    code = error_type.split(":", 1)[0].strip() or None if error_type else None
    cls = STATUS_ERRORS.get(status, ServiceError)
    return cls(
        scrub(message),
        status_code=status,
        code=code,
        request_id=headers.get("x-amzn-RequestId") or body_request_id,
        retry_after=parse_retry_after(headers, now),
        operation=operation,
        headers=headers,
    )
