"""Attribute types and removed (RemoveAttributes) names: which names a request may still set.

A kind names one of the three maps: ``"Attributes"``, ``"Metrics"``, ``"UserAttributes"``.
A removed entry is an exact name or a glob pattern (``*``, ``?``, ``[...]``, as the service's
``Blacklist`` documentation allows), matched case-sensitively.

Examples:
    >>> kind_of("endpoint-metric-attributes")
    'Metrics'
    >>> without_removed(EndpointRequest(attributes={"a1": ["x"], "b": ["y"]}),
    ...                 {"Attributes": {"a*"}}).attributes
    {'b': ['y']}
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from fnmatch import fnmatchcase
from typing import Final, TypeVar

import attrs

from pinpoint_endpoints._models import AttributeType
from pinpoint_endpoints.testing._checks import Settings, StoreError

V = TypeVar("V")

__all__ = ["KINDS", "is_pattern", "kind_of", "matches", "without_removed"]

KINDS: Final = {
    AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES.value: "Attributes",
    AttributeType.ENDPOINT_METRIC_ATTRIBUTES.value: "Metrics",
    AttributeType.ENDPOINT_USER_ATTRIBUTES.value: "UserAttributes",
}


def kind_of(attribute_type: str) -> str:
    """The map an attribute type names, or `StoreError` (400) for another type."""
    kind = KINDS.get(attribute_type)
    if kind is None:
        raise StoreError(f"Invalid attribute type {attribute_type[:60]!r}: must be one of "
                         f"{', '.join(KINDS)}.", path="AttributeType")
    return kind


def is_pattern(entry: str) -> bool:
    """Whether a removed entry is a glob pattern rather than an exact name."""
    return any(c in entry for c in "*?[")


def matches(name: str, entry: str) -> bool:
    """Whether ``name`` is removed by ``entry`` (an exact name or a pattern)."""
    return name == entry or (is_pattern(entry) and fnmatchcase(name, entry))


def _kept(values: Mapping[str, V] | None, removed: Set[str]) -> dict[str, V] | None:
    if values is None or not removed:
        return dict(values) if values is not None else None
    return {k: v for k, v in values.items() if not any(matches(k, e) for e in removed)}


def without_removed(request: Settings, removed: Mapping[str, Set[str]]) -> Settings:
    """``request`` without the names removed for each kind (they are no longer captured)."""
    if not any(removed.values()):
        return request
    user = request.user
    if user is not None and user.user_attributes is not None:
        user = attrs.evolve(user, user_attributes=_kept(
            user.user_attributes, removed.get("UserAttributes", set())))
    return attrs.evolve(
        request,
        attributes=_kept(request.attributes, removed.get("Attributes", set())),
        metrics=_kept(request.metrics, removed.get("Metrics", set())),
        user=user,
    )
