"""pytest plugin (auto-loaded through the ``pytest11`` entry point): emulator fixtures.

Fixtures:
    pinpoint_emulator: a running `Emulator`, fresh for each test.
    pinpoint_client: a `pinpoint_endpoints.Client` pointed at that emulator.
    pinpoint_async_client: an `AsyncClient` pointed at it, for async tests (pytest-asyncio,
        or anyio's plugin); needs the ``async`` extra.

Examples:
    >>> def test_signup(pinpoint_client, pinpoint_emulator):  # doctest: +SKIP
    ...     pinpoint_client.update_endpoint("app", "ep-1", EndpointRequest(address="+12065550100"))
    ...     assert pinpoint_emulator.get("app", "ep-1").endpoint_status == "ACTIVE"

Override ``pinpoint_emulator`` in a conftest to change its settings, e.g.
``Emulator(rate_limits={"GetEndpoint": 5})``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pinpoint_endpoints import AsyncClient, Client
    from pinpoint_endpoints.testing import Emulator

_async_fixture: Callable[[Callable[..., Any]], Any]
try:  # pytest-asyncio (strict mode) runs only the async fixtures it marks
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # anyio's plugin, or none: a plain fixture
    _async_fixture = pytest.fixture


@pytest.fixture
def pinpoint_emulator() -> Iterator[Emulator]:
    """A local Pinpoint Endpoint emulator on loopback, with an empty store, for one test."""
    from pinpoint_endpoints.testing import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def pinpoint_client(pinpoint_emulator: Emulator) -> Iterator[Client]:
    """A `Client` talking to ``pinpoint_emulator`` with its key pair; closed after the test."""
    with pinpoint_emulator.client() as client:
        yield client


@_async_fixture
async def pinpoint_async_client(pinpoint_emulator: Emulator) -> AsyncIterator[AsyncClient]:
    """An `AsyncClient` talking to ``pinpoint_emulator``; closed after the test."""
    async with pinpoint_emulator.async_client() as client:
        yield client
