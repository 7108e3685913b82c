"""A typed client for the Amazon Pinpoint Endpoint resource, and a local emulator.

Examples:
    >>> import pinpoint_endpoints as pe
    >>> with pe.Client("us-east-1") as client:  # doctest: +SKIP
    ...     client.update_endpoint("my-app", "device-1", pe.EndpointRequest(
    ...         channel_type=pe.ChannelType.EMAIL, address="ann@example.com"))
    ...     print(client.get_endpoint("my-app", "device-1").endpoint_status)
    ACTIVE

`AsyncClient` is imported on first use (``pe.AsyncClient``), so ``import pinpoint_endpoints``
never imports asyncio or aiohttp.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from pinpoint_endpoints._client import Client
from pinpoint_endpoints._config import CleartextWarning
from pinpoint_endpoints._errors import (
    BadRequestException,
    CredentialsError,
    ForbiddenException,
    InternalServerErrorException,
    MethodNotAllowedException,
    NotFoundException,
    PayloadTooLargeException,
    PinpointError,
    ResponseParseError,
    ServiceError,
    TooManyRequestsException,
    TransportError,
    ValidationError,
)
from pinpoint_endpoints._models import (
    AttributesResource,
    AttributeType,
    ChannelType,
    EndpointBatchItem,
    EndpointBatchRequest,
    EndpointDemographic,
    EndpointLocation,
    EndpointRequest,
    EndpointResponse,
    EndpointsResponse,
    EndpointUser,
    MessageBody,
    UpdateAttributesRequest,
)
from pinpoint_endpoints._retry import RetryEvent, RetryPolicy
from pinpoint_endpoints._version import __version__

if _TYPE_CHECKING:
    from pinpoint_endpoints._async_client import AsyncClient

__all__ = [
    "AsyncClient",
    "AttributeType",
    "AttributesResource",
    "BadRequestException",
    "ChannelType",
    "CleartextWarning",
    "Client",
    "CredentialsError",
    "EndpointBatchItem",
    "EndpointBatchRequest",
    "EndpointDemographic",
    "EndpointLocation",
    "EndpointRequest",
    "EndpointResponse",
    "EndpointUser",
    "EndpointsResponse",
    "ForbiddenException",
    "InternalServerErrorException",
    "MessageBody",
    "MethodNotAllowedException",
    "NotFoundException",
    "PayloadTooLargeException",
    "PinpointError",
    "ResponseParseError",
    "RetryEvent",
    "RetryPolicy",
    "ServiceError",
    "TooManyRequestsException",
    "TransportError",
    "UpdateAttributesRequest",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> _Any:
    if name == "AsyncClient":
        from pinpoint_endpoints._async_client import AsyncClient

        return AsyncClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "AsyncClient"})
