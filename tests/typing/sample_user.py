"""User-style code checked by `mypy --strict` in tests/test_typing.py (not run, not collected).

Each `reveal_type` states what an IDE must infer; the line marked MISSPELT must be an error.
"""

from __future__ import annotations

import pinpoint_endpoints as pe


def use(client: pe.Client) -> None:
    ep = client.get_endpoint("app", "device-1")
    reveal_type(ep)  # R1
    if ep.location is not None:
        reveal_type(ep.location.latitude)  # R2
    reveal_type(ep.channel_type)  # R3
    reveal_type(ep.attributes)  # R4
    reveal_type(client.update_endpoint("app", "device-1", pe.EndpointRequest(address="x")))  # R5
    reveal_type(client.delete_endpoint("app", "device-1"))  # R6
    reveal_type(pe.EndpointResponse.from_dict({}))  # R7
    reveal_type(ep.to_dict())  # R8
    print(ep.adress)  # MISPELT
    pe.EndpointRequest(adress="x")  # MISPELT
    try:
        pass
    except pe.TooManyRequestsException as exc:
        reveal_type(exc.retry_after)  # R9
        reveal_type(exc.request_id)  # R10


async def in_asyncio(client: pe.AsyncClient) -> None:
    reveal_type(await client.get_endpoint("app", "ep"))  # R11
    reveal_type(client.with_options(timeout=1.0))  # R12
    await client.get_endpoint("app")  # MISPELT
