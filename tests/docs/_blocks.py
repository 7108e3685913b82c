"""Find the code blocks of a Markdown page, with the markers that say how to treat them.

A fenced block may be indented (inside a content tab, a grid or an admonition). The HTML
comment on the last non-blank line before a fence is its marker:

- ``<!-- no-run: why -->``: do not run this block (a reason is required);
- ``<!-- output -->``: this ``text`` block is the exact stdout of the block before it.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<name>[\w-]+)\s*(?::\s*(?P<arg>.*?))?\s*-->\s*$")


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    page: str
    index: int
    line: int
    lang: str
    code: str
    marker: str | None
    marker_arg: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def parse(path: Path, name: str) -> list[Block]:
    """Every fenced block of the page at ``path``, in order; ``name`` labels them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    last_text = ""
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if not opened:
            if lines[i].strip():
                last_text = lines[i]
            i += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        info = opened["info"].strip()
        lang = info.split()[0].lower() if info else ""
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if j == len(lines):
            raise ValueError(f"{name}:{i + 1}: unclosed code fence")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[start:j]]
        marker = _MARKER.match(last_text)
        blocks.append(Block(
            page=name, index=len(blocks), line=i + 1, lang=lang, code="\n".join(body) + "\n",
            marker=marker["name"] if marker else None,
            marker_arg=marker["arg"] if marker else None,
        ))
        last_text = lines[j]
        i = j + 1
    return blocks
