"""Reading JSON Lines, CSV and id lists into numbered records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli._records import (
    Unreadable,
    csv_header,
    csv_records,
    detect_format,
    id_records,
    jsonl_records,
    read_lines,
    scan,
)


def lines(path: Path, data: bytes) -> list[tuple[int, str]]:
    path.write_bytes(data)
    return list(read_lines(path))


def test_lines_are_numbered_from_1_and_blank_lines_skipped(tmp_path: Path) -> None:
    got = lines(tmp_path / "f", b"a\n\n  \r\nb\r\nc")
    assert got == [(1, "a"), (4, "b"), (5, "c")]


def test_a_line_that_is_not_utf8_is_kept_as_unreadable(tmp_path: Path) -> None:
    got = lines(tmp_path / "f", b"ok\n\xff\xfe id\n")
    assert got == [(1, "ok"), (2, "\\xff\\xfe id")]
    assert not isinstance(got[0][1], Unreadable) and isinstance(got[1][1], Unreadable)


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    assert lines(tmp_path / "f", b"\xef\xbb\xbfId\n") == [(1, "Id")]


def test_scan_counts_non_blank_lines_and_hashes_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a\n\nb\n")
    digest, count = scan(path)
    assert count == 2
    path.write_bytes(b"a\n\nc\n")
    assert scan(path)[0] != digest


def test_jsonl_records_carry_id_request_and_line() -> None:
    record = {"Id": "e1", "ChannelType": "SMS", "Address": "+12065550100",
              "Attributes": {"A": ["1", "2"]}}
    [got] = jsonl_records([(3, json.dumps(record))])
    assert (got.line, got.endpoint_id, got.error) == (3, "e1", None)
    assert got.item == pe.EndpointBatchItem(id="e1", channel_type=pe.ChannelType.SMS,
                                            address="+12065550100", attributes={"A": ["1", "2"]})
    assert got.raw == json.dumps(record)


def test_jsonl_accepts_lines_of_pinpoint_export_jobs() -> None:
    exported = {"Id": "e1", "ApplicationId": "app", "CohortId": "7",
                "CreationDate": "2024-05-01T10:00:00.000Z", "EndpointStatus": "ACTIVE",
                "Address": "a@example.com", "ChannelType": "EMAIL", "OptOut": "NONE",
                "EffectiveDate": "2024-05-01T10:00:00.000Z", "RequestId": "r-1",
                "Location": {"Country": "US"}, "User": {"UserId": "u1"}}
    [got] = jsonl_records([(1, json.dumps(exported))])
    assert got.error is None
    # the fields the service sets itself are ignored, every other one is kept
    kept = {k: v for k, v in exported.items()
            if k not in ("ApplicationId", "CohortId", "CreationDate")}
    assert got.item == pe.EndpointBatchItem.from_dict(kept, strict=True)


@pytest.mark.parametrize(
    ("text", "sent_as_read"),
    [
        ('{"Id": "e1", "Location": {"Latitude": 47}, "Metrics": {"m": 1}}', True),
        ('{"Id": "e1", "CohortId": "7"}', False),  # a key the service sets is left out
        ('{"Id": "e1", "OptOut": null}', False),  # a null field is dropped
        ('{"Id": "e1", "Location": {"City": null}}', False),
    ],
)
def test_a_json_line_goes_out_as_read_unless_something_must_be_left_out(
    text: str, sent_as_read: bool
) -> None:
    [got] = jsonl_records([(1, text)])
    assert got.error is None and got.item is not None
    assert got.wire == (text if sent_as_read else None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{broken", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"Address": "a@example.com"}', "Id: a non-empty string is required"),
        ('{"Id": 7}', "Id: a non-empty string is required"),
        ('{"Id": "e", "Adress": "x"}', "unknown field Adress"),
        ('{"Id": "e", "Location": {"Lat": 1}}', "unknown field Lat at $.Location"),
        ('{"Id": "e", "Metrics": {"m": "high"}}', "$.Metrics"),
        ('{"Id": "e", "Attributes": {"a": "not-a-list"}}', "$.Attributes"),
    ],
)
def test_jsonl_bad_lines_become_records_with_their_error(text: str, error: str) -> None:
    [got] = jsonl_records([(9, text)])
    assert got.line == 9 and got.raw == text and got.item is None
    assert got.error is not None and error in got.error


def test_jsonl_unreadable_line_keeps_its_bytes_escaped() -> None:
    [got] = jsonl_records([(2, Unreadable("{\\xff}"))])
    assert (got.line, got.raw, got.error) == (2, "{\\xff}", "the line is not valid UTF-8")


HEADER = ("Id,ChannelType,Address,Location.Latitude,Attributes.Interests,User.UserId,"
          "User.UserAttributes.Plan,Metrics.score,Demographic.Platform")


def test_csv_columns_are_json_paths() -> None:
    rows = [(1, HEADER), (2, 'e1,EMAIL,a@example.com,47.5,"music; film",u1,gold,3,ios')]
    [got] = csv_records(rows, ";")
    assert got.error is None and got.endpoint_id == "e1"
    assert got.item == pe.EndpointBatchItem.from_dict({
        "Id": "e1", "ChannelType": "EMAIL", "Address": "a@example.com",
        "Location": {"Latitude": 47.5},
        "Attributes": {"Interests": ["music", "film"]},
        "User": {"UserId": "u1", "UserAttributes": {"Plan": ["gold"]}},
        "Metrics": {"score": 3.0}, "Demographic": {"Platform": "ios"},
    })
    assert got.wire is None  # a CSV row is no JSON to send: import encodes the item


def test_csv_empty_cells_leave_fields_unset_and_the_separator_is_configurable() -> None:
    rows = [(1, HEADER), (2, "e1,,,,a|b,,,,")]
    [got] = csv_records(rows, "|")
    assert got.item == pe.EndpointBatchItem(id="e1", attributes={"Interests": ["a", "b"]})


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("e1,EMAIL,a@example.com,north,,,,,", "Location.Latitude: not a number"),
        ("e1,EMAIL,a@example.com,,,,,nan,", "Metrics.score: not a finite number"),
        ("e1,EMAIL", "expected 9 cells, got 2"),
        (",EMAIL,a@example.com,,,,,,", "Id: a non-empty string is required"),
    ],
)
def test_csv_bad_rows_become_records_with_their_error(row: str, error: str) -> None:
    [got] = csv_records([(1, HEADER), (5, row)], ";")
    assert got.line == 5 and got.raw == row and got.error is not None
    assert error in got.error
    assert "a@example.com" not in got.error  # errors never echo personal data


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("ChannelType,Address", "no Id column"),
        ("Id,Adress", "unknown CSV column 'Adress'"),
        ("Id,Attributes.", "unknown CSV column"),
        ("Id,Address,Address", "repeats the column 'Address'"),
    ],
)
def test_csv_header_problems_are_validation_errors(header: str, error: str) -> None:
    with pytest.raises(pe.ValidationError, match=error.replace(".", r"\.")):
        csv_header(header)


def test_id_lists_take_each_line_exactly() -> None:
    got = list(id_records([(1, "e1"), (3, " e 2 "), (4, Unreadable("\\xff"))]))
    assert [(r.line, r.endpoint_id) for r in got[:2]] == [(1, "e1"), (3, " e 2 ")]
    assert got[2].error == "the line is not valid UTF-8"


@pytest.mark.parametrize(
    ("name", "first", "fmt"),
    [("a.csv", "{", "csv"), ("a.jsonl", "Id", "jsonl"), ("a.ndjson", None, "jsonl"),
     ("a.txt", '{"Id": "x"}', "jsonl"), ("a.txt", "Id,Address", "csv")],
)
def test_detect_format(name: str, first: str | None, fmt: str) -> None:
    assert detect_format(Path(name), first) == fmt
