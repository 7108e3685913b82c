"""One attempt on the wire for `AsyncClient`: aiohttp, behind the ``async`` extra.

The session is made on first use, in the event loop of that use, and the transport stays
bound to that loop: aiohttp's connections belong to one loop. Every failure to get a whole
reply becomes `TransportError`, named as the sync transport names it, with the original as
``__cause__``. A cancelled send closes its connection (aiohttp does, on the way out of the
``async with``) and lets `CancelledError` through.

aiohttp's client logs no request lines or URLs, so there is nothing to scrub (unlike urllib3).

Examples:
    >>> transport = AsyncTransport(max_pool_connections=4, verify=True, proxies={})
    >>> transport.loop is None  # bound on first use
    True
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from typing import Final

import aiohttp
from yarl import URL

from pinpoint_endpoints._errors import PinpointError, TransportError
from pinpoint_endpoints._transport import Reply, Timeout, where

__all__ = ["AsyncTransport"]

_SKIP: Final = frozenset({"Accept", "Accept-Encoding", "Content-Type"})


class AsyncTransport:
    """Sends requests over one aiohttp connection pool, on the event loop first used."""

    def __init__(
        self, *, max_pool_connections: int, verify: bool | str, proxies: Mapping[str, str]
    ) -> None:
        self._limit = max_pool_connections
        self._verify = verify
        self._proxies = dict(proxies)
        self._session: aiohttp.ClientSession | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        """Bind to the running loop on first use; refuse a call from another loop."""
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif self.loop is not loop:
            raise PinpointError(
                "this AsyncClient belongs to the event loop it was first used in; "
                "make one client per event loop"
            )

    def _open(self) -> aiohttp.ClientSession:
        verify = self._verify
        tls: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        )
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit, ssl=tls),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_SKIP,
            auto_decompress=False,
        )
        # aiohttp silently resends an idempotent request once when a pooled connection turns
        # out closed; the retry policy owns every resend (attempt counts, the quota, on_retry),
        # so that is turned off (no public switch: the attribute is aiohttp's own).
        session._retry_connection = False
        self._session = session
        return session

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        """Send one request and read the whole reply, or raise `TransportError`."""
        session = self._session or self._open()
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        try:
            async with session.request(
                method, URL(url, encoded=True), headers=headers, data=body or None,
                allow_redirects=False, proxy=self._proxies.get(url.partition(":")[0]),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
            ) as response:
                content = await response.read()
                return Reply(response.status, response.headers, content)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise TransportError(f"{_describe(exc)} ({where(url)})") from exc

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _describe(exc: BaseException) -> str:
    """Name a failure the way the sync transport does, from aiohttp's exceptions."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "timed out connecting"
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's read timeouts subclass it
        return "timed out waiting for the reply"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "TLS handshake or certificate verification failed"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the reply was cut short (connection closed mid-body)"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without replying"
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(cause, socket.gaierror):
        return "could not resolve the host name"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, ConnectionResetError) or "reset" in str(exc).lower():
        return "connection reset by peer"
    return "connection failed"
