"""pytest plugin (auto-loaded through the ``pytest11`` entry point): emulator fixtures.

Fixtures:
    pinpoint_emulator: a running `Emulator`, fresh for each test.
    pinpoint_client: a `pinpoint_endpoints.Client` pointed at that emulator.

Examples:
    >>> def test_signup(pinpoint_client, pinpoint_emulator):  # doctest: +SKIP
    ...     pinpoint_client.update_endpoint("app", "ep-1", EndpointRequest(address="+12065550100"))
    ...     assert pinpoint_emulator.get("app", "ep-1").endpoint_status == "ACTIVE"

Override ``pinpoint_emulator`` in a conftest to change its settings, e.g.
``Emulator(rate_limits={"GetEndpoint": 5})``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pinpoint_endpoints import Client
    from pinpoint_endpoints.testing import Emulator


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
