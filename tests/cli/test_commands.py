"""get / put / delete against the emulator: output, round trips, errors and exit codes."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from tests.cli.conftest import Cli

APP = "app-1"


def seed(emu: Emulator, endpoint_id: str = "ep-1") -> None:
    with emu.client() as client:
        client.update_endpoint(APP, endpoint_id, pe.EndpointRequest(
            channel_type=pe.ChannelType.EMAIL, address="ann@example.com",
            attributes={"Plan": ["free"]}, location=pe.EndpointLocation(latitude=47.5)))


def test_get_prints_the_service_json(cli: Cli, emu: Emulator) -> None:
    seed(emu)
    result = cli("get", APP, "ep-1")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data == emu.get(APP, "ep-1").to_dict()  # type: ignore[union-attr]
    assert data["ChannelType"] == "EMAIL" and data["Attributes"] == {"Plan": ["free"]}
    assert data["Id"] == "ep-1" and data["ApplicationId"] == APP


def test_get_output_edited_and_piped_back_into_put(
    cli: Cli, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(emu)
    data = json.loads(cli("get", APP, "ep-1").out)
    data["Attributes"]["Plan"] = ["gold"]  # what `jq '.Attributes.Plan = ["gold"]'` does
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(data)))
    result = cli("put", APP, "ep-1", "--json", "-")
    assert result.code == 0, result.err
    assert json.loads(result.out)["Message"] == "Accepted"
    stored = emu.get(APP, "ep-1")
    assert stored is not None and stored.attributes == {"Plan": ["gold"]}
    assert stored.address == "ann@example.com"


def test_put_from_a_file_creates_the_endpoint(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    body = tmp_path / "ep.json"
    body.write_text(json.dumps({"ChannelType": "SMS", "Address": "+12065550100"}))
    assert cli("put", APP, "new", "--json", str(body)).code == 0
    stored = emu.get(APP, "new")
    assert stored is not None and stored.channel_type == "SMS"


def test_delete_prints_the_endpoint_as_it_was(cli: Cli, emu: Emulator) -> None:
    seed(emu)
    result = cli("delete", APP, "ep-1")
    assert result.code == 0, result.err
    assert json.loads(result.out)["Address"] == "ann@example.com"
    assert emu.get(APP, "ep-1") is None


def test_table_output_lists_json_paths(cli: Cli, emu: Emulator) -> None:
    seed(emu)
    result = cli("get", APP, "ep-1", "--output", "table")
    assert result.code == 0
    rows = {line.split()[0]: line.split()[1:] for line in result.out.splitlines()
            if line.strip() and not line.strip().startswith(("Field", "─", "-"))}
    assert rows["Attributes.Plan"] == ["free"]
    assert rows["Location.Latitude"] == ["47.5"]


def test_a_service_error_is_one_line_with_the_request_id_and_exit_1(cli: Cli) -> None:
    result = cli("get", APP, "missing")
    assert result.code == 1
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pinpoint-endpoints: error: NotFoundException (404)")
    assert "[request " in lines[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "is not JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"Location": {"Latitude": "north"}}', "$.Location.Latitude"),
        ('{"Adress": "typo@example.com"}', "unknown field Adress"),
    ],
)
def test_bad_put_input_is_a_validation_error_exit_2(
    cli: Cli, emu: Emulator, tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(body)
    result = cli("put", APP, "ep-1", "--json", str(path))
    assert result.code == 2
    assert message in result.err and len(result.err.splitlines()) == 1
    assert emu.requests == []  # nothing was sent


def test_an_invalid_endpoint_id_is_exit_2(cli: Cli, emu: Emulator) -> None:
    assert cli("get", APP, "bad$id").code == 2
    assert emu.requests == []


def test_a_missing_input_file_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("put", APP, "ep-1", "--json", str(tmp_path / "nope.json"))
    assert result.code == 2 and "cannot read" in result.err


def test_no_credentials_is_exit_3(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("get", APP, "ep-1")
    assert result.code == 3
    assert "no AWS credentials found" in result.err
    assert "emulator/secret" not in result.err


def test_a_refused_connection_is_exit_3(cli: Cli) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("get", APP, "ep-1", "--endpoint-url", f"http://127.0.0.1:{port}",
                 "--max-attempts", "1", url=False)
    assert result.code == 3
    assert result.err.startswith("pinpoint-endpoints: error: TransportError")


def test_max_attempts_is_honoured(cli: Cli, emu: Emulator) -> None:
    seed(emu)
    emu.faults.throttle(2)
    assert cli("get", APP, "ep-1", "--max-attempts", "1").code == 1
    assert cli("get", APP, "ep-1", "--max-attempts", "2").code == 0


def seed_user(emu: Emulator) -> None:
    with emu.client() as client:
        for endpoint_id, address in (("ann-email", "ann@example.com"), ("ann-sms", "+12065550100")):
            client.update_endpoint(APP, endpoint_id, pe.EndpointRequest(
                address=address, user=pe.EndpointUser(user_id="ann"),
                attributes={"Plan": ["gold"], "Legacy": ["x"]}))
        client.update_endpoint(APP, "bob", pe.EndpointRequest(
            address="bob@example.com", user=pe.EndpointUser(user_id="bob")))


def test_get_user_prints_every_endpoint_of_the_user(cli: Cli, emu: Emulator) -> None:
    seed_user(emu)
    result = cli("get-user", APP, "ann")
    assert result.code == 0, result.err
    items = json.loads(result.out)["Item"]
    assert sorted(e["Id"] for e in items) == ["ann-email", "ann-sms"]
    assert all(e == emu.get(APP, e["Id"]).to_dict() for e in items)  # type: ignore[union-attr]


def test_get_user_as_a_table_indexes_the_endpoints(cli: Cli, emu: Emulator) -> None:
    seed_user(emu)
    result = cli("get-user", APP, "ann", "--output", "table")
    assert result.code == 0, result.err
    paths = {line.split()[0] for line in result.out.splitlines() if line.strip()}
    assert {"Item[0].Address", "Item[1].Address", "Item[0].User.UserId"} <= paths


def test_delete_user_deletes_only_that_users_endpoints(cli: Cli, emu: Emulator) -> None:
    seed_user(emu)
    result = cli("delete-user", APP, "ann")
    assert result.code == 0, result.err
    assert sorted(e["Id"] for e in json.loads(result.out)["Item"]) == ["ann-email", "ann-sms"]
    assert sorted(emu.endpoints(APP)) == ["bob"]
    again = cli("delete-user", APP, "ann")  # nothing left: the emulator answers an empty list
    assert again.code == 0 and json.loads(again.out) == {"Item": []}


def test_remove_attributes_prints_what_was_removed(cli: Cli, emu: Emulator) -> None:
    seed_user(emu)
    result = cli("remove-attributes", APP, "endpoint-custom-attributes", "Legacy")
    assert result.code == 0, result.err
    reply = json.loads(result.out)
    assert reply["AttributeType"] == "endpoint-custom-attributes"
    assert "Legacy" in reply["Attributes"]


def test_an_unknown_attribute_type_is_a_usage_error(cli: Cli, emu: Emulator) -> None:
    result = cli("remove-attributes", APP, "custom", "Legacy")
    assert result.code == 2 and "endpoint-custom-attributes" in result.err
    assert emu.requests == []
