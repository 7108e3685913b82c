"""The Endpoint resource's schemas as attrs classes.

Fields are snake_case and all optional; on the wire they are the service's PascalCase JSON
(see `_convert`). A field's wire name is its PascalCase spelling unless its metadata says
otherwise (`MessageBody.request_id` is ``RequestID``).

Examples:
    >>> req = EndpointRequest(channel_type=ChannelType.EMAIL, address="ann@example.com",
    ...                       attributes={"Interests": ["music"]})
    >>> req.to_dict()
    {'ChannelType': 'EMAIL', 'Address': 'ann@example.com', 'Attributes': {'Interests': ['music']}}
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Final

import attrs

from pinpoint_endpoints._redact import redact_address, redact_text

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AttributeType",
    "AttributesResource",
    "ChannelType",
    "EndpointBatchItem",
    "EndpointBatchRequest",
    "EndpointDemographic",
    "EndpointLocation",
    "EndpointRequest",
    "EndpointResponse",
    "EndpointUser",
    "EndpointsResponse",
    "MessageBody",
    "UpdateAttributesRequest",
]


class ChannelType(str, enum.Enum):
    """The channel of an endpoint. A member equals its wire string: ``ChannelType.SMS == "SMS"``.

    A value the service adds later is not an error: it arrives as a plain ``str``.
    """

    PUSH = "PUSH"
    GCM = "GCM"
    APNS = "APNS"
    APNS_SANDBOX = "APNS_SANDBOX"
    APNS_VOIP = "APNS_VOIP"
    APNS_VOIP_SANDBOX = "APNS_VOIP_SANDBOX"
    ADM = "ADM"
    SMS = "SMS"
    VOICE = "VOICE"
    EMAIL = "EMAIL"
    BAIDU = "BAIDU"
    CUSTOM = "CUSTOM"
    IN_APP = "IN_APP"

    def __str__(self) -> str:
        return self.value


class AttributeType(str, enum.Enum):
    """Which custom attributes `Client.remove_attributes` removes; a member equals its path
    segment: ``AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES == "endpoint-custom-attributes"``."""

    ENDPOINT_CUSTOM_ATTRIBUTES = "endpoint-custom-attributes"
    ENDPOINT_METRIC_ATTRIBUTES = "endpoint-metric-attributes"
    ENDPOINT_USER_ATTRIBUTES = "endpoint-user-attributes"

    def __str__(self) -> str:
        return self.value


def _wire(name: str) -> dict[str, str]:
    return {"wire": name}


class _Model:
    """Shared conversion methods; the converter lives in `_convert`."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, data: Any, *, strict: bool = False) -> Self:
        """Build from the service's JSON (a dict with PascalCase keys).

        Unknown keys are ignored, as the service may add some; with ``strict=True`` they are
        refused at any depth, naming the closest known field: ``unknown field Adress at $ (did
        you mean Address?)`` (for input a person typed).
        Raises `ValidationError` naming every bad field's path.

        Examples:
            >>> EndpointLocation.from_dict({"Latitude": 47, "City": "Seattle"}).latitude
            47.0
        """
        from pinpoint_endpoints import _convert

        return _convert.from_wire(data, cls, strict=strict)

    # repr, == and hash as attrs would generate them, written once for every model: generating
    # them per class was half of what importing the package cost

    def __repr__(self) -> str:
        shown = []
        for f in _fields(self):
            if f.repr:  # a field with a repr function (an address, an id) shows redacted
                value = getattr(self, f.name)
                shown.append(f"{f.name}={f.repr(value) if callable(f.repr) else repr(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self) == _values(other)

    def __hash__(self) -> int:
        return hash((self.__class__, _values(self)))

    def to_dict(self) -> dict[str, Any]:
        """The service's JSON for this model: PascalCase keys, ``None`` fields left out.

        Raises `ValidationError` naming every field whose value has the wrong type.

        Examples:
            >>> EndpointUser(user_id="u1").to_dict()
            {'UserId': 'u1'}
        """
        from pinpoint_endpoints import _convert

        return _convert.to_wire(self)


def _fields(model: Any) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(type(model))
    return fields


def _values(model: _Model) -> tuple[Any, ...]:
    return tuple(getattr(model, f.name) for f in _fields(model))


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointLocation(_Model):
    """Geographic information about an endpoint."""

    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointDemographic(_Model):
    """Demographic information about an endpoint: device, platform, locale and time zone."""

    make: str | None = None
    model: str | None = None
    model_version: str | None = None
    timezone: str | None = None
    locale: str | None = None
    app_version: str | None = None
    platform: str | None = None
    platform_version: str | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointUser(_Model):
    """The user an endpoint belongs to, and that user's custom attributes."""

    user_id: str | None = attrs.field(default=None, repr=redact_text)
    user_attributes: dict[str, list[str]] | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class _EndpointFields(_Model):
    channel_type: ChannelType | str | None = None
    address: str | None = attrs.field(default=None, repr=redact_address)
    endpoint_status: str | None = None
    opt_out: str | None = None
    request_id: str | None = None
    location: EndpointLocation | None = None
    demographic: EndpointDemographic | None = None
    effective_date: str | None = None
    attributes: dict[str, list[str]] | None = None
    metrics: dict[str, float] | None = None
    user: EndpointUser | None = None

    def to_request(self) -> EndpointRequest:
        """The `EndpointRequest` that would write these settings: an `EndpointResponse`'s or an
        `EndpointBatchItem`'s, without the id and the fields the service sets itself.

        Examples:
            >>> ep = EndpointResponse(id="e1", address="+12065550100", cohort_id="7")
            >>> ep.to_request() == EndpointRequest(address="+12065550100")
            True
        """
        return EndpointRequest(**{name: getattr(self, name) for name in _REQUEST_FIELDS})


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointRequest(_EndpointFields):
    """The body of UpdateEndpoint: the settings to create or change.

    Fields left ``None`` are not sent, so the service keeps their current values.

    Examples:
        >>> EndpointRequest(attributes={"Plan": ["gold"]}).to_dict()
        {'Attributes': {'Plan': ['gold']}}
    """


_REQUEST_FIELDS: Final = tuple(f.name for f in attrs.fields(EndpointRequest))


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointResponse(_EndpointFields):
    """An endpoint as GetEndpoint and DeleteEndpoint return it."""

    application_id: str | None = None
    id: str | None = attrs.field(default=None, repr=redact_text)
    cohort_id: str | None = None
    creation_date: str | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class MessageBody(_Model):
    """The service's acknowledgement of a request, e.g. ``Message="Accepted"``."""

    request_id: str | None = attrs.field(default=None, metadata=_wire("RequestID"))
    message: str | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointBatchItem(_EndpointFields):
    """One endpoint of an UpdateEndpointsBatch: an `EndpointRequest`'s fields plus its ``id``.

    Examples:
        >>> EndpointBatchItem(id="ep-1", address="ann@example.com").to_dict()
        {'Address': 'ann@example.com', 'Id': 'ep-1'}
    """

    id: str | None = attrs.field(default=None, repr=redact_text)


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointBatchRequest(_Model):
    """The body of UpdateEndpointsBatch: ``{"Item": [...]}``."""

    item: list[EndpointBatchItem] | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class EndpointsResponse(_Model):
    """The endpoints of one user, as GetUserEndpoints and DeleteUserEndpoints return them."""

    item: list[EndpointResponse] | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class UpdateAttributesRequest(_Model):
    """The body of RemoveAttributes: the attribute names to remove (``Blacklist`` on the wire)."""

    blacklist: list[str] | None = None


@attrs.frozen(kw_only=True, repr=False, eq=False)
class AttributesResource(_Model):
    """What RemoveAttributes answers: the attribute type and the names removed."""

    application_id: str | None = None
    attribute_type: str | None = None
    attributes: list[str] | None = None
