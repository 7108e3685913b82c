"""A crash-safe record of finished input lines, so an interrupted bulk run resumes exactly.

The file is JSON Lines. The first line names the run (command, application, input file's
SHA-256, options that change the work); each later line is one batch of finished line numbers,
written with one ``write`` and fsync'd::

    {"checkpoint": 1, "run": {"command": "import", "app": "my-app", "input": "9f2c..."}}
    {"done": [1, 2, 4]}
    {"done": [3, 5], "out": 1834}

A batch torn by a crash (no line end, or not JSON) is dropped and its records are redone,
which is safe because upserts and deletes are idempotent. ``out`` is the size the output file
(``export``) had when the batch was written; on resume the output is cut back to it, so no
line is written twice.

Example:
    >>> cp = Checkpoint.open(Path("run.ckpt"), {"command": "import"})  # doctest: +SKIP
    >>> cp.mark(7); cp.commit()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Final

from pinpoint_endpoints.cli._common import UsageError

__all__ = ["Checkpoint"]

_VERSION: Final = 1


class Checkpoint:
    """Finished line numbers: loaded from an earlier run, appended in fsync'd batches."""

    def __init__(self, path: Path, handle: IO[bytes], done: set[int], out: int | None) -> None:
        self.path = path
        self.done: frozenset[int] = frozenset(done)
        """Lines an earlier run finished (fixed at open)."""
        self.out_size = out
        """The output file's size at the last batch, ``None`` when never recorded."""
        self._handle = handle
        self._pending: list[int] = []

    @classmethod
    def open(cls, path: Path, run: dict[str, Any]) -> Checkpoint:
        """Open ``path`` for the run described by ``run``: resume it, or start it if absent.

        Raises:
            UsageError: the file belongs to another run, or is not a checkpoint.
        """
        header = json.dumps({"checkpoint": _VERSION, "run": run}, sort_keys=True)
        try:
            handle = path.open("r+b") if path.exists() else path.open("x+b")
        except OSError as exc:
            raise UsageError(f"cannot open the checkpoint {path}: {exc}") from exc
        try:
            done, out, good_end = _load(path, handle, header)
            if good_end == 0:
                handle.write(header.encode() + b"\n")
                good_end = handle.tell()
            handle.truncate(good_end)  # drop a torn last batch
            handle.seek(good_end)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            raise
        return cls(path, handle, done, out)

    def mark(self, line: int) -> None:
        """Note that ``line`` finished; it is saved by the next `commit`."""
        self._pending.append(line)

    @property
    def uncommitted(self) -> int:
        """Lines marked since the last commit."""
        return len(self._pending)

    def commit(self, out_size: int | None = None) -> None:
        """Write the marked lines as one batch and fsync it. Call after syncing the output."""
        if not self._pending and out_size is None:
            return
        batch: dict[str, Any] = {"done": sorted(self._pending)}
        if out_size is not None:
            batch["out"] = out_size
        self._handle.write(json.dumps(batch).encode() + b"\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._pending.clear()

    def close(self) -> None:
        """Close the file (commit first: marks not committed are dropped)."""
        self._handle.close()


def _load(path: Path, handle: IO[bytes], header: str) -> tuple[set[int], int | None, int]:
    """Done lines, the last output size, and the offset after the last whole batch."""
    data = handle.read()
    if not data:
        return set(), None, 0
    first, sep, _ = data.partition(b"\n")
    try:
        found = json.loads(first)
    except ValueError:
        found = None
    if not sep or not isinstance(found, dict) or found.get("checkpoint") != _VERSION:
        raise UsageError(f"{path} is not a pinpoint-endpoints checkpoint; remove it or "
                         "choose another --checkpoint file")
    if json.dumps(found, sort_keys=True) != header:
        raise UsageError(
            f"the checkpoint {path} belongs to another run ({json.dumps(found['run'])}): the "
            "command, application, input file or options differ; remove it to start afresh"
        )
    done: set[int] = set()
    out: int | None = None
    end = len(first) + 1
    for raw in data[end:].split(b"\n")[:-1]:  # the part after the last b"\n" is torn
        try:
            batch = json.loads(raw)
            lines = [int(n) for n in batch["done"]]
            size = batch.get("out")
        except (ValueError, KeyError, TypeError):
            break  # torn or damaged: this batch and everything after it is redone
        done.update(lines)
        if size is not None:
            out = int(size)
        end += len(raw) + 1
    return done, out, end
