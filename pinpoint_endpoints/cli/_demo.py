"""``pinpoint-endpoints demo``: a narrated endpoint lifecycle against an in-process emulator.

Loopback only, a few seconds, exit code 0. Addresses are printed masked.
"""

from __future__ import annotations

import argparse
from typing import Any

from pinpoint_endpoints import (
    ChannelType,
    EndpointRequest,
    EndpointResponse,
    EndpointUser,
    NotFoundException,
    RetryEvent,
    RetryPolicy,
)
from pinpoint_endpoints._redact import mask

APP = "demo-app"


def add_parser(subparsers: Any) -> None:
    """Register ``demo``."""
    p = subparsers.add_parser(
        "demo", help="a narrated endpoint lifecycle against an in-process emulator",
        description="Start a local emulator and walk an endpoint's lifecycle with the SDK.",
    )
    p.set_defaults(func=run)


def _say(step: int, text: str) -> None:
    print(f"\n{step}. {text}", flush=True)


def _show(ep: EndpointResponse) -> None:
    user = ep.user.user_id if ep.user else None
    print(f"   {ep.id}: {ep.channel_type} {mask(ep.address or '')} {ep.endpoint_status}"
          f"  user={user} cohort={ep.cohort_id}")
    if ep.attributes:
        print(f"   attributes: {ep.attributes}")
    if ep.user and ep.user.user_attributes:
        print(f"   user attributes: {ep.user.user_attributes}")


def _on_retry(event: RetryEvent) -> None:
    print(f"   ! {event.operation} attempt {event.attempt} answered {event.status_code} "
          f"({event.error.split(':', 1)[0]}); retrying in {event.delay:.2f} s", flush=True)


def run(args: argparse.Namespace) -> int:
    """Walk the lifecycle; returns 0."""
    from pinpoint_endpoints.testing import Emulator  # only here: other commands start faster

    retry = RetryPolicy(max_attempts=4, base=0.05, throttle_base=0.1, on_retry=_on_retry)
    with Emulator(seed=7) as emu, emu.client(retry=retry) as client:
        print(f"Started a local Pinpoint endpoint emulator at {emu.endpoint_url} "
              f"(region {emu.region}, key {emu.access_key}).")

        _say(1, "Create two endpoints for user ann (UpdateEndpoint is an upsert).")
        for ep_id, channel, address in (
            ("ann-email", ChannelType.EMAIL, "ann@example.com"),
            ("ann-phone", ChannelType.SMS, "+12065550100"),
        ):
            reply = client.update_endpoint(APP, ep_id, EndpointRequest(
                channel_type=channel, address=address,
                attributes={"Interests": ["music"], "Plan": ["free"]},
                user=EndpointUser(user_id="ann", user_attributes={"Name": ["Ann"]}),
            ))
            print(f"   PUT {ep_id} -> {reply.message} (request {reply.request_id})")

        _say(2, "Read one back (GetEndpoint).")
        _show(client.get_endpoint(APP, "ann-email"))

        _say(3, "Merge attributes: send only Plan; Interests is kept. "
                "User attributes are shared by all of ann's endpoints.")
        client.update_endpoint(APP, "ann-email", EndpointRequest(
            attributes={"Plan": ["gold"]},
            user=EndpointUser(user_attributes={"Tier": ["vip"]}),
        ))
        _show(client.get_endpoint(APP, "ann-email"))
        _show(client.get_endpoint(APP, "ann-phone"))

        _say(4, "The service throttles: the emulator answers the next call 429 with "
                "Retry-After 0.2 s, and the client retries.")
        emu.faults.throttle(1, retry_after=0.2)
        ep = client.get_endpoint(APP, "ann-phone")
        print(f"   got {ep.id} after the retry")

        _say(5, "A second endpoint with the same address: the older one turns INACTIVE.")
        client.update_endpoint(APP, "ann-email-2", EndpointRequest(
            channel_type=ChannelType.EMAIL, address="ann@example.com"))
        _show(client.get_endpoint(APP, "ann-email"))
        _show(client.get_endpoint(APP, "ann-email-2"))

        _say(6, "Delete it (DeleteEndpoint returns the endpoint as it was).")
        gone = client.delete_endpoint(APP, "ann-email-2")
        _show(gone)

        _say(7, "Read it again: NotFoundException.")
        try:
            client.get_endpoint(APP, "ann-email-2")
        except NotFoundException as exc:
            print(f"   caught NotFoundException: {exc.message} "
                  f"(status {exc.status_code}, request {exc.request_id})")

        print(f"\nDone: the emulator received {len(emu.requests)} requests.")
    return 0
