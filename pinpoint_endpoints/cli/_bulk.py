"""The bulk runner: records -> a thread pool over one shared client -> checkpoint, failures,
output and progress. Only the calling thread touches files; workers just make requests.

Records go out in units (one record, or a batch): records with the same endpoint id run one
after another, in file order, so the last line for an id wins as it would in a sequential
run. The failures file lists records in input order. On Ctrl-C (or `Runner.stop`) nothing
new starts, retry sleeps are cut short, requests in flight finish, finished lines are
committed to the checkpoint and the run ends as ``interrupted``.

Example:
    >>> runner = Runner(each(upsert), concurrency=8, failures=sink, progress=bar)  # doctest: +SKIP
    >>> summary = runner.run(records)  # doctest: +SKIP
"""

from __future__ import annotations

import heapq
import json
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import FrameType
from typing import IO, Any, Final, TextIO, TypeAlias

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli._checkpoint import Checkpoint
from pinpoint_endpoints.cli._common import describe, one_line
from pinpoint_endpoints.cli._progress import Progress
from pinpoint_endpoints.cli._records import Record

__all__ = ["Action", "Cancelled", "Failures", "Outcome", "Output", "RetryStats", "Runner",
           "Summary", "each"]

Outcome: TypeAlias = "str | Exception | None"
"""One record's result: its output (``export``'s lines), nothing, or the error it alone met."""
Action = Callable[[Sequence[Record]], Sequence[Outcome]]
"""Does the requests for a unit of records, returning an outcome for each; an exception it
raises is every record's outcome."""

_COMMIT_EVERY: Final = 200
_COMMIT_SECONDS: Final = 1.0
_MAX_NOTES: Final = 50


class Cancelled(Exception):
    """Raised inside a worker's retry sleep once the run is stopping."""


class RetryStats:
    """Counts retries by cause; its `record` is the client's ``on_retry`` hook."""

    def __init__(self) -> None:
        self.throttled = self.server = self.connection = 0
        self._lock = threading.Lock()

    def record(self, event: pe.RetryEvent) -> None:
        with self._lock:
            if event.status_code is None:
                self.connection += 1
            elif event.status_code == 429:
                self.throttled += 1
            else:
                self.server += 1

    def __str__(self) -> str:
        return (f"retries: {self.throttled} throttled, {self.server} server errors, "
                f"{self.connection} connection errors")


def each(do: Callable[[Record], str | None]) -> Action:
    """An `Action` doing ``do`` for every record of a unit in turn.

    Example:
        >>> Runner(each(lambda record: None), ...)  # doctest: +SKIP
    """
    return lambda records: [do(record) for record in records]


class Failures:
    """The ``--failures`` file: ``{"line": N, "record": "...", "error": "..."}`` a line, in
    input order: an entry waits until every line before it has settled (`release`)."""

    def __init__(self, handle: TextIO | None) -> None:
        self._handle = handle
        self._held: list[tuple[int, str]] = []  # a heap of (line, entry)
        self.count = 0

    def add(self, record: Record, error: str) -> None:
        self.count += 1
        entry = {"line": record.line, "record": record.raw, "error": one_line(error)}
        heapq.heappush(self._held, (record.line, json.dumps(entry, ensure_ascii=False)))

    def release(self, before: int | None = None) -> None:
        """Write the entries of lines before ``before`` (``None``: all of them)."""
        while self._held and (before is None or self._held[0][0] < before):
            _, entry = heapq.heappop(self._held)
            if self._handle is not None:
                self._handle.write(entry + "\n")

    def close(self) -> None:
        self.release()
        if self._handle is not None:
            self._handle.close()


class Output:
    """Where ``export`` writes its JSON Lines; `sync` returns the size to checkpoint."""

    def __init__(self, handle: IO[bytes], *, seekable: bool) -> None:
        self._handle, self._seekable = handle, seekable

    def write(self, line: str) -> None:
        self._handle.write(line.encode("utf-8") + b"\n")

    def sync(self) -> int | None:
        self._handle.flush()
        if not self._seekable:
            return None
        os.fsync(self._handle.fileno())
        return self._handle.tell()

    def close(self) -> None:
        self._handle.close()


@attrs.define
class Summary:
    """What a run did."""

    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    """Lines an earlier run finished (from the checkpoint)."""
    interrupted: bool = False
    fatal: pe.PinpointError | None = None
    """An error that stopped the run (no usable credentials)."""
    unreachable: int = 0
    """Records that failed because the service could not be reached (`pe.TransportError`)."""
    seconds: float = 0.0


@attrs.define(eq=False)
class _Unit:
    """Records sent together (a batch), and the later units that must wait for it."""

    records: list[Record]
    waits: int = 0
    """Earlier units, still open, that share an endpoint id with this one."""
    after: list[_Unit] = attrs.Factory(list)

    @property
    def keys(self) -> set[str]:
        return {_key(r) for r in self.records}


def _key(record: Record) -> str:
    return (record.endpoint_id or "").lower()  # endpoint ids are case insensitive


class Runner:
    """Runs an `Action` over records with ``concurrency`` workers sharing one client.

    Records go to the action in units of up to ``batch_size`` (never two with one endpoint id
    in a unit); a unit waits for every earlier unit that shares an endpoint id with it.
    """

    def __init__(
        self,
        action: Action,
        *,
        concurrency: int,
        failures: Failures,
        progress: Progress,
        checkpoint: Checkpoint | None = None,
        output: Output | None = None,
        stop: threading.Event | None = None,
        batch_size: int = 1,
    ) -> None:
        self._action, self._concurrency, self._batch_size = action, concurrency, batch_size
        self._failures, self._progress = failures, progress
        self._checkpoint, self._output = checkpoint, output
        self.stopping = stop if stop is not None else threading.Event()
        self._summary = Summary()
        self._notes = 0
        self._last_commit = time.monotonic()
        self._open: deque[int] = deque()  # lines read and not yet settled, in input order
        self._settled: set[int] = set()

    def sleep(self, seconds: float) -> None:
        """The retry policy's sleep: returns early, raising `Cancelled`, once stopping."""
        if self.stopping.wait(seconds):
            raise Cancelled

    def stop(self) -> None:
        """Start no more records; cut retry sleeps short (as Ctrl-C does)."""
        self.stopping.set()

    def run(self, records: Iterable[Record]) -> Summary:
        """Run every record not already in the checkpoint; SIGINT stops the run cleanly."""
        began = time.monotonic()
        restore = self._catch_sigint()
        pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="bulk")
        try:
            self._loop(pool, iter(records))
            pool.shutdown()
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for requests in flight
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)
        except BaseException:
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
            self._commit()
            self._failures.release()
            self._summary.seconds = time.monotonic() - began
            self._progress.update(done=self._summary.succeeded, failed=self._summary.failed)
        self._summary.interrupted = self.stopping.is_set() and self._summary.fatal is None
        return self._summary

    def _catch_sigint(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return None  # started with SIGINT ignored (nohup, a background job): keep it so

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            if self.stopping.is_set():
                raise KeyboardInterrupt  # a second Ctrl-C: give up waiting for requests
            self.stop()
            self._progress.note("interrupted: finishing requests in flight and saving the "
                                "checkpoint (Ctrl-C again to quit at once)")

        return signal.signal(signal.SIGINT, on_sigint)

    def _loop(self, pool: ThreadPoolExecutor, source: Iterator[Record]) -> None:
        done_before = self._checkpoint.done if self._checkpoint is not None else frozenset()
        running: dict[Future[Sequence[Outcome]], _Unit] = {}
        claims: dict[str, _Unit] = {}  # endpoint id -> the last open unit holding it
        forming: list[Record] = []
        forming_keys: set[str] = set()
        units = 0  # open units: running or waiting for an earlier one
        exhausted = False

        def close_unit() -> None:
            nonlocal units
            unit = _Unit(list(forming))
            forming.clear()
            forming_keys.clear()
            units += 1
            for key in unit.keys:
                earlier = claims.get(key)
                if earlier is not None and unit not in earlier.after:
                    earlier.after.append(unit)
                    unit.waits += 1
                claims[key] = unit
            if not unit.waits:
                running[pool.submit(self._action, unit.records)] = unit

        while True:
            while not exhausted and not self.stopping.is_set() and units < self._concurrency * 4:
                record = next(source, None)
                if record is None:
                    exhausted = True
                    if forming:
                        close_unit()
                elif record.line in done_before:
                    self._summary.skipped += 1
                elif record.error is not None or record.endpoint_id is None:
                    self._fail(record, record.error or "no endpoint id")
                else:
                    if (key := _key(record)) in forming_keys:
                        close_unit()
                    forming.append(record)
                    forming_keys.add(key)
                    self._open.append(record.line)
                    if len(forming) >= self._batch_size:
                        close_unit()
            if not running:
                return
            finished, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                unit = running.pop(future)
                units -= 1
                self._settle(unit.records, future)
                for key in unit.keys:
                    if claims.get(key) is unit:
                        del claims[key]
                for later in unit.after:
                    later.waits -= 1
                    if not later.waits and not self.stopping.is_set():
                        running[pool.submit(self._action, later.records)] = later
                    elif not later.waits:
                        units -= 1
            if self.stopping.is_set():
                for future in [f for f in running if f.cancel()]:
                    running.pop(future)
            self._failures.release(before=self._first_open())
            self._maybe_commit()
            self._progress.update(done=self._summary.succeeded, failed=self._summary.failed)

    def _first_open(self) -> int | None:
        """The first line read but not settled: failures before it can be written in order."""
        while self._open and self._open[0] in self._settled:
            self._settled.discard(self._open.popleft())
        return self._open[0] if self._open else None

    def _settle(self, records: Sequence[Record], future: Future[Sequence[Outcome]]) -> None:
        try:
            outcomes: Sequence[Outcome | BaseException] = future.result()
        except Exception as exc:  # the whole unit failed (or was cancelled) together
            outcomes = [exc] * len(records)
        for record, outcome in zip(records, outcomes, strict=True):
            self._settled.add(record.line)
            self._settle_one(record, outcome)

    def _settle_one(self, record: Record, outcome: Outcome | BaseException) -> None:
        if isinstance(outcome, Cancelled):
            return  # interrupted before it finished: not done, redone on resume
        if isinstance(outcome, pe.CredentialsError):
            self._summary.fatal = outcome
            self.stop()
        elif isinstance(outcome, pe.TransportError):
            self._summary.unreachable += 1
        if isinstance(outcome, BaseException):
            message = describe(outcome) if isinstance(outcome, pe.PinpointError) else \
                f"{type(outcome).__name__}: {outcome}"
            self._fail(record, message)
            return
        self._summary.succeeded += 1
        if outcome is not None and self._output is not None:
            self._output.write(outcome)
        if self._checkpoint is not None:
            self._checkpoint.mark(record.line)

    def _fail(self, record: Record, error: str) -> None:
        self._summary.failed += 1
        self._failures.add(record, error)
        self._notes += 1
        if self._notes <= _MAX_NOTES:
            self._progress.note(f"line {record.line}: {one_line(error)}")
        elif self._notes == _MAX_NOTES + 1:
            self._progress.note("(more failures: see the --failures file)")

    def _maybe_commit(self) -> None:
        cp = self._checkpoint
        if cp is None or not cp.uncommitted:
            return
        if cp.uncommitted >= _COMMIT_EVERY or time.monotonic() - self._last_commit >= \
                _COMMIT_SECONDS:
            self._commit()

    def _commit(self) -> None:
        self._last_commit = time.monotonic()
        size = self._output.sync() if self._output is not None else None
        if self._checkpoint is not None:
            self._checkpoint.commit(size)
