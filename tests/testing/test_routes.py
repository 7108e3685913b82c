"""The router reads the operations table: 404/405/OPTIONS per path, dot segments as the SDKs
sign them, and rate limits and faults per operation name."""

from __future__ import annotations

import pytest
from botocore.config import Config

from pinpoint_endpoints import (
    EndpointBatchItem,
    EndpointRequest,
    EndpointUser,
    RetryPolicy,
    TooManyRequestsException,
)
from pinpoint_endpoints.testing import Emulator
from tests.testing.conftest import raw

ONCE = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize(("path", "allowed"), [
    ("/v1/apps/app/endpoints/ep", {"DELETE", "GET", "PUT"}),
    ("/v1/apps/app/endpoints", {"PUT"}),
    ("/v1/apps/app/users/ann", {"DELETE", "GET"}),
    ("/v1/apps/app/attributes/endpoint-custom-attributes", {"PUT"}),
])
def test_each_path_allows_its_operations_methods(emu: Emulator, path: str,
                                                 allowed: set[str]) -> None:
    options = raw(emu, "OPTIONS", path, signed=False)
    assert options.status == 200
    assert set(options.headers["Allow"].split(", ")) == allowed | {"OPTIONS"}
    assert options.headers["Access-Control-Allow-Origin"] == "*"
    for method in {"GET", "PUT", "DELETE", "POST", "PATCH"} - allowed:
        reply = raw(emu, method, path, b"{}")
        assert reply.status == 405, (method, path)
        assert reply.headers["x-amzn-ErrorType"] == "MethodNotAllowedException"
        assert set(reply.headers["Allow"].split(", ")) == allowed | {"OPTIONS"}


def test_put_on_the_collection_and_on_one_endpoint_are_two_operations(emu: Emulator) -> None:
    one = raw(emu, "PUT", "/v1/apps/app/endpoints/ep", b'{"Address": "x"}')
    batch = raw(emu, "PUT", "/v1/apps/app/endpoints", b'{"Item": [{"Id": "b"}]}')
    assert (one.status, batch.status) == (202, 202)
    assert set(emu.endpoints("app")) == {"ep", "b"}


@pytest.mark.parametrize("path", [
    "/", "/v1/apps", "/v1/apps/app", "/v1/apps/app/users", "/v1/apps/app/attributes",
    "/v1/apps/app/endpoints/ep/extra", "/v1/apps/app/users/u/x", "/v2/apps/a/endpoints/e",
    "/v1/apps//endpoints/e",
])
def test_unknown_paths_are_404(emu: Emulator, path: str) -> None:
    assert raw(emu, "GET", path).status == 404
    assert raw(emu, "OPTIONS", path, signed=False).status == 404


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/apps/app/endpoints/.", 405),      # -> /v1/apps/app/endpoints: PUT only
    ("PUT", "/v1/apps/app/endpoints/.", 400),      # -> UpdateEndpointsBatch without Item
    ("GET", "/v1/apps/app/endpoints/..", 404),     # -> /v1/apps/app
    ("GET", "/v1/apps/app/users/x/../../endpoints/ep", 404),  # -> GetEndpoint, none stored
    ("GET", "/v1/apps/app/endpoints//ep", 404),
])
def test_dot_segments_verify_as_botocore_signs_them(emu: Emulator, method: str, path: str,
                                                     status: int) -> None:
    reply = raw(emu, method, path, b'{"Address": "x"}' if method == "PUT" else b"")
    assert reply.status == status, reply.body
    assert emu.endpoints("app") == {}


def test_boto3_with_a_dot_endpoint_id_is_not_a_signature_error(emu: Emulator) -> None:
    bc = emu.boto3_client(config=Config(retries={"total_max_attempts": 1}))
    try:
        with pytest.raises(bc.exceptions.MethodNotAllowedException):
            bc.get_endpoint(ApplicationId="app", EndpointId=".")
        with pytest.raises(bc.exceptions.NotFoundException):
            bc.delete_endpoint(ApplicationId="app", EndpointId="..")
    finally:
        bc.close()
    assert [r.status for r in emu.requests] == [405, 404]


def test_rate_limits_are_per_operation_of_the_table() -> None:
    with Emulator(rate_limits={"UpdateEndpointsBatch": 1.0}) as emu, \
            emu.client(retry=ONCE) as client:
        client.update_endpoints_batch("app", [EndpointBatchItem(id="a")])
        with pytest.raises(TooManyRequestsException):
            client.update_endpoints_batch("app", [EndpointBatchItem(id="b")])
        client.update_endpoint("app", "c", EndpointRequest())  # another operation
    assert set(emu.endpoints("app")) == {"a", "c"}
    with pytest.raises(ValueError, match="operation must be one of"):
        Emulator(rate_limits={"UpdateEndpoints": 1.0})


def test_a_fault_for_one_operation_waits_for_it(emu: Emulator) -> None:
    emu.faults.throttle(1, operation="GetUserEndpoints")
    emu.faults.fail(500, operation="RemoveAttributes")
    with emu.client(retry=ONCE) as client:
        client.update_endpoint("app", "e", EndpointRequest(user=EndpointUser(user_id="u")))
        with pytest.raises(TooManyRequestsException):
            client.get_user_endpoints("app", "u")
        assert emu.faults.pending == 1
        assert client.get_user_endpoints("app", "u").item is not None
    assert [r.status for r in emu.requests] == [202, 429, 200]
    with pytest.raises(ValueError, match="operation must be one of"):
        emu.faults.reset(operation="GetEndpoints")
