"""Helpers for the emulator's tests: raw signed HTTP requests."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from pinpoint_endpoints.testing import Emulator
from pinpoint_endpoints.testing._backend import Backend
from pinpoint_endpoints.testing._memory import MemoryBackend
from pinpoint_endpoints.testing._sqlite import SqliteBackend
from pinpoint_endpoints.testing._store import Store


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Where the state lives: every test of `store` and `emu` runs over both backends, the
    in-memory one and a SQLite file."""
    found: Backend = MemoryBackend() if request.param == "memory" \
        else SqliteBackend(tmp_path / "state.sqlite")
    yield found
    found.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    """The rules over a fresh backend, no HTTP."""
    return Store(backend, seed=1)


@pytest.fixture
def emu(backend: Backend) -> Iterator[Emulator]:
    with Emulator(seed=1, backend=backend) as emulator:
        yield emulator


# "total_max_attempts" counts the first try; botocore reads "max_attempts" as retries.
ONCE = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def bc(emu: Emulator) -> Iterator[Any]:
    """A boto3 ``pinpoint`` client for `emu` that tries each call once."""
    client = emu.boto3_client(config=ONCE)
    yield client
    client.close()


class Raw:
    """A reply read with http.client."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def sign(
    emu: Emulator,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    credentials: Credentials | None = None,
    region: str | None = None,
    service: str = "mobiletargeting",
    when: dt.datetime | None = None,
) -> dict[str, str]:
    """Headers of a request signed with botocore (the independent side of the check)."""
    request = AWSRequest(method=method, url=emu.endpoint_url + path, data=body,
                         headers={"Host": f"127.0.0.1:{emu.port}"})
    auth = SigV4Auth(credentials or emu.credentials, service, region or emu.region)
    if when is None:
        auth.add_auth(request)
    else:
        from botocore.auth import SIGV4_TIMESTAMP

        request.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
        auth._modify_request_before_signing(request)
        canonical = auth.canonical_request(request)
        signature = auth.signature(auth.string_to_sign(request, canonical), request)
        auth._inject_signature_to_request(request, signature)
    return dict(request.headers.items())


def raw(
    emu: Emulator,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    signed: bool = True,
) -> Raw:
    """Send one request over a fresh connection and read the whole reply."""
    all_headers = dict(sign(emu, method, path, body) if signed else {})
    all_headers.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=all_headers)
        reply = conn.getresponse()
        return Raw(reply.status, {k: v for k, v in reply.getheaders()}, reply.read())
    finally:
        conn.close()
