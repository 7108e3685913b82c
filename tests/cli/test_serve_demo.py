"""`pinpoint-endpoints serve` and `demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pinpoint_endpoints import EndpointRequest, NotFoundException
from pinpoint_endpoints.cli import main
from pinpoint_endpoints.testing import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator

SCRIPT = [sys.executable, "-c", "import sys; from pinpoint_endpoints.cli import main; "
                                "sys.exit(main())"]


def test_demo_walks_the_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "retrying in" in out and "429" in out
    assert "INACTIVE" in out and "caught NotFoundException" in out
    assert "ann@example.com" not in out  # addresses masked


def test_serve_prints_url_and_keys_and_stops_on_sigint(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*SCRIPT, "serve", "--port", "0", "--seed", "1"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        lines = [proc.stdout.readline() for _ in range(3)]
        assert DEFAULT_ACCESS_KEY in "".join(lines) and DEFAULT_SECRET_KEY in "".join(lines)
        probe = Emulator()  # only for its default credentials
        from pinpoint_endpoints import Client

        with Client("us-east-1", endpoint_url=url, credentials=probe.credentials) as client:
            client.update_endpoint("app", "ep", EndpointRequest(address="x"))
            assert client.get_endpoint("app", "ep").endpoint_status == "ACTIVE"
            client.delete_endpoint("app", "ep")
            with pytest.raises(NotFoundException):
                client.get_endpoint("app", "ep")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 130, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_refuses_non_loopback_without_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_serve_rejects_bad_rate_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--rate-limit", "Nope=3"]) == 2  # main returns argparse's exit code
    assert "expected OPERATION=RPS" in capsys.readouterr().err
