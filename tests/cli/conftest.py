"""CLI fixtures: an emulator, the environment pointing the CLI at it, and a runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli import main
from pinpoint_endpoints.testing import Emulator


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


class Cli:
    """Runs ``main`` in this process against the emulator, capturing stdout and stderr."""

    def __init__(self, emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
        self.emu, self._capsys = emu, capsys

    def __call__(self, *argv: str, url: bool = True) -> Result:
        args = [*argv, "--endpoint-url", self.emu.endpoint_url] if url else list(argv)
        self._capsys.readouterr()
        code = main(args)
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def aws_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's key pair and region in the environment, as a user would set them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", emu.credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", emu.credentials.secret_key)
    monkeypatch.setenv("AWS_REGION", emu.region)


@pytest.fixture
def cli(emu: Emulator, aws_env: None, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(emu, capsys)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def endpoint_record(i: int) -> dict[str, object]:
    """A varied, valid JSON Lines record for endpoint ``ep-{i}``."""
    return {
        "Id": f"ep-{i}",
        "ChannelType": "EMAIL" if i % 2 else "SMS",
        "Address": f"user{i}@example.com" if i % 2 else f"+1206555{i:04d}",
        "Attributes": {"Interests": ["music", f"topic-{i % 7}"]},
        "Metrics": {"score": i / 4},
        "Location": {"Latitude": 47.5, "Longitude": -122.25, "City": "Seattle"},
        "User": {"UserId": f"user-{i}"},
    }


def assert_stored(emu: Emulator, app: str, records: list[dict[str, object]]) -> None:
    """Every record is stored with exactly the fields it was imported with."""
    stored = emu.endpoints(app)
    assert len(stored) == len(records)
    for record in records:
        ep = stored[str(record["Id"])]
        sent = pe.EndpointRequest.from_dict(record).to_dict()
        got = ep.to_dict()
        assert {k: got.get(k) for k in sent} == sent, record["Id"]
