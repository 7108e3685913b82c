"""The operations table: it matches botocore's model, routes requests, and drives the client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints import _operations as ops
from tests.test_models import _service_model

BASE = "https://pinpoint.us-east-1.amazonaws.com"


# --- the table is the service's model ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ops.OPERATIONS))
def test_each_row_matches_botocore_s_model(name: str) -> None:
    model = _service_model()
    spec = model["operations"][name]
    op = ops.OPERATIONS[name]
    assert (op.method, op.path, op.status) == (
        spec["http"]["method"], spec["http"]["requestUri"], spec["http"].get("responseCode", 200))
    shapes = model["shapes"]
    out = shapes[spec["output"]["shape"]]
    assert op.output.__name__ == out["members"][out["payload"]]["shape"]
    request = shapes[spec["input"]["shape"]]
    payload = request.get("payload")
    expected_input = shapes[request["members"][payload]["shape"]] if payload else None
    if op.input is None:
        assert expected_input is None
    else:
        assert op.input.__name__ == request["members"][payload]["shape"]
    uri_params = {m["locationName"] for m in request["members"].values()
                  if m.get("location") == "uri"}
    assert set(op.params) == uri_params


def test_the_table_holds_the_endpoint_family() -> None:
    assert set(ops.OPERATIONS) == {
        "GetEndpoint", "UpdateEndpoint", "DeleteEndpoint", "UpdateEndpointsBatch",
        "GetUserEndpoints", "DeleteUserEndpoints", "RemoveAttributes",
    }


def test_every_operation_has_a_client_method_of_its_snake_case_name() -> None:
    for name in ops.OPERATIONS:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        assert callable(getattr(pe.Client, method)), method


# --- routing -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("method", "path", "name", "params", "allowed"),
    [
        ("GET", "/v1/apps/a/endpoints/e", "GetEndpoint",
         {"application-id": "a", "endpoint-id": "e"}, ("DELETE", "GET", "PUT")),
        ("PUT", "/v1/apps/a/endpoints", "UpdateEndpointsBatch", {"application-id": "a"},
         ("PUT",)),
        ("PUT", "/v1/apps/a%20b/endpoints/x%2Fy", "UpdateEndpoint",
         {"application-id": "a b", "endpoint-id": "x/y"}, ("DELETE", "GET", "PUT")),
        ("DELETE", "/v1/apps/a/users/u%40x", "DeleteUserEndpoints",
         {"application-id": "a", "user-id": "u@x"}, ("DELETE", "GET")),
        ("PUT", "/v1/apps/a/attributes/endpoint-custom-attributes", "RemoveAttributes",
         {"application-id": "a", "attribute-type": "endpoint-custom-attributes"}, ("PUT",)),
        ("POST", "/v1/apps/a/endpoints/e", None, {}, ("DELETE", "GET", "PUT")),
        ("GET", "/v1/apps/a/endpoints", None, {}, ("PUT",)),
        ("GET", "/v1/apps/a/endpoints/", None, {}, ()),
        ("GET", "/v1/apps//endpoints/e", None, {}, ()),
        ("GET", "/v2/apps/a/endpoints/e", None, {}, ()),
    ],
)
def test_routes_by_method_and_path_template(
    method: str, path: str, name: str | None, params: dict[str, str], allowed: tuple[str, ...]
) -> None:
    op, found, methods = ops.match_route(method, path)
    assert (op.name if op else None, found, methods) == (name, params, allowed)


# --- what each new method sends and returns ----------------------------------------------------

def _reply(mock: responses.RequestsMock, method: str, path: str, status: int,
           body: dict[str, Any]) -> None:
    mock.add(method, BASE + path, json=body, status=status)


def test_update_endpoints_batch_sends_the_items_and_returns_the_message(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    _reply(mock, "PUT", "/v1/apps/my%20app/endpoints", 202,
           {"RequestID": "r1", "Message": "Accepted"})
    items = [pe.EndpointBatchItem(id="d1", address="+12065550100", channel_type="SMS"),
             pe.EndpointBatchItem(id="d2", attributes={"Plan": ["gold"]})]
    result = client.update_endpoints_batch("my app", items)
    assert result == pe.MessageBody(request_id="r1", message="Accepted")
    (call,) = mock.calls
    assert json.loads(call.request.body or b"") == {"Item": [
        {"Id": "d1", "Address": "+12065550100", "ChannelType": "SMS"},
        {"Id": "d2", "Attributes": {"Plan": ["gold"]}},
    ]}
    assert call.request.headers["Content-Type"] == "application/json"


def test_user_operations_address_the_user_and_parse_the_endpoints(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    body = {"Item": [{"Id": "d1", "User": {"UserId": "ann@example.com"}},
                     {"Id": "d2", "Location": {"Latitude": 47}}]}
    _reply(mock, "GET", "/v1/apps/app/users/ann%40example.com", 200, body)
    _reply(mock, "DELETE", "/v1/apps/app/users/ann%40example.com", 202, body)
    for call in (client.get_user_endpoints, client.delete_user_endpoints):
        found = call("app", "ann@example.com")
        assert isinstance(found, pe.EndpointsResponse)
        assert [ep.id for ep in found.item or []] == ["d1", "d2"]
        assert found.item is not None and found.item[1].location == pe.EndpointLocation(
            latitude=47.0)
    assert [c.request.method for c in mock.calls] == ["GET", "DELETE"]


def test_remove_attributes_sends_the_blacklist(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    _reply(mock, "PUT", "/v1/apps/app/attributes/endpoint-user-attributes", 200,
           {"ApplicationId": "app", "AttributeType": "endpoint-user-attributes",
            "Attributes": ["Plan", "Age"]})
    result = client.remove_attributes("app", pe.AttributeType.ENDPOINT_USER_ATTRIBUTES,
                                      ["Plan", "Age"])
    assert result == pe.AttributesResource(application_id="app",
                                           attribute_type="endpoint-user-attributes",
                                           attributes=["Plan", "Age"])
    assert json.loads(mock.calls[0].request.body or b"") == {"Blacklist": ["Plan", "Age"]}
    # a plain string is any attribute type the service may add
    _reply(mock, "PUT", "/v1/apps/app/attributes/endpoint-future-attributes", 200,
           {"ApplicationId": "app", "AttributeType": "endpoint-future-attributes"})
    assert client.remove_attributes("app", "endpoint-future-attributes", ["x"]).attributes is None


# --- bad input is refused before anything is sent ----------------------------------------------

Call = Callable[[pe.Client], object]
ITEM = pe.EndpointBatchItem


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (lambda c: c.update_endpoints_batch("app", []), "1 to 100"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(id=str(i)) for i in range(101)]),
         "got 101"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(address="x")]), r"items\[0\] has no id"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(id="")]), "must not be empty"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(id="a"), ITEM(id="b"), ITEM(id="A")]),
         r"items\[2\]\.id 'A' repeats items\[0\]\.id"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(id="a{b}")]), "must not contain"),
        (lambda c: c.update_endpoints_batch("app", [ITEM(id="..")]), "another resource"),
        (lambda c: c.update_endpoints_batch("app", ITEM(id="a")),
         "must be a list of EndpointBatchItem"),
        (lambda c: c.update_endpoints_batch("app", [{"Id": "a"}]),
         r"EndpointBatchItem\.from_dict"),
        (lambda c: c.update_endpoints_batch("", [ITEM(id="a")]), "application_id must not be"),
        (lambda c: c.get_user_endpoints("app", ""), "user_id must not be empty"),
        (lambda c: c.get_user_endpoints("app", "."), "another resource"),
        (lambda c: c.delete_user_endpoints("app", "u$1"), "must not contain"),
        (lambda c: c.delete_user_endpoints("app", 7), "user_id must be a str"),
        (lambda c: c.remove_attributes("app", "endpoint-custom-attributes", "Plan"),
         "names must be a list of str, got str"),
        (lambda c: c.remove_attributes("app", "endpoint-custom-attributes", []),
         "at least one"),
        (lambda c: c.remove_attributes("app", "endpoint-custom-attributes", ["a", ""]),
         r"names\[1\] must be a non-empty str"),
        (lambda c: c.remove_attributes("app", "", ["a"]), "attribute_type must not be empty"),
        (lambda c: c.remove_attributes("app", "..", ["a"]), "another resource"),
    ],
)
def test_bad_input_is_refused_before_sending(
    client: pe.Client, mock: responses.RequestsMock, call: Call, complaint: str
) -> None:
    with pytest.raises(pe.ValidationError, match=complaint):
        call(client)
    assert len(mock.calls) == 0


def test_a_batch_of_exactly_100_is_sent(client: pe.Client, mock: responses.RequestsMock) -> None:
    _reply(mock, "PUT", "/v1/apps/app/endpoints", 202, {"Message": "Accepted"})
    client.update_endpoints_batch("app", [ITEM(id=f"e{i}") for i in range(100)])
    assert len(json.loads(mock.calls[0].request.body or b"")["Item"]) == 100


# --- same errors and retries as the first three ------------------------------------------------

@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("PUT", "/v1/apps/app/endpoints",
         lambda c: c.update_endpoints_batch("app", [ITEM(id="a")])),
        ("GET", "/v1/apps/app/users/u", lambda c: c.get_user_endpoints("app", "u")),
        ("DELETE", "/v1/apps/app/users/u", lambda c: c.delete_user_endpoints("app", "u")),
        ("PUT", "/v1/apps/app/attributes/endpoint-custom-attributes",
         lambda c: c.remove_attributes("app", "endpoint-custom-attributes", ["a"])),
    ],
)
def test_new_operations_retry_throttling_and_raise_typed_errors(
    creds: Credentials, mock: responses.RequestsMock, method: str, path: str, call: Call
) -> None:
    policy = pe.RetryPolicy(max_attempts=3, sleep=lambda _: None)
    with pe.Client("us-east-1", credentials=creds, retry=policy) as client:
        mock.add(method, BASE + path, status=429, json={"Message": "slow down"})
        mock.add(method, BASE + path, status=429, json={"Message": "slow down"})
        mock.add(method, BASE + path, status=404, json={"Message": "Resource not found"},
                 headers={"x-amzn-ErrorType": "NotFoundException"})
        with pytest.raises(pe.NotFoundException) as info:
            call(client)
    assert info.value.attempts == 3
    assert info.value.operation == ops.match_route(method, path)[0].name  # type: ignore[union-attr]
    assert [c.request.headers["amz-sdk-request"] for c in mock.calls] == [
        "attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]


def test_a_reply_of_the_wrong_shape_is_a_parse_error(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    _reply(mock, "GET", "/v1/apps/app/users/u", 200, {"Item": {"Id": "not a list"}})
    with pytest.raises(pe.ResponseParseError, match=r"\$\.Item"):
        client.get_user_endpoints("app", "u")


# --- the docs' coverage table is the operations table ------------------------------------------

def test_the_coverage_page_lists_exactly_the_table_s_operations() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "coverage.md").read_text()
    covered = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[3] == "yes":
            covered[cells[0]] = (cells[1], cells[2])
    assert covered == {
        op.name: (f"`{op.method} {op.path}`",
                  "`" + re.sub(r"(?<!^)(?=[A-Z])", "_", op.name).lower() + "`")
        for op in ops.OPERATIONS.values()
    }
