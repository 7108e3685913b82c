"""The bulk runner: records -> a thread pool over one shared client -> checkpoint, failures,
output and progress. Only the calling thread touches files; workers just make requests.

Records with the same endpoint id run one after another, in file order, so the last line for
an id wins as it would in a sequential run. On Ctrl-C (or `Runner.stop`) nothing new starts,
retry sleeps are cut short, requests in flight finish, finished lines are committed to the
checkpoint and the run ends as ``interrupted``.

Example:
    >>> runner = Runner(client, action, concurrency=8, failures=sink)  # doctest: +SKIP
    >>> summary = runner.run(records)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import FrameType
from typing import IO, Any, Final, TextIO

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli._checkpoint import Checkpoint
from pinpoint_endpoints.cli._common import one_line
from pinpoint_endpoints.cli._progress import Progress
from pinpoint_endpoints.cli._records import Record

__all__ = ["Cancelled", "Failures", "Output", "RetryStats", "Runner", "Summary"]

Action = Callable[[Record], "str | None"]
"""Does one record's request; returns a line for the output (export) or ``None``."""

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


class Failures:
    """The ``--failures`` file: ``{"line": N, "record": "...", "error": "..."}`` a line."""

    def __init__(self, handle: TextIO | None) -> None:
        self._handle = handle
        self.count = 0

    def add(self, record: Record, error: str) -> None:
        self.count += 1
        if self._handle is not None:
            entry = {"line": record.line, "record": record.raw, "error": one_line(error)}
            self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
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


class Runner:
    """Runs an `Action` over records with ``concurrency`` workers sharing one client."""

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
    ) -> None:
        self._action, self._concurrency = action, concurrency
        self._failures, self._progress = failures, progress
        self._checkpoint, self._output = checkpoint, output
        self.stopping = stop if stop is not None else threading.Event()
        self._summary = Summary()
        self._notes = 0
        self._last_commit = time.monotonic()

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

    def _loop(self, pool: ThreadPoolExecutor, records: Iterable[Record]) -> None:
        done_before = self._checkpoint.done if self._checkpoint is not None else frozenset()
        pending: dict[Future[str | None], Record] = {}
        queued: dict[str, deque[Record]] = {}  # endpoint id -> records waiting behind one
        waiting = 0
        source = iter(records)
        exhausted = False
        limit = self._concurrency * 4
        while True:
            while not exhausted and not self.stopping.is_set() and len(pending) + waiting < limit:
                record = next(source, None)
                if record is None:
                    exhausted = True
                elif record.line in done_before:
                    self._summary.skipped += 1
                elif record.error is not None or record.endpoint_id is None:
                    self._fail(record, record.error or "no endpoint id")
                elif (key := record.endpoint_id.lower()) in queued:
                    queued[key].append(record)
                    waiting += 1
                else:
                    queued[key] = deque()
                    pending[pool.submit(self._action, record)] = record
            if not pending:
                return
            finished, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                record = pending.pop(future)
                self._settle(record, future)
                assert record.endpoint_id is not None
                key = record.endpoint_id.lower()
                behind = queued[key]
                if behind and not self.stopping.is_set():
                    nxt = behind.popleft()
                    waiting -= 1
                    pending[pool.submit(self._action, nxt)] = nxt
                else:
                    waiting -= len(behind)
                    del queued[key]
            if self.stopping.is_set():
                for future in [f for f in pending if f.cancel()]:
                    record = pending.pop(future)
                    key = (record.endpoint_id or "").lower()
                    waiting -= len(queued.pop(key, ()))
            self._maybe_commit()
            self._progress.update(done=self._summary.succeeded, failed=self._summary.failed)

    def _settle(self, record: Record, future: Future[str | None]) -> None:
        try:
            line = future.result()
        except Cancelled:
            return  # interrupted before it finished: not done, redone on resume
        except pe.CredentialsError as exc:
            self._summary.fatal = exc
            self.stop()
            self._fail(record, str(exc))
            return
        except pe.TransportError as exc:
            self._summary.unreachable += 1
            self._fail(record, str(exc))
            return
        except Exception as exc:  # every other failure belongs to this record alone
            message = str(exc) if isinstance(exc, pe.PinpointError) else \
                f"{type(exc).__name__}: {exc}"
            self._fail(record, message)
            return
        self._summary.succeeded += 1
        if line is not None and self._output is not None:
            self._output.write(line)
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
