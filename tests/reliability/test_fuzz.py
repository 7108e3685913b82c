"""Fuzzing with Hypothesis: any 2xx body yields a model or `ResponseParseError`; any id yields
`ValidationError` or a request whose path segment decodes back to exactly that id.

Every example goes through the whole client, on each face, to a loopback server answering the
example's reply, so the parse path users hit is the one fuzzed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs
import pytest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from tests.faces import make
from tests.loopback import Behaviour, Canned, Server, target

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

Call = Callable[[Any], Any]
OPERATIONS: dict[str, tuple[str, type[Any], Call]] = {
    "GetEndpoint": ("GET", pe.EndpointResponse, lambda c: c.get_endpoint("app", "ep")),
    "UpdateEndpoint": ("PUT", pe.MessageBody,
                       lambda c: c.update_endpoint("app", "ep", pe.EndpointRequest())),
    "DeleteEndpoint": ("DELETE", pe.EndpointResponse, lambda c: c.delete_endpoint("app", "ep")),
}
# 204 is left out: a body on a 204 breaks HTTP framing (urllib3 reads none), not parsing.
SUCCESS = st.sampled_from([200, 201, 202, 203, 206, 299])


class Replies:
    """What the loopback server answers: whatever the current example sets; the request
    targets it got, in order."""

    server: Server

    def __init__(self) -> None:
        self.status = 200
        self.body = b""

    @property
    def urls(self) -> list[str]:
        return [target(r) for r in self.server.requests]

    def __call__(self, conn: socket.socket, n: int, stop: threading.Event) -> None:
        Canned((self.status, {"x-amzn-RequestId": "fuzz-rid"}, self.body))(conn, n, stop)


@pytest.fixture
def fuzz_client(
    serve: Callable[[Behaviour], Server], creds: Credentials, face: str
) -> Iterator[tuple[Any, Replies]]:
    replies = Replies()
    replies.server = serve(replies)
    policy = pe.RetryPolicy(max_attempts=1)
    with make(face, endpoint_url=replies.server.url, credentials=creds, retry=policy) as client:
        yield client, replies


def tally(name: str) -> None:
    """Count an outcome in Hypothesis' statistics (``--hypothesis-show-statistics``)."""
    if currently_in_test_context():
        event(name)


def outcome(client: Any, operation: str) -> Any:
    """The call's result, or the `ResponseParseError` it raised; anything else escapes."""
    _, model, call = OPERATIONS[operation]
    try:
        result = call(client)
    except pe.ResponseParseError as err:
        tally("ResponseParseError")
        assert err.operation == operation and err.request_id == "fuzz-rid"
        assert str(err).startswith(f"ResponseParseError ({err.status_code}) on {operation}: ")
        assert "\n" not in str(err)
        return err
    assert type(result) is model
    tally("parsed")
    return result


# -- arbitrary bytes ----------------------------------------------------------------------------

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


@st.composite
def damaged_json(draw: st.DrawFn) -> bytes:
    """A JSON document's bytes, cut short or with one byte changed."""
    doc = draw(st.fixed_dictionaries({}, optional={
        "Id": st.text(max_size=8), "Address": st.text(max_size=8),
        "Location": st.fixed_dictionaries({}, optional={"Latitude": st.floats(-90, 90)}),
        "Attributes": st.dictionaries(st.text(max_size=4), st.lists(st.text(max_size=4))),
        "Message": st.text(max_size=8), "RequestID": st.text(max_size=8)}))
    raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    at = draw(st.integers(0, len(raw)))
    if draw(st.booleans()):
        return raw[:at]
    return raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1:]


BODIES = st.binary(max_size=400) | damaged_json()

@FUZZ
@given(operation=st.sampled_from(sorted(OPERATIONS)), status=SUCCESS, body=BODIES)
@example(operation="GetEndpoint", status=200, body=b"\xff\xfe{\x00}\x00")  # UTF-16 with a BOM
@example(operation="GetEndpoint", status=200, body=b"[" * 100_000)       # deep nesting
@example(operation="GetEndpoint", status=200, body=b"1" * 5000)          # a huge integer
@example(operation="UpdateEndpoint", status=204, body=b"")
@example(operation="DeleteEndpoint", status=202, body=b'{"Id": "\xed\xa0\x80"}')  # bad UTF-8
def test_arbitrary_bytes_give_a_model_or_a_parse_error(
    fuzz_client: tuple[Any, Replies], operation: str, status: int, body: bytes
) -> None:
    client, replies = fuzz_client
    replies.status, replies.body = status, body
    outcome(client, operation)


# -- arbitrary JSON -----------------------------------------------------------------------------


@FUZZ
@given(operation=st.sampled_from(sorted(OPERATIONS)), status=SUCCESS, data=JSON)
def test_arbitrary_json_gives_a_model_or_a_parse_error(
    fuzz_client: tuple[Any, Replies], operation: str, status: int, data: Any
) -> None:
    client, replies = fuzz_client
    replies.status, replies.body = status, json.dumps(data).encode()
    result = outcome(client, operation)
    if not isinstance(data, dict):
        assert isinstance(result, pe.ResponseParseError) and "$" in result.paths


def wire_fields(model: type[Any]) -> dict[str, Any]:
    """Wire key -> the field's model type (or a marker for scalars and maps)."""
    from pinpoint_endpoints._convert import wire_name

    attrs.resolve_types(model)
    return {wire_name(f): f.type for f in attrs.fields(model)}


def well_typed(tp: Any) -> st.SearchStrategy[Any]:
    """Values of the right JSON type for a field (finite floats, so round trips compare)."""
    nested = {pe.EndpointLocation, pe.EndpointDemographic, pe.EndpointUser}
    for model in nested:
        if tp == model | None:
            return shaped(model)
    if tp == float | None:
        return st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    if tp == dict[str, list[str]] | None:
        return st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=3),
                               max_size=3)
    if tp == dict[str, float] | None:
        return st.dictionaries(st.text(max_size=8),
                               st.floats(allow_nan=False, allow_infinity=False), max_size=3)
    return st.text(max_size=12) | st.sampled_from([c.value for c in pe.ChannelType])


def shaped(model: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the model's keys, each value well typed or (sometimes) arbitrary JSON,
    plus keys the service might add later: reaches every field's parse path."""
    fields = wire_fields(model)
    value = {name: well_typed(tp) | JSON | st.none() for name, tp in fields.items()}
    known = st.fixed_dictionaries({}, optional=value)
    extra = st.dictionaries(st.text(max_size=8).filter(lambda k: k not in fields), JSON,
                            max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


@FUZZ
@given(operation=st.sampled_from(sorted(OPERATIONS)), data=st.data())
def test_json_of_the_documented_shape_parses_without_loss_or_names_the_bad_field(
    fuzz_client: tuple[Any, Replies], operation: str, data: st.DataObject
) -> None:
    client, replies = fuzz_client
    _, model, _ = OPERATIONS[operation]
    doc = data.draw(shaped(model))
    replies.status, replies.body = 200, json.dumps(doc).encode()
    result = outcome(client, operation)
    if isinstance(result, pe.ResponseParseError):
        assert result.paths and all(p.startswith("$") for p in result.paths)
        for path in result.paths:  # each path names a key that was really sent
            top = path[2:].split(".")[0].split("[")[0]
            assert path == "$" or top in doc
    else:
        # nothing lost: writing the model back gives the same model again
        assert type(result).from_dict(result.to_dict()) == result
        for key, value in doc.items():
            if key in wire_fields(model) and value is not None and not _is_empty_model(value):
                assert key in result.to_dict()


def _is_empty_model(value: Any) -> bool:
    return isinstance(value, dict) and not value


# -- arbitrary ids ------------------------------------------------------------------------------

TRICKY = ["..x", "x..", "...", "%2e%2e", "%2E%2E/%2e", "a/../b", "../etc/passwd", "/", "//",
          "a b", " ", "?q=1", "#frag", "%", "%25", "%zz", "+", "ü", "名前", "😀", "a\x00b",
          "line\nbreak", "\\", ";", "@", ".", "..", "", "a$b", "{x}", "\ud800", "x\udfffy"]
IDS = (st.sampled_from(TRICKY)
       | st.text(max_size=30)
       | st.text(st.characters(codec=None, categories=None) | st.sampled_from("./%$?#"),
                 max_size=12))


def refused(value: str, *, endpoint: bool) -> bool:
    """Whether the contract says the id must raise `ValidationError` before sending."""
    if value in ("", ".", ".."):
        return True
    if endpoint and any(c in value for c in "${}"):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no byte string names it on the wire
        return True
    return False


def check_path(url: str, app: str, ep: str) -> None:
    parts = urlsplit(url)
    assert url.startswith("/v1/apps/")
    assert parts.query == "" and parts.fragment == ""
    segments = parts.path.split("/")
    assert len(segments) == 6, segments
    assert segments[:3] == ["", "v1", "apps"] and segments[4] == "endpoints"
    for raw, original in ((segments[3], app), (segments[5], ep)):
        assert raw not in (".", "..")  # no dot segment for a stack to fold away
        assert unquote(raw, errors="strict") == original


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(app=st.sampled_from(["app"]) | IDS, ep=IDS,
       operation=st.sampled_from(sorted(OPERATIONS)))
def test_any_id_is_refused_or_sent_inside_its_own_path_segment(
    fuzz_client: tuple[Any, Replies], app: str, ep: str, operation: str
) -> None:
    client, replies = fuzz_client
    method = OPERATIONS[operation][0]
    replies.status, replies.body = 200, b"{}"
    replies.server.requests.clear()
    calls: dict[str, Call] = {
        "GET": lambda c: c.get_endpoint(app, ep),
        "PUT": lambda c: c.update_endpoint(app, ep, pe.EndpointRequest()),
        "DELETE": lambda c: c.delete_endpoint(app, ep),
    }
    try:
        calls[method](client)
    except pe.ValidationError:
        tally("refused")
        assert refused(app, endpoint=False) or refused(ep, endpoint=True)
        assert replies.urls == []
        return
    assert not refused(app, endpoint=False) and not refused(ep, endpoint=True)
    tally("sent")
    (url,) = replies.urls
    check_path(url, app, ep)


def test_the_float_fields_keep_their_value_through_the_client(
    fuzz_client: tuple[Any, Replies],
) -> None:
    """The round trip above compares floats exactly; make sure a float really is parsed."""
    client, replies = fuzz_client
    replies.body = b'{"Location": {"Latitude": 47.6062, "Longitude": -122}, "Metrics": {"m": 1}}'
    ep = client.get_endpoint("app", "ep")
    assert ep.location is not None and ep.location.longitude == -122.0
    assert ep.location.latitude == 47.6062 and ep.metrics == {"m": 1.0}


@pytest.mark.parametrize(
    ("operation", "body", "path"),
    [
        # found by the fuzzer: one rename table for all models named EndpointResponse's
        # RequestId as MessageBody's RequestID, a key that was never sent
        ("GetEndpoint", {"RequestId": []}, "$.RequestId"),
        ("UpdateEndpoint", {"RequestID": 1}, "$.RequestID"),
        # found by reading the fix: a map key that looks like a field kept being "renamed"
        ("GetEndpoint", {"Attributes": {"x.city": "a"}}, "$.Attributes['x.city']"),
        ("DeleteEndpoint", {"User": {"UserAttributes": {"a].user_id": [1]}}},
         "$.User.UserAttributes['a].user_id'][0]"),
        ("GetEndpoint", {"Location": {"City": 3}}, "$.Location.City"),
    ],
)
def test_a_parse_error_names_the_key_exactly_as_sent(
    fuzz_client: tuple[Any, Replies], operation: str, body: dict[str, Any], path: str
) -> None:
    client, replies = fuzz_client
    replies.body = json.dumps(body).encode()
    err = outcome(client, operation)
    assert isinstance(err, pe.ResponseParseError)
    assert err.paths == (path,)
    assert str(err).endswith(f"@ {path} [request fuzz-rid]")


# -- weird ids on a real socket: the emulator addresses the same endpoint, never another -----

VALID_IDS = IDS.filter(lambda v: not refused(v, endpoint=True))
WEIRD = ["..x", "x..", "...", "%2e%2e", "%2E%2E", "a/../b", "../b", "/", "//", "a b", " x ",
         "?q=1", "#f", "%", "%25", "%2F", "+", "ü", "名前", "😀", "a\\b", ";", "@", "ep", "EP",
         "Ep", "ep/", "/ep", "ep%2F"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def put_then_get_each(face: str, emu: Emulator, app: str, ids: list[str]) -> None:
    with make(face, emu, retry=pe.RetryPolicy(max_attempts=1)) as client:
        for n, ep in enumerate(ids):
            client.update_endpoint(app, ep, pe.EndpointRequest(attributes={"n": [str(n)]}))
        # the last write to each (case-insensitive) id wins; the first spelling names it
        last = {ep.lower(): str(n) for n, ep in enumerate(ids)}
        first: dict[str, str] = {}
        for ep in ids:
            first.setdefault(ep.lower(), ep)
        for ep in ids:
            got = client.get_endpoint(app, ep)
            assert got.id == first[ep.lower()] and got.attributes == {"n": [last[ep.lower()]]}
    assert set(emu.endpoints(app)) == set(first.values())  # nothing else was created


def test_weird_ids_round_trip_through_the_emulator(emulator: Emulator, face: str) -> None:
    before = len(emulator.requests)
    put_then_get_each(face, emulator, f"weird-app-{face}", WEIRD)
    for request in emulator.requests[before:]:
        segments = request.path.split("/")
        assert len(segments) == 6 and segments[:3] == ["", "v1", "apps"], request.path
        assert segments[4] == "endpoints" and unquote(segments[5]) in WEIRD


_apps = iter(range(10**9))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(VALID_IDS, min_size=1, max_size=6))
def test_any_valid_ids_address_their_own_endpoints_on_the_emulator(
    emulator: Emulator, face: str, ids: list[str]
) -> None:
    put_then_get_each(face, emulator, f"fuzz-app-{next(_apps)}", ids)
