"""The seven operations on the wire: our client and boto3 against the emulator's router and
handlers (over the `backend` fixture's storage)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pinpoint_endpoints import (
    AttributeType,
    BadRequestException,
    EndpointBatchItem,
    EndpointRequest,
    EndpointUser,
    NotFoundException,
    PayloadTooLargeException,
    RetryPolicy,
)
from pinpoint_endpoints.testing import Emulator
from tests.testing.conftest import raw

ONCE = RetryPolicy(max_attempts=1)


def test_family_with_our_client(emu: Emulator) -> None:
    with emu.client(retry=ONCE) as client:
        reply = client.update_endpoints_batch("app", [
            EndpointBatchItem(id="e1", address="ann@example.com", channel_type="EMAIL",
                              attributes={"Plan": ["gold"]},
                              user=EndpointUser(user_id="ann", user_attributes={"n": ["Ann"]})),
            EndpointBatchItem(id="e2", address="+12065550100", channel_type="SMS",
                              user=EndpointUser(user_id="ann")),
        ])
        assert reply.message == "Accepted" and reply.request_id
        found = client.get_user_endpoints("app", "ann")
        assert [ep.id for ep in found.item or []] == ["e1", "e2"]
        assert all(ep.user == EndpointUser(user_id="ann", user_attributes={"n": ["Ann"]})
                   for ep in found.item or [])
        removed = client.remove_attributes("app", AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES,
                                           ["Plan"])
        assert (removed.application_id, removed.attribute_type, removed.attributes) == (
            "app", "endpoint-custom-attributes", ["Plan"])
        client.update_endpoint("app", "e1", EndpointRequest(attributes={"Plan": ["free"]}))
        assert client.get_endpoint("app", "e1").attributes == {"Plan": ["gold"]}
        gone = client.delete_user_endpoints("app", "ann")
        assert [ep.id for ep in gone.item or []] == ["e1", "e2"]
        assert gone.item[0].attributes == {"Plan": ["gold"]}  # type: ignore[index]
        with pytest.raises(NotFoundException):
            client.get_user_endpoints("app", "ann")
        assert client.delete_user_endpoints("app", "ann").item == []
    assert emu.endpoints("app") == {}


def test_rules_refused_through_our_client(emu: Emulator) -> None:
    with emu.client(retry=ONCE) as client:
        with pytest.raises(BadRequestException) as info:
            client.update_endpoints_batch("app", [
                EndpointBatchItem(id=f"e{i}", channel_type="SMS") for i in range(3)
            ] + [EndpointBatchItem(id="e3", channel_type="FAX")])
        assert info.value.message.startswith("Item[3].ChannelType: Invalid ChannelType 'FAX'")
        with pytest.raises(BadRequestException, match="Invalid OptOut"):
            client.update_endpoint("app", "e", EndpointRequest(opt_out="MAYBE"))
        with pytest.raises(BadRequestException, match="Invalid attribute type"):
            client.remove_attributes("app", "endpoint-other-attributes", ["a"])
    assert emu.endpoints("app") == {}


def test_family_with_boto3(emu: Emulator, bc: Any) -> None:
    reply = bc.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={"Item": [
        {"Id": "Ep 1/x", "ChannelType": "GCM", "Address": "tok-1", "Metrics": {"m": 1},
         "User": {"UserId": "ann@example.com", "UserAttributes": {"n": ["Ann"]}}},
        {"Id": "e2", "ChannelType": "EMAIL", "Address": "ann@example.com",
         "User": {"UserId": "ann@example.com"}},
    ]})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert reply["MessageBody"]["Message"] == "Accepted"
    found = bc.get_user_endpoints(ApplicationId="app", UserId="ann@example.com")
    items = found["EndpointsResponse"]["Item"]
    assert [ep["Id"] for ep in items] == ["Ep 1/x", "e2"]
    assert items[0]["User"] == {"UserId": "ann@example.com", "UserAttributes": {"n": ["Ann"]}}
    removed = bc.remove_attributes(ApplicationId="app", AttributeType="endpoint-metric-attributes",
                                   UpdateAttributesRequest={"Blacklist": ["m*"]})
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert removed["AttributesResource"] == {"ApplicationId": "app",
                                             "AttributeType": "endpoint-metric-attributes",
                                             "Attributes": ["m"]}
    gone = bc.delete_user_endpoints(ApplicationId="app", UserId="ann@example.com")
    assert gone["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert gone["EndpointsResponse"]["Item"] == items
    with pytest.raises(bc.exceptions.NotFoundException):
        bc.get_user_endpoints(ApplicationId="app", UserId="ann@example.com")
    assert emu.endpoints("app") == {}


def test_rules_refused_with_boto3(emu: Emulator, bc: Any) -> None:
    with pytest.raises(bc.exceptions.BadRequestException) as info:
        bc.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={"Item": [
            {"Id": "a", "Address": "x"}, {"Id": "A", "Address": "y"}]})
    assert info.value.response["Error"]["Message"].startswith("Item[1].Id: Id repeats")
    with pytest.raises(bc.exceptions.BadRequestException) as info:
        bc.update_endpoint(ApplicationId="app", EndpointId="e",
                           EndpointRequest={"EndpointStatus": "PAUSED"})
    assert "EndpointStatus" in info.value.response["Error"]["Message"]
    with pytest.raises(bc.exceptions.BadRequestException):
        bc.remove_attributes(ApplicationId="app", AttributeType="endpoint-bogus-attributes",
                             UpdateAttributesRequest={"Blacklist": ["a"]})
    assert emu.endpoints("app") == {}


def test_batch_body_shape_and_payload_limit_on_the_wire(emu: Emulator) -> None:
    path = "/v1/apps/app/endpoints"
    assert raw(emu, "PUT", path, b"{}").json()["Message"] == "Item is required."
    assert raw(emu, "PUT", path, b'{"Item": []}').status == 400
    many = json.dumps({"Item": [{"Id": f"e{i}"} for i in range(101)]}).encode()
    assert raw(emu, "PUT", path, many).status == 400
    wrong = raw(emu, "PUT", path, b'{"Item": [{"Id": "a", "Metrics": {"m": "x"}}]}')
    assert wrong.status == 400 and "$.Item[0]" in wrong.json()["Message"]
    big = json.dumps({"Item": [{"Id": "a", "Address": "x" * (7 * 1024 * 1024)}]}).encode()
    reply = raw(emu, "PUT", path, big)
    assert reply.status == 413
    assert reply.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
    with emu.client(retry=ONCE) as client, pytest.raises(PayloadTooLargeException):
        client.update_endpoints_batch("app", [
            EndpointBatchItem(id=f"e{i}", address="x" * (80 * 1024)) for i in range(100)])
    assert emu.endpoints("app") == {}


def test_remove_attributes_body_on_the_wire(emu: Emulator) -> None:
    path = "/v1/apps/app/attributes/endpoint-custom-attributes"
    assert raw(emu, "PUT", path, b"{}").status == 400
    assert raw(emu, "PUT", path, b'{"Blacklist": []}').status == 400
    ok = raw(emu, "PUT", path, b'{"Blacklist": ["a", "b*"]}')
    assert ok.status == 200
    assert ok.json() == {"ApplicationId": "app", "AttributeType": "endpoint-custom-attributes",
                         "Attributes": ["a"]}
