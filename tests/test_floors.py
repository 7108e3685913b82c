"""What pyproject.toml declares is what is tested: `make test` runs the core tests at the
lowest declared versions, from tests/constraints-lowest.txt, which must match the floors."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REQUIREMENT = re.compile(r'"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9][^",;\s]*)"')


def declared(block: str) -> dict[str, str]:
    """Each ``name>=floor`` of pyproject's list ``block = [...]`` (e.g. ``dependencies``)."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(rf"^{re.escape(block)} = \[(.*?)\]\s*(?:#[^\n]*)?$", text,
                      re.DOTALL | re.MULTILINE)
    assert found is not None, f"no {block} list in pyproject.toml"
    return dict(_REQUIREMENT.findall(found.group(1)))


def pinned() -> dict[str, str]:
    lines = (ROOT / "tests" / "constraints-lowest.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): version.strip() for name, version in pairs}


def test_every_runtime_dependency_is_tested_at_its_floor() -> None:
    runtime = declared("dependencies")
    assert {"requests", "attrs", "cattrs", "botocore"} <= set(runtime)
    assert {name: pinned().get(name) for name in runtime} == runtime


def test_boto3_is_tested_at_its_floor_which_is_botocores() -> None:
    floor = declared("dev")["boto3"]
    assert pinned()["boto3"] == floor == declared("dependencies")["botocore"]


def test_the_async_extra_is_tested_at_its_floor() -> None:
    extra = declared("async")
    assert {name: pinned().get(name) for name in extra} == extra


def test_nothing_is_pinned_that_pyproject_does_not_declare() -> None:
    every = {**declared("dependencies"), **declared("async"), **declared("dev")}
    assert set(pinned()) <= set(every)
