"""Secrets and personal data: a whole run, on each client face, with DEBUG logging everywhere
(ours, botocore's, urllib3's, aiohttp's, asyncio's, the emulator's), with errors and
retries, leaks no secret key, session token or signature, and no full email address or phone
number, into the logs, any repr or any ``str(error)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from botocore.credentials import Credentials, RefreshableCredentials

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from pinpoint_endpoints.testing._sigv4 import verify
from tests.faces import make

ACCESS_KEY = "AKIDLEAKCHECK0000001"
SECRET_KEY = "Secret/LeakCheck+Value0123456789abcdefXYZ"
TOKEN = "SessionToken/LeakCheck+FwoGZXIvYXdzEJr0123456789"
ROTATED_SECRET = "Rotated/LeakCheck+Value9876543210zyxwvuTSR"
ROTATED_TOKEN = "RotatedToken/LeakCheck+IQoJb3JpZ2luX2VjEJr"
EMAIL = "ann.leakcheck@example.com"
EMAIL_ID = "bob.leakcheck@example.org"   # an endpoint id that is an email address
PHONE = "+12065550123"
PHONE_ID = "+14255550199"                # an endpoint id that is a phone number
SECRETS = (SECRET_KEY, TOKEN, ROTATED_SECRET, ROTATED_TOKEN)
PERSONAL = (EMAIL, EMAIL_ID, PHONE, PHONE_ID)


def forms(value: str) -> set[str]:
    """A value as it may show up: as is, percent-encoded (a URL path or a log of one), and,
    for a phone number, its digits without the plus sign."""
    found = {value, quote(value, safe=""), quote(value, safe="@+")}
    if value.startswith("+"):
        found.add(value[1:])
    return found


def leaks(text: str, signatures: set[str]) -> list[str]:
    found = [s for value in (*SECRETS, *PERSONAL) for s in forms(value) if s in text]
    found += [f"signature {sig[:8]}..." for sig in signatures if sig in text]
    return found


@pytest.fixture
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    loggers = ["", "pinpoint_endpoints", "pinpoint_endpoints.testing", "botocore",
               "botocore.auth", "botocore.credentials", "urllib3", "urllib3.connectionpool",
               "aiohttp", "aiohttp.client", "aiohttp.internal", "asyncio"]
    with caplog.at_level(logging.DEBUG):
        for name in loggers:
            caplog.set_level(logging.DEBUG, logger=name)
        yield caplog


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every signature the emulator received (recorded by wrapping its verifier)."""
    seen: set[str] = set()

    def recording(method: str, target: str, headers: Any, body: bytes, **kw: Any) -> Any:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        found = re.search(r"Signature=([0-9a-f]{64})", auth)
        if found:
            seen.add(found.group(1))
        return verify(method, target, headers, body, **kw)

    monkeypatch.setattr("pinpoint_endpoints.testing._server.verify", recording)
    return seen


def test_a_whole_run_with_errors_and_retries_leaks_nothing(
    debug_everywhere: pytest.LogCaptureFixture, signatures: set[str], face: str
) -> None:
    events: list[pe.RetryEvent] = []
    shown: list[str] = []  # every repr and str(error) a user could print
    raised: set[type[pe.PinpointError]] = set()

    def rotate() -> dict[str, str]:
        return {"access_key": "AKIDLEAKCHECK0000002", "secret_key": ROTATED_SECRET,
                "token": ROTATED_TOKEN, "expiry_time": "2999-01-01T00:00:00Z"}

    creds = RefreshableCredentials.create_from_metadata(
        {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "token": TOKEN,
         "expiry_time": "2000-01-01T00:00:00Z"},  # already expired: refreshed on first use
        rotate, "leak-check")
    keys = {ACCESS_KEY: SECRET_KEY, "AKIDLEAKCHECK0000002": ROTATED_SECRET}
    policy = pe.RetryPolicy(max_attempts=4, base=0.001, throttle_base=0.001,
                            on_retry=events.append)
    with Emulator(keys=keys, seed=3) as emu, \
            make(face, emu, credentials=creds, retry=policy) as client:
        shown += [repr(emu), repr(client), repr(client.retry_policy), repr(emu.faults)]
        static = make(face, emu, credentials=Credentials(ACCESS_KEY, SECRET_KEY, TOKEN),
                      retry=policy)
        shown.append(repr(static))

        def attempt(call: Any, *args: Any) -> Any:
            try:
                result = call(*args)
            except pe.PinpointError as err:
                raised.add(type(err))
                shown.extend([str(err), repr(err), repr(err.args)])
                if isinstance(err, pe.ServiceError):
                    shown.append(repr(err.headers))
                return err
            shown.append(repr(result))
            return result

        requests = [
            ("app", "ep-email", pe.EndpointRequest(channel_type=pe.ChannelType.EMAIL,
                                                   address=EMAIL)),
            ("app", "ep-sms", pe.EndpointRequest(channel_type="SMS", address=PHONE)),
            ("app", EMAIL_ID, pe.EndpointRequest(channel_type="EMAIL", address=EMAIL_ID)),
            ("app", PHONE_ID, pe.EndpointRequest(channel_type="SMS", address=PHONE_ID)),
        ]
        for app, ep, request in requests:
            shown.append(repr(request))
            emu.faults.throttle(1)
            emu.faults.fail(500, 1)
            emu.faults.reset(1)
            assert isinstance(attempt(client.update_endpoint, app, ep, request),
                              pe.MessageBody)
            emu.faults.truncate(1)
            assert isinstance(attempt(static.get_endpoint, app, ep),
                              pe.EndpointResponse)
        # the family: a user id that is an email, batch items whose ids are phone numbers
        items = [pe.EndpointBatchItem(id=PHONE_ID, channel_type="SMS", address=PHONE,
                                      user=pe.EndpointUser(user_id=EMAIL)),
                 pe.EndpointBatchItem(id=EMAIL_ID, channel_type="EMAIL", address=EMAIL_ID,
                                      user=pe.EndpointUser(user_id=EMAIL))]
        shown.append(repr(items))
        emu.faults.throttle(1)
        assert isinstance(attempt(client.update_endpoints_batch, "app", items), pe.MessageBody)
        emu.faults.fail(500, 1)
        assert isinstance(attempt(client.get_user_endpoints, "app", EMAIL), pe.EndpointsResponse)
        emu.faults.reset(1)
        attempt(client.remove_attributes, "app", pe.AttributeType.ENDPOINT_USER_ATTRIBUTES,
                ["Plan"])
        assert isinstance(attempt(client.delete_user_endpoints, "app", EMAIL),
                          pe.EndpointsResponse)
        attempt(client.get_user_endpoints, "app", EMAIL)             # 404 now
        attempt(client.get_user_endpoints, "app", EMAIL + "$")       # ValidationError
        # errors of every kind, each carrying personal data where a server might echo it
        emu.faults.fail(400, 1, body=f'{{"Message": "Invalid address {PHONE} / {EMAIL}"}}'
                        .encode())
        attempt(client.update_endpoint, "app", PHONE_ID, requests[1][2])
        emu.faults.fail(503, 4, body=f"<html><title>down for {EMAIL}</title></html>".encode())
        attempt(client.get_endpoint, "app", EMAIL_ID)
        emu.faults.reset(4)
        attempt(client.delete_endpoint, "app", PHONE_ID)
        emu.faults.fail(200, 1, body=f'{{"Address": 7, "Id": "{EMAIL_ID}"}}'.encode())
        attempt(client.get_endpoint, "app", EMAIL_ID)
        attempt(client.get_endpoint, "app", PHONE_ID + "$")        # ValidationError
        attempt(client.update_endpoint, "app", EMAIL_ID + "{}", requests[0][2])
        attempt(client.delete_endpoint, "app", PHONE_ID)
        attempt(client.delete_endpoint, "app", PHONE_ID)            # 404 now
        attempt(client.get_endpoint, "app", EMAIL_ID)
        shown += [repr(emu.get("app", EMAIL_ID)), *map(repr, emu.endpoints("app").values())]
        shown += [repr(r) for r in emu.requests]
        static.close()
    shown += [repr(e) for e in events]

    # the run really retried, signed, and raised every kind of error
    assert len(events) >= 12 and signatures
    assert raised == {pe.BadRequestException, pe.ServiceError, pe.TransportError,
                      pe.ResponseParseError, pe.ValidationError, pe.NotFoundException}
    third_party = "urllib3" if face == "sync" else "asyncio"
    assert any(r.levelno == logging.DEBUG and r.name.startswith(third_party)
               for r in debug_everywhere.records)  # and third-party DEBUG logs were on
    bad = [(leaks(t, signatures), t) for t in shown if leaks(t, signatures)]
    assert bad == []
    assert leaks(debug_everywhere.text, signatures) == []


def test_ordinary_ids_stay_readable_while_personal_ones_are_masked() -> None:
    ep = pe.EndpointResponse(id="device-1", application_id="app",
                             user=pe.EndpointUser(user_id="user-42"))
    assert "'device-1'" in repr(ep) and "'user-42'" in repr(ep)
    ep = pe.EndpointResponse(id=PHONE_ID, user=pe.EndpointUser(user_id=EMAIL))
    assert leaks(repr(ep), set()) == []
    assert ep.id == PHONE_ID and ep.user is not None and ep.user.user_id == EMAIL  # data kept


def test_urllib3_records_of_other_code_are_left_alone(
    caplog: pytest.LogCaptureFixture, creds: Credentials
) -> None:
    """The scrubbing filter acts only while one of our requests is being sent."""
    pe.Client("us-east-1", credentials=creds).close()  # installs the filter
    line = f'"GET /users/{quote(EMAIL)} HTTP/1.1" 200 5'
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logging.getLogger("urllib3.connectionpool").debug("%s", line)
    assert caplog.records[-1].getMessage() == line

