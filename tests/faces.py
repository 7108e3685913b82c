"""Both client faces behind one call signature, so a suite written once runs on each.

``make(face, **kwargs)`` gives a `Client` for ``"sync"``, and for ``"async"`` an `AsyncClient`
wrapped in `Blocking`, which runs each coroutine to completion on its own event loop. A
`RetryPolicy` with an injected ``sleep`` gets the same recorder as its ``async_sleep``, so a
suite's recorded sleeps hold for both faces.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator

FACES = ("sync", "async")


class Blocking:
    """An `AsyncClient` driven from sync code: the same methods, each run to completion on
    this adapter's own event loop (one thread at a time)."""

    def __init__(self, client: pe.AsyncClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self._shared = client._shared

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        def run(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(attr(*args, **kwargs))

        return run

    def __repr__(self) -> str:
        return repr(self.client)

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.client.close())
            self.loop.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def awaiting(sleep: Callable[[float], None]) -> Callable[[float], Awaitable[None]]:
    """An async sleep that reports to ``sleep`` (a test's recorder) and does not wait."""

    async def recorded(seconds: float) -> None:
        sleep(seconds)

    return recorded


def for_async(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the retry policy's injected sleep also used as its async sleep."""
    policy = kwargs.get("retry")
    if isinstance(policy, pe.RetryPolicy) and policy.sleep is not time.sleep:
        kwargs = {**kwargs, "retry": attrs.evolve(policy, async_sleep=awaiting(policy.sleep))}
    return kwargs


def make(face: str, emulator: Emulator | None = None, **kwargs: Any) -> Any:
    """A client of ``face`` (for ``emulator`` when given) with ``kwargs``; a context manager
    whose methods block, whichever the face."""
    if face == "sync":
        return emulator.client(**kwargs) if emulator else pe.Client(**kwargs)
    kwargs = for_async(kwargs)
    return Blocking(emulator.async_client(**kwargs) if emulator else pe.AsyncClient(**kwargs))
