"""The client's operations: bad input refused before sending, replies parsed, threads safe."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import pytest
import requests
import responses
from botocore.credentials import Credentials, RefreshableCredentials

import pinpoint_endpoints as pe

URL = "https://pinpoint.us-east-1.amazonaws.com/v1/apps/app/endpoints/ep"
ANY = re.compile(r"https://pinpoint\.us-east-1\.amazonaws\.com/.*")


@pytest.mark.parametrize(
    ("app", "ep", "complaint"),
    [
        ("", "ep", "application_id must not be empty"),
        ("app", "", "endpoint_id must not be empty"),
        (".", "ep", "would address another resource"),
        ("app", "..", "would address another resource"),
        ("app", "a$b", "must not contain"),
        ("app", "{ep}", "must not contain"),
        ("app", "x}", "must not contain"),
    ],
)
def test_bad_ids_are_refused_before_anything_is_sent(
    client: pe.Client, mock: responses.RequestsMock, app: str, ep: str, complaint: str
) -> None:
    for call in (
        lambda: client.get_endpoint(app, ep),
        lambda: client.delete_endpoint(app, ep),
        lambda: client.update_endpoint(app, ep, pe.EndpointRequest(address="a")),
    ):
        with pytest.raises(pe.ValidationError, match=re.escape(complaint)):
            call()
    assert len(mock.calls) == 0


def test_non_string_id_is_refused(client: pe.Client, mock: responses.RequestsMock) -> None:
    with pytest.raises(pe.ValidationError, match="must be a str"):
        client.get_endpoint("app", 42)  # type: ignore[arg-type]
    assert len(mock.calls) == 0


def test_a_dict_instead_of_an_endpoint_request_gets_the_fix(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    with pytest.raises(pe.ValidationError, match=r"EndpointRequest\.from_dict") as info:
        client.update_endpoint("app", "ep", {"Address": "x"})  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    with pytest.raises(pe.ValidationError, match="to_request"):
        client.update_endpoint("app", "ep", pe.EndpointResponse(id="ep"))  # type: ignore[arg-type]
    assert len(mock.calls) == 0


def test_a_metric_that_json_cannot_carry_is_refused(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    with pytest.raises(pe.ValidationError, match="JSON"):
        client.update_endpoint("app", "ep", pe.EndpointRequest(metrics={"m": float("nan")}))
    assert len(mock.calls) == 0


def test_get_parses_the_endpoint(client: pe.Client, mock: responses.RequestsMock) -> None:
    mock.add("GET", URL, json={"Id": "ep", "ChannelType": "EMAIL", "Address": "a@example.com",
                               "Location": {"Latitude": 1}}, status=200)
    ep = client.get_endpoint("app", "ep")
    assert ep == pe.EndpointResponse(id="ep", channel_type=pe.ChannelType.EMAIL,
                                     address="a@example.com",
                                     location=pe.EndpointLocation(latitude=1.0))


def test_update_sends_only_the_set_fields_and_returns_the_message(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    mock.add("PUT", URL, json={"RequestID": "r-9", "Message": "Accepted"}, status=202)
    result = client.update_endpoint("app", "ep", pe.EndpointRequest(attributes={"k": ["v"]}))
    assert result == pe.MessageBody(request_id="r-9", message="Accepted")
    sent = mock.calls[0].request
    assert sent.body is not None and json.loads(sent.body) == {"Attributes": {"k": ["v"]}}
    assert sent.headers["Content-Type"] == "application/json"


def test_delete_returns_the_deleted_endpoint(
    client: pe.Client, mock: responses.RequestsMock
) -> None:
    mock.add("DELETE", URL, json={"Id": "ep", "Address": "+15550100"}, status=202)
    assert client.delete_endpoint("app", "ep") == pe.EndpointResponse(id="ep",
                                                                      address="+15550100")


def test_closed_client_refuses_calls(creds: Credentials, mock: responses.RequestsMock) -> None:
    with pe.Client("us-east-1", credentials=creds) as client:
        pass
    with pytest.raises(pe.ValidationError, match="closed"):
        client.get_endpoint("app", "ep")


def test_repr_shows_no_secrets(client: pe.Client, creds: Credentials) -> None:
    assert creds.secret_key not in repr(client)
    assert "us-east-1" in repr(client)


def test_refreshable_credentials_are_fetched_for_every_attempt(
    mock: responses.RequestsMock,
) -> None:
    issued = iter(range(100))

    def refresh() -> dict[str, str]:
        n = next(issued)
        soon = datetime.now(timezone.utc) + timedelta(seconds=30)  # inside botocore's window
        return {"access_key": f"AKIDROTATE{n}", "secret_key": f"s{n}", "token": f"t{n}",
                "expiry_time": soon.isoformat()}

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    client = pe.Client("us-east-1", credentials=creds,
                       retry=pe.RetryPolicy(sleep=lambda _: None))
    mock.add("GET", URL, status=500, json={"Message": "boom"})
    mock.add("GET", URL, status=200, json={"Id": "ep"})
    client.get_endpoint("app", "ep")
    keys = [re.search(r"Credential=(\w+)/", c.request.headers["Authorization"])
            for c in mock.calls]
    names = [k.group(1) for k in keys if k]
    assert len(names) == 2 and names[0] != names[1]
    assert [c.request.headers["X-Amz-Security-Token"] for c in mock.calls] == [
        n.replace("AKIDROTATE", "t") for n in names
    ]


def test_one_client_shared_by_many_threads(creds: Credentials) -> None:
    client = pe.Client("us-east-1", credentials=creds, max_pool_connections=8)

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert request.url is not None
        endpoint = unquote(request.url.rsplit("/", 1)[1])
        return 200, {}, json.dumps({"Id": endpoint})

    results: dict[str, str | None] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                name = f"t{n}-{i}"
                results[name] = client.get_endpoint("app", name).id
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with responses.RequestsMock() as mock:
        mock.add_callback("GET", ANY, callback=reply)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    client.close()
    assert errors == []
    assert len(results) == 16 * 25
    assert all(key == value for key, value in results.items())


def test_each_operation_has_a_docstring_with_an_example() -> None:
    for name in ("get_endpoint", "update_endpoint", "delete_endpoint", "close", "with_options"):
        doc: Any = getattr(pe.Client, name).__doc__
        assert doc and doc.strip()
    for name in ("get_endpoint", "update_endpoint", "delete_endpoint", "with_options"):
        assert ">>>" in getattr(pe.Client, name).__doc__


def test_plain_http_to_a_remote_host_warns_once(creds: Credentials) -> None:
    with pytest.warns(pe.CleartextWarning, match="unencrypted"):
        pe.Client(endpoint_url="http://pinpoint.example.test:8080", credentials=creds)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pe.Client(endpoint_url="http://pinpoint.example.test:8080", credentials=creds)
        for url in ("http://127.0.0.1:1", "http://localhost:2", "http://[::1]:3",
                    "http://127.8.9.10:4", "https://pinpoint.example.test"):
            pe.Client(endpoint_url=url, credentials=creds)
