"""Shared fixtures: every test runs with a clean AWS environment and no network but loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from tests.faces import FACES
from tests.loopback import Behaviour, Server

AWS_ENV_PREFIXES = ("AWS_", "BOTO_")


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No real credentials, config files, endpoints or instance metadata leak into a test."""
    import os

    for name in list(os.environ):
        if name.startswith(AWS_ENV_PREFIXES) or name.upper() in ("HTTP_PROXY", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield


@pytest.fixture
def creds() -> Credentials:
    """A fixed, fake key pair."""
    return Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


@pytest.fixture
def client(creds: Credentials) -> Iterator[pe.Client]:
    """A `Client` for us-east-1 with `creds`; closed after the test."""
    with pe.Client("us-east-1", credentials=creds) as c:
        yield c


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """HTTP mocked with `responses`; unfired registrations are allowed."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], Server]]:
    """Start loopback servers (`tests.loopback.Server`); all are closed after the test."""
    servers: list[Server] = []

    def start(behaviour: Behaviour) -> Server:
        servers.append(Server(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()




@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> str:
    """Each client face in turn, for suites that hold for both (see `tests.faces`)."""
    face: str = request.param
    return face
