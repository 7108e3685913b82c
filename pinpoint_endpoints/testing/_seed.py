"""Seeding the emulator from JSON Lines: one ``EndpointResponse`` a line, as Pinpoint's export
jobs wrote them (``ApplicationId`` and ``Id`` required, ``CohortId`` and ``CreationDate`` kept).

A line that is not such an endpoint raises `StateFileError` naming the file and line number;
nothing of the file is stored then (the load is one transaction).

Examples:
    >>> store = Store()
    >>> load_jsonl(store, "export.jsonl")  # doctest: +SKIP
    1
    >>> store.get("app", "e1").cohort_id  # as the line gave it  # doctest: +SKIP
    '42'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from pinpoint_endpoints._errors import ValidationError
from pinpoint_endpoints._models import EndpointResponse
from pinpoint_endpoints.testing._sqlite import StateFileError
from pinpoint_endpoints.testing._store import Store, StoreError

__all__ = ["load_jsonl"]


class _Lines:
    """The endpoints of a JSON Lines file, remembering the number of the line being read."""

    def __init__(self, path: str) -> None:
        self.path, self.line = path, 0

    def __iter__(self) -> Iterator[EndpointResponse]:
        with open(self.path, encoding="utf-8") as file:
            for self.line, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    data = json.loads(text)
                except ValueError:
                    raise self.error("not valid JSON") from None
                if not isinstance(data, dict):
                    raise self.error("expected a JSON object (an EndpointResponse)")
                missing = [k for k in ("ApplicationId", "Id") if not data.get(k)]
                if missing:
                    raise self.error(" and ".join(missing) + " required")
                try:
                    yield EndpointResponse.from_dict(data)
                except ValidationError as exc:
                    raise self.error(str(exc)) from None

    def error(self, message: str) -> StateFileError:
        return StateFileError(f"{self.path} line {self.line}: {message}")


def load_jsonl(store: Store, path: str | os.PathLike[str]) -> int:
    """Load the endpoints of the JSON Lines file at ``path`` into ``store``; return how many.

    Raises:
        StateFileError: the file cannot be read, or a line is not an endpoint (the message
            names the line); nothing was stored.
    """
    lines = _Lines(os.fspath(path))
    try:
        return store.load(lines)
    except StoreError as exc:
        raise lines.error(exc.message) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"{lines.path}: cannot read it: {exc}") from None
