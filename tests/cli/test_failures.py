"""Every command against every documented failure it can meet, in a real process: never a
Python traceback, always the documented exit code (0 ok; 1 a record failed or the service
answered an error; 2 usage or validation; 3 credentials or connection)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinpoint_endpoints.testing import Emulator
from tests.cli.conftest import cli_env

CLIENT_COMMANDS = {
    "get": ["get", "app", "ep-1"],
    "put": ["put", "app", "ep-1", "--json", "{dir}/ep.json"],
    "delete": ["delete", "app", "ep-1"],
    "get-user": ["get-user", "app", "user-1"],
    "delete-user": ["delete-user", "app", "user-1"],
    "remove-attributes": ["remove-attributes", "app", "endpoint-custom-attributes", "Plan"],
    "import": ["import", "app", "{dir}/in.jsonl"],
    "delete-many": ["delete-many", "app", "{dir}/ids.txt"],
    "export": ["export", "app", "--ids", "{dir}/ids.txt"],
    "export-users": ["export", "app", "--users", "{dir}/users.txt"],
}
ONE_LINE = frozenset({"get", "put", "delete", "get-user", "delete-user", "remove-attributes"})


def _cases() -> Iterator[object]:
    """(command name, failure, argv, exit code)."""
    for name, argv in CLIENT_COMMANDS.items():
        for failure, code in (("bad-profile", 3), ("no-credentials", 3), ("refused", 3),
                              ("service-error", 1)):
            yield pytest.param(name, failure, argv, code, id=f"{name}-{failure}")
    for name in ("get", "import"):
        yield pytest.param(name, "no-region", CLIENT_COMMANDS[name], 2, id=f"{name}-no-region")
        yield pytest.param(name, "ok", [*CLIENT_COMMANDS[name], "--profile", "nope"], 3,
                           id=f"{name}-profile-option")
    for name, argv in {
        "get": ["get", "app"],
        "put": ["put", "app", "ep-1"],
        "delete": ["delete", "app", "ep-1", "--output", "yaml"],
        "get-user": ["get-user", "app"],
        "delete-user": ["delete-user", "app", "user-1", "extra"],
        "delete-many": ["delete-many", "app", "{dir}/ids.txt", "--concurrency", "0"],
        "import": ["import", "app", "{dir}/in.jsonl", "--batch-size", "101"],
        "export": ["export", "app", "--ids", "{dir}/ids.txt", "--users", "{dir}/users.txt"],
        "remove-attributes": ["remove-attributes", "app", "no-such-type", "Plan"],
        "serve": ["serve", "--port", "65536"],
        "demo": ["demo", "--frobnicate"],
        "none": [],
    }.items():
        yield pytest.param(name, "ok", argv, 2, id=f"{name}-usage")
    for name in ("put", "import", "delete-many", "export"):
        argv = [a.replace("{dir}/", "{dir}/missing-") for a in CLIENT_COMMANDS[name]]
        yield pytest.param(name, "ok", argv, 2, id=f"{name}-missing-file")
    for name, argv in {
        "put": ["put", "app", "ep-1", "--json", "{dir}/in.csv"],
        "put-typo": ["put", "app", "ep-1", "--json", "{dir}/typo.json"],
        "import-csv": ["import", "app", "{dir}/in.csv"],
        "import-stdin": ["import", "app", "-", "--checkpoint", "{dir}/ck"],
        "delete-many-stdin": ["delete-many", "app", "-", "--checkpoint", "{dir}/ck"],
        "get": ["get", "app", "bad$id"],
    }.items():
        yield pytest.param(argv[0], "ok", argv, 2, id=f"{name}-bad-input")
    yield pytest.param("import", "ok", ["import", "app", "{dir}/bad-record.jsonl"], 1,
                       id="import-a-record-fails")
    yield pytest.param("serve", "port-in-use", ["serve", "--port", "{port}"], 2,
                       id="serve-port-in-use")


def _files(where: Path) -> None:
    (where / "ep.json").write_text('{"Address": "ann@example.com"}')
    (where / "typo.json").write_text('{"Adress": "ann@example.com"}')
    (where / "in.jsonl").write_text('{"Id": "ep-1", "Address": "ann@example.com"}\n')
    (where / "bad-record.jsonl").write_text('{"Id": "ep-1", "ChannelType": "FAX"}\n')
    (where / "in.csv").write_text("Id,Adress\nep-1,ann@example.com\n")
    (where / "ids.txt").write_text("ep-1\n")
    (where / "users.txt").write_text("user-1\n")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("command", "failure", "argv", "code"), list(_cases()))
def test_no_traceback_and_the_documented_exit_code(
    command: str, failure: str, argv: list[str], code: int, tmp_path: Path,
) -> None:
    _files(tmp_path)
    with Emulator() as emu, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = cli_env(AWS_ACCESS_KEY_ID=emu.credentials.access_key,
                      AWS_SECRET_ACCESS_KEY=emu.credentials.secret_key, AWS_REGION=emu.region,
                      AWS_ENDPOINT_URL_PINPOINT=emu.endpoint_url)
        if failure == "bad-profile":
            env["AWS_PROFILE"] = "nope"
        elif failure == "no-credentials":
            del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        elif failure == "no-region":
            del env["AWS_REGION"], env["AWS_ENDPOINT_URL_PINPOINT"]
        elif failure == "refused":
            env["AWS_ENDPOINT_URL_PINPOINT"] = f"http://127.0.0.1:{_closed_port()}"
            argv = [*argv, "--max-attempts", "1"]
        elif failure == "service-error":
            emu.faults.fail(400, 100)
        args = [a.format(dir=tmp_path, port=taken.getsockname()[1]) for a in argv]
        done = subprocess.run([sys.executable, "-m", "pinpoint_endpoints.cli", *args],
                              input="", capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    if (command in ONE_LINE and code != 2) or failure == "port-in-use":
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("pinpoint-endpoints: error: ")
    if failure == "bad-profile":
        assert "'nope' not found" in done.stderr and "profile=" not in done.stderr
    if failure == "no-credentials":
        assert "AWS_ACCESS_KEY_ID" in done.stderr and "credentials=" not in done.stderr
    if failure == "no-region":
        assert "--region" in done.stderr and "Client(" not in done.stderr
