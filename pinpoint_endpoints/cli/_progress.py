"""Progress of a bulk run: a rich bar on a terminal, plain periodic lines otherwise.

Both show done / failed / rate / ETA; notes (one failed line each) are printed above the bar
or as plain lines.

Example:
    >>> progress = make_progress("import", total=2000, stream=sys.stderr)  # doctest: +SKIP
    >>> progress.update(done=10, failed=1); progress.close()  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from pinpoint_endpoints.cli._common import has_rich

__all__ = ["PlainProgress", "Progress", "make_progress"]


class Progress(Protocol):
    """What the bulk runner reports to."""

    def update(self, *, done: int, failed: int) -> None: ...
    def note(self, message: str) -> None: ...
    def close(self) -> None: ...


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class PlainProgress:
    """A line every ``interval`` seconds: ``import: 1200/2000 done, 3 failed, 410/s, ETA 0:00:02``.

    ``done`` and ``failed`` count this run; ``start`` is what an earlier run finished; a
    ``total`` of ``None`` (standard input) leaves out the total and the ETA.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        stream: TextIO,
        *,
        start: int = 0,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label, self._total, self._stream, self._start = label, total, stream, start
        self._interval, self._clock = interval, clock
        self._began = self._last = clock()

    def line(self, done: int, failed: int) -> str:
        """The progress line for these counts."""
        elapsed = max(self._clock() - self._began, 1e-9)
        rate = (done + failed) / elapsed
        line = f"{self._label}: {self._start + done}"
        if self._total is None:
            return f"{line} done, {failed} failed, {rate:.0f}/s"
        left = self._total - self._start - done - failed
        eta = left / rate if rate > 0 else None
        return f"{line}/{self._total} done, {failed} failed, {rate:.0f}/s, ETA {_eta(eta)}"

    def update(self, *, done: int, failed: int) -> None:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            print(self.line(done, failed), file=self._stream, flush=True)

    def note(self, message: str) -> None:
        print(message, file=self._stream, flush=True)

    def close(self) -> None:
        pass


class _RichProgress:
    def __init__(self, label: str, total: int | None, stream: TextIO, *, start: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._console = Console(file=stream)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("done, [red]{task.fields[failed]}[/] failed,"),
            TextColumn("{task.fields[rate]}/s, ETA"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._start = start
        self._began = time.monotonic()
        self._task = self._bar.add_task(label, total=total, completed=start, failed=0, rate="0")
        self._bar.start()

    def update(self, *, done: int, failed: int) -> None:
        rate = (done + failed) / max(time.monotonic() - self._began, 1e-9)
        self._bar.update(self._task, completed=self._start + done + failed, failed=failed,
                         rate=f"{rate:.0f}")

    def note(self, message: str) -> None:
        self._console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        self._bar.stop()


def make_progress(
    label: str, total: int | None, stream: TextIO | None = None, *, start: int = 0
) -> Progress:
    """A rich bar when ``stream`` (stderr by default) is a terminal and rich is installed,
    plain lines otherwise."""
    out = stream if stream is not None else sys.stderr
    if out.isatty() and has_rich():
        return _RichProgress(label, total, out, start=start)
    return PlainProgress(label, total, out, start=start)
