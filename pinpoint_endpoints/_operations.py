"""THE operations table, and the pure steps around one call: build the request, parse the reply.

An operation is data: name, HTTP method, path template, input and output model, success status.
The client's methods, the emulator's router, the CLI and the docs' coverage table all read
`OPERATIONS`; adding an operation is one row here plus its public method.

Examples:
    >>> op = OPERATIONS["GetUserEndpoints"]
    >>> op.method, op.path
    ('GET', '/v1/apps/{application-id}/users/{user-id}')
    >>> build_request(op, {"application-id": "my app", "user-id": "ann"}).path
    '/v1/apps/my%20app/users/ann'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote, unquote

from pinpoint_endpoints import _convert
from pinpoint_endpoints._errors import ResponseParseError, ValidationError
from pinpoint_endpoints._models import (
    AttributesResource,
    AttributeType,
    EndpointBatchItem,
    EndpointBatchRequest,
    EndpointRequest,
    EndpointResponse,
    EndpointsResponse,
    MessageBody,
    UpdateAttributesRequest,
)
from pinpoint_endpoints._redact import redact_text, scrub_url_text

__all__ = [
    "MAX_BATCH_ITEMS",
    "OPERATIONS",
    "Operation",
    "Request",
    "app_params",
    "attribute_params",
    "batch_body",
    "blacklist_body",
    "build_request",
    "endpoint_params",
    "match_route",
    "parse_reply",
    "segment",
    "user_params",
]

T = TypeVar("T")

MAX_BATCH_ITEMS: Final = 100
_BAD_ENDPOINT_CHARS: Final = frozenset("${}")
# path parameters whose values the service refuses `$`, `{` and `}` in (the model's rule for
# endpoint ids; user ids follow the same rules, as the contract says)
_STRICT_PARAMS: Final = frozenset({"endpoint-id", "user-id"})


class Operation(Generic[T]):
    """One row of the table (a plain class: an attrs one costs a millisecond of every cold
    start to define, and the rows are never compared but by identity).

    ``path`` is the service's URI template; its ``{name}`` segments are the path parameters,
    named as on the wire (``application-id``); the Python argument is the snake_case spelling.
    """

    __slots__ = ("_template", "doc", "input", "method", "name", "output", "path", "status")

    def __init__(self, name: str, method: str, path: str, input: type[Any] | None,
                 output: type[T], status: int, doc: str = "") -> None:
        self.name, self.method, self.path, self.doc = name, method, path, doc
        self.input, self.output, self.status = input, output, status
        # each segment: (parameter name, None) or (None, literal)
        self._template = tuple((s[1:-1], None) if s.startswith("{") else (None, s)
                               for s in path.split("/"))

    def __repr__(self) -> str:
        return f"Operation({self.name!r}, {self.method} {self.path} -> {self.status})"

    @property
    def params(self) -> tuple[str, ...]:
        """The wire names of the path parameters, in path order."""
        return tuple(s[1:-1] for s in self.path.split("/") if s.startswith("{"))

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters (decoded) if the raw path ``segments`` fit the template."""
        if len(segments) != len(self._template):
            return None
        found: dict[str, str] = {}
        for (param, literal), got in zip(self._template, segments, strict=True):
            if param is None:
                if literal != got:
                    return None
            elif not got:
                return None
            else:
                found[param] = unquote(got)
        return found


def _op(name: str, method: str, path: str, input: type[Any] | None, output: type[T],
        status: int, doc: str) -> Operation[T]:
    return Operation(name, method, path, input, output, status, doc)


_ENDPOINT: Final = "/v1/apps/{application-id}/endpoints/{endpoint-id}"
_USER: Final = "/v1/apps/{application-id}/users/{user-id}"

GET_ENDPOINT: Final = _op("GetEndpoint", "GET", _ENDPOINT, None, EndpointResponse, 200,
                          "read one endpoint")
UPDATE_ENDPOINT: Final = _op("UpdateEndpoint", "PUT", _ENDPOINT, EndpointRequest, MessageBody,
                             202, "create or update one endpoint (an upsert)")
DELETE_ENDPOINT: Final = _op("DeleteEndpoint", "DELETE", _ENDPOINT, None, EndpointResponse, 202,
                             "delete one endpoint, returning it as it was")
UPDATE_ENDPOINTS_BATCH: Final = _op(
    "UpdateEndpointsBatch", "PUT", "/v1/apps/{application-id}/endpoints", EndpointBatchRequest,
    MessageBody, 202, "create or update up to 100 endpoints in one request")
GET_USER_ENDPOINTS: Final = _op("GetUserEndpoints", "GET", _USER, None, EndpointsResponse, 200,
                                "read every endpoint of one user")
DELETE_USER_ENDPOINTS: Final = _op("DeleteUserEndpoints", "DELETE", _USER, None,
                                   EndpointsResponse, 202,
                                   "delete every endpoint of one user, returning them")
REMOVE_ATTRIBUTES: Final = _op(
    "RemoveAttributes", "PUT", "/v1/apps/{application-id}/attributes/{attribute-type}",
    UpdateAttributesRequest, AttributesResource, 200,
    "stop capturing custom attributes of one type")

OPERATIONS: Final[Mapping[str, Operation[Any]]] = {
    op.name: op
    for op in (GET_ENDPOINT, UPDATE_ENDPOINT, DELETE_ENDPOINT, UPDATE_ENDPOINTS_BATCH,
               GET_USER_ENDPOINTS, DELETE_USER_ENDPOINTS, REMOVE_ATTRIBUTES)
}


class Request:
    """What one call sends, before signing: method, percent-encoded path and JSON body."""

    __slots__ = ("body", "method", "operation", "path")

    def __init__(self, operation: str, method: str, path: str, body: bytes = b"") -> None:
        self.operation, self.method, self.path, self.body = operation, method, path, body

    def __repr__(self) -> str:  # the path holds ids, which may be emails: masked
        return f"Request({self.operation!r}, {self.method} {scrub_url_text(self.path)!r})"


class Encoded:
    """A body its caller has checked and encoded as JSON itself, sent as it is: the CLI's
    ``import`` sends each line it validated as it read it, without re-encoding it."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def segment(name: str, value: object, *, strict: bool) -> str:
    """Check one path parameter and percent-encode it exactly as botocore does (``/``
    included), or raise `ValidationError` naming it before anything is sent."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValidationError(f"{name} must not be empty")
    if value in (".", ".."):
        raise ValidationError(f"{name} must not be {value!r}: it would address another resource")
    # an id may be a phone number or an email: messages show it redacted
    if strict and not _BAD_ENDPOINT_CHARS.isdisjoint(value):
        raise ValidationError(f"{name} {redact_text(value)} must not contain '$', '{{' or '}}'")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"{name} {redact_text(value)} holds a lone surrogate: it is not text that UTF-8 "
            "(and so a URL) can carry"
        ) from None
    return quote(raw, safe="-._~")


def build_request(
    op: Operation[Any], params: Mapping[str, object], body: object = None
) -> Request:
    """Validate the path parameters and the body, and build the `Request` for ``op``.

    ``params`` maps each path parameter's wire name to its value; ``body`` is an instance of
    ``op.input`` (or ``None`` for operations without one).

    Raises:
        ValidationError: a bad id, a body of the wrong type, or one JSON cannot carry.
    """
    path = "/".join(
        segment(s[1:-1].replace("-", "_"), params.get(s[1:-1]),
                 strict=s[1:-1] in _STRICT_PARAMS) if s.startswith("{") else s
        for s in op.path.split("/")
    )
    if op.input is None:
        return Request(op.name, op.method, path)
    if isinstance(body, Encoded):
        return Request(op.name, op.method, path, body.data)
    if not isinstance(body, op.input):
        article = "an" if op.input.__name__[0] in "AEIOU" else "a"
        raise ValidationError(
            f"{op.name} takes {article} {op.input.__name__}, got "
            f"{type(body).__name__}{_hint(op.input, body)}"
        )
    try:
        data = json.dumps(body.to_dict(), allow_nan=False).encode("utf-8")
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"request cannot be sent as JSON: {exc}") from exc
    return Request(op.name, op.method, path, data)


def parse_reply(op: Operation[T], status: int, headers: Mapping[str, str], body: bytes) -> T:
    """The ``op.output`` model of a 2xx reply, or `ResponseParseError` naming what is wrong."""

    def fail(message: str, paths: tuple[str, ...] = ()) -> ResponseParseError:
        return ResponseParseError(
            message, status_code=status, request_id=headers.get("x-amzn-RequestId"),
            operation=op.name, paths=paths,
        )

    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise fail(f"the body is not JSON ({len(body)} bytes)") from None
    try:
        return _convert.from_wire(data, op.output)
    except _convert.ConversionError as exc:
        paths = tuple(m.rsplit(" @ ", 1)[-1] for m in exc.messages)
        raise fail("; ".join(exc.messages), paths) from None


def match_route(method: str, raw_path: str) -> tuple[Operation[Any] | None, dict[str, str],
                                                       tuple[str, ...]]:
    """Route a request: the operation for ``method`` on ``raw_path`` and its decoded path
    parameters, plus the methods the path allows (empty when no template fits: a 404; a path
    that fits with another method is a 405).

    Examples:
        >>> op, params, allowed = match_route("PUT", "/v1/apps/a/endpoints")
        >>> op.name, params, allowed
        ('UpdateEndpointsBatch', {'application-id': 'a'}, ('PUT',))
    """
    segments = raw_path.split("/")
    allowed: list[str] = []
    found: tuple[Operation[Any], dict[str, str]] | None = None
    for op in OPERATIONS.values():
        params = op.match(segments)
        if params is None:
            continue
        allowed.append(op.method)
        if op.method == method and found is None:
            found = (op, params)
    if found is None:
        return None, {}, tuple(sorted(allowed))
    return found[0], found[1], tuple(sorted(allowed))


def _hint(expected: type[Any], got: object) -> str:
    if isinstance(got, Mapping):
        return f" (use {expected.__name__}.from_dict(...) for a dict)"
    if isinstance(got, EndpointResponse) and expected is EndpointRequest:
        return " (use .to_request() on an EndpointResponse)"
    return ""


# -- the public methods' arguments, as the table's path parameters and bodies -------------------

def endpoint_params(application_id: str, endpoint_id: str) -> dict[str, object]:
    """The path parameters of the single-endpoint operations."""
    return {"application-id": application_id, "endpoint-id": endpoint_id}


def app_params(application_id: str) -> dict[str, object]:
    """The path parameters of UpdateEndpointsBatch."""
    return {"application-id": application_id}


def user_params(application_id: str, user_id: str) -> dict[str, object]:
    """The path parameters of the user operations."""
    return {"application-id": application_id, "user-id": user_id}


def attribute_params(application_id: str, attribute_type: object) -> dict[str, object]:
    """The path parameters of RemoveAttributes; an `AttributeType` or any ``str``."""
    value = attribute_type.value if isinstance(attribute_type, AttributeType) else attribute_type
    return {"application-id": application_id, "attribute-type": value}


def _sequence(name: str, value: object, kind: str) -> list[Any]:
    """``value`` as a list, refusing a ``str`` or a mapping (which ``list()`` would split)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, tuple)):
        raise ValidationError(
            f"{name} must be a list of {kind}, got {type(value).__name__}"
        )
    return list(value)


def batch_body(items: object) -> EndpointBatchRequest:
    """The body of UpdateEndpointsBatch, checked: 1 to 100 `EndpointBatchItem`, each with a
    valid ``id``, ids unique (case-insensitively, as the service compares them).

    Examples:
        >>> len(batch_body([EndpointBatchItem(id="a"), EndpointBatchItem(id="b")]).item or [])
        2
    """
    listed = _sequence("items", items, "EndpointBatchItem")
    if not 1 <= len(listed) <= MAX_BATCH_ITEMS:
        raise ValidationError(
            f"items must hold 1 to {MAX_BATCH_ITEMS} endpoints, got {len(listed)}"
        )
    seen: dict[str, int] = {}
    for index, item in enumerate(listed):
        if not isinstance(item, EndpointBatchItem):
            raise ValidationError(
                f"items[{index}] must be an EndpointBatchItem, got {type(item).__name__}"
                f"{_hint(EndpointBatchItem, item)}"
            )
        if item.id is None:
            raise ValidationError(f"items[{index}] has no id")
        segment(f"items[{index}].id", item.id, strict=True)
        key = item.id.lower()
        if key in seen:
            raise ValidationError(
                f"items[{index}].id {redact_text(item.id)} repeats items[{seen[key]}].id: "
                "ids are unique within a batch"
            )
        seen[key] = index
    return EndpointBatchRequest(item=listed)


def blacklist_body(names: object) -> UpdateAttributesRequest:
    """The body of RemoveAttributes, checked: one or more non-empty attribute names."""
    listed = _sequence("names", names, "str")
    if not listed:
        raise ValidationError("names must hold at least one attribute name")
    for index, name in enumerate(listed):
        if not isinstance(name, str) or not name:
            raise ValidationError(f"names[{index}] must be a non-empty str, got {name!r}")
    return UpdateAttributesRequest(blacklist=listed)
