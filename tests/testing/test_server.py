"""The emulator on the wire, driven by our client and by raw HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
import time
import uuid

import pytest
from botocore.credentials import Credentials

from pinpoint_endpoints import (
    BadRequestException,
    EndpointRequest,
    EndpointUser,
    ForbiddenException,
    NotFoundException,
    PayloadTooLargeException,
    RetryPolicy,
    TooManyRequestsException,
)
from pinpoint_endpoints.testing import DEFAULT_SECRET_KEY, Emulator
from tests.testing.conftest import raw, sign

PATH = "/v1/apps/app/endpoints/ep"
ONCE = RetryPolicy(max_attempts=1)


def test_lifecycle_with_our_client(emu: Emulator) -> None:
    with emu.client() as client:
        reply = client.update_endpoint("app", "ep", EndpointRequest(
            channel_type="EMAIL", address="a@example.com", attributes={"k": ["v"]}))
        assert reply.message == "Accepted" and reply.request_id
        ep = client.get_endpoint("app", "EP")
        assert (ep.id, ep.application_id, ep.endpoint_status) == ("ep", "app", "ACTIVE")
        gone = client.delete_endpoint("app", "ep")
        assert gone == ep
        with pytest.raises(NotFoundException) as info:
            client.get_endpoint("app", "ep")
        assert info.value.message == "Resource not found"
        assert info.value.code == "NotFoundException" and info.value.request_id
        with pytest.raises(NotFoundException):
            client.delete_endpoint("app", "ep")
        with pytest.raises(NotFoundException):
            client.get_endpoint("no-such-app", "ep")


def test_put_reply_and_error_reply_look_like_the_service(emu: Emulator) -> None:
    put = raw(emu, "PUT", PATH, b'{"Address":"x"}')
    assert put.status == 202
    assert put.json() == {"RequestID": put.headers["x-amzn-RequestId"], "Message": "Accepted"}
    uuid.UUID(put.headers["x-amzn-RequestId"])
    assert put.headers["Content-Type"] == "application/json"
    assert put.headers["Date"].endswith("GMT")
    missing = raw(emu, "GET", "/v1/apps/app/endpoints/nope")
    assert missing.status == 404
    assert missing.headers["x-amzn-ErrorType"] == "NotFoundException"
    assert missing.json() == {"Message": "Resource not found",
                              "RequestID": missing.headers["x-amzn-RequestId"]}


def test_percent_encoded_ids_are_decoded_per_segment(emu: Emulator) -> None:
    with emu.client() as client:
        client.update_endpoint("a b", "c/d%e", EndpointRequest(address="x"))
        assert client.get_endpoint("a b", "C/D%E").id == "c/d%e"
    assert emu.get("a b", "c/d%e") is not None
    assert emu.requests[0].path == "/v1/apps/a%20b/endpoints/c%2Fd%25e"


def test_wrong_types_and_bad_json_answer_400_with_field_paths(emu: Emulator) -> None:
    bad_type = raw(emu, "PUT", PATH, b'{"Location": {"Latitude": "north"}}')
    assert bad_type.status == 400
    assert bad_type.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert "$.Location.Latitude" in bad_type.json()["Message"]
    for body in (b"not json", b"[1, 2]", b'"text"', b'{"Metrics": {"m": NaN}}',
                 b'{"Attributes": {"k": "not a list"}}'):
        assert raw(emu, "PUT", PATH, body).status == 400, body
    assert emu.get("app", "ep") is None


def test_quota_breaches_answer_400_through_the_client(emu: Emulator) -> None:
    with emu.client(retry=ONCE) as client:
        for i in range(15):
            client.update_endpoint("app", f"e{i}", EndpointRequest(user=EndpointUser(user_id="u")))
        with pytest.raises(BadRequestException) as info:
            client.update_endpoint("app", "e15", EndpointRequest(user=EndpointUser(user_id="u")))
        assert info.value.message == "Exceeded maximum endpoint per user count: 15"
        with pytest.raises(BadRequestException):
            client.update_endpoint("app", "x", EndpointRequest(attributes={"k": ["v" * 101]}))


def test_body_over_7_mb_answers_413(emu: Emulator) -> None:
    body = b'{"Address": "' + b"x" * (7 * 1024 * 1024) + b'"}'
    with emu.client(retry=ONCE) as client, pytest.raises(PayloadTooLargeException):
        client.update_endpoint("app", "ep", EndpointRequest(address="x" * (7 * 1024 * 1024)))
    reply = raw(emu, "PUT", PATH, body)
    assert reply.status == 413
    assert reply.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"


def test_methods_options_and_unknown_paths(emu: Emulator) -> None:
    for method in ("POST", "PATCH"):
        reply = raw(emu, method, PATH, b"{}")
        assert reply.status == 405
        assert reply.headers["x-amzn-ErrorType"] == "MethodNotAllowedException"
    options = raw(emu, "OPTIONS", PATH, signed=False)
    assert options.status == 200
    assert set(options.headers["Allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}
    assert options.headers["Access-Control-Allow-Origin"] == "*"
    for path in ("/", "/v1/apps/app", "/v1/apps/app/endpoints/ep/extra", "/v2/apps/a/endpoints/e"):
        assert raw(emu, "GET", path).status == 404, path


def test_keep_alive_and_nodelay_one_write_reply(emu: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        for _ in range(2):
            headers = sign(emu, "GET", PATH)
            lines = [f"GET {PATH} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                data += sock.recv(65536)
            assert data.startswith(b"HTTP/1.1 404 ")
            assert b"Content-Length: " in data and b"Connection: close" not in data


class TestSignatures:
    def test_wrong_secret_answers_403(self, emu: Emulator) -> None:
        bad = Credentials(emu.access_key, "not-the-secret")
        with Emulator() as other, other.client(credentials=bad, retry=ONCE) as client:
            with pytest.raises(ForbiddenException) as info:
                client.get_endpoint("app", "ep")
        assert info.value.code == "InvalidSignatureException"
        assert "signature we calculated does not match" in info.value.message

    @pytest.mark.parametrize(("kwargs", "code"), [
        ({"service": "pinpoint"}, "InvalidSignatureException"),
        ({"region": "eu-west-1"}, "InvalidSignatureException"),
        ({"credentials": Credentials("AKIDUNKNOWN", "x")}, "UnrecognizedClientException"),
        ({"when": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)},
         "InvalidSignatureException"),
    ])
    def test_refused_scopes_and_times(self, emu: Emulator, kwargs: dict[str, object],
                                      code: str) -> None:
        headers = sign(emu, "GET", PATH, **kwargs)  # type: ignore[arg-type]
        reply = raw(emu, "GET", PATH, headers=headers, signed=False)
        assert reply.status == 403
        assert reply.headers["x-amzn-ErrorType"] == code

    def test_tampered_body_and_unsigned_requests_answer_403(self, emu: Emulator) -> None:
        headers = sign(emu, "PUT", PATH, b'{"Address":"a"}')
        reply = raw(emu, "PUT", PATH, b'{"Address":"b"}', headers=headers, signed=False)
        assert reply.status == 403
        assert raw(emu, "GET", PATH, signed=False).status == 403
        assert emu.get("app", "ep") is None

    def test_client_corrects_its_clock_from_the_date_header(self, emu: Emulator) -> None:
        with emu.client(retry=RetryPolicy(max_attempts=2)) as client:
            client._shared.signer.offset = -3600.0
            client.update_endpoint("app", "ep", EndpointRequest(address="x"))
        assert [r.status for r in emu.requests] == [403, 202]

    def test_other_configured_keys_and_verification_off(self) -> None:
        keys = {"AKIDONE": "secret-one", "AKIDTWO": "secret-two"}
        with Emulator(keys=keys) as emu:
            assert emu.access_key == "AKIDONE"
            with emu.client(credentials=Credentials("AKIDTWO", "secret-two")) as client:
                client.update_endpoint("app", "ep", EndpointRequest(address="x"))
            assert "secret" not in repr(emu)
        with Emulator(verify_signatures=False) as emu:
            assert DEFAULT_SECRET_KEY not in repr(emu)
            assert raw(emu, "PUT", PATH, b"{}", signed=False).status == 202


def test_rate_limit_answers_429_like_the_quota() -> None:
    with Emulator(rate_limits={"GetEndpoint": 2.0}) as emu, emu.client(retry=ONCE) as client:
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
        with pytest.raises(TooManyRequestsException) as info:
            for _ in range(10):
                client.get_endpoint("app", "ep")
        assert info.value.message == "Too many requests"
        client.update_endpoint("app", "ep", EndpointRequest(address="y"))  # other op not limited


def test_propagation_delay_over_http() -> None:
    with Emulator(propagation_delay=0.3) as emu, emu.client(retry=ONCE) as client:
        client.update_endpoint("app", "ep", EndpointRequest(address="x"))
        with pytest.raises(NotFoundException):
            client.get_endpoint("app", "ep")
        assert emu.get("app", "ep") is not None
        time.sleep(0.35)
        assert client.get_endpoint("app", "ep").address == "x"


def test_request_log_masks_secrets_and_reset_state(emu: Emulator) -> None:
    raw(emu, "PUT", PATH, b'{"Address":"x"}')
    entry = emu.requests[-1]
    assert (entry.method, entry.path, entry.status) == ("PUT", PATH, 202)
    assert entry.headers["Authorization"] == "***"
    assert json.loads(entry.body) == {"Address": "x"}
    emu.reset_state()
    assert emu.requests == [] and emu.endpoints("app") == {}


def test_internal_error_answers_500_and_server_keeps_serving(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(emu._store, "read", boom)
    reply = raw(emu, "GET", PATH)
    assert reply.status == 500
    assert reply.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    monkeypatch.undo()
    assert raw(emu, "GET", PATH).status == 404


def test_each_instance_starts_empty_and_stops_cleanly() -> None:
    with Emulator() as first:
        raw(first, "PUT", PATH, b"{}")
        port = first.port
    with Emulator() as second:
        assert second.endpoints("app") == {}
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def _exchange(emu: Emulator, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(head)
        first = sock.recv(65536)
        if body and first.startswith(b"HTTP/1.1 100"):
            sock.sendall(body)
            while not first.rstrip().endswith(b"}"):
                first += sock.recv(65536)
        return first


def test_expect_100_continue(emu: Emulator) -> None:
    body = b'{"Address":"x"}'
    headers = {**sign(emu, "PUT", PATH, body), "Expect": "100-continue",
               "Content-Length": str(len(body))}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    reply = _exchange(emu, f"PUT {PATH} HTTP/1.1\r\n{head}\r\n".encode(), body)
    assert reply.startswith(b"HTTP/1.1 100 Continue") and b"HTTP/1.1 202 Accepted" in reply
    big = (f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           "Content-Length: 8000000\r\n\r\n")
    refused = _exchange(emu, big.encode())
    assert refused.startswith(b"HTTP/1.1 413 ") and b"PayloadTooLargeException" in refused


def _replies(emu: Emulator, data: bytes, count: int) -> list[bytes]:
    """Send ``data`` on one connection; the first ``count`` replies, each whole."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(data)
        reader = sock.makefile("rb")
        replies = []
        for _ in range(count):
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = reader.readline()
                assert line, "the server closed the connection early"
                head += line
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            replies.append(head + reader.read(length))
        assert reader.read() == b"" or count == 0  # nothing more: the connection closed
        return replies


def _signed_head(emu: Emulator, method: str, path: str, body: bytes = b"", **extra: str) -> bytes:
    headers = {**sign(emu, method, path, body), "Content-Length": str(len(body)), **extra}
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_pipelined_requests_are_answered_in_order(emu: Emulator) -> None:
    body = b'{"Address":"a@example.com","ChannelType":"EMAIL"}'
    data = (_signed_head(emu, "PUT", PATH, body) + _signed_head(emu, "GET", PATH)
            + _signed_head(emu, "DELETE", PATH)
            + _signed_head(emu, "GET", PATH, Connection="close"))
    replies = _replies(emu, data, 4)
    assert [r.split(b" ", 2)[1] for r in replies] == [b"202", b"200", b"202", b"404"]
    assert b'"Address":"a@example.com"' in replies[1]
    assert b"Connection: close" in replies[3]


@pytest.mark.parametrize(("head", "status"), [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /v1/apps/a/endpoints/e HTTP/2.0\r\nHost: x\r\n\r\n", b"505"),
    (b"GET /v1/apps/a/endpoints/e HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
    (b"GET /v1/apps/a/endpoints/e HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", b"431"),
    (b"GET /v1/apps/a/endpoints/e HTTP/1.1\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    (b"GET /" + b"a" * 70_000, b"414"),
    (b"BREW /v1/apps/a/endpoints/e HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
    (b"PUT /v1/apps/a/endpoints/e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
    (b"PUT /v1/apps/a/endpoints/e HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
])
def test_malformed_requests_answer_json_errors_and_close(emu: Emulator, head: bytes,
                                                         status: bytes) -> None:
    (reply,) = _replies(emu, head, 1)
    assert reply.startswith(b"HTTP/1.1 " + status + b" ")
    assert b"Connection: close" in reply and b'"Message":' in reply
    assert b"Traceback" not in reply


def test_headers_any_case_folded_lines_and_bare_newlines(emu: Emulator) -> None:
    signed = sign(emu, "GET", PATH)
    lines = [f"GET {PATH} HTTP/1.1"] + [f"{k.upper()}: {v}" for k, v in signed.items()]
    lines.insert(2, "X-Folded: first")
    lines.insert(3, "\tsecond")
    (reply,) = _replies(emu, ("\n".join(lines) + "\nConnection: close\n\n").encode(), 1)
    assert reply.startswith(b"HTTP/1.1 404 ")  # signature checked, the endpoint is not there
    assert emu.requests[-1].headers["X-Folded"] == "first second"


def test_a_delayed_reply_holds_only_its_own_connection(emu: Emulator) -> None:
    emu.faults.delay(1.0)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as slow:
        slow.sendall(_signed_head(emu, "GET", PATH))
        time.sleep(0.1)  # the delay has begun
        started = time.monotonic()
        assert raw(emu, "GET", PATH).status == 404
        assert time.monotonic() - started < 0.9
        assert slow.recv(65536).startswith(b"HTTP/1.1 404 ")


def test_a_client_gone_during_a_delay_leaves_the_server_serving(emu: Emulator) -> None:
    emu.faults.delay(0.3)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as gone:
        gone.sendall(_signed_head(emu, "GET", PATH))
    time.sleep(0.5)
    assert raw(emu, "GET", PATH).status == 404


def test_a_connection_that_stops_sending_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from pinpoint_endpoints.testing import _server

    monkeypatch.setattr(_server, "IDLE_TIMEOUT", 0.3)
    monkeypatch.setattr(_server, "_SWEEP", 0.05)
    with Emulator() as emu:
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as idle, \
                socket.create_connection(("127.0.0.1", emu.port), timeout=5) as stalled:
            stalled.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n".encode())  # no end of head
            started = time.monotonic()
            assert idle.recv(1) == b"" and stalled.recv(1) == b""  # closed, without a reply
            assert time.monotonic() - started < 3
        assert raw(emu, "GET", PATH).status == 404  # and the server goes on


def test_an_emulator_starts_and_stops_inside_a_running_event_loop() -> None:
    async def inside() -> list[int]:
        with Emulator() as emu:
            return [raw(emu, "GET", PATH).status, raw(emu, "OPTIONS", PATH, signed=False).status]

    assert asyncio.run(inside()) == [404, 200]


def test_stopping_at_once_after_starting_leaves_nothing_running() -> None:
    before = threading.active_count()
    for _ in range(20):
        with Emulator():
            pass
    assert threading.active_count() == before
