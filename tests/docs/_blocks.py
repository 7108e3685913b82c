"""Find the code blocks of a Markdown page, with the markers that say how to treat them.

A fenced block may be indented (inside a content tab, a grid or an admonition). The HTML
comment on the last non-blank line before a fence is its marker:

- ``<!-- no-run: why -->``: do not run this block (a reason is required);
- ``<!-- output -->``: this ``text`` block is the exact stdout of the block before it, and
  of each block joined to that one with no prose between (the two columns of a grid).

A block whose ``title`` is a file name (```` ```python title="test_signup.py" ````, shown by
Material as the file's name) is that file's content: it is written, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]*)"')
_FILE_NAME = re.compile(r"^[\w.-]+\.\w+$")
_TAG_LINE = re.compile(r"^\s*</?[a-zA-Z][^>]*>\s*$")
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
    title: str | None = None
    joined: bool = False
    """Only blank lines, HTML tags and markers stand between this block and the one before."""

    @property
    def file_name(self) -> str | None:
        """The file this block is the content of, if its title is a file name."""
        return self.title if self.title and _FILE_NAME.match(self.title) else None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def parse(path: Path, name: str) -> list[Block]:
    """Every fenced block of the page at ``path``, in order; ``name`` labels them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    last_text = ""
    prose = True
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if not opened:
            if lines[i].strip():
                last_text = lines[i]
                if not (_TAG_LINE.match(lines[i]) or _MARKER.match(lines[i])):
                    prose = True
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
        title = _TITLE.search(info)
        blocks.append(Block(
            page=name, index=len(blocks), line=i + 1, lang=lang, code="\n".join(body) + "\n",
            marker=marker["name"] if marker else None,
            marker_arg=marker["arg"] if marker else None,
            title=title["title"] if title else None,
            joined=not prose,
        ))
        prose = False
        last_text = lines[j]
        i = j + 1
    return blocks
