"""`AsyncClient`: the asyncio face. The same loop as `Client` with ``await``: `_operations`
builds the request and parses the reply, `_retry.Attempts` decides, `_async_transport` sends.

Importing this module imports neither aiohttp nor the transport; constructing a client does,
and says what to install when the ``async`` extra is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from pinpoint_endpoints import _operations as ops
from pinpoint_endpoints._core import Face
from pinpoint_endpoints._errors import PinpointError, TransportError
from pinpoint_endpoints._models import (
    AttributesResource,
    AttributeType,
    EndpointBatchItem,
    EndpointRequest,
    EndpointResponse,
    EndpointsResponse,
    MessageBody,
)

if TYPE_CHECKING:
    from pinpoint_endpoints._async_transport import AsyncTransport

__all__ = ["AsyncClient"]

T = TypeVar("T")
MISSING_EXTRA = (
    "AsyncClient needs the async extra: pip install 'pinpoint-endpoints[async]' (aiohttp)"
)


class AsyncClient(Face["AsyncTransport"]):
    """The asyncio twin of `Client`: the same arguments, models, errors and retries; every
    operation is a coroutine. Safe for many tasks on one event loop (the loop it is first
    used in); a cancelled call raises `asyncio.CancelledError` and leaves the client usable.

    Args:
        region: AWS region; else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's region.
        profile: a named profile of the AWS config files.
        credentials: botocore credentials; ``None`` uses botocore's default chain.
        endpoint_url: where to send requests (as for `Client`).
        retry: the `RetryPolicy`; ``None`` is ``RetryPolicy()`` (3 attempts).
        timeout: seconds, or ``(connect, read)``.
        max_pool_connections: connections kept open to the service.

    Examples:
        >>> async with AsyncClient("us-east-1") as client:  # doctest: +SKIP
        ...     ep = await client.get_endpoint("my-app", "device-1")
    """

    @classmethod
    def _transport_factory(cls) -> Callable[..., AsyncTransport]:
        try:
            from pinpoint_endpoints._async_transport import AsyncTransport
        except ImportError as exc:
            raise PinpointError(MISSING_EXTRA) from exc
        return AsyncTransport

    async def get_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """GetEndpoint: read one endpoint (as `Client.get_endpoint`)."""
        return await self._call(ops.GET_ENDPOINT, ops.endpoint_params(application_id, endpoint_id))

    async def update_endpoint(
        self, application_id: str, endpoint_id: str, request: EndpointRequest
    ) -> MessageBody:
        """UpdateEndpoint: create or change an endpoint (as `Client.update_endpoint`)."""
        return await self._call(ops.UPDATE_ENDPOINT,
                                ops.endpoint_params(application_id, endpoint_id), request)

    async def delete_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """DeleteEndpoint: remove an endpoint, return it as it was (as `Client.delete_endpoint`)."""
        return await self._call(ops.DELETE_ENDPOINT,
                                ops.endpoint_params(application_id, endpoint_id))

    async def update_endpoints_batch(
        self, application_id: str, items: Sequence[EndpointBatchItem]
    ) -> MessageBody:
        """UpdateEndpointsBatch: upsert 1 to 100 endpoints (as `Client.update_endpoints_batch`)."""
        return await self._call(ops.UPDATE_ENDPOINTS_BATCH, ops.app_params(application_id),
                                ops.batch_body(items))

    async def get_user_endpoints(self, application_id: str, user_id: str) -> EndpointsResponse:
        """GetUserEndpoints: a user's endpoints (as `Client.get_user_endpoints`)."""
        return await self._call(ops.GET_USER_ENDPOINTS, ops.user_params(application_id, user_id))

    async def delete_user_endpoints(self, application_id: str, user_id: str) -> EndpointsResponse:
        """DeleteUserEndpoints: delete a user's endpoints (as `Client.delete_user_endpoints`)."""
        return await self._call(ops.DELETE_USER_ENDPOINTS,
                                ops.user_params(application_id, user_id))

    async def remove_attributes(
        self, application_id: str, attribute_type: AttributeType | str, names: Sequence[str]
    ) -> AttributesResource:
        """RemoveAttributes: stop capturing custom attributes (as `Client.remove_attributes`)."""
        return await self._call(ops.REMOVE_ATTRIBUTES,
                                ops.attribute_params(application_id, attribute_type),
                                ops.blacklist_body(names))

    async def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._shared.closed = True
        await self._shared.transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- one loop for every operation ---------------------------------------------------------

    async def _call(self, op: ops.Operation[T], params: dict[str, object], body: object = None
                    ) -> T:
        shared, policy = self._shared, self._retry
        shared.transport.bind()
        request = ops.build_request(op, params, body)
        url, headers = shared.prepare(request)
        attempts = shared.attempts(request, policy, self._timeout)
        sleep = policy.async_sleep or asyncio.sleep
        try:
            while True:
                wait, timeout = attempts.begin()
                if wait > 0:
                    await sleep(wait)
                signed = shared.sign(request, url, headers, attempts, await self._credentials())
                try:
                    reply = await shared.transport.send(
                        request.method, url, signed, request.body, timeout)
                except TransportError as exc:
                    delay = attempts.failed(exc)
                else:
                    if attempts.succeeded(reply):
                        return ops.parse_reply(op, reply.status, reply.headers, reply.body)
                    delay = attempts.failed(reply)
                if delay > 0:
                    await sleep(delay)
        except asyncio.CancelledError:
            attempts.cancelled()
            raise

    async def _credentials(self) -> Any:
        """This attempt's frozen credentials; a search or refresh that may do I/O runs in a
        thread, so the event loop never blocks on it."""
        source = self._shared.credentials
        if source.may_block():
            return await asyncio.to_thread(source.current)
        return source.current()
