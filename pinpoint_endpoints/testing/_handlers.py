"""One handler per operation of the table: parse the input model, apply the `Store`'s rules,
answer the output model. No HTTP here: the server routes, verifies and writes the reply.

Examples:
    >>> from pinpoint_endpoints._operations import OPERATIONS
    >>> store = Store(seed=1)
    >>> handle(store, OPERATIONS["UpdateEndpoint"], {"application-id": "app",
    ...        "endpoint-id": "e1"}, b'{"User": {"UserId": "u"}}', "req-1")
    (202, {'RequestID': 'req-1', 'Message': 'Accepted'})
    >>> status, body = handle(store, OPERATIONS["GetUserEndpoints"],
    ...                       {"application-id": "app", "user-id": "u"}, b"", "req-2")
    >>> status, [ep["Id"] for ep in body["Item"]]
    (200, ['e1'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from pinpoint_endpoints import _convert
from pinpoint_endpoints import _models as m
from pinpoint_endpoints._operations import Operation
from pinpoint_endpoints.testing._store import Store, StoreError

__all__ = ["HANDLERS", "handle", "parse_input"]

# (store, path parameters, parsed input, request id) -> the output model
Handler = Callable[[Store, Mapping[str, str], Any, str], Any]


def _not_found() -> StoreError:
    return StoreError("Resource not found", status=404, code="NotFoundException")


def _accepted(request_id: str) -> m.MessageBody:
    return m.MessageBody(request_id=request_id, message="Accepted")


def _found(ep: m.EndpointResponse | None) -> m.EndpointResponse:
    if ep is None:
        raise _not_found()
    return ep


def get_endpoint(store: Store, p: Mapping[str, str], _: None, rid: str) -> m.EndpointResponse:
    """GetEndpoint: the endpoint (within the propagation delay, its older state) or 404."""
    return _found(store.read(p["application-id"], p["endpoint-id"]))


def update_endpoint(store: Store, p: Mapping[str, str], body: m.EndpointRequest,
                    rid: str) -> m.MessageBody:
    """UpdateEndpoint: the upsert; 202 Accepted."""
    store.update(p["application-id"], p["endpoint-id"], body)
    return _accepted(rid)


def delete_endpoint(store: Store, p: Mapping[str, str], _: None, rid: str) -> m.EndpointResponse:
    """DeleteEndpoint: the endpoint as it was, or 404."""
    return _found(store.delete(p["application-id"], p["endpoint-id"]))


def update_endpoints_batch(store: Store, p: Mapping[str, str], body: m.EndpointBatchRequest,
                           rid: str) -> m.MessageBody:
    """UpdateEndpointsBatch: every item or none; 202 Accepted."""
    if body.item is None:
        raise StoreError("Item is required.", path="Item")
    store.update_batch(p["application-id"], body.item)
    return _accepted(rid)


def get_user_endpoints(store: Store, p: Mapping[str, str], _: None,
                       rid: str) -> m.EndpointsResponse:
    """GetUserEndpoints: the user's endpoints, or 404 when there are none."""
    found = store.user_endpoints(p["application-id"], p["user-id"])
    if not found:
        raise _not_found()
    return m.EndpointsResponse(item=found)


def delete_user_endpoints(store: Store, p: Mapping[str, str], _: None,
                          rid: str) -> m.EndpointsResponse:
    """DeleteUserEndpoints: the endpoints removed (an empty ``Item`` when there were none)."""
    return m.EndpointsResponse(item=store.delete_user(p["application-id"], p["user-id"]))


def remove_attributes(store: Store, p: Mapping[str, str], body: m.UpdateAttributesRequest,
                      rid: str) -> m.AttributesResource:
    """RemoveAttributes: the names removed."""
    attribute_type = p["attribute-type"]
    removed = store.remove_attributes(p["application-id"], attribute_type, body.blacklist or [])
    return m.AttributesResource(application_id=p["application-id"],
                              attribute_type=attribute_type, attributes=removed)


HANDLERS: Final[Mapping[str, Handler]] = {
    "GetEndpoint": get_endpoint,
    "UpdateEndpoint": update_endpoint,
    "DeleteEndpoint": delete_endpoint,
    "UpdateEndpointsBatch": update_endpoints_batch,
    "GetUserEndpoints": get_user_endpoints,
    "DeleteUserEndpoints": delete_user_endpoints,
    "RemoveAttributes": remove_attributes,
}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_input(op: Operation[Any], body: bytes) -> Any:
    """The operation's input model from the request body (``None`` when it takes none), or
    `StoreError` (400) saying what is wrong."""
    if op.input is None:
        return None
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise StoreError("Request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise StoreError(f"Request body must be a JSON object (an {op.input.__name__}).")
    try:
        return _convert.from_wire(data, op.input)
    except _convert.ConversionError as exc:
        raise StoreError("Invalid request: " + "; ".join(exc.messages)) from None


def handle(store: Store, op: Operation[Any], params: Mapping[str, str], body: bytes,
           request_id: str) -> tuple[int, dict[str, Any]]:
    """Run ``op``: its success status and JSON reply, or `StoreError` (the status to answer)."""
    reply = HANDLERS[op.name](store, params, parse_input(op, body), request_id)
    return op.status, reply.to_dict()
