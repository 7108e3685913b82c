"""Mistakes pyright must report in strict mode (tests/test_pyright.py); one per marked line."""

from __future__ import annotations

import pinpoint_endpoints as pe


def mistakes(client: pe.Client) -> None:
    ep = client.get_endpoint("app", "ep")
    print(ep.adress)  # E: misspelt field
    pe.EndpointRequest(adress="x")  # E: misspelt keyword
    print(ep.location.latitude)  # E: location may be None
    ep.address = "x"  # E: models are frozen
    client.update_endpoint("app", "ep", {"Address": "x"})  # E: a dict is not a request
    pe.RetryPolicy(max_attempts="3")  # E: wrong type
