"""User-style code checked by pyright in strict mode in tests/test_pyright.py (not collected).

It must check with no error, and each `reveal_type` states what the IDE must infer (the
expected types are in the test). It exercises what completion relies on: the operations'
return types, model fields, the errors' attributes and the retry policy.
"""

from __future__ import annotations

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator


def on_retry(event: pe.RetryEvent) -> None:
    reveal_type(event.delay)  # P1
    reveal_type(event.status_code)  # P2


def where(client: pe.Client, app: str, endpoint_id: str) -> str:
    ep = client.get_endpoint(app, endpoint_id)
    reveal_type(ep)  # P3
    if ep.location is not None:
        reveal_type(ep.location.latitude)  # P4
        if ep.location.latitude is not None:
            return f"{ep.location.latitude:.2f}"
    reveal_type(ep.location)  # P5
    return "unknown"


def update(client: pe.Client) -> None:
    request = pe.EndpointRequest(
        channel_type=pe.ChannelType.SMS,
        address="+12065550100",
        attributes={"Plan": ["gold"]},
        metrics={"visits": 3.0},
        location=pe.EndpointLocation(latitude=47.6, longitude=-122.3),
        user=pe.EndpointUser(user_id="ann", user_attributes={"Name": ["Ann"]}),
    )
    reply = client.update_endpoint("app", "ep", request)
    reveal_type(reply)  # P6
    reveal_type(reply.message)  # P7
    gone = client.delete_endpoint("app", "ep")
    reveal_type(gone)  # P8
    reveal_type(gone.channel_type)  # P9
    reveal_type(gone.attributes)  # P10
    reveal_type(gone.metrics)  # P11
    reveal_type(gone.user.user_attributes if gone.user else None)  # P12
    reveal_type(pe.EndpointResponse.from_dict({"Id": "ep"}))  # P13
    reveal_type(gone.to_dict())  # P14
    reveal_type(gone.to_request())  # P15


def handle(client: pe.Client) -> str | None:
    try:
        client.get_endpoint("app", "ep")
    except pe.TooManyRequestsException as exc:
        reveal_type(exc.retry_after)  # P16
        reveal_type(exc.attempts)  # P17
    except pe.ServiceError as exc:
        reveal_type(exc.status_code)  # P18
        reveal_type(exc.code)  # P19
        reveal_type(exc.request_id)  # P20
        return exc.message
    except pe.TransportError as exc:
        reveal_type(exc.attempts)  # P21
    return None


def configure() -> None:
    policy = pe.RetryPolicy(max_attempts=5, deadline=30.0, adaptive=True, on_retry=on_retry)
    reveal_type(policy.max_attempts)  # P22
    reveal_type(policy.deadline)  # P23
    with Emulator() as emu, emu.client(retry=policy) as client:
        reveal_type(client)  # P24
        reveal_type(emu.get("app", "ep"))  # P25
        reveal_type(client.with_options(timeout=5.0))  # P26
        print(where(client, "app", "ep"), handle(client))


async def in_asyncio(emu: Emulator) -> None:
    async with pe.AsyncClient("us-east-1", timeout=5.0) as client:
        reveal_type(client)  # P27
        reveal_type(await client.get_endpoint("app", "ep"))  # P28
        reveal_type(await client.update_endpoints_batch("app", []))  # P29
        reveal_type(await client.get_user_endpoints("app", "ann"))  # P30
        reveal_type(client.with_options(retry=pe.RetryPolicy()))  # P31
        reveal_type(client.get_endpoint("app", "ep"))  # P32
    reveal_type(emu.async_client())  # P33
