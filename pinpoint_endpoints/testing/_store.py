"""The emulator's in-memory store: the Endpoint resource's semantics and quotas, no HTTP.

Pure and thread-safe, so it can be unit-tested alone. Rules (service-facts.md):

- UpdateEndpoint is an upsert; fields not sent are kept.
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
  values of at most 100 characters, 50 values per attribute, 15 endpoints per ``UserId`` and
  15 KB per endpoint; going over raises `StoreError` (400).

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
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Final

import attrs

from pinpoint_endpoints._models import EndpointRequest, EndpointResponse, EndpointUser

__all__ = ["MAX_ENDPOINTS_PER_USER", "MAX_ENDPOINT_BYTES", "Store", "StoreError", "iso_now"]

MAX_ATTRIBUTE_NAMES: Final = 250
MAX_NAME_LENGTH: Final = 50
MAX_VALUE_LENGTH: Final = 100
MAX_VALUES: Final = 50
MAX_ENDPOINTS_PER_USER: Final = 15
MAX_ENDPOINT_BYTES: Final = 15 * 1024


class StoreError(Exception):
    """A request the service would refuse: ``status`` and ``code`` as on the wire."""

    def __init__(self, message: str, *, status: int = 400, code: str = "BadRequestException"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def iso_now(now: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, as the service writes dates: ``2019-01-28T23:55:11.534Z``."""
    when = now or datetime.now(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@attrs.define
class _App:
    endpoints: dict[str, EndpointResponse] = attrs.Factory(dict)
    users: dict[str, dict[str, list[str]]] = attrs.Factory(dict)
    names: set[tuple[str, str]] = attrs.Factory(set)
    # endpoint key -> (visible until, what a read shows until then)
    stale: dict[str, tuple[float, EndpointResponse | None]] = attrs.Factory(dict)


def _merge(
    old: Mapping[str, list[str]] | None, new: Mapping[str, list[str]] | None
) -> dict[str, list[str]] | None:
    if new is None:
        return dict(old) if old is not None else None
    merged = dict(old or {})
    merged.update({k: list(v) for k, v in new.items()})
    return merged


class Store:
    """Endpoints by application and (case-insensitive) endpoint id.

    Args:
        seed: seeds the ``CohortId`` draws, for repeatable tests.
        propagation_delay: seconds during which `read` still shows an endpoint's state from
            before its last change (the service is eventually consistent). `get` never lags.
        clock: monotonic clock for the propagation delay.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        propagation_delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._random = random.Random(seed)
        self._delay = propagation_delay
        self._clock = clock
        self._lock = threading.Lock()
        self._apps: dict[str, _App] = {}

    def reset(self) -> None:
        """Forget every application, endpoint, user and attribute name."""
        with self._lock:
            self._apps.clear()

    def get(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """The endpoint as stored now, or ``None``."""
        with self._lock:
            app = self._apps.get(app_id)
            return None if app is None else self._view(app, endpoint_id.lower())

    def read(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """What GetEndpoint sees: the stored endpoint, or its older state within the delay."""
        with self._lock:
            app = self._apps.get(app_id)
            if app is None:
                return None
            key = endpoint_id.lower()
            stale = app.stale.get(key)
            if stale is not None:
                if self._clock() < stale[0]:
                    return stale[1]
                del app.stale[key]
            return self._view(app, key)

    def endpoints(self, app_id: str) -> dict[str, EndpointResponse]:
        """Every endpoint of an application, by id as first created."""
        with self._lock:
            app = self._apps.get(app_id)
            if app is None:
                return {}
            views = (self._view(app, key) for key in app.endpoints)
            return {v.id or "": v for v in views if v is not None}

    def update(self, app_id: str, endpoint_id: str, request: EndpointRequest) -> None:
        """UpdateEndpoint: create or change; raise `StoreError` when a quota is exceeded."""
        _check_values(request)
        key = endpoint_id.lower()
        now = datetime.now(timezone.utc)
        with self._lock:
            app = self._apps.get(app_id) or _App()
            old = app.endpoints.get(key)
            names = app.names | _names(request)
            if len(names) > MAX_ATTRIBUTE_NAMES:
                raise StoreError(
                    f"Exceeded maximum number of attributes: {MAX_ATTRIBUTE_NAMES} attribute "
                    "names per application across Attributes, Metrics and UserAttributes."
                )
            user = request.user
            old_user_id = old.user.user_id if old is not None and old.user else None
            user_id = user.user_id if user is not None and user.user_id is not None else old_user_id
            if user_id is not None and user_id != old_user_id:
                sharing = sum(
                    1 for k, ep in app.endpoints.items()
                    if k != key and ep.user is not None and ep.user.user_id == user_id
                )
                if sharing >= MAX_ENDPOINTS_PER_USER:
                    raise StoreError(
                        f"Exceeded maximum endpoint per user count: {MAX_ENDPOINTS_PER_USER}"
                    )
            new_user_attributes = user.user_attributes if user is not None else None
            if user_id is not None:
                shared = _merge(app.users.get(user_id), new_user_attributes) or {}
                stored_user: EndpointUser | None = EndpointUser(user_id=user_id)
            else:
                own = old.user.user_attributes if old is not None and old.user else None
                merged = _merge(own, new_user_attributes)
                stored_user = (
                    EndpointUser(user_attributes=merged) if merged is not None else None
                )
            base = old if old is not None else EndpointResponse(
                application_id=app_id,
                id=endpoint_id,
                cohort_id=str(self._random.randrange(100)),
                creation_date=iso_now(now),
            )
            sent = {
                k: v for k, v in attrs.asdict(request, recurse=False).items()
                if v is not None
                and k not in ("attributes", "metrics", "user", "endpoint_status", "effective_date")
            }
            merged_metrics = (
                {**(base.metrics or {}), **request.metrics} if request.metrics is not None
                else base.metrics
            )
            updated = attrs.evolve(
                base,
                **sent,
                attributes=_merge(base.attributes, request.attributes),
                metrics=merged_metrics,
                user=stored_user,
                endpoint_status=request.endpoint_status or "ACTIVE",
                effective_date=request.effective_date or iso_now(now),
            )
            view = _with_user(updated, shared if user_id is not None else None)
            size = len(json.dumps(view.to_dict(), separators=(",", ":")).encode("utf-8"))
            if size > MAX_ENDPOINT_BYTES:
                raise StoreError(
                    f"Endpoint size {size} bytes exceeds the maximum of {MAX_ENDPOINT_BYTES} "
                    "bytes (15 KB)."
                )
            # Every check passed: commit.
            self._apps[app_id] = app
            self._remember(app, key)
            app.names = names
            if user_id is not None:
                app.users[user_id] = shared
            app.endpoints[key] = updated
            if updated.address is not None:
                for other_key, other in app.endpoints.items():
                    if other_key != key and other.address == updated.address \
                            and other.endpoint_status != "INACTIVE":
                        self._remember(app, other_key)
                        app.endpoints[other_key] = attrs.evolve(other, endpoint_status="INACTIVE")

    def delete(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """DeleteEndpoint: remove and return the endpoint, or ``None`` if there is none."""
        key = endpoint_id.lower()
        with self._lock:
            app = self._apps.get(app_id)
            if app is None or key not in app.endpoints:
                return None
            view = self._view(app, key)
            self._remember(app, key)
            del app.endpoints[key]
            return view

    def _remember(self, app: _App, key: str) -> None:
        """Before a change: keep the current view readable for the propagation delay."""
        if self._delay <= 0:
            return
        until = self._clock() + self._delay
        previous = app.stale.get(key)
        if previous is not None and self._clock() < previous[0]:
            app.stale[key] = (until, previous[1])  # the oldest unseen state stays visible
        else:
            app.stale[key] = (until, self._view(app, key))

    def _view(self, app: _App, key: str) -> EndpointResponse | None:
        ep = app.endpoints.get(key)
        if ep is None or ep.user is None or ep.user.user_id is None:
            return ep
        return _with_user(ep, app.users.get(ep.user.user_id))


def _with_user(ep: EndpointResponse, shared: dict[str, list[str]] | None) -> EndpointResponse:
    if shared is None or ep.user is None:
        return ep
    copied = {k: list(v) for k, v in shared.items()} if shared else None
    return attrs.evolve(ep, user=attrs.evolve(ep.user, user_attributes=copied))


def _names(request: EndpointRequest) -> set[tuple[str, str]]:
    found = {("Attributes", n) for n in request.attributes or {}}
    found |= {("Metrics", n) for n in request.metrics or {}}
    if request.user is not None:
        found |= {("UserAttributes", n) for n in request.user.user_attributes or {}}
    return found


def _check_values(request: EndpointRequest) -> None:
    maps: list[tuple[str, Mapping[str, object]]] = [
        ("Attributes", request.attributes or {}),
        ("Metrics", request.metrics or {}),
        ("UserAttributes", (request.user.user_attributes if request.user else None) or {}),
    ]
    for kind, values in maps:
        for name, value in values.items():
            if not name:
                raise StoreError(f"{kind} name must not be empty.")
            if len(name) > MAX_NAME_LENGTH:
                raise StoreError(
                    f"{kind} name exceeds the maximum length of {MAX_NAME_LENGTH} characters: "
                    f"{name[:MAX_NAME_LENGTH]}..."
                )
            if not isinstance(value, list):
                continue
            if len(value) > MAX_VALUES:
                raise StoreError(
                    f"{kind} {name} has {len(value)} values; the maximum is {MAX_VALUES}."
                )
            for item in value:
                if len(item) > MAX_VALUE_LENGTH:
                    raise StoreError(
                        f"{kind} {name} has a value longer than the maximum of "
                        f"{MAX_VALUE_LENGTH} characters."
                    )
