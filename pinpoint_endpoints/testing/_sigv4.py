"""An independent SigV4 verifier, written from the AWS Signature Version 4 specification.

It shares no code with botocore's signer, so a signing bug cannot hide behind a matching
verifier. The emulator uses it to answer 403 as the service does; tests use it to check that
our requests (and boto3's) verify.

Examples:
    >>> from datetime import datetime, timezone
    >>> verify("GET", "/", {"Host": "x"}, b"", keys={}, region="us-east-1",
    ...        now=datetime.now(timezone.utc))
    Traceback (most recent call last):
    ...
    pinpoint_endpoints.testing._sigv4.SignatureError: Missing Authentication Token
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Final
from urllib.parse import quote, unquote

import attrs

__all__ = ["SignatureError", "Verified", "canonical_uri", "normalize_path", "verify"]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
_AUTH: Final = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)
_SPACES: Final = re.compile(r"\s+")
_AMZ_DATE: Final = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", re.ASCII)


class SignatureError(Exception):
    """Why a request's signature was refused: ``code`` is the service's error type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@attrs.frozen
class Verified:
    """A request that verified: who signed it, and for which scope."""

    access_key: str
    region: str
    service: str
    timestamp: datetime
    session_token: str | None


def normalize_path(path: str) -> str:
    """Normalise ``.``, ``..`` and empty segments as botocore (``posixpath.normpath``) and the
    JavaScript SDK do: no trailing ``/`` is added, one the path had is kept.

    Examples:
        >>> normalize_path("/v1/apps/a/endpoints/."), normalize_path("/a//b/../c/")
        ('/v1/apps/a/endpoints', '/a/c/')
    """
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment not in ("", "."):
            out.append(segment)
    trailing = "/" if out and path.endswith("/") else ""
    return "/" + "/".join(out) + trailing


def canonical_uri(raw_path: str) -> str:
    """The canonical URI of a (non-S3) request: the path as sent, normalized, encoded again.

    Examples:
        >>> canonical_uri("/v1/apps/a%20b/endpoints/c%2Fd")
        '/v1/apps/a%2520b/endpoints/c%252Fd'
    """
    path = normalize_path(raw_path or "/")
    return quote(path, safe="/~")


def _canonical_query(query: str) -> str:
    pairs: list[tuple[str, str]] = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _parse_amz_date(value: str) -> datetime:
    """``X-Amz-Date`` (``20260128T235511Z``) as an aware UTC datetime."""
    found = _AMZ_DATE.fullmatch(value)
    try:
        if found is None:
            raise ValueError(value)
        y, mo, d, h, mi, s = map(int, found.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError(
            "IncompleteSignatureException", "X-Amz-Date header is missing or malformed."
        ) from None


@lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key: HMAC chain over date, region, service and ``aws4_request`` (one a
    day per key, so it is remembered)."""
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: Mapping[str, str],
    region: str,
    now: datetime,
    service: str = "mobiletargeting",
    max_skew: timedelta = timedelta(minutes=15),
) -> Verified:
    """Check a request's ``Authorization`` header; raise `SignatureError` as the service would.

    Args:
        method: the HTTP method.
        target: the request target as sent (raw path and query, percent-encoded).
        headers: the request headers (any case).
        body: the raw request body.
        keys: the accepted access key id -> secret key pairs.
        region, service: the scope the signature must carry.
        now: the server's clock (aware UTC).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization")
    if not auth:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH.match(auth.strip())
    if match is None:
        raise SignatureError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters with algorithm AWS4-HMAC-SHA256.",
        )
    cred_parts = match["cred"].split("/")
    if len(cred_parts) != 5 or cred_parts[4] != "aws4_request":
        raise SignatureError(
            "IncompleteSignatureException",
            "Credential should be scoped to a valid region, service and aws4_request.",
        )
    access_key, date, scope_region, scope_service, _ = cred_parts
    secret = keys.get(access_key)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    if scope_service != service:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    if scope_region != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
        )
    amz_date = lower.get("x-amz-date", "")
    when = _parse_amz_date(amz_date)
    if date != amz_date[:8]:
        raise SignatureError(
            "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from "
            "ISO-8601 version of date from HTTP."
        )
    if when < now - max_skew:
        earliest = (now - max_skew).strftime("%Y%m%dT%H%M%SZ")
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {earliest} "
            f"({now:%Y%m%dT%H%M%SZ} - {int(max_skew.total_seconds() // 60)} min.)",
        )
    if when > now + max_skew:
        latest = (now + max_skew).strftime("%Y%m%dT%H%M%SZ")
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {latest} "
            f"({now:%Y%m%dT%H%M%SZ} + {int(max_skew.total_seconds() // 60)} min.)",
        )
    signed = match["signed"].split(";")
    if "host" not in signed or signed != sorted(signed):
        raise SignatureError(
            "InvalidSignatureException", "SignedHeaders must be sorted and include 'host'."
        )
    token = lower.get("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed:
        raise SignatureError(
            "InvalidSignatureException", "'X-Amz-Security-Token' must be a signed header."
        )
    for name in signed:
        if name not in lower:
            raise SignatureError(
                "InvalidSignatureException", f"Signed header '{name}' is not in the request."
            )
    path, _, query = target.partition("?")
    canonical_headers = "".join(
        f"{name}:{_SPACES.sub(' ', lower[name].strip())}\n" for name in signed
    )
    canonical_request = "\n".join([
        method.upper(),
        canonical_uri(path),
        _canonical_query(query),
        canonical_headers,
        ";".join(signed),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{scope_region}/{scope_service}/aws4_request"
    string_to_sign = "\n".join([
        ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    ])
    key = signing_key(secret, date, scope_region, scope_service)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["sig"]):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return Verified(access_key, scope_region, scope_service, when, token)
