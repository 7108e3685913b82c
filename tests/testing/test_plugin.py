"""The pytest plugin's fixtures, as a user's test suite sees them."""

from __future__ import annotations

import pytest

from pinpoint_endpoints import Client, EndpointRequest
from pinpoint_endpoints.testing import Emulator

pytest_plugins = ["pytester"]


def test_fixtures_work_in_a_users_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pinpoint_endpoints import EndpointRequest

        def test_first(pinpoint_client, pinpoint_emulator):
            pinpoint_client.update_endpoint("app", "ep", EndpointRequest(address="x"))
            assert pinpoint_emulator.get("app", "ep").endpoint_status == "ACTIVE"

        def test_second_starts_empty(pinpoint_emulator):
            assert pinpoint_emulator.endpoints("app") == {}
        """
    )
    # No conftest and no -p: the installed ``pytest11`` entry point provides the fixtures. The
    # dev environment has pytest-asyncio, which warns (an error under -W error) in any suite
    # that leaves its loop scope unset: the suite sets it, as its users must.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-W", "error")
    result.assert_outcomes(passed=2)


def test_fixtures_here(pinpoint_emulator: Emulator, pinpoint_client: Client) -> None:
    pinpoint_client.update_endpoint("app", "ep", EndpointRequest(metrics={"m": 1}))
    assert pinpoint_emulator.get("app", "ep").metrics == {"m": 1.0}  # type: ignore[union-attr]


def test_the_async_fixture_works_in_a_users_async_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pinpoint_endpoints import EndpointRequest

        @pytest.mark.asyncio
        async def test_signup(pinpoint_async_client, pinpoint_emulator):
            await pinpoint_async_client.update_endpoint(
                "app", "ep", EndpointRequest(address="x"))
            got = await pinpoint_async_client.get_endpoint("app", "ep")
            assert got.endpoint_status == "ACTIVE"
            assert pinpoint_emulator.get("app", "ep").address == "x"
        """
    )
    result = pytester.runpytest_subprocess(
        "-W", "error", "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(passed=1)
