"""Every code example of the README and the docs runs, so none can rot.

Each page's ``python`` blocks run in order in one namespace, against a fresh `Emulator` for the
page, with the environment a user would set to point existing code at it::

    AWS_ENDPOINT_URL_PINPOINT=<the emulator's URL>
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY = <its key pair>
    AWS_DEFAULT_REGION=us-east-1

so ``pe.Client("us-east-1")`` and ``boto3.client("pinpoint")`` in an example reach the emulator
exactly as written. ``sh`` blocks run in bash (``set -euo pipefail``) with the same environment
and the package's console script on ``PATH``, in a scratch directory shared by the page.
A ``text`` block marked ``<!-- output -->`` is compared with what the block before it printed;
``...`` in it stands for any text (an emulator's port, say), as in doctest's ELLIPSIS.
A block marked ``<!-- no-run: reason -->`` is not run; the reason is required. A block titled
with a file name (``title="test_signup.py"``) is written to that file in the scratch directory.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from tests.docs._blocks import Block, parse

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
PAGES = ["README.md", *DOCS]
BLOCKS = {page: parse(ROOT / page, page) for page in PAGES}
RUN_LANGS = frozenset({"python", "sh"})
OTHER_LANGS = frozenset({"text", "toml", "json", "jsonl", "csv", "ini", "yaml"})
MARKERS = frozenset({"no-run", "output"})


def _runnable(block: Block) -> bool:
    return block.lang in RUN_LANGS and block.marker != "no-run" and block.file_name is None


RUNNABLE = [
    b for page in PAGES for b in BLOCKS[page]
    if b.marker != "no-run" and (_runnable(b) or b.file_name is not None)
]


def _matches(printed: str, expected: str) -> bool:
    """Whether ``printed`` is ``expected``, with each ``...`` in it standing for any text."""
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, printed, flags=re.DOTALL) is not None


def test_ellipsis_stands_for_any_text_and_nothing_else() -> None:
    assert _matches("reset (http://127.0.0.1:4711) (after 3 attempts)",
                    "reset (http://127.0.0.1:...) (after 3 attempts)")
    assert not _matches("reset (after 2 attempts)", "reset (...) (after 3 attempts)")
    assert _matches("a.b", "a.b") and not _matches("axb", "a.b")


def _expected_outputs() -> dict[str, str]:
    """Block id -> the stdout its ``<!-- output -->`` block promises."""
    expected: dict[str, str] = {}
    for blocks in BLOCKS.values():
        for k, block in enumerate(blocks):
            if block.marker != "output":
                continue
            j = k - 1
            while j >= 0 and _runnable(blocks[j]):
                expected[blocks[j].id] = block.code
                if not blocks[j].joined:
                    break
                j -= 1
    return expected


EXPECTED = _expected_outputs()


@attrs.define
class PageRun:
    """The state one page's blocks share."""

    emulator: Emulator
    namespace: dict[str, Any] = attrs.field(repr=False)
    workdir: Path
    failed: str | None = None


@pytest.fixture(scope="module")
def page_runs() -> Iterator[dict[str, PageRun]]:
    runs: dict[str, PageRun] = {}
    yield runs
    for run in runs.values():
        for value in list(run.namespace.values()):
            if isinstance(value, (pe.Client, Emulator)) or type(value).__module__ == (
                "botocore.client"
            ):
                with contextlib.suppress(Exception):
                    value.close() if not isinstance(value, Emulator) else value.stop()
        run.emulator.stop()


def _page_run(runs: dict[str, PageRun], page: str, tmp: pytest.TempPathFactory) -> PageRun:
    if page not in runs:
        name = page.replace("/", "_").replace(".", "_")
        runs[page] = PageRun(
            emulator=Emulator(seed=1).start(),
            namespace={"__name__": f"docs_example_{name}"},
            workdir=tmp.mktemp(name),
        )
    return runs[page]


def _run_python(block: Block, namespace: dict[str, Any]) -> str:
    code = compile("\n" * (block.line) + block.code, f"{block.page} (block at line {block.line})",
                   "exec")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, namespace)  # the documentation's own examples
    return out.getvalue()


def _run_sh(block: Block, workdir: Path) -> str:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc.stdout


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_example_runs(
    block: Block,
    page_runs: dict[str, PageRun],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _page_run(page_runs, block.page, tmp_path_factory)
    if run.failed is not None:
        pytest.fail(f"an earlier block of this page failed first: {run.failed}")
    emu = run.emulator
    monkeypatch.setenv("AWS_ENDPOINT_URL_PINPOINT", emu.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", emu.credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", emu.credentials.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", emu.region)
    monkeypatch.chdir(run.workdir)
    saved_env = dict(os.environ)
    try:
        if block.file_name is not None:
            (run.workdir / block.file_name).write_text(block.code, encoding="utf-8")
            return
        if block.lang == "python":
            out = _run_python(block, run.namespace)
        else:
            out = _run_sh(block, run.workdir)
        if block.id in EXPECTED:
            assert _matches(out.rstrip(), EXPECTED[block.id].rstrip()), (
                "the printed output differs"
            )
    except BaseException:
        run.failed = block.id
        raise
    finally:  # an example may set variables as a user would export them: undo that
        os.environ.clear()
        os.environ.update(saved_env)


def test_examples_are_found() -> None:
    """The collector sees the examples (a broken parser must not pass by running nothing)."""
    python = [b for b in RUNNABLE if b.lang == "python" and _runnable(b)]
    assert any(b.page == "README.md" for b in python)
    assert len(python) >= 40, len(python)
    guides = {b.page for b in RUNNABLE if _runnable(b)}  # python, or sh for the CLI page
    for page in PAGES:
        if not page.startswith("docs/reference/") and page != "docs/changelog.md":
            assert page in guides, f"{page} has no runnable example"


def test_every_block_has_a_known_language_and_marker() -> None:
    """A typo (``pyhton``, ``no_run``) must not quietly turn an example off."""
    for blocks in BLOCKS.values():
        for block in blocks:
            assert block.lang in RUN_LANGS | OTHER_LANGS, f"{block.id}: fence {block.lang!r}"
            assert block.marker in MARKERS | {None}, f"{block.id}: marker {block.marker!r}"
            if block.marker == "no-run":
                assert block.marker_arg, f"{block.id}: say why it does not run"


def test_output_blocks_follow_a_runnable_block() -> None:
    for blocks in BLOCKS.values():
        for before, block in itertools.pairwise(blocks):
            if block.marker == "output":
                assert block.lang == "text", block.id
                assert _runnable(before), f"{block.id}: the block before it does not run"
        if blocks and blocks[0].marker == "output":
            pytest.fail(f"{blocks[0].id}: an output block needs a block before it")


def test_a_failing_example_is_reported_with_its_page_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# T\n\n```python\nx = 1\n```\n\n```python\nraise ValueError(x)\n```\n")
    blocks = parse(page, "page.md")
    namespace: dict[str, Any] = {}
    _run_python(blocks[0], namespace)
    with pytest.raises(ValueError) as info:
        _run_python(blocks[1], namespace)
    frame = info.traceback[-1]
    assert frame.path == "page.md (block at line 7)" or str(frame.path).endswith("line 7)")
    assert frame.lineno + 1 == 8
