"""boto3 against the emulator: its own typed exceptions and the service's rules."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pinpoint_endpoints.testing import Emulator
from tests.testing.conftest import ONCE


def put(bc: Any, ep: str, request: dict[str, Any], app: str = "app") -> dict[str, Any]:
    reply: dict[str, Any] = bc.update_endpoint(
        ApplicationId=app, EndpointId=ep, EndpointRequest=request)
    return reply


def get(bc: Any, ep: str, app: str = "app") -> dict[str, Any]:
    reply: dict[str, Any] = bc.get_endpoint(ApplicationId=app, EndpointId=ep)["EndpointResponse"]
    return reply


def test_lifecycle_and_not_found(bc: Any) -> None:
    reply = put(bc, "Ep 1/x", {"ChannelType": "SMS", "Address": "+12065550100"})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert reply["MessageBody"]["Message"] == "Accepted"
    ep = get(bc, "ep 1/X")
    assert (ep["Id"], ep["EndpointStatus"], ep["ChannelType"]) == ("Ep 1/x", "ACTIVE", "SMS")
    gone = bc.delete_endpoint(ApplicationId="app", EndpointId="Ep 1/x")
    assert gone["EndpointResponse"]["Id"] == "Ep 1/x"
    with pytest.raises(bc.exceptions.NotFoundException) as info:
        get(bc, "Ep 1/x")
    assert info.value.response["Error"]["Message"] == "Resource not found"


def test_merge_user_attributes_and_inactive(bc: Any) -> None:
    put(bc, "e1", {"Address": "a@example.com", "Attributes": {"a": ["1"], "b": ["2"]},
                   "User": {"UserId": "u", "UserAttributes": {"n": ["Ann"]}}})
    put(bc, "e2", {"Address": "a@example.com", "User": {"UserId": "u"}})
    put(bc, "e1", {"Attributes": {"a": []}, "Metrics": {"m": 3}})
    e1, e2 = get(bc, "e1"), get(bc, "e2")
    assert e1["Attributes"] == {"a": [], "b": ["2"]} and e1["Metrics"] == {"m": 3.0}
    assert e1["EndpointStatus"] == "ACTIVE" and e2["EndpointStatus"] == "INACTIVE"
    assert e2["User"] == {"UserId": "u", "UserAttributes": {"n": ["Ann"]}}
    assert 0 <= int(e1["CohortId"]) <= 99 and e1["CreationDate"].endswith("Z")


def test_limits_raise_bad_request(bc: Any) -> None:
    with pytest.raises(bc.exceptions.BadRequestException):
        put(bc, "e", {"Attributes": {"x" * 51: ["v"]}})
    with pytest.raises(bc.exceptions.BadRequestException):
        put(bc, "e", {"Attributes": {"k": ["v"] * 51}})
    for i in range(15):
        put(bc, f"u{i}", {"User": {"UserId": "u"}})
    with pytest.raises(bc.exceptions.BadRequestException) as info:
        put(bc, "u15", {"User": {"UserId": "u"}})
    assert "15" in info.value.response["Error"]["Message"]


def test_throttle_is_typed_and_retried_by_boto3(emu: Emulator, bc: Any) -> None:
    emu.faults.throttle(1)
    with pytest.raises(bc.exceptions.TooManyRequestsException):
        get(bc, "e")
    emu.faults.throttle(1, retry_after=0)
    patient = emu.boto3_client(config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    try:
        put(patient, "e", {"Address": "x"})
    finally:
        patient.close()
    assert [r.status for r in emu.requests][-2:] == [429, 202]


def test_wrong_secret_region_and_method(emu: Emulator) -> None:
    wrong = emu.boto3_client(config=ONCE, aws_secret_access_key="nope")
    other_region = emu.boto3_client(config=ONCE, region_name="eu-west-1")
    try:
        for client in (wrong, other_region):
            with pytest.raises(ClientError) as info:
                get(client, "e")
            assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            assert info.value.response["Error"]["Code"] == "InvalidSignatureException"
    finally:
        wrong.close()
        other_region.close()


def test_payload_too_large(bc: Any) -> None:
    with pytest.raises(bc.exceptions.PayloadTooLargeException):
        put(bc, "e", {"Address": "x" * (7 * 1024 * 1024 + 1)})
