"""Our requests are wire-identical to boto3's, and their signatures verify independently."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import responses
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing._sigv4 import SignatureError, verify

REGION = "eu-west-1"
IDS = [("my-app", "device-1"), ("a b/c%d:é", "a b/c%d:é"), ("app", "x+y=z&q?#~!*'()")]
FULL_REQUEST = pe.EndpointRequest(
    channel_type=pe.ChannelType.SMS,
    address="+12065550100",
    endpoint_status="ACTIVE",
    opt_out="NONE",
    request_id="req-1",
    location=pe.EndpointLocation(latitude=47.6, longitude=-122.3, postal_code="98101",
                                 city="Seattle", region="WA", country="US"),
    demographic=pe.EndpointDemographic(make="Apple", model="iPhone", model_version="15",
                                       timezone="America/Los_Angeles", locale="en_US",
                                       app_version="1.2", platform="ios", platform_version="17"),
    effective_date="2026-11-26T00:00:00.000Z",
    attributes={"Interests": ["music", "travel"], "Empty": []},
    metrics={"score": 4.5, "visits": 3.0},
    user=pe.EndpointUser(user_id="user-1", user_attributes={"Plan": ["gold"]}),
)
REPLIES = {
    "GET": (200, {"Id": "device-1"}),
    "PUT": (202, {"RequestID": "r-1", "Message": "Accepted"}),
    "DELETE": (202, {"Id": "device-1"}),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _boto3_capture(creds: Credentials, method: str, app: str, ep: str) -> AWSPreparedRequest:
    client = boto3.client(
        "pinpoint", region_name=REGION, aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key, aws_session_token=creds.token,
    )
    seen: list[AWSPreparedRequest] = []

    def reply(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        status, body = REPLIES[request.method]
        return AWSResponse(request.url, status, {}, _Raw(json.dumps(body).encode()))

    client.meta.events.register("before-send", reply)
    if method == "GET":
        client.get_endpoint(ApplicationId=app, EndpointId=ep)
    elif method == "PUT":
        client.update_endpoint(ApplicationId=app, EndpointId=ep,
                               EndpointRequest=FULL_REQUEST.to_dict())
    else:
        client.delete_endpoint(ApplicationId=app, EndpointId=ep)
    (request,) = seen
    return request


def _ours_capture(creds: Credentials, method: str, app: str, ep: str) -> Any:
    client = pe.Client(REGION, credentials=creds)
    with responses.RequestsMock() as mock:
        status, body = REPLIES[method]
        mock.add(method, re.compile(r"https://pinpoint\.eu-west-1\.amazonaws\.com/.*"),
                 json=body, status=status)
        if method == "GET":
            client.get_endpoint(app, ep)
        elif method == "PUT":
            client.update_endpoint(app, ep, FULL_REQUEST)
        else:
            client.delete_endpoint(app, ep)
        (call,) = mock.calls
    client.close()
    return call.request


def _as_text(headers: Any) -> dict[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}


def _body(request: Any) -> Any:
    raw = request.body
    if not raw:
        return None
    return json.loads(raw)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize(("app", "ep"), IDS)
def test_request_is_wire_identical_to_boto3_and_verifies(
    method: str, app: str, ep: str
) -> None:
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-tok")
    ours = _ours_capture(creds, method, app, ep)
    theirs = _boto3_capture(creds, method, app, ep)

    our_url, their_url = urlsplit(ours.url), urlsplit(theirs.url)
    assert ours.method == theirs.method == method
    assert our_url.netloc == their_url.netloc == "pinpoint.eu-west-1.amazonaws.com"
    assert our_url.path == their_url.path
    assert _body(ours) == _body(theirs)
    segments = our_url.path.split("/")
    assert [unquote(s) for s in segments[3:6:2]] == [app, ep]

    now = datetime.now(timezone.utc)
    today = now.strftime("%Y%m%d")
    for request in (ours, theirs):
        headers = _as_text(request.headers)
        headers.setdefault("Host", urlsplit(request.url).netloc)
        body = request.body or b""
        verified = verify(request.method, urlsplit(request.url).path, headers,
                          body.encode() if isinstance(body, str) else body,
                          keys={creds.access_key: creds.secret_key}, region=REGION, now=now)
        assert verified.session_token == "session-tok"
        assert f"Credential=AKIDEXAMPLE/{today}/{REGION}/mobiletargeting/aws4_request" in (
            headers["Authorization"]
        )


def test_the_verifier_refuses_a_wrong_secret_and_a_tampered_body(creds: Credentials) -> None:
    ours = _ours_capture(creds, "PUT", "app", "ep")
    headers = _as_text(ours.headers)
    now = datetime.now(timezone.utc)
    path = urlsplit(ours.url).path
    verify("PUT", path, headers, ours.body, keys={creds.access_key: creds.secret_key},
           region=REGION, now=now)
    with pytest.raises(SignatureError, match="does not match"):
        verify("PUT", path, headers, ours.body, keys={creds.access_key: "wrong"},
               region=REGION, now=now)
    with pytest.raises(SignatureError, match="does not match"):
        verify("PUT", path, headers, ours.body + b" ", keys={creds.access_key: creds.secret_key},
               region=REGION, now=now)
    with pytest.raises(SignatureError, match="region"):
        verify("PUT", path, headers, ours.body, keys={creds.access_key: creds.secret_key},
               region="us-east-1", now=now)


def test_user_agent_names_this_library(creds: Credentials) -> None:
    ours = _ours_capture(creds, "GET", "app", "ep")
    assert ours.headers["User-Agent"].startswith(f"pinpoint-endpoints/{pe.__version__} ")
    assert ours.headers["amz-sdk-request"] == "attempt=1; max=3"
