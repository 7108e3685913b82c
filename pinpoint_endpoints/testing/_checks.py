"""What the emulator refuses in one endpoint's request on its own, before any state is read:
enum-valued fields outside the service's values and attribute names or values over the quotas.

Each failure is a `StoreError` (400) whose ``path`` names the field, so a batch can say which
item (``Item[3].ChannelType``).

Examples:
    >>> check_request(EndpointRequest(channel_type="FAX"))
    Traceback (most recent call last):
    ...
    pinpoint_endpoints.testing._checks.StoreError: Invalid ChannelType 'FAX': ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from pinpoint_endpoints._models import ChannelType, EndpointBatchItem, EndpointRequest

__all__ = [
    "CHANNEL_TYPES", "ENDPOINT_STATUSES", "OPT_OUTS", "StoreError", "check_request",
]

MAX_NAME_LENGTH: Final = 50
MAX_VALUE_LENGTH: Final = 100
MAX_VALUES: Final = 50
# the service's enum (botocore's ChannelType shape) and the documented values of two strings
CHANNEL_TYPES: Final = tuple(c.value for c in ChannelType)
OPT_OUTS: Final = ("ALL", "NONE")
ENDPOINT_STATUSES: Final = ("ACTIVE", "INACTIVE")


class StoreError(Exception):
    """A request the service would refuse: ``status`` and ``code`` as on the wire, and the
    ``path`` of the field at fault (``""`` for the request as a whole)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "BadRequestException",
                 path: str = "") -> None:
        super().__init__(message)
        self.message, self.status, self.code, self.path = message, status, code, path

    def at(self, where: str) -> StoreError:
        """The same error, located: ``Item[3].ChannelType: ...``."""
        located = f"{where}.{self.path}" if self.path else where
        return StoreError(f"{located}: {self.message}", status=self.status, code=self.code,
                          path=located)


def _enum(field: str, value: object, allowed: tuple[str, ...]) -> None:
    text = value.value if isinstance(value, ChannelType) else value
    if text is not None and text not in allowed:
        shown = repr(text)[:60]
        raise StoreError(f"Invalid {field} {shown}: must be one of {', '.join(allowed)}.",
                         path=field)


Settings: TypeAlias = "EndpointRequest | EndpointBatchItem"
"""What one update writes: an `EndpointRequest`, or a batch item (its fields and an id)."""


def check_request(request: Settings) -> None:
    """Refuse enum values outside the service's and attribute names or values over the
    quotas; raise `StoreError` naming the field."""
    _enum("ChannelType", request.channel_type, CHANNEL_TYPES)
    _enum("OptOut", request.opt_out, OPT_OUTS)
    _enum("EndpointStatus", request.endpoint_status, ENDPOINT_STATUSES)
    maps: list[tuple[str, Mapping[str, object]]] = [
        ("Attributes", request.attributes or {}),
        ("Metrics", request.metrics or {}),
        ("User.UserAttributes", (request.user.user_attributes if request.user else None) or {}),
    ]
    for kind, values in maps:
        for name, value in values.items():
            if not name:
                raise StoreError(f"{kind} name must not be empty.", path=kind)
            if len(name) > MAX_NAME_LENGTH:
                raise StoreError(
                    f"{kind} name exceeds the maximum length of {MAX_NAME_LENGTH} characters: "
                    f"{name[:MAX_NAME_LENGTH]}...", path=kind)
            if not isinstance(value, list):
                continue
            if len(value) > MAX_VALUES:
                raise StoreError(
                    f"{kind} {name} has {len(value)} values; the maximum is {MAX_VALUES}.",
                    path=f"{kind}.{name}")
            if any(len(item) > MAX_VALUE_LENGTH for item in value):
                raise StoreError(
                    f"{kind} {name} has a value longer than the maximum of "
                    f"{MAX_VALUE_LENGTH} characters.", path=f"{kind}.{name}")
