"""What an IDE sees: `mypy --strict` infers the documented types for a user's code."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

SAMPLE = Path(__file__).parent / "typing" / "sample_user.py"
EXPECTED = {
    "R1": "pinpoint_endpoints._models.EndpointResponse",
    "R2": "float | None",
    # `ChannelType | str`: mypy folds the enum into str because it subclasses str.
    "R3": "str | None",
    "R4": "dict[str, list[str]] | None",
    "R5": "pinpoint_endpoints._models.MessageBody",
    "R6": "pinpoint_endpoints._models.EndpointResponse",
    "R7": "pinpoint_endpoints._models.EndpointResponse",
    "R8": "dict[str, Any]",
    "R9": "float | None",
    "R10": "str | None",
    "R11": "pinpoint_endpoints._models.EndpointResponse",
    "R12": "pinpoint_endpoints._async_client.AsyncClient",
}


def test_mypy_strict_infers_the_documented_types() -> None:
    out, err, _ = api.run(["--strict", "--no-incremental", "--show-error-codes", str(SAMPLE)])
    lines = SAMPLE.read_text().splitlines()
    revealed: dict[str, str] = {}
    errors: list[tuple[int, str]] = []
    for line in out.splitlines():
        match = re.match(r".*sample_user\.py:(\d+): (\w+): (.*)$", line)
        if not match:
            continue
        number, kind, text = int(match[1]), match[2], match[3]
        marker = re.search(r"# (R\d+|MISPELT)", lines[number - 1])
        assert marker, f"unexpected mypy output: {line}"
        if kind == "note" and text.startswith("Revealed type is"):
            revealed[marker[1]] = text.split('"')[1].replace("builtins.", "")
        elif kind == "error":
            errors.append((number, marker[1]))
    assert revealed == EXPECTED, err
    assert [m for _, m in errors] == ["MISPELT", "MISPELT", "MISPELT"], out
