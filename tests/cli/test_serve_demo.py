"""`pinpoint-endpoints serve` and `demo`."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
from botocore.credentials import Credentials

from pinpoint_endpoints import Client, EndpointRequest, NotFoundException
from pinpoint_endpoints._operations import OPERATIONS
from pinpoint_endpoints.cli import main
from pinpoint_endpoints.cli._main import build_parser
from pinpoint_endpoints.testing import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from tests.cli.conftest import banner_url, cli_env, serving


def test_demo_walks_the_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "retrying in" in out and "429" in out
    assert "INACTIVE" in out and "caught NotFoundException" in out
    assert "ann@example.com" not in out  # addresses masked


def test_serve_serves_until_ctrl_c() -> None:
    with serving("--seed", "1") as banner:
        url = banner_url(banner)
        assert url.startswith("http://127.0.0.1:")
        assert f"export AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY}" in banner
        assert f"export AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_KEY}" in banner
        credentials = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        with Client("us-east-1", endpoint_url=url, credentials=credentials) as client:
            client.update_endpoint("app", "ep", EndpointRequest(address="x"))
            assert client.get_endpoint("app", "ep").endpoint_status == "ACTIVE"
            client.delete_endpoint("app", "ep")
            with pytest.raises(NotFoundException):
                client.get_endpoint("app", "ep")


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_the_banner_pasted_into_a_shell_runs_its_example_against_the_emulator(
    region: str,
) -> None:
    with serving("--region", region) as banner:
        assert [line for line in banner if not line.startswith(("#", "export "))] == [
            "pinpoint-endpoints get APP ENDPOINT"]  # every other line is inert when pasted
        # `pinpoint-endpoints` as installed: this interpreter running the CLI
        script = (f"pinpoint-endpoints() {{ {shlex.quote(sys.executable)} -m "
                  f"pinpoint_endpoints.cli \"$@\"; }}\n" + "\n".join(banner))
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                              env=cli_env(), timeout=30)
    # it reached the emulator, signed for its region: NotFound, not a credentials,
    # region or connection error
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "pinpoint-endpoints: error: NotFoundException (404) on GetEndpoint"), done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_serve_throttles_any_operation_of_the_table() -> None:
    parser = build_parser()
    for name in OPERATIONS:
        args = parser.parse_args(["serve", "--rate-limit", f"{name}=2.5"])
        assert args.rate_limit == [(name, 2.5)]


def test_serve_refuses_non_loopback_without_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_serve_rejects_bad_rate_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--rate-limit", "Nope=3"]) == 2  # main returns argparse's exit code
    assert "expected OPERATION=RPS" in capsys.readouterr().err
