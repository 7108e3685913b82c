"""`Client`: the sync face. A thin loop over the pure core: `_operations` builds the request
and parses the reply, `_retry.Attempts` decides, `_transport` sends, `_signing` signs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from pinpoint_endpoints import _operations as ops
from pinpoint_endpoints._core import Face
from pinpoint_endpoints._errors import TransportError
from pinpoint_endpoints._models import (
    AttributesResource,
    AttributeType,
    EndpointBatchItem,
    EndpointRequest,
    EndpointResponse,
    EndpointsResponse,
    MessageBody,
)
from pinpoint_endpoints._transport import Transport

__all__ = ["Client"]

T = TypeVar("T")


class Client(Face[Transport]):
    """A client for the Pinpoint Endpoint resource. One instance is safe to share by threads.

    Args:
        region: AWS region; else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's region.
        profile: a named profile of the AWS config files.
        credentials: botocore credentials; ``None`` uses botocore's default chain.
        endpoint_url: where to send requests; else ``AWS_ENDPOINT_URL_PINPOINT``,
            ``AWS_ENDPOINT_URL``, then the regional service URL (FIPS / dual-stack aware).
        retry: the `RetryPolicy`; ``None`` is ``RetryPolicy()`` (3 attempts).
        timeout: seconds, or ``(connect, read)``.
        max_pool_connections: connections kept open to the service.

    Examples:
        >>> with Client("us-east-1") as client:  # doctest: +SKIP
        ...     ep = client.get_endpoint("my-app", "device-1")
        ...     print(ep.location.city if ep.location else None)
    """

    @classmethod
    def _transport_factory(cls) -> Callable[..., Transport]:
        return Transport

    def get_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """GetEndpoint: read one endpoint.

        Raises:
            NotFoundException: no such application or endpoint.

        Examples:
            >>> ep = client.get_endpoint("my-app", "device-1")  # doctest: +SKIP
            >>> ep.channel_type, ep.endpoint_status  # doctest: +SKIP
            (<ChannelType.SMS: 'SMS'>, 'ACTIVE')
        """
        return self._call(ops.GET_ENDPOINT, ops.endpoint_params(application_id, endpoint_id))

    def update_endpoint(
        self, application_id: str, endpoint_id: str, request: EndpointRequest
    ) -> MessageBody:
        """UpdateEndpoint: create the endpoint or change the fields that are set (an upsert).

        Fields left ``None`` keep their current values; ``attributes``, ``metrics`` and user
        attributes merge per key.

        Examples:
            >>> client.update_endpoint("my-app", "device-1", EndpointRequest(  # doctest: +SKIP
            ...     channel_type=ChannelType.SMS, address="+12065550100"))
            MessageBody(request_id='...', message='Accepted')
        """
        return self._call(ops.UPDATE_ENDPOINT, ops.endpoint_params(application_id, endpoint_id),
                          request)

    def delete_endpoint(self, application_id: str, endpoint_id: str) -> EndpointResponse:
        """DeleteEndpoint: remove an endpoint and return it as it was.

        Examples:
            >>> gone = client.delete_endpoint("my-app", "device-1")  # doctest: +SKIP
            >>> gone.id  # doctest: +SKIP
            'device-1'
        """
        return self._call(ops.DELETE_ENDPOINT, ops.endpoint_params(application_id, endpoint_id))

    def update_endpoints_batch(
        self, application_id: str, items: Sequence[EndpointBatchItem]
    ) -> MessageBody:
        """UpdateEndpointsBatch: upsert 1 to 100 endpoints in one request.

        Each item is an `EndpointRequest`'s fields plus its ``id``; ids are unique within the
        batch. The service checks the batch whole: one bad item refuses all of it.

        Examples:
            >>> client.update_endpoints_batch("my-app", [  # doctest: +SKIP
            ...     EndpointBatchItem(id="d1", address="+12065550100", channel_type="SMS"),
            ...     EndpointBatchItem(id="d2", address="ann@example.com", channel_type="EMAIL"),
            ... ])
            MessageBody(request_id='...', message='Accepted')
        """
        return self._call(ops.UPDATE_ENDPOINTS_BATCH, ops.app_params(application_id),
                          ops.batch_body(items))

    def get_user_endpoints(self, application_id: str, user_id: str) -> EndpointsResponse:
        """GetUserEndpoints: every endpoint whose ``User.UserId`` is ``user_id``.

        Raises:
            NotFoundException: the user has no endpoints.

        Examples:
            >>> found = client.get_user_endpoints("my-app", "ann")  # doctest: +SKIP
            >>> [ep.id for ep in found.item or []]  # doctest: +SKIP
            ['d1', 'd2']
        """
        return self._call(ops.GET_USER_ENDPOINTS, ops.user_params(application_id, user_id))

    def delete_user_endpoints(self, application_id: str, user_id: str) -> EndpointsResponse:
        """DeleteUserEndpoints: delete every endpoint of a user, returning them as they were.

        Examples:
            >>> gone = client.delete_user_endpoints("my-app", "ann")  # doctest: +SKIP
            >>> len(gone.item or [])  # doctest: +SKIP
            2
        """
        return self._call(ops.DELETE_USER_ENDPOINTS, ops.user_params(application_id, user_id))

    def remove_attributes(
        self, application_id: str, attribute_type: AttributeType | str, names: Sequence[str]
    ) -> AttributesResource:
        """RemoveAttributes: stop capturing the named custom attributes of one type.

        Endpoints keep the values they had; later updates ignore these names.

        Examples:
            >>> client.remove_attributes(  # doctest: +SKIP
            ...     "my-app", AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES, ["Plan"]).attributes
            ['Plan']
        """
        return self._call(ops.REMOVE_ATTRIBUTES,
                          ops.attribute_params(application_id, attribute_type),
                          ops.blacklist_body(names))

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._shared.closed = True
        self._shared.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- one loop for every operation ---------------------------------------------------------

    def _call(self, op: ops.Operation[T], params: dict[str, object], body: object = None) -> T:
        shared, policy = self._shared, self._retry
        request = ops.build_request(op, params, body)
        url, headers = shared.prepare(request)
        attempts = shared.attempts(request, policy, self._timeout)
        while True:
            wait, timeout = attempts.begin()
            if wait > 0:
                policy.sleep(wait)
            signed = shared.sign(request, url, headers, attempts, shared.credentials.current())
            try:
                reply = shared.transport.send(request.method, url, signed, request.body, timeout)
            except TransportError as exc:
                delay = attempts.failed(exc)
            else:
                if attempts.succeeded(reply):
                    return ops.parse_reply(op, reply.status, reply.headers, reply.body)
                delay = attempts.failed(reply)
            if delay > 0:
                policy.sleep(delay)
