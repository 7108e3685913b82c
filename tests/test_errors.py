"""Errors: the status table, what each error carries, readable messages from any body."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from email.utils import formatdate

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints._errors import error_from_reply, parse_retry_after

URL = "https://pinpoint.us-east-1.amazonaws.com/v1/apps/app/endpoints/ep"
CLASSES: dict[int, type[pe.ServiceError]] = {
    400: pe.BadRequestException,
    403: pe.ForbiddenException,
    404: pe.NotFoundException,
    405: pe.MethodNotAllowedException,
    409: pe.ServiceError,
    413: pe.PayloadTooLargeException,
    429: pe.TooManyRequestsException,
    500: pe.InternalServerErrorException,
    502: pe.ServiceError,
    503: pe.ServiceError,
    504: pe.ServiceError,
}
BODIES = {
    "json": (b'{"Message": "Resource not found", "RequestID": "body-rid"}', "Resource not found"),
    "lowercase": (b'{"message": "Resource not found"}', "Resource not found"),
    "html": (b"<html><head><title>502 Bad Gateway</title></head><body>cloudfront</body></html>",
             "502 Bad Gateway"),
    "empty": (b"", None),
    "truncated": (b'{"Message": "Resource not fo', "Resource not fo"),
}


@pytest.fixture
def client(creds: Credentials) -> Iterator[pe.Client]:
    policy = pe.RetryPolicy(max_attempts=1)
    with pe.Client("us-east-1", credentials=creds, retry=policy) as c:
        yield c


@pytest.mark.parametrize("status", sorted(CLASSES))
@pytest.mark.parametrize("form", sorted(BODIES))
@pytest.mark.parametrize("with_header", [True, False])
def test_every_status_and_body_gives_the_right_class_and_a_readable_message(
    client: pe.Client, status: int, form: str, with_header: bool
) -> None:
    body, expected = BODIES[form]
    headers = {"x-amzn-RequestId": "hdr-rid"}
    if with_header:
        headers["x-amzn-ErrorType"] = "SomeErrorType:http://internal.amazon.com/coral/"
    with responses.RequestsMock() as mock:
        mock.add("GET", URL, body=body, status=status, headers=headers)
        with pytest.raises(pe.ServiceError) as info:
            client.get_endpoint("app", "ep")
    err = info.value
    assert type(err) is CLASSES[status]
    assert err.status_code == status
    assert err.operation == "GetEndpoint"
    assert err.request_id == "hdr-rid"
    assert err.code == ("SomeErrorType" if with_header else None)
    assert err.attempts == 1
    assert err.headers["x-amzn-RequestId"] == "hdr-rid"
    if expected is not None:
        assert expected in err.message
    else:
        assert err.message  # a readable fallback, e.g. "Bad Gateway (no message in the reply)"
    text = str(err)
    assert "\n" not in text
    assert text.startswith(f"{type(err).__name__} ({status}) on GetEndpoint: ")
    assert text.endswith("[request hdr-rid]")


def test_str_is_one_actionable_line() -> None:
    err = error_from_reply(
        404, {"x-amzn-RequestId": "1b2c"}, b'{"Message":"Resource not found"}',
        operation="GetEndpoint",
    )
    assert str(err) == "NotFoundException (404) on GetEndpoint: Resource not found [request 1b2c]"
    err.attempts = 3
    assert str(err).endswith("[request 1b2c] (after 3 attempts)")


def test_request_id_falls_back_to_the_body() -> None:
    err = error_from_reply(400, {}, b'{"Message":"bad","RequestID":"from-body"}',
                           operation="UpdateEndpoint")
    assert err.request_id == "from-body"
    assert error_from_reply(400, {}, b"{}", operation="UpdateEndpoint").request_id is None


def test_messages_never_carry_personal_data() -> None:
    err = error_from_reply(400, {}, b'{"Message":"Address ann.lee@example.com or +12065550100"}',
                           operation="UpdateEndpoint")
    assert "ann.lee@example.com" not in str(err) and "+12065550100" not in str(err)
    assert "example.com" in str(err)


def test_a_huge_html_page_becomes_a_short_message() -> None:
    body = b"<html><body>" + b"<p>oops</p>" * 5000 + b"</body></html>"
    err = error_from_reply(503, {}, body, operation="GetEndpoint")
    assert len(err.message) <= 300 and "oops" in err.message


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"x-amz-retry-after": "2500"}, 2.5),
        ({"x-amz-retry-after": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": formatdate(1_000_010.0, usegmt=True)}, 10.0),
        ({"Retry-After": formatdate(999_000.0, usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_in_every_form(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=1_000_000.0) == seconds


def test_errors_survive_pickling() -> None:
    err = error_from_reply(429, {"x-amzn-RequestId": "r"}, b'{"Message":"slow down"}',
                           operation="GetEndpoint")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is pe.TooManyRequestsException
    assert str(back) == str(err) and back.status_code == 429


def test_a_2xx_body_that_is_not_json_is_a_parse_error(client: pe.Client) -> None:
    with responses.RequestsMock() as mock:
        mock.add("GET", URL, body=b"<html>hello</html>", status=200,
                 headers={"x-amzn-RequestId": "rid-7"})
        with pytest.raises(pe.ResponseParseError) as info:
            client.get_endpoint("app", "ep")
    assert info.value.status_code == 200 and info.value.request_id == "rid-7"
    assert "not JSON" in str(info.value) and "rid-7" in str(info.value)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"Location": {"Latitude": "north"}}', "$.Location.Latitude"),
        (b'[{"Id": "x"}]', "$"),
        (b'{"Attributes": {"a": "b"}}', "$.Attributes.a"),
        (b'"just a string"', "$"),
    ],
)
def test_a_2xx_body_of_the_wrong_shape_names_the_field(
    client: pe.Client, body: bytes, path: str
) -> None:
    with responses.RequestsMock() as mock:
        mock.add("GET", URL, body=body, status=200)
        with pytest.raises(pe.ResponseParseError) as info:
            client.get_endpoint("app", "ep")
    assert path in info.value.paths
    assert path in str(info.value)
    assert info.value.operation == "GetEndpoint"
