"""SigV4 signing through botocore's `SigV4Auth`, with a correctable clock.

botocore's signer reads the wall clock itself and logs the canonical request (which holds the
session token) at DEBUG. Ours takes the time from its clock plus the offset learnt from a
"signature expired" reply, and logs nothing.

The canonical request, string to sign and signature are botocore's own methods. What is
trimmed is what they are fed: a plain request object instead of `AWSRequest` (no per-call
`prepare()`), headers selected into a dict instead of botocore's email-based `HTTPHeaders`, and
the derived signing key kept per secret, day and region instead of four HMACs a call.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import time
from collections.abc import Callable, Mapping
from hashlib import sha256
from typing import Any, Final

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth

__all__ = ["SIGNING_NAME", "Signer"]

SIGNING_NAME: Final = "mobiletargeting"
_UNSIGNED: Final = frozenset(SIGNED_HEADERS_BLACKLIST)


class _Request:
    """What `SigV4Auth`'s methods read from a request, and nothing else."""

    __slots__ = ("body", "context", "headers", "method", "params", "to_sign", "url")

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes,
                 timestamp: str) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.params: dict[str, str] = {}
        self.context = {"timestamp": timestamp}
        self.to_sign: _HeadersToSign | None = None


class _HeadersToSign(dict[str, str]):
    """The lower-cased headers to sign; the one method of `HTTPHeaders` botocore calls."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _Auth(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 for one region, fed cheaper containers; see the module docstring."""

    def __init__(self, region: str) -> None:
        super().__init__(None, SIGNING_NAME, region)
        self._key: tuple[str, str, bytes] = ("", "", b"")

    def headers_to_sign(self, request: _Request) -> _HeadersToSign:
        # selected once a request: the canonical request and the Authorization header both
        # need them, and the headers do not change in between
        if request.to_sign is not None:
            return request.to_sign
        selected = _HeadersToSign()
        for name, value in request.headers.items():
            lname = name.lower()
            if lname not in _UNSIGNED:
                selected[lname] = value
        if "host" not in selected:  # the client always sends Host; botocore's fallback
            selected["host"] = super().headers_to_sign(request)["host"]
        request.to_sign = selected
        return selected

    def signature(self, string_to_sign: str, request: _Request) -> str:
        secret = request.context["secret"]
        day = request.context["timestamp"][0:8]
        cached_secret, cached_day, key = self._key
        if cached_secret != secret or cached_day != day:
            k_date = self._sign(f"AWS4{secret}".encode(), day)
            k_region = self._sign(k_date, self._region_name)
            k_service = self._sign(k_region, self._service_name)
            key = self._sign(k_service, "aws4_request")
            self._key = (secret, day, key)  # one tuple: a racing thread sees old or new
        return hmac.new(key, string_to_sign.encode("utf-8"), sha256).hexdigest()

    def sign(self, request: _Request, credentials: Any) -> None:
        # SigV4Auth reads the keys from self.credentials; pass them per call instead, so one
        # instance serves every thread and every refresh of the credentials.
        request.context["secret"] = credentials.secret_key
        request.headers.pop("Authorization", None)
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        token = credentials.token
        if token:
            request.headers["X-Amz-Security-Token"] = token
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        scope = f"{credentials.access_key}/{self.credential_scope(request)}"
        signed = self.signed_headers(self.headers_to_sign(request))
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={signature}"
        )


class Signer:
    """Signs one attempt's request. Thread-safe; the clock offset is shared by the client."""

    def __init__(self, region: str, *, clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.offset = 0.0
        """Seconds to add to the local clock (learnt from the server's ``Date``)."""
        self._clock = clock
        self._auth = _Auth(region)

    def _timestamp(self) -> str:
        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock() + self.offset))

    def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, credentials: Any
    ) -> dict[str, str]:
        """Return ``headers`` plus the SigV4 headers (Authorization, X-Amz-Date, token)."""
        request = _Request(method, url, dict(headers), body, self._timestamp())
        self._auth.sign(request, credentials)
        return request.headers

    def learn_offset(self, server_date: str | None) -> bool:
        """Set the offset from a reply's ``Date`` header; ``False`` if it cannot be read."""
        if not server_date:
            return False
        import email.utils

        try:
            server = email.utils.parsedate_to_datetime(server_date)
        except (TypeError, ValueError, IndexError):
            return False
        if server.tzinfo is None:
            server = server.replace(tzinfo=_dt.timezone.utc)
        self.offset = server.timestamp() - self._clock()
        return True
