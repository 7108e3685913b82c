"""CLI fixtures: an emulator, the environment pointing the CLI at it, and a runner."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
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


ROOT = Path(__file__).resolve().parents[2]
HIDE_RICH = "import sys; sys.modules['rich'] = None; "  # every `import rich` then fails
# Ctrl-C as in a terminal, even when the tests run as a background job (which ignores SIGINT,
# and so would its children)
FOREGROUND = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
RUN_MAIN = "import sys; from pinpoint_endpoints.cli import main; sys.exit(main(sys.argv[1:]))"


def cli_argv(*argv: str, without_rich: bool = False) -> list[str]:
    """The command line running the CLI in a fresh interpreter, as from a terminal (optionally
    as if rich were not installed)."""
    return [sys.executable, "-c", FOREGROUND + (HIDE_RICH if without_rich else "") + RUN_MAIN,
            *argv]


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment (the tests' clean AWS one) with this checkout importable."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@contextlib.contextmanager
def serving(*argv: str, without_rich: bool = False) -> Iterator[list[str]]:
    """Run ``pinpoint-endpoints serve --port 0 ...`` in a subprocess; yields its banner lines
    (up to "Press Ctrl-C"), and stops it with Ctrl-C (SIGINT) afterwards, expecting exit 130."""
    proc = subprocess.Popen(cli_argv("serve", "--port", "0", *argv, without_rich=without_rich),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        assert proc.stdout is not None
        banner: list[str] = []
        while not banner or "Press Ctrl-C" not in banner[-1]:
            line = proc.stdout.readline()
            assert line, f"serve ended early: {proc.communicate()[1]}"
            banner.append(line.rstrip("\n"))
        yield banner
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and out.strip() == "# stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def banner_url(banner: list[str]) -> str:
    """The emulator's URL, from its banner's export line."""
    [line] = [x for x in banner if x.startswith("export AWS_ENDPOINT_URL_PINPOINT=")]
    return line.split("=", 1)[1]
