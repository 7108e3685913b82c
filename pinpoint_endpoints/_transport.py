"""One attempt on the wire: a prepared request through a pooled `requests` adapter.

The adapter is used directly (no per-call session merging of cookies, proxies or hooks); the
settings a session would merge are resolved once in `_config`. Every failure to get a whole
reply becomes `TransportError` with the original as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from pinpoint_endpoints._errors import TransportError
from pinpoint_endpoints._redact import install_log_filters, scrubbing_third_party_logs

__all__ = ["Reply", "Transport"]

Timeout = float | tuple[float, float]


@attrs.frozen
class Reply:
    """A complete HTTP reply."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport:
    """Sends prepared requests over one connection pool. Safe to share between threads."""

    def __init__(
        self, *, max_pool_connections: int, verify: bool | str, proxies: Mapping[str, str]
    ) -> None:
        self._adapter = requests.adapters.HTTPAdapter(
            pool_connections=1, pool_maxsize=max_pool_connections, max_retries=0
        )
        self._verify = verify
        self._proxies = dict(proxies)
        install_log_filters()

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        """Send one request and read the whole reply, or raise `TransportError`."""
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(headers)
        prepared.body = body or None
        prepared.hooks = {"response": []}
        try:
            with scrubbing_third_party_logs():
                response = self._adapter.send(
                    prepared, timeout=timeout, verify=self._verify, proxies=self._proxies
                )
                content = response.content
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            raise TransportError(_describe(exc)) from exc
        return Reply(response.status_code, response.headers, content)

    def close(self) -> None:
        self._adapter.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, (requests.ReadTimeout, ReadTimeoutError)) or (
        # a read that times out mid-body surfaces as ConnectionError(ReadTimeoutError(...))
        exc.args and isinstance(exc.args[0], ReadTimeoutError)
    ):
        return "timed out waiting for the reply"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake or certificate verification failed"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the reply was cut short (connection closed mid-body)"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Connection refused" in text:
            return "connection refused"
        if "reset" in text.lower():
            return "connection reset by peer"
        if "RemoteDisconnected" in text or "closed connection" in text.lower():
            return "the server closed the connection without replying"
        if "Name or service not known" in text or "NameResolution" in text:
            return "could not resolve the host name"
        return "connection failed"
    return f"{type(exc).__name__}"
