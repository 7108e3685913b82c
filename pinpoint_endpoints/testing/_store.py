"""The emulator's rules: the Endpoint family's semantics and quotas over a `Backend`, no HTTP.

Thread-safe (one write transaction at a time), so it can be unit-tested alone. Rules
(service-facts.md; docs/testing.md "Emulator semantics" says where we chose):

- UpdateEndpoint is an upsert; fields not sent are kept. ``ChannelType``, ``OptOut`` and
  ``EndpointStatus`` take the service's values only.
- ``Attributes``, ``Metrics`` and ``User.UserAttributes`` merge per key; ``"key": []`` clears
  the key's values (the key itself stays, as on the service).
- UserAttributes belong to the user: every endpoint of the application with that ``UserId``
  shows the same map.
- ``EndpointStatus`` is ``ACTIVE`` after an update unless the request sets it; every other
  endpoint of the application with the same ``Address`` turns ``INACTIVE``.
- ``CohortId`` is a random ``"0".."99"`` at creation; ``CreationDate`` and ``EffectiveDate`` are
  ISO-8601 UTC with milliseconds (``EffectiveDate`` as sent, else the time of the update).
- Endpoint ids are case-insensitive: the first spelling is kept as ``Id``.
- Quotas: 250 attribute names per application across the three maps, names of at most 50 and
  values of at most 100 characters, 50 values per attribute, 15 endpoints per ``UserId`` (for
  push channels the oldest endpoint gives way instead) and 15 KB per endpoint; going over
  raises `StoreError` (400).
- A batch is 1..100 items with unique ids, applied in order as one transaction: all or nothing.
- RemoveAttributes: names (or glob patterns) stop being captured and stop counting.

Examples:
    >>> store = Store(seed=1)
    >>> store.update("app", "Ep-1", EndpointRequest(attributes={"A": ["x"]}))
    >>> store.update("app", "ep-1", EndpointRequest(attributes={"B": ["y"]}))
    >>> ep = store.get("app", "EP-1")
    >>> ep.id, ep.attributes
    ('Ep-1', {'A': ['x'], 'B': ['y']})
"""

from __future__ import annotations

import json
import operator
import random
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import attrs

from pinpoint_endpoints._convert import wire_name
from pinpoint_endpoints._models import (
    EndpointBatchItem,
    EndpointRequest,
    EndpointResponse,
    EndpointUser,
)
from pinpoint_endpoints._operations import MAX_BATCH_ITEMS
from pinpoint_endpoints.testing._attributes import (
    KINDS,
    is_pattern,
    kind_of,
    matches,
    without_removed,
)
from pinpoint_endpoints.testing._backend import Backend, Txn, View
from pinpoint_endpoints.testing._checks import Settings, StoreError, check_request
from pinpoint_endpoints.testing._memory import MemoryBackend

__all__ = [
    "MAX_BATCH_ITEMS", "MAX_ENDPOINTS_PER_USER", "MAX_ENDPOINT_BYTES", "Store", "StoreError",
    "iso_now",
]

MAX_ATTRIBUTE_NAMES: Final = 250
MAX_ENDPOINTS_PER_USER: Final = 15
MAX_ENDPOINT_BYTES: Final = 15 * 1024
# channels whose 16th endpoint of a user retires the oldest instead of a 400 (developer guide)
PUSH_CHANNELS: Final = frozenset(
    {"ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM"})
R = TypeVar("R")
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"), check_circular=False)  # trees
# the request's fields that replace the stored ones when sent (the others merge or are set)
_REPLACED: Final = tuple(
    f.name for f in attrs.fields(EndpointRequest)
    if f.name not in ("attributes", "metrics", "user", "endpoint_status", "effective_date"))
_Stale = dict[tuple[str, str], EndpointResponse | None]


def iso_now(now: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, as the service writes dates: ``2019-01-28T23:55:11.534Z``."""
    when = now or datetime.now(timezone.utc)
    return when.isoformat(timespec="milliseconds")[:23] + "Z"  # faster than strftime


def _merge(
    old: Mapping[str, list[str]] | None, new: Mapping[str, list[str]] | None
) -> dict[str, list[str]] | None:
    if new is None:
        return dict(old) if old is not None else None
    merged = dict(old or {})
    merged.update({k: list(v) for k, v in new.items()})
    return merged


class Store:
    """Endpoints by application and (case-insensitive) endpoint id, with the service's rules.

    Args:
        backend: where the state lives; a fresh `MemoryBackend` by default.
        seed: seeds the ``CohortId`` draws, for repeatable tests.
        propagation_delay: seconds during which `read` still shows an endpoint's state from
            before its last change (the service is eventually consistent). `get` never lags.
        clock: monotonic clock for the propagation delay.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        seed: int | None = None,
        propagation_delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        self._random = random.Random(seed)
        self._delay = propagation_delay
        self._clock = clock
        self._lock = threading.Lock()
        # (app, key) -> (visible until, what a read shows until then)
        self._stale: dict[tuple[str, str], tuple[float, EndpointResponse | None]] = {}

    def reset(self) -> None:
        """Forget every application, endpoint, user and attribute name."""
        with self._lock:
            self.backend.reset()
            self._stale.clear()

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()

    # -- reads --------------------------------------------------------------------------------

    def get(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """The endpoint as stored now, or ``None``."""
        with self.backend.read() as view:
            found = view.get(app_id, endpoint_id.lower())
            return None if found is None else _view(view, app_id, found)

    def read(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """What GetEndpoint sees: the stored endpoint, or its older state within the delay."""
        where = (app_id, endpoint_id.lower())
        with self._lock:
            stale = self._stale.get(where)
            if stale is not None:
                if self._clock() < stale[0]:
                    return stale[1]
                del self._stale[where]
        return self.get(app_id, endpoint_id)

    def endpoints(self, app_id: str) -> dict[str, EndpointResponse]:
        """Every endpoint of an application, by id as first created."""
        with self.backend.read() as view:
            return {ep.id or "": _view(view, app_id, ep) for ep in view.endpoints(app_id)}

    def user_endpoints(self, app_id: str, user_id: str) -> list[EndpointResponse]:
        """GetUserEndpoints: every endpoint whose ``User.UserId`` is ``user_id`` (no lag)."""
        with self.backend.read() as view:
            return [_view(view, app_id, ep) for ep in view.by_user(app_id, user_id)]

    # -- writes -------------------------------------------------------------------------------

    def update(self, app_id: str, endpoint_id: str, request: EndpointRequest) -> None:
        """UpdateEndpoint: create or change; raise `StoreError` when a rule refuses it."""
        check_request(request)
        self._write(lambda txn, stale: self._apply(
            txn, stale, app_id, endpoint_id, request, iso_now(), _removed(txn, app_id)))

    def update_batch(self, app_id: str, items: Sequence[EndpointBatchItem]) -> None:
        """UpdateEndpointsBatch: every item as one `update`, in order, all or nothing; a
        refusal names the item (``Item[3].ChannelType: ...``)."""
        if not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise StoreError(f"Item must hold 1 to {MAX_BATCH_ITEMS} endpoints, got {len(items)}.",
                             path="Item")
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not item.id:
                raise StoreError("Id is required.", path="Id").at(f"Item[{index}]")
            if item.id.lower() in seen:
                raise StoreError(f"Id repeats Item[{seen[item.id.lower()]}].Id: ids are unique "
                                 "within a batch.", path="Id").at(f"Item[{index}]")
            seen[item.id.lower()] = index
            try:
                check_request(item)
            except StoreError as exc:
                raise exc.at(f"Item[{index}]") from None

        def apply(txn: Txn, stale: _Stale) -> None:
            # one request: one time stamp, and no name can be removed between its items
            stamp, removed = iso_now(), _removed(txn, app_id)
            for index, item in enumerate(items):
                try:
                    self._apply(txn, stale, app_id, item.id or "", item, stamp, removed)
                except StoreError as exc:
                    raise exc.at(f"Item[{index}]") from None

        self._write(apply)

    def delete(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """DeleteEndpoint: remove and return the endpoint, or ``None`` if there is none."""
        key = endpoint_id.lower()

        def apply(txn: Txn, stale: _Stale) -> EndpointResponse | None:
            found = txn.get(app_id, key)
            if found is None:
                return None
            self._remember(stale, txn, app_id, key, found)
            txn.delete(app_id, key)
            return _view(txn, app_id, found)

        return self._write(apply)

    def delete_user(self, app_id: str, user_id: str) -> list[EndpointResponse]:
        """DeleteUserEndpoints: remove the user's endpoints (and attributes); return them as
        they were (an empty list when the user has none)."""

        def apply(txn: Txn, stale: _Stale) -> list[EndpointResponse]:
            found = txn.by_user(app_id, user_id)
            gone = [_view(txn, app_id, ep) for ep in found]
            for ep in found:
                key = (ep.id or "").lower()
                self._remember(stale, txn, app_id, key, ep)
                txn.delete(app_id, key)
            txn.set_user_attributes(app_id, user_id, None)
            return gone

        return self._write(apply)

    def remove_attributes(self, app_id: str, attribute_type: str,
                          names: Sequence[str]) -> list[str]:
        """RemoveAttributes: stop capturing ``names`` (exact, or glob patterns) of one type;
        return the names removed: each exact name, and the known names a pattern matched."""
        kind = kind_of(attribute_type)
        if not names or not all(names):
            raise StoreError("Blacklist must hold one or more non-empty names.",
                             path="Blacklist")

        def apply(txn: Txn, stale: _Stale) -> list[str]:
            known = sorted(n for k, n in txn.names(app_id) if k == kind)
            removed: dict[str, None] = {}
            for entry in names:
                found = [n for n in known if matches(n, entry)] if is_pattern(entry) else [entry]
                removed.update(dict.fromkeys(found))
            txn.remove_names(app_id, kind, list(removed), names)
            return list(removed)

        return self._write(apply)

    def load(self, endpoints: Iterable[EndpointResponse]) -> int:
        """Seed the store with endpoints as the service stored them (an export job's lines),
        in one transaction: ``CohortId``, ``CreationDate``, ``EffectiveDate`` and
        ``EndpointStatus`` kept as given (drawn or set now when missing), the user's attributes
        shared, the names counted. Each endpoint's own checks apply; returns how many.

        Examples:
            >>> Store().load([EndpointResponse(application_id="app", id="e1", cohort_id="7")])
            1
        """
        now = iso_now()

        def apply(txn: Txn, stale: _Stale) -> int:
            count = 0
            for ep in endpoints:
                app_id, user = ep.application_id, ep.user
                if not app_id or not ep.id:
                    raise StoreError("ApplicationId and Id are required.")
                request = ep.to_request()
                check_request(request)
                txn.add_names(app_id, _names(request))
                if user is not None and user.user_id is not None:
                    shared = _merge(txn.user_attributes(app_id, user.user_id),
                                    user.user_attributes) or {}
                    txn.set_user_attributes(app_id, user.user_id, shared)
                    user = EndpointUser(user_id=user.user_id)
                txn.put(app_id, attrs.evolve(
                    ep, user=user, cohort_id=ep.cohort_id or str(self._random.randrange(100)),
                    creation_date=ep.creation_date or now,
                    effective_date=ep.effective_date or now,
                    endpoint_status=ep.endpoint_status or "ACTIVE"))
                count += 1
            return count

        return self._write(apply)

    # -- the rules ----------------------------------------------------------------------------

    def _write(self, apply: Callable[[Txn, _Stale], R]) -> R:
        """Run ``apply`` in one transaction; its stale views count only if it commits."""
        stale: _Stale = {}
        with self._lock:
            with self.backend.write() as txn:
                result = apply(txn, stale)
            if stale:
                now = self._clock()
                until = now + self._delay
                for where, shown in stale.items():
                    previous = self._stale.get(where)
                    keep = previous is not None and now < previous[0]
                    # the oldest unseen state stays visible
                    self._stale[where] = (until, previous[1] if previous and keep else shown)
            return result

    def _remember(self, stale: _Stale, view: View, app_id: str, key: str,
                  found: EndpointResponse | None) -> None:
        """Before a change to ``found`` (stored under ``key``, ``None`` when new): note what a
        read showed until now, for the propagation delay (nothing to do without one)."""
        if self._delay > 0:
            stale.setdefault((app_id, key), None if found is None else _view(view, app_id, found))

    def _apply(self, txn: Txn, stale: _Stale, app_id: str, endpoint_id: str,
               request: Settings, stamp: str, removed: Mapping[str, Set[str]]) -> None:
        """Write one endpoint's settings (``stamp``: now, as the service writes dates;
        ``removed``: the names no longer captured, by kind)."""
        request = without_removed(request, removed)
        key = endpoint_id.lower()
        old = txn.get(app_id, key)
        known = txn.names(app_id)
        new_names = _names(request) - known
        if len(known) + len(new_names) > MAX_ATTRIBUTE_NAMES:
            raise StoreError(
                f"Exceeded maximum number of attributes: {MAX_ATTRIBUTE_NAMES} attribute "
                "names per application across Attributes, Metrics and UserAttributes.")
        user = request.user
        old_user_id = old.user.user_id if old is not None and old.user else None
        user_id = user.user_id if user is not None and user.user_id is not None else old_user_id
        sent = {name: value for name in _REPLACED
                if (value := getattr(request, name)) is not None}
        retire: EndpointResponse | None = None
        if user_id is not None and user_id != old_user_id:
            sharing = txn.by_user(app_id, user_id)
            if len(sharing) >= MAX_ENDPOINTS_PER_USER:
                retire = _oldest_push(sharing, request.channel_type or (
                    old.channel_type if old is not None else None))
                if retire is None:
                    raise StoreError(
                        f"Exceeded maximum endpoint per user count: {MAX_ENDPOINTS_PER_USER}",
                        path="User.UserId")
        new_user_attributes = user.user_attributes if user is not None else None
        shared: dict[str, list[str]] | None = None
        if user_id is not None:
            shared = _merge(txn.user_attributes(app_id, user_id), new_user_attributes) or {}
            stored_user: EndpointUser | None = EndpointUser(user_id=user_id)
        else:
            own = old.user.user_attributes if old is not None and old.user else None
            merged = _merge(own, new_user_attributes)
            stored_user = EndpointUser(user_attributes=merged) if merged is not None else None
        attributes, metrics = (old.attributes, old.metrics) if old is not None else (None, None)
        changes: dict[str, Any] = {
            "attributes": _merge(attributes, request.attributes),
            "metrics": ({**(metrics or {}), **request.metrics} if request.metrics is not None
                        else metrics),
            "user": stored_user,
            "endpoint_status": request.endpoint_status or "ACTIVE",
            "effective_date": request.effective_date or stamp,
        }
        updated = attrs.evolve(old, **sent, **changes) if old is not None else EndpointResponse(
            application_id=app_id, id=endpoint_id, cohort_id=str(self._random.randrange(100)),
            creation_date=stamp, **sent, **changes)
        if _size_bound(updated, shared) > MAX_ENDPOINT_BYTES:  # else it cannot be too big
            size = _wire_size(updated, shared)
            if size > MAX_ENDPOINT_BYTES:
                raise StoreError(
                    f"Endpoint size {size} bytes exceeds the maximum of {MAX_ENDPOINT_BYTES} "
                    "bytes (15 KB).")
        # Every check passed: write.
        self._remember(stale, txn, app_id, key, old)
        if new_names:
            txn.add_names(app_id, new_names)
        if user_id is not None:
            txn.set_user_attributes(app_id, user_id, shared)
        if retire is not None:
            self._remember(stale, txn, app_id, (retire.id or "").lower(), retire)
            txn.put(app_id, attrs.evolve(retire, endpoint_status="INACTIVE", user=None))
        txn.put(app_id, updated)
        if updated.address is not None:
            for other in txn.by_address(app_id, updated.address):
                other_key = (other.id or "").lower()
                if other_key != key and other.endpoint_status != "INACTIVE":
                    self._remember(stale, txn, app_id, other_key, other)
                    txn.put(app_id, attrs.evolve(other, endpoint_status="INACTIVE"))


def _removed(view: View, app_id: str) -> dict[str, Set[str]]:
    return {kind: view.removed(app_id, kind) for kind in KINDS.values()}


def _oldest_push(sharing: list[EndpointResponse], channel: object) -> EndpointResponse | None:
    """For a push channel: the user's push endpoint with the oldest EffectiveDate."""
    if getattr(channel, "value", channel) not in PUSH_CHANNELS:
        return None
    push = [ep for ep in sharing if getattr(ep.channel_type, "value", ep.channel_type)
            in PUSH_CHANNELS]
    return min(push, key=lambda ep: ep.effective_date or "", default=None)


def _view(view: View, app_id: str, ep: EndpointResponse) -> EndpointResponse:
    """The endpoint as a reply shows it: with its user's shared attributes."""
    if ep.user is None or ep.user.user_id is None:
        return ep
    return _with_user(ep, view.user_attributes(app_id, ep.user.user_id))


def _wire_size(ep: EndpointResponse, shared: dict[str, list[str]] | None) -> int:
    """The bytes of ``_with_user(ep, shared)`` as compact JSON, without building it (the
    size check runs on every write: half a write's time when it copied the endpoint)."""
    data = ep.to_dict()
    user = data.get("User")
    if shared and user is not None:
        user["UserAttributes"] = shared
    return len(_COMPACT.encode(data))  # ensure_ascii: one byte a character


def _size_bound(ep: EndpointResponse, shared: dict[str, list[str]] | None) -> int:
    """At least `_wire_size`, at a third of its cost: ``repr`` is written in C and JSON takes at
    most 3 bytes for each byte of it (a ``"`` is ``\\"``; a character that takes 2 to 4 bytes
    in UTF-8 takes 6 or 12 escaped); keys, braces and commas are added at most."""
    size = _bound(ep)
    if shared:
        size += 3 * len(repr(shared).encode()) + len('"UserAttributes":')
    return size


def _bound(model: Any) -> int:
    shape = _SHAPES.get(type(model))
    if shape is None:
        shape = _SHAPES[type(model)] = _shape(type(model))
    plain, nested, overhead = shape
    size = 3 * len(repr(plain(model)).encode()) + overhead
    for name in nested:
        value = getattr(model, name)
        if value is not None:
            size += _bound(value)
    return size


_Shape = tuple[Callable[[Any], object], tuple[str, ...], int]
_SHAPES: dict[type[Any], _Shape] = {}


def _shape(cls: type[Any]) -> _Shape:
    """How `_bound` takes a model apart: a getter of the values of its fields that hold JSON
    values (strings, numbers, lists and maps of them), the names of those that hold models,
    and the most its keys, braces and commas take in compact JSON."""
    fields = attrs.fields(attrs.resolve_types(cls))
    nested = tuple(f.name for f in fields
                   if any(isinstance(t, type) and attrs.has(t) for t in _options(f.type)))
    plain = operator.attrgetter(*(f.name for f in fields if f.name not in nested))
    return plain, nested, 2 + len(fields) + sum(len(wire_name(f)) + 3 for f in fields)


def _options(type_: object) -> tuple[object, ...]:
    """The types a union allows (``X | None``: ``X`` and ``None``); any other type alone."""
    union = typing.get_origin(type_) in (typing.Union, types.UnionType)
    return typing.get_args(type_) if union else (type_,)


def _with_user(ep: EndpointResponse, shared: dict[str, list[str]] | None) -> EndpointResponse:
    if shared is None or ep.user is None:
        return ep
    copied = {k: list(v) for k, v in shared.items()} if shared else None
    return attrs.evolve(ep, user=attrs.evolve(ep.user, user_attributes=copied))


def _names(request: Settings) -> set[tuple[str, str]]:
    found = {("Attributes", n) for n in request.attributes or {}}
    found |= {("Metrics", n) for n in request.metrics or {}}
    if request.user is not None:
        found |= {("UserAttributes", n) for n in request.user.user_attributes or {}}
    return found
