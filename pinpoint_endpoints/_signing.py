"""SigV4 signing through botocore's `SigV4Auth`, with a correctable clock.

botocore's signer reads the wall clock itself and logs the canonical request (which holds the
session token) at DEBUG. Ours takes the time from `Signer.now()`, which adds the offset learnt
from a "signature expired" reply, and logs nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest

__all__ = ["SIGNING_NAME", "Signer"]

SIGNING_NAME: Final = "mobiletargeting"


class _ClockedSigV4(SigV4Auth):  # type: ignore[misc]
    def __init__(self, credentials: Any, region: str, when: _dt.datetime) -> None:
        super().__init__(credentials, SIGNING_NAME, region)
        self._when = when

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


class Signer:
    """Signs one attempt's request. Thread-safe; the clock offset is shared by the client."""

    def __init__(
        self, region: str, *, wall_clock: Callable[[], _dt.datetime] | None = None
    ) -> None:
        self.region = region
        self.offset = 0.0
        """Seconds to add to the local clock (learnt from the server's ``Date``)."""
        self._wall_clock = wall_clock or (lambda: _dt.datetime.now(_dt.timezone.utc))

    def now(self) -> _dt.datetime:
        """The signing time: the local UTC clock plus the learnt offset, without tzinfo."""
        when = self._wall_clock() + _dt.timedelta(seconds=self.offset)
        return when.replace(tzinfo=None)

    def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, credentials: Any
    ) -> dict[str, str]:
        """Return ``headers`` plus the SigV4 headers (Authorization, X-Amz-Date, token)."""
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        _ClockedSigV4(credentials, self.region, self.now()).add_auth(request)
        return dict(request.headers.items())

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
        self.offset = (server - self._wall_clock()).total_seconds()
        return True
