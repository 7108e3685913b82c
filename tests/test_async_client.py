"""`AsyncClient`: the same operations as `Client`, and what asyncio code relies on:
cancellation, one loop, no blocking, the extra kept out of ``import pinpoint_endpoints``."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.credentials import Credentials, RefreshableCredentials

import pinpoint_endpoints as pe
from pinpoint_endpoints import _operations as ops
from tests.faces import make
from tests.loopback import Behaviour, Canned, Server, target

OK: dict[str, tuple[Callable[[Any], Any], dict[str, Any]]] = {
    "GetEndpoint": (lambda c: c.get_endpoint("app", "ep"), {"Id": "ep", "Address": "x"}),
    "UpdateEndpoint": (lambda c: c.update_endpoint("app", "ep", pe.EndpointRequest(
        opt_out="NONE")), {"RequestID": "r", "Message": "Accepted"}),
    "DeleteEndpoint": (lambda c: c.delete_endpoint("app", "ep"), {"Id": "ep"}),
    "UpdateEndpointsBatch": (lambda c: c.update_endpoints_batch("app", [
        pe.EndpointBatchItem(id="d1", address="a@example.com", channel_type="EMAIL")]),
        {"RequestID": "r", "Message": "Accepted"}),
    "GetUserEndpoints": (lambda c: c.get_user_endpoints("app", "ann"),
                         {"Item": [{"Id": "d1"}]}),
    "DeleteUserEndpoints": (lambda c: c.delete_user_endpoints("app", "ann"),
                            {"Item": [{"Id": "d1"}]}),
    "RemoveAttributes": (lambda c: c.remove_attributes(
        "app", pe.AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES, ["Plan"]),
        {"AttributeType": "endpoint-custom", "Attributes": ["Plan"]}),
}


def ok_reply(conn: socket.socket, n: int, stop: threading.Event) -> None:
    Canned((200, {}, b'{"Id": "ep"}'))(conn, n, stop)


def test_every_operation_of_client_is_a_coroutine_of_the_same_signature() -> None:
    public = {n for n, v in vars(pe.Client).items() if callable(v) and not n.startswith("_")}
    assert len(public) == len(ops.OPERATIONS) + 1  # the seven operations and close
    for name in public | {"with_options"}:
        sync, twin = getattr(pe.Client, name), getattr(pe.AsyncClient, name)
        assert inspect.signature(sync) == inspect.signature(twin), name
        assert inspect.iscoroutinefunction(twin) == (name != "with_options"), name


def signed_headers(request: bytes) -> str:
    head = request.split(b"\r\n\r\n")[0].decode()
    return head.split("SignedHeaders=")[1].split(",")[0]


@pytest.mark.parametrize("operation", sorted(OK))
def test_both_faces_send_the_same_request_and_parse_the_same_reply(
    serve: Callable[[Behaviour], Server], creds: Credentials, operation: str
) -> None:
    call, body = OK[operation]
    seen = {}
    for face in ("sync", "async"):
        server = serve(Canned((ops.OPERATIONS[operation].status, {}, json.dumps(body).encode())))
        with make(face, endpoint_url=server.url, credentials=creds) as client:
            result = call(client)
        (request,) = server.requests
        seen[face] = (request.split(b" ")[0], target(request), signed_headers(request),
                      request.split(b"\r\n\r\n", 1)[1], result)
    assert seen["sync"] == seen["async"]
    assert seen["async"][-1].to_dict() == body


def test_retries_send_the_same_sdk_headers_on_both_faces(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> None:
    server = serve(Canned((500, {}, b""), (200, {}, b'{"Id": "ep"}')))
    events: list[pe.RetryEvent] = []
    policy = pe.RetryPolicy(sleep=lambda _: None, on_retry=events.append)
    with make(face, endpoint_url=server.url, credentials=creds, retry=policy) as client:
        assert client.get_endpoint("app", "ep").id == "ep"
    headers = [dict(line.split(": ", 1) for line in r.decode().split("\r\n")[1:] if line)
               for r in server.requests]
    assert [h["amz-sdk-request"] for h in headers] == ["attempt=1; max=3", "attempt=2; max=3"]
    assert headers[0]["amz-sdk-invocation-id"] == headers[1]["amz-sdk-invocation-id"]
    assert [(e.attempt, e.status_code) for e in events] == [(1, 500)]


async def wait_for_connections(server: Server, count: int) -> None:
    while server.connections < count:
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_a_cancelled_call_releases_its_connection_and_leaves_the_client_usable(
    serve: Callable[[Behaviour], Server], creds: Credentials
) -> None:
    server = serve(lambda conn, n, stop: stop.wait(30) if n == 1 else ok_reply(conn, n, stop))
    async with pe.AsyncClient(endpoint_url=server.url, credentials=creds,
                              max_pool_connections=1) as client:
        tokens = client._shared.quota.tokens
        task = asyncio.create_task(client.get_endpoint("app", "ep"))
        await asyncio.wait_for(wait_for_connections(server, 1), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client._shared.quota.tokens == tokens
        # the pool holds one connection: had the cancelled call kept it, this would wait
        got = await asyncio.wait_for(client.get_endpoint("app", "ep"), 10)
    assert got.id == "ep"


@pytest.mark.asyncio
async def test_a_timeout_around_a_call_cancels_it_and_the_quota_is_as_it_was(
    serve: Callable[[Behaviour], Server], creds: Credentials
) -> None:
    """Cancelled in its retry sleep: what the retry took from the quota is given back."""
    server = serve(Canned((503, {}, b"")))
    never = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        await never.wait()

    policy = pe.RetryPolicy(async_sleep=sleep_forever)
    async with pe.AsyncClient(endpoint_url=server.url, credentials=creds,
                              retry=policy) as client:
        quota = client._shared.quota
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.get_endpoint("app", "ep"), 0.5)
        assert quota.tokens == quota.capacity and server.connections == 1


def test_a_client_used_from_another_event_loop_says_so(
    serve: Callable[[Behaviour], Server], creds: Credentials
) -> None:
    server = serve(ok_reply)
    client = pe.AsyncClient(endpoint_url=server.url, credentials=creds)
    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(client.get_endpoint("app", "ep")).id == "ep"
        with pytest.raises(pe.PinpointError, match="one client per event loop"):
            asyncio.run(client.get_endpoint("app", "ep"))
        assert server.connections == 1
        first.run_until_complete(client.close())
    finally:
        first.close()


@pytest.mark.asyncio
async def test_a_credentials_refresh_runs_off_the_event_loop(
    serve: Callable[[Behaviour], Server],
) -> None:
    server = serve(ok_reply)
    loop_thread = threading.get_ident()
    refreshed_in: list[int] = []

    def refresh() -> dict[str, str]:
        refreshed_in.append(threading.get_ident())
        return {"access_key": "AKIDNEW", "secret_key": "new-secret", "token": "t",
                "expiry_time": "2999-01-01T00:00:00Z"}

    creds = RefreshableCredentials.create_from_metadata(
        {"access_key": "AKIDOLD", "secret_key": "old", "token": "t",
         "expiry_time": "2000-01-01T00:00:00Z"}, refresh, "test")
    async with pe.AsyncClient(endpoint_url=server.url, credentials=creds) as client:
        await client.get_endpoint("app", "ep")
        await client.get_endpoint("app", "ep")  # fresh now: read inline, no second refresh
    assert len(refreshed_in) == 1 and refreshed_in[0] != loop_thread
    assert all(b"Credential=AKIDNEW/" in r for r in server.requests)


@pytest.mark.asyncio
async def test_with_options_gives_an_async_client_sharing_the_pool_and_quota(
    creds: Credentials,
) -> None:
    client = pe.AsyncClient("us-east-1", credentials=creds)
    child = client.with_options(timeout=1.0, retry=pe.RetryPolicy(max_attempts=5))
    assert type(child) is pe.AsyncClient and child._shared is client._shared
    assert child.retry_policy.max_attempts == 5 and repr(child).startswith("AsyncClient(")
    await child.close()
    with pytest.raises(pe.ValidationError, match="closed"):
        await client.get_endpoint("app", "ep")


@pytest.mark.asyncio
async def test_bad_input_is_refused_before_anything_is_sent(
    serve: Callable[[Behaviour], Server], creds: Credentials
) -> None:
    server = serve(ok_reply)
    async with pe.AsyncClient(endpoint_url=server.url, credentials=creds) as client:
        with pytest.raises(pe.ValidationError, match="must not contain"):
            await client.get_endpoint("app", "a$b")
        with pytest.raises(pe.ValidationError, match="1 to 100"):
            await client.update_endpoints_batch("app", [])
    assert server.connections == 0


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


def test_importing_the_package_imports_no_async_stack() -> None:
    proc = run_python(
        "import sys, pinpoint_endpoints, pinpoint_endpoints.testing\n"
        "print(sorted({'asyncio', 'aiohttp'} & set(sys.modules)))"
    )
    assert proc.stdout.strip() == "[]", proc.stderr


def test_without_the_extra_the_client_says_what_to_install() -> None:
    proc = run_python(
        "import sys\n"
        "sys.modules['aiohttp'] = None  # as if not installed\n"
        "import pinpoint_endpoints as pe\n"
        "try:\n"
        "    pe.AsyncClient('us-east-1')\n"
        "except pe.PinpointError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    assert proc.stdout == (
        "PinpointError AsyncClient needs the async extra: "
        "pip install 'pinpoint-endpoints[async]' (aiohttp)\n"
    ), proc.stderr
