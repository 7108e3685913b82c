"""Input checks: models refuse wrong types before anything is sent, `strict` refuses typos, and
every model (a new one included) converts without being listed anywhere."""

from __future__ import annotations

import typing
from typing import Any

import attrs
import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints._convert import ConversionError, wire_name
from pinpoint_endpoints._models import _Model

from .test_models import MODEL_FOR_SHAPE

OK = pe.EndpointBatchItem(id="ok")


def refusal(model: Any) -> str:
    """The message of the `ValidationError` that ``model.to_dict()`` raises."""
    with pytest.raises(pe.ValidationError) as info:
        model.to_dict()
    return str(info.value)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (pe.EndpointRequest(attributes={"Plan": "gold"}),  # type: ignore[dict-item]
         "expected an array, got string @ $.Attributes.Plan"),
        (pe.EndpointRequest(location=pe.EndpointLocation(latitude="north")),  # type: ignore[arg-type]
         "expected a number, got string @ $.Location.Latitude"),
        (pe.EndpointRequest(user=pe.EndpointUser(user_id=5)),  # type: ignore[arg-type]
         "expected a string, got number @ $.User.UserId"),
        (pe.EndpointBatchRequest(item=[OK, OK, OK, pe.EndpointBatchItem(
            attributes={"Plan": "gold"})]),  # type: ignore[dict-item]
         "expected an array, got string @ $.Item[3].Attributes.Plan"),
        (pe.EndpointsResponse(item=[pe.EndpointResponse(id=7)]),  # type: ignore[arg-type]
         "expected a string, got number @ $.Item[0].Id"),
        (pe.UpdateAttributesRequest(blacklist="Plan"),  # type: ignore[arg-type]
         "expected an array, got string @ $.Blacklist"),
        (pe.UpdateAttributesRequest(blacklist=["Plan", None]),  # type: ignore[list-item]
         "expected a string, got null @ $.Blacklist[1]"),
        (pe.EndpointRequest(attributes={"Plan": ["gold", 3]}),  # type: ignore[list-item]
         "expected a string, got number @ $.Attributes.Plan[1]"),
        (pe.EndpointRequest(attributes={"Plan tier": "gold"}),  # type: ignore[dict-item]
         "expected an array, got string @ $.Attributes['Plan tier']"),
        (pe.EndpointRequest(metrics={"score": True}),
         "expected a number, got boolean @ $.Metrics.score"),
        (pe.EndpointRequest(metrics={3: 1.0}),  # type: ignore[dict-item]
         "expected a string key, got number @ $.Metrics[3]"),
        (pe.EndpointLocation(latitude=float("nan")),
         "expected a number JSON can carry, got nan @ $.Latitude"),
        (pe.EndpointRequest(channel_type=5),  # type: ignore[arg-type]
         "expected a string, got number @ $.ChannelType"),
        (pe.EndpointRequest(location=pe.EndpointDemographic(make="x")),  # type: ignore[arg-type]
         "expected EndpointLocation, got EndpointDemographic @ $.Location"),
        (pe.EndpointRequest(location={"Latitude": 1.0}),  # type: ignore[arg-type]
         "expected EndpointLocation, got dict @ $.Location"),
        (pe.MessageBody(request_id=b"r1"),  # type: ignore[arg-type]
         "expected a string, got bytes @ $.RequestID"),
    ],
)
def test_to_dict_refuses_a_wrong_type_naming_its_path_from_the_root(
    model: Any, message: str
) -> None:
    assert refusal(model) == message


def test_every_bad_field_is_named_not_only_the_first() -> None:
    bad = pe.EndpointRequest(address=1, attributes={"a": "b"},  # type: ignore[arg-type, dict-item]
                             user=pe.EndpointUser(user_id=2))  # type: ignore[arg-type]
    with pytest.raises(ConversionError) as info:
        bad.to_dict()
    assert [m.rsplit(" @ ", 1)[1] for m in info.value.messages] == [
        "$.Address", "$.Attributes.a", "$.User.UserId"]


FIELDS = [(cls, f) for cls in MODEL_FOR_SHAPE.values()
          for f in attrs.fields(attrs.resolve_types(cls))]


@pytest.mark.parametrize(("cls", "field"), FIELDS, ids=[f"{c.__name__}.{f.name}"
                                                       for c, f in FIELDS])
def test_every_field_of_every_model_is_checked(cls: type[Any], field: attrs.Attribute[Any]) -> None:
    # no field holds a bare object; a string only fits a string field (never split into a list)
    wrong: list[Any] = [object()] if str in typing.get_args(field.type) else [object(), "gold"]
    for value in wrong:
        assert refusal(cls(**{field.name: value})).endswith(f" @ $.{wire_name(field)}")


def test_an_int_is_a_float_and_a_bool_is_not() -> None:
    assert pe.EndpointLocation(latitude=47).to_dict() == {"Latitude": 47.0}
    assert pe.EndpointRequest(metrics={"visits": 3}).to_dict() == {"Metrics": {"visits": 3.0}}
    assert refusal(pe.EndpointLocation(latitude=True)).endswith("@ $.Latitude")
    with pytest.raises(pe.ValidationError, match=r"boolean @ \$\.Longitude"):
        pe.EndpointLocation.from_dict({"Longitude": False})


def test_any_channel_string_is_sent_as_is() -> None:
    assert pe.EndpointRequest(channel_type="FAX").to_dict() == {"ChannelType": "FAX"}
    assert pe.EndpointRequest(channel_type=pe.ChannelType.IN_APP).to_dict() == {
        "ChannelType": "IN_APP"}


def test_a_bad_request_is_refused_before_anything_is_sent(creds: Credentials) -> None:
    bad = pe.EndpointRequest(attributes={"Plan": "gold"})  # type: ignore[dict-item]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, \
            pe.Client("us-east-1", credentials=creds) as client:
        with pytest.raises(pe.ValidationError, match=r"\$\.Attributes\.Plan"):
            client.update_endpoint("app", "ep", bad)
        assert len(mock.calls) == 0


def test_conversion_errors_are_validation_errors_with_messages() -> None:
    with pytest.raises(ConversionError) as info:
        pe.EndpointsResponse.from_dict({"Item": [{"Location": {"Latitude": "n"}}]})
    assert isinstance(info.value, pe.ValidationError)
    assert isinstance(info.value, pe.PinpointError)
    assert info.value.messages == ["expected a number, got string @ $.Item[0].Location.Latitude"]


# --- strict parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cls", "data", "message"),
    [
        (pe.EndpointRequest, {"Adress": "x"}, "unknown field Adress at $ (did you mean Address?)"),
        (pe.EndpointRequest, {"Location": {"Lattitude": 1}},
         "unknown field Lattitude at $.Location (did you mean Latitude?)"),
        (pe.EndpointRequest, {"channel_type": "SMS"},
         "unknown field channel_type at $ (did you mean ChannelType?)"),
        (pe.EndpointBatchRequest, {"Item": [{"Id": "a"}, {"Id": "b", "Adress": "x"}]},
         "unknown field Adress at $.Item[1] (did you mean Address?)"),
        (pe.MessageBody, {"RequestId": "r"},
         "unknown field RequestId at $ (did you mean RequestID?)"),
        (pe.EndpointUser, {"Zzz": 1}, "unknown field Zzz at $"),
    ],
)
def test_strict_refuses_unknown_keys_at_any_depth_with_the_closest_field(
    cls: type[Any], data: dict[str, Any], message: str
) -> None:
    assert cls.from_dict(data) is not None  # lenient by default: the key is ignored
    with pytest.raises(pe.ValidationError) as info:
        cls.from_dict(data, strict=True)
    assert str(info.value) == message


def test_strict_takes_any_key_inside_a_map_and_still_checks_types() -> None:
    data = {"Attributes": {"Anything": ["goes"]}, "User": {"UserAttributes": {"Any": []}}}
    assert pe.EndpointRequest.from_dict(data, strict=True).to_dict() == data
    with pytest.raises(pe.ValidationError) as info:
        pe.EndpointRequest.from_dict({"Adress": "x", "Address": 1}, strict=True)
    assert str(info.value) == ("expected a string, got number @ $.Address; "
                               "unknown field Adress at $ (did you mean Address?)")


def test_a_null_is_a_field_left_unset_but_a_null_typo_is_still_a_typo() -> None:
    assert pe.EndpointRequest.from_dict({"Address": None, "Location": {"City": None}},
                                        strict=True) == pe.EndpointRequest(
        location=pe.EndpointLocation())
    with pytest.raises(pe.ValidationError, match=r"^unknown field Adress at \$ \(did you mean"):
        pe.EndpointRequest.from_dict({"Adress": None}, strict=True)
    with pytest.raises(pe.ValidationError, match=r"got null @ \$\.Attributes\.Plan\[0\]$"):
        pe.EndpointRequest.from_dict({"Attributes": {"Plan": [None]}})


# --- models register themselves ---------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Gadget(_Model):
    """A model no converter table lists."""

    serial_number: str | None = None
    places: list[pe.EndpointLocation] | None = None


@attrs.frozen(kw_only=True)
class Unconvertible(_Model):
    count: int | None = None


def test_a_new_model_converts_without_being_registered() -> None:
    wire = {"SerialNumber": "s-1", "Places": [{"City": "Oslo", "Latitude": 59.9}]}
    gadget = Gadget.from_dict(wire, strict=True)
    assert gadget == Gadget(serial_number="s-1",
                            places=[pe.EndpointLocation(city="Oslo", latitude=59.9)])
    assert gadget.to_dict() == wire
    with pytest.raises(pe.ValidationError, match=r"got string @ \$\.Places\[0\]\.Latitude$"):
        Gadget.from_dict({"Places": [{"Latitude": "north"}]})


def test_a_field_type_without_a_wire_form_fails_loudly_on_first_use() -> None:
    with pytest.raises(TypeError, match="no wire form for int"):
        Unconvertible.from_dict({"Count": 1})
