"""The models: wire names, round trips, strict parsing, conformance with botocore's model."""

from __future__ import annotations

import copy
import gzip
import json
import pickle
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import botocore
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pinpoint_endpoints as pe
from pinpoint_endpoints._convert import wire_name

MODEL_FOR_SHAPE: dict[str, type[Any]] = {
    "EndpointRequest": pe.EndpointRequest,
    "EndpointResponse": pe.EndpointResponse,
    "EndpointLocation": pe.EndpointLocation,
    "EndpointDemographic": pe.EndpointDemographic,
    "EndpointUser": pe.EndpointUser,
    "MessageBody": pe.MessageBody,
    "EndpointBatchItem": pe.EndpointBatchItem,
    "EndpointBatchRequest": pe.EndpointBatchRequest,
    "EndpointsResponse": pe.EndpointsResponse,
    "UpdateAttributesRequest": pe.UpdateAttributesRequest,
    "AttributesResource": pe.AttributesResource,
}

# --- strategies -------------------------------------------------------------------------------

text = st.text(max_size=12)
floats = st.floats(allow_nan=False, allow_infinity=False)
str_lists = st.dictionaries(text, st.lists(text, max_size=3), max_size=3)
channel = st.one_of(st.none(), st.sampled_from(list(pe.ChannelType)), st.sampled_from(["NEW_ONE"]))


def opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), s)


locations = st.builds(
    pe.EndpointLocation, latitude=opt(floats), longitude=opt(floats), postal_code=opt(text),
    city=opt(text), region=opt(text), country=opt(text),
)
demographics = st.builds(
    pe.EndpointDemographic, make=opt(text), model=opt(text), model_version=opt(text),
    timezone=opt(text), locale=opt(text), app_version=opt(text), platform=opt(text),
    platform_version=opt(text),
)
users = st.builds(pe.EndpointUser, user_id=opt(text), user_attributes=opt(str_lists))
common: dict[str, st.SearchStrategy[Any]] = dict(
    channel_type=channel, address=opt(text), endpoint_status=opt(text), opt_out=opt(text),
    request_id=opt(text), location=opt(locations), demographic=opt(demographics),
    effective_date=opt(text), attributes=opt(str_lists),
    metrics=opt(st.dictionaries(text, floats, max_size=3)), user=opt(users),
)
requests_ = st.builds(pe.EndpointRequest, **common)
responses_ = st.builds(
    pe.EndpointResponse, application_id=opt(text), id=opt(text), cohort_id=opt(text),
    creation_date=opt(text), **common,
)
messages = st.builds(pe.MessageBody, request_id=opt(text), message=opt(text))
batch_items = st.builds(pe.EndpointBatchItem, id=opt(text), **common)
batches = st.builds(pe.EndpointBatchRequest, item=opt(st.lists(batch_items, max_size=3)))
user_endpoints = st.builds(pe.EndpointsResponse, item=opt(st.lists(responses_, max_size=3)))
removals = st.builds(pe.UpdateAttributesRequest, blacklist=opt(st.lists(text, max_size=3)))
removed = st.builds(pe.AttributesResource, application_id=opt(text), attribute_type=opt(text),
                    attributes=opt(st.lists(text, max_size=3)))
MODEL_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    pe.EndpointLocation: locations, pe.EndpointDemographic: demographics, pe.EndpointUser: users,
    pe.EndpointRequest: requests_, pe.EndpointResponse: responses_, pe.MessageBody: messages,
    pe.EndpointBatchItem: batch_items, pe.EndpointBatchRequest: batches,
    pe.EndpointsResponse: user_endpoints, pe.UpdateAttributesRequest: removals,
    pe.AttributesResource: removed,
}
any_model = st.one_of(*MODEL_STRATEGIES.values())


def test_every_model_has_a_round_trip_strategy() -> None:
    assert set(MODEL_STRATEGIES) == set(MODEL_FOR_SHAPE.values())


@given(any_model)
def test_round_trip_through_wire_json(model: Any) -> None:
    wire = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    assert type(model).from_dict(wire) == model
    assert type(model).from_dict(wire, strict=True) == model


@given(any_model)
def test_none_fields_never_reach_the_wire(model: Any) -> None:
    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                assert inner is not None, key
                walk(inner)

    walk(model.to_dict())


def test_only_set_fields_are_sent() -> None:
    req = pe.EndpointRequest(attributes={"Interests": ["music", "travel"]})
    assert req.to_dict() == {"Attributes": {"Interests": ["music", "travel"]}}


def test_full_response_parses_from_service_json() -> None:
    wire = {
        "ApplicationId": "app", "Id": "ep", "CohortId": "63",
        "CreationDate": "2019-01-28T23:55:11.534Z", "EffectiveDate": "2019-01-28T23:55:11.534Z",
        "ChannelType": "SMS", "Address": "+12065550100", "EndpointStatus": "ACTIVE",
        "OptOut": "NONE", "RequestId": "r-1",
        "Location": {"Country": "USA", "City": "Seattle", "Latitude": 47, "Longitude": -122.3},
        "Demographic": {"Platform": "ios", "AppVersion": "1.0", "ModelVersion": "15"},
        "Attributes": {"Interests": ["a"]}, "Metrics": {"score": 3},
        "User": {"UserId": "u1", "UserAttributes": {"Plan": ["gold"]}},
        "SomethingNew": {"the": "service added it"},
    }
    ep = pe.EndpointResponse.from_dict(wire)
    assert ep.channel_type is pe.ChannelType.SMS
    assert ep.location == pe.EndpointLocation(country="USA", city="Seattle", latitude=47.0,
                                              longitude=-122.3)
    assert isinstance(ep.location.latitude, float)
    assert ep.metrics == {"score": 3.0}
    assert ep.demographic is not None and ep.demographic.model_version == "15"
    assert ep.user == pe.EndpointUser(user_id="u1", user_attributes={"Plan": ["gold"]})
    assert ep.cohort_id == "63" and ep.creation_date == "2019-01-28T23:55:11.534Z"
    back = ep.to_dict()
    del wire["SomethingNew"]
    wire["Location"]["Latitude"] = 47.0  # type: ignore[index]
    wire["Metrics"]["score"] = 3.0  # type: ignore[index]
    assert back == wire


def test_message_body_uses_request_id_in_capitals() -> None:
    body = pe.MessageBody.from_dict({"RequestID": "abc", "Message": "Accepted"})
    assert body == pe.MessageBody(request_id="abc", message="Accepted")
    assert body.to_dict() == {"RequestID": "abc", "Message": "Accepted"}
    assert pe.EndpointRequest(request_id="x").to_dict() == {"RequestId": "x"}


def test_channel_type_members_equal_their_wire_strings() -> None:
    assert pe.ChannelType.EMAIL == "EMAIL"
    assert str(pe.ChannelType.IN_APP) == "IN_APP"
    unknown = pe.EndpointResponse.from_dict({"ChannelType": "CARRIER_PIGEON"})
    assert unknown.channel_type == "CARRIER_PIGEON"
    assert type(unknown.channel_type) is str
    assert pe.EndpointRequest(channel_type="SMS").to_dict() == {"ChannelType": "SMS"}
    assert pe.EndpointRequest(channel_type=pe.ChannelType.SMS).to_dict() == {"ChannelType": "SMS"}
    assert type(pe.EndpointRequest(channel_type=pe.ChannelType.SMS).to_dict()["ChannelType"]) is str


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ({"Location": {"Latitude": "north"}}, "$.Location.Latitude"),
        ({"Location": []}, "$.Location"),
        ({"Attributes": {"a": "not-a-list"}}, "$.Attributes.a"),
        ({"Attributes": {"a b": "not-a-list"}}, "$.Attributes['a b']"),
        ({"Attributes": {"a": ["x", 2]}}, "$.Attributes.a[1]"),
        ({"Attributes": ["x"]}, "$.Attributes"),
        ({"Metrics": {"m": True}}, "$.Metrics.m"),
        ({"Metrics": {"m": None}}, "$.Metrics.m"),
        ({"User": {"UserAttributes": {"k": [1]}}}, "$.User.UserAttributes.k[0]"),
        ({"ChannelType": 7}, "$.ChannelType"),
        ({"CohortId": 63}, "$.CohortId"),
    ],
)
def test_wrong_types_are_refused_with_the_field_path(wire: dict[str, Any], path: str) -> None:
    with pytest.raises(pe.ValidationError) as info:
        pe.EndpointResponse.from_dict(wire)
    assert str(info.value).endswith(f" @ {path}")


def test_a_list_where_an_object_belongs_is_refused() -> None:
    with pytest.raises(pe.ValidationError, match=r"expected an object, got array @ \$"):
        pe.EndpointResponse.from_dict([{"Id": "x"}])


def test_reprs_mask_addresses() -> None:
    assert "+12065550100" not in repr(pe.EndpointRequest(address="+12065550100"))
    shown = repr(pe.EndpointResponse(address="ann.lee@example.com", id="e1"))
    assert "ann.lee@example.com" not in shown and "example.com" in shown and "e1" in shown


def test_models_compare_hash_copy_and_pickle_by_value() -> None:
    a = pe.EndpointLocation(city="Seattle", latitude=47.6)
    assert a == pe.EndpointLocation(latitude=47.6, city="Seattle")
    assert a != pe.EndpointLocation(city="Tacoma") and a != "Seattle"
    assert pe.EndpointRequest() != pe.EndpointBatchItem()  # another model, even when empty
    assert len({a, pe.EndpointLocation(city="Seattle", latitude=47.6)}) == 1
    with pytest.raises(TypeError, match="unhashable"):  # as a dict field is
        hash(pe.EndpointRequest(attributes={"a": ["b"]}))
    ep = pe.EndpointResponse(id="e1", location=a, attributes={"a": ["b"]},
                             user=pe.EndpointUser(user_id="u"))
    assert pickle.loads(pickle.dumps(ep)) == ep == copy.deepcopy(ep)
    assert repr(a) == ("EndpointLocation(latitude=47.6, longitude=None, postal_code=None, "
                       "city='Seattle', region=None, country=None)")


def test_response_to_request_keeps_the_settings_only() -> None:
    ep = pe.EndpointResponse(
        id="e", application_id="a", cohort_id="1", creation_date="d",
        address="x@example.com", attributes={"k": ["v"]},
    )
    assert ep.to_request() == pe.EndpointRequest(address="x@example.com", attributes={"k": ["v"]})


def test_models_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        pe.EndpointLocation(1.0)  # type: ignore[call-arg]
    loc = pe.EndpointLocation(latitude=1.0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        loc.latitude = 2.0  # type: ignore[misc]


# --- conformance with the service model botocore ships ----------------------------------------

def _service_model() -> dict[str, Any]:
    root = Path(botocore.__file__).parent / "data" / "pinpoint"
    (version,) = sorted(p.name for p in root.iterdir())
    path = root / version / "service-2.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
    else:
        data = json.loads(gzip.decompress((root / version / "service-2.json.gz").read_bytes()))
    return data


def _python_type_for(shapes: dict[str, Any], shape_name: str) -> Any:
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "string":
        return pe.ChannelType | str if "enum" in shape else str
    if kind == "double":
        return float
    if kind == "structure":
        return MODEL_FOR_SHAPE[shape_name]
    if kind == "list":
        return list[_python_type_for(shapes, shape["member"]["shape"])]  # type: ignore[misc]
    if kind == "map":
        key = _python_type_for(shapes, shape["key"]["shape"])
        value = _python_type_for(shapes, shape["value"]["shape"])
        return dict[key, value]  # type: ignore[valid-type]
    raise AssertionError(f"shape kind {kind} not handled by the models")


def _strip_none(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
        return rest[0] | rest[1] if len(rest) == 2 else annotation
    return annotation


@pytest.mark.parametrize("shape_name", sorted(MODEL_FOR_SHAPE))
def test_every_member_of_the_service_model_exists_with_its_wire_name_and_type(
    shape_name: str,
) -> None:
    shapes = _service_model()["shapes"]
    cls = MODEL_FOR_SHAPE[shape_name]
    ours = {wire_name(f): f for f in attrs.fields(attrs.resolve_types(cls))}
    members = shapes[shape_name]["members"]
    assert set(members) == set(ours), f"{shape_name}: members differ"
    for member, spec in members.items():
        expected = _python_type_for(shapes, spec["shape"])
        assert _strip_none(ours[member].type) == expected, f"{shape_name}.{member}"


def test_channel_type_holds_exactly_the_model_enum() -> None:
    enum = _service_model()["shapes"]["ChannelType"]["enum"]
    assert sorted(c.value for c in pe.ChannelType) == sorted(enum)


def test_operations_match_the_model() -> None:
    ops = _service_model()["operations"]
    expected = {"GetEndpoint": ("GET", 200), "UpdateEndpoint": ("PUT", 202),
                "DeleteEndpoint": ("DELETE", 202)}
    for name, (method, status) in expected.items():
        http = ops[name]["http"]
        assert http["method"] == method
        assert http["requestUri"] == "/v1/apps/{application-id}/endpoints/{endpoint-id}"
        assert http.get("responseCode", 200) == status
