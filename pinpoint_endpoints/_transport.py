"""One attempt on the wire: a prepared request through a pooled `requests` adapter.

The adapter is used directly (no per-call session merging of cookies, proxies or hooks); the
settings a session would merge are resolved once in `_config`. `_LeanAdapter` trims what
`HTTPAdapter.send` redoes on every call for a client that talks to one host: the pool lookup,
the proxy-aware URL split and the cookie-extracting response build. Every failure to get a
whole reply becomes `TransportError` with the original as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import requests.adapters
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

from pinpoint_endpoints._errors import TransportError
from pinpoint_endpoints._redact import install_log_filters, scrubbing_third_party_logs

__all__ = ["Reply", "Timeout", "Transport", "where"]

Timeout = float | tuple[float, float]


class Reply:
    """A complete HTTP reply (a plain class: it is made once an attempt)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self) -> str:
        return f"Reply({self.status}, <{len(self.body)} bytes>)"


class _LeanAdapter(requests.adapters.HTTPAdapter):
    """`HTTPAdapter` with per-host work done once.

    Only the hooks `HTTPAdapter.send` documents for subclasses are overridden, so test doubles
    that patch ``HTTPAdapter.send`` (``responses``) still see every request.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pools: dict[tuple[str, object, object], Any] = {}

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any,
        proxies: Mapping[str, str] | None = None, cert: Any = None,
    ) -> Any:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        url = str(request.url)
        key = (url[: url.find("/", url.find("//") + 2)], verify, cert)
        pool = self._pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        if proxies:
            return str(super().request_url(request, proxies))
        url = str(request.url)
        return url[url.find("/", url.find("//") + 2):]

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = resp.status
        response.headers = resp.headers  # urllib3's HTTPHeaderDict: already case-insensitive
        response.raw = resp
        response.reason = resp.reason
        response.url = str(req.url)
        response.request = req
        response.connection = self
        return response

    def close(self) -> None:
        self._pools.clear()
        super().close()


class Transport:
    """Sends prepared requests over one connection pool. Safe to share between threads."""

    def __init__(
        self, *, max_pool_connections: int, verify: bool | str, proxies: Mapping[str, str]
    ) -> None:
        self._adapter = _LeanAdapter(
            pool_connections=1, pool_maxsize=max_pool_connections, max_retries=0
        )
        self._verify = verify
        self._proxies = dict(proxies)
        install_log_filters()

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        """Send one request and read the whole reply, or raise `TransportError`.

        ``headers`` is sent as given: a plain dict whose names are spelt as they go out.
        """
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = headers  # type: ignore[assignment]
        prepared.body = body or None
        prepared.hooks = {"response": []}
        try:
            with scrubbing_third_party_logs():
                response = self._adapter.send(
                    prepared, timeout=timeout, verify=self._verify, proxies=self._proxies
                )
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            raise TransportError(f"{_describe(exc)} ({where(url)})") from exc
        try:
            content = response.raw.read(decode_content=True)
        except (Urllib3Error, OSError) as exc:
            raise TransportError(f"{_describe(exc)} ({where(url)})") from exc
        return Reply(response.status_code, response.headers, content)

    def close(self) -> None:
        self._adapter.close()


def where(url: str) -> str:
    """The scheme and host of ``url``: where the failure happened, without the (id-bearing)
    path."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _describe(exc: BaseException) -> str:
    """Name a failure of the send (requests' exceptions) or of the body read (urllib3's)."""
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, (requests.ReadTimeout, ReadTimeoutError)) or (
        # a read that times out mid-body surfaces as ConnectionError(ReadTimeoutError(...))
        exc.args and isinstance(exc.args[0], ReadTimeoutError)
    ):
        return "timed out waiting for the reply"
    if isinstance(exc, (requests.exceptions.SSLError, Urllib3SSLError)):
        return "TLS handshake or certificate verification failed"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, ProtocolError)):
        # ProtocolError: the body read straight from urllib3 (requests would wrap it)
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

