"""Reading input files into numbered records: JSON Lines, CSV and id lists.

Every record keeps its 1-based line number and its original text, so a failure can be
reported exactly. A line that cannot be read or parsed becomes a record carrying its error
(the run goes on); blank lines are skipped.

CSV columns are JSON paths: ``Id,ChannelType,Address,Location.Latitude,Attributes.Interests,
User.UserId,User.UserAttributes.Plan,Metrics.score``. An empty cell leaves the field unset;
list cells (``Attributes.*``, ``User.UserAttributes.*``) are split on the list separator
(``;`` by default); ``Location.Latitude``/``Longitude`` and ``Metrics.*`` are numbers. Each
record is one physical line: quoted cells spanning lines are not supported.

Example:
    >>> [r.endpoint_id for r in csv_records([(1, "Id,Address"), (2, "e1,+12065550100")], ";")]
    ['e1']
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints._operations import segment as check_id

__all__ = [
    "Record",
    "Unreadable",
    "csv_records",
    "detect_format",
    "id_records",
    "jsonl_records",
    "parse_request",
    "read_lines",
    "scan",
]


@attrs.frozen
class Record:
    """One input line: what to do, or why it cannot be done."""

    line: int
    raw: str
    endpoint_id: str | None = None
    """The endpoint id, or (``export --users``) the user id."""
    item: pe.EndpointBatchItem | None = None
    """What ``import`` sends: the line's fields and its ``Id``."""
    error: str | None = None
    wire: str | None = None
    """``item`` as JSON: the line as read, when it can go out as it is (a JSON line with
    nothing to leave out and no ``null`` to drop). Validated by ``item``; not re-encoding it
    saves a quarter of ``import``'s CPU."""


class Unreadable(str):
    """The text of a line that is not valid UTF-8: its bytes, undecodable ones as ``\\xNN``."""


Line = tuple[int, str]
"""A line number and the line's text without its terminator (an `Unreadable` if not UTF-8)."""


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _keys(cls: type[Any]) -> frozenset[str]:
    return frozenset(_pascal(f.name) for f in attrs.fields(cls))


# Keys of an EndpointResponse (`get`'s and `export`'s output, Pinpoint's export jobs' lines)
# that the service sets itself: ignored on input, so such lines import as they are.
_SERVICE_SET: Final = _keys(pe.EndpointResponse) - _keys(pe.EndpointBatchItem)
_NESTED_KEYS: Final = {
    "Location": _keys(pe.EndpointLocation),
    "Demographic": _keys(pe.EndpointDemographic),
    "User": _keys(pe.EndpointUser),
}
_NUMBERS: Final = frozenset({"Location.Latitude", "Location.Longitude"})
_MAPS: Final = {"Attributes.": "list", "User.UserAttributes.": "list", "Metrics.": "number"}
_CSV_SCALARS: Final = frozenset(
    {k for k in _keys(pe.EndpointRequest) if k not in _NESTED_KEYS and k not in
     ("Attributes", "Metrics")}
    | {f"{outer}.{inner}" for outer, keys in _NESTED_KEYS.items() for inner in keys
       if inner != "UserAttributes"}
    | {"Id"}
)


def read_lines(source: Path | IO[bytes]) -> Iterator[Line]:
    """The lines of a file (or of a binary stream, such as standard input), numbered from 1,
    without terminators; blank lines left out."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield from read_lines(handle)
        return
    for number, data in enumerate(source, start=1):
        data = data.rstrip(b"\r\n")
        try:
            text = data.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            text = Unreadable(data.decode("utf-8", "backslashreplace"))
        if not text.strip():
            continue
        yield number, text


def scan(path: Path, *, digest: bool = True) -> tuple[str, int]:
    """The file's SHA-256 (hex; ``""`` unless ``digest``) and its count of non-blank lines."""
    hashed = hashlib.sha256() if digest else None
    count = 0
    with path.open("rb") as handle:
        for data in handle:
            if hashed is not None:
                hashed.update(data)
            if data.strip():
                count += 1
    return "" if hashed is None else hashed.hexdigest(), count


def detect_format(path: Path, first_line: str | None) -> str:
    """``"jsonl"`` or ``"csv"``: by the extension, else by whether the first line is JSON."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if first_line is not None and first_line.lstrip().startswith("{") else "csv"


def _unreadable(number: int, text: str) -> Record:
    return Record(number, text, error="the line is not valid UTF-8")


def parse_request(data: Any, *, where: str = "$") -> pe.EndpointRequest:
    """An `EndpointRequest` from a JSON object (``get``'s output is accepted: the fields the
    service sets itself are ignored), refusing unknown keys (typos) with their path.

    Raises:
        pe.ValidationError: not an object, an unknown key, or a value of the wrong type.
    """
    return pe.EndpointRequest.from_dict(_writable(data, where, "Id"), strict=True)


def _writable(data: Any, where: str, *also: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise pe.ValidationError(f"{where}: expected a JSON object")
    if _SERVICE_SET.isdisjoint(data) and not any(k in data for k in also):
        return data  # nothing to leave out: the usual input line
    return {k: v for k, v in data.items() if k not in _SERVICE_SET and k not in also}


def jsonl_records(lines: Iterable[Line]) -> Iterator[Record]:
    """One record a line: an EndpointRequest object plus its ``"Id"``."""
    for number, text in lines:
        if isinstance(text, Unreadable):
            yield _unreadable(number, text)
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield Record(number, text, error=f"not JSON: {exc}")
            continue
        yield _record(number, text, data, json_line=True)


def _record(number: int, text: str, data: Any, *, json_line: bool = False) -> Record:
    if not isinstance(data, dict):
        return Record(number, text, error="expected a JSON object")
    endpoint_id = data.get("Id")
    if not isinstance(endpoint_id, str) or not endpoint_id:
        return Record(number, text, error="Id: a non-empty string is required")
    try:
        check_id("Id", endpoint_id, strict=True)  # the service's rules for endpoint ids
        writable = _writable(data, "$")
        item = pe.EndpointBatchItem.from_dict(writable, strict=True)
    except pe.ValidationError as exc:
        return Record(number, text, endpoint_id, error=str(exc))
    as_read = json_line and writable is data and "null" not in text
    return Record(number, text, endpoint_id, item, wire=text if as_read else None)


def csv_header(text: str) -> list[str]:
    """The columns of a CSV header line, checked.

    Raises:
        pe.ValidationError: no ``Id`` column, a repeated or an unknown column.
    """
    columns = [c.strip() for c in next(csv.reader([text]))]
    if "Id" not in columns:
        raise pe.ValidationError("the CSV header has no Id column")
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise pe.ValidationError(f"the CSV header repeats the column {column!r}")
        seen.add(column)
        is_map = any(column.startswith(p) and len(column) > len(p) for p in _MAPS)
        if column not in _CSV_SCALARS and not is_map:
            raise pe.ValidationError(
                f"unknown CSV column {column!r}: columns are JSON paths such as Id, "
                "ChannelType, Address, Location.Latitude, Attributes.NAME, Metrics.NAME, "
                "User.UserId, User.UserAttributes.NAME"
            )
    return columns


def _number(column: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{column}: not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{column}: not a finite number")
    return value


def _cell_value(column: str, cell: str, separator: str) -> Any:
    kind = "number" if column in _NUMBERS else next(
        (k for p, k in _MAPS.items() if column.startswith(p)), "str")
    if kind == "number":
        return _number(column, cell)
    if kind == "list":
        return [item.strip() for item in cell.split(separator)]
    return cell


def _nest(columns: list[str], cells: list[str], separator: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell == "":
            continue
        value = _cell_value(column, cell, separator)
        prefix = next((p for p in _MAPS if column.startswith(p)), None)
        parts = [*prefix.rstrip(".").split("."), column[len(prefix):]] if prefix else \
            column.split(".")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return data


def csv_records(lines: Iterable[Line], separator: str) -> Iterator[Record]:
    """Records from CSV lines; the first line is the header (validate it with `csv_header`)."""
    columns: list[str] | None = None
    for number, text in lines:
        if isinstance(text, Unreadable):
            if columns is None:
                raise pe.ValidationError("the CSV header is not valid UTF-8")
            yield _unreadable(number, text)
            continue
        if columns is None:
            columns = csv_header(text)
            continue
        try:
            cells = next(csv.reader([text]))
        except csv.Error as exc:
            yield Record(number, text, error=f"not CSV: {exc}")
            continue
        if len(cells) != len(columns):
            yield Record(number, text, error=f"expected {len(columns)} cells, got {len(cells)}")
            continue
        try:
            data = _nest(columns, cells, separator)
        except ValueError as exc:
            yield Record(number, text, error=str(exc))
            continue
        yield _record(number, text, data)


def id_records(lines: Iterable[Line]) -> Iterator[Record]:
    """One endpoint id a line, taken exactly as written (only the line end is removed)."""
    for number, text in lines:
        yield _unreadable(number, text) if isinstance(text, Unreadable) else \
            Record(number, text, text)


RecordReader = Callable[[Iterable[Line]], Iterator[Record]]
