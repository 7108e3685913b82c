"""What the other common IDE engine sees: pyright in strict mode, beside `mypy --strict`.

`tests/typing/sample_pyright.py` is user-style code that must check with no error, and whose
`reveal_type` lines must show the documented types; `tests/typing/misspelt_pyright.py` holds
mistakes that must each be reported. pyright comes from the ``pyright[nodejs]`` dev extra,
whose Node.js is a PyPI wheel, so this runs offline on a machine with only Python.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

TYPING = Path(__file__).parent / "typing"
SAMPLE = TYPING / "sample_pyright.py"
MISTAKES = TYPING / "misspelt_pyright.py"
EXPECTED = {
    "P1": "float",
    "P2": "int | None",
    "P3": "EndpointResponse",
    "P4": "float | None",
    "P5": "EndpointLocation | None",
    "P6": "MessageBody",
    "P7": "str | None",
    "P8": "EndpointResponse",
    "P9": "ChannelType | str | None",
    "P10": "dict[str, list[str]] | None",
    "P11": "dict[str, float] | None",
    "P12": "dict[str, list[str]] | None",
    "P13": "EndpointResponse",
    "P14": "dict[str, Any]",
    "P15": "EndpointRequest",
    "P16": "float | None",
    "P17": "int",
    "P18": "int",
    "P19": "str | None",
    "P20": "str | None",
    "P21": "int",
    "P22": "int",
    "P23": "float | None",
    "P24": "Client",
    "P25": "EndpointResponse | None",
    "P26": "Client",
    "P27": "AsyncClient",
    "P28": "EndpointResponse",
    "P29": "MessageBody",
    "P30": "EndpointsResponse",
    "P31": "AsyncClient",
    "P32": "CoroutineType[Any, Any, EndpointResponse]",
    "P33": "AsyncClient",
}


def _pyright(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson",
         "--project", str(TYPING / "pyrightconfig.json"),
         "--pythonpath", sys.executable, str(path)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"pyright did not run:\n{proc.stdout}\n{proc.stderr}") from None
    diagnostics: list[dict[str, Any]] = report["generalDiagnostics"]
    return diagnostics


def test_pyright_strict_infers_the_documented_types_with_no_error() -> None:
    lines = SAMPLE.read_text().splitlines()
    revealed: dict[str, str] = {}
    problems: list[str] = []
    for diag in _pyright(SAMPLE):
        line = diag["range"]["start"]["line"]
        if diag["severity"] == "information" and diag["message"].startswith("Type of"):
            marker = re.search(r"# (P\d+)$", lines[line])
            assert marker, f"reveal_type without a marker on line {line + 1}"
            revealed[marker[1]] = diag["message"].rsplit(' is "', 1)[1].rstrip('"')
        else:
            problems.append(f"{line + 1}: {diag['severity']}: {diag['message']}")
    assert problems == []
    assert revealed == EXPECTED


def test_pyright_strict_reports_each_mistake() -> None:
    lines = MISTAKES.read_text().splitlines()
    marked = {n for n, text in enumerate(lines) if "# E:" in text}
    errors = [d for d in _pyright(MISTAKES) if d["severity"] == "error"]
    reported = {d["range"]["start"]["line"] for d in errors}
    assert reported == marked, [(d["range"]["start"]["line"] + 1, d["message"]) for d in errors]
    messages: dict[int, str] = {}
    for d in errors:
        line = d["range"]["start"]["line"]
        messages[line] = messages.get(line, "") + d["message"] + "\n"
    misspelt_read = next(n for n in marked if "misspelt field" in lines[n])
    assert 'Cannot access attribute "adress"' in messages[misspelt_read]
    misspelt_kw = next(n for n in marked if "misspelt keyword" in lines[n])
    assert 'No parameter named "adress"' in messages[misspelt_kw]
