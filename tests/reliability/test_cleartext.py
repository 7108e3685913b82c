"""Plain HTTP: a client whose signed requests would cross the network in clear warns once per
host, when it is made (before any request); traffic that stays on this machine is silent.

Extends tests/test_client.py::test_plain_http_to_a_remote_host_warns_once. Every test uses
hosts of its own, since the once-per-host memory is process-wide.
"""

from __future__ import annotations

import warnings

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator


def made(url: str, creds: Credentials) -> list[warnings.WarningMessage]:
    """The warnings raised while making (and closing) a client for ``url``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pe.Client(endpoint_url=url, credentials=creds).close()
    return [w for w in caught if issubclass(w.category, pe.CleartextWarning)]


def test_the_warning_comes_at_construction_without_any_request(creds: Credentials) -> None:
    with responses.RequestsMock() as mock:
        caught = made("http://pinpoint.construct.test:8080", creds)
        assert len(mock.calls) == 0
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "pinpoint.construct.test" in text and "https://" in text
    assert caught[0].filename == __file__  # points at the line that made the client


def test_once_per_host_across_clients_and_ports(creds: Credentials) -> None:
    first = made("http://once-a.example.test:8080", creds)
    again = made("http://once-a.example.test:9090", creds)
    other = made("http://once-b.example.test:8080", creds)
    assert (len(first), len(again), len(other)) == (1, 0, 1)


def test_an_endpoint_url_from_the_environment_warns_too(
    creds: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_PINPOINT", "http://from-env.example.test")
    with pytest.warns(pe.CleartextWarning, match="from-env.example.test"):
        pe.Client(credentials=creds).close()


@pytest.mark.parametrize("url", [
    "https://tls-only.example.test",
    "http://LocalHost:8080",
    "http://api.localhost:8080",
    "http://127.0.0.2:8080",
    "http://[::1]:8080",
    "http://[::ffff:127.0.0.1]:8080",   # IPv4-mapped loopback
    "http://0.0.0.0:8080",              # connecting to 'any' reaches this machine
])
def test_traffic_that_stays_local_or_is_encrypted_is_silent(
    url: str, creds: Credentials
) -> None:
    assert made(url, creds) == []


def test_an_emulator_bound_to_every_interface_is_silent() -> None:
    """``Emulator(host="0.0.0.0")`` (a container set-up) gives a client that stays local; under
    ``filterwarnings = error`` a warning here would fail the user's own tests."""
    with Emulator(host="0.0.0.0") as emu, warnings.catch_warnings():
        warnings.simplefilter("error")
        with emu.client() as client:
            client.update_endpoint("app", "ep", pe.EndpointRequest(opt_out="NONE"))
