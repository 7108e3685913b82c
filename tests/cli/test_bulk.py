"""The bulk runner with a fake action: failures, checkpoint, ordering, stopping."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli._bulk import Cancelled, Failures, Output, RetryStats, Runner, each
from pinpoint_endpoints.cli._checkpoint import Checkpoint
from pinpoint_endpoints.cli._progress import PlainProgress
from pinpoint_endpoints.cli._records import Record


class Notes(PlainProgress):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def update(self, *, done: int, failed: int) -> None:
        pass

    def note(self, message: str) -> None:
        self.notes.append(message)


def records(n: int, ids: list[str] | None = None) -> list[Record]:
    return [Record(i, f"raw {i}", (ids or [f"e{i}" for i in range(1, n + 1)])[i - 1])
            for i in range(1, n + 1)]


def runner(tmp_path: Path, action: object, *, checkpoint: Checkpoint | None = None,
           concurrency: int = 4) -> tuple[Runner, Path]:
    path = tmp_path / "failures.jsonl"
    failures = Failures(path.open("w", encoding="utf-8"))
    run = Runner(each(action), concurrency=concurrency,  # type: ignore[arg-type]
                 failures=failures, progress=Notes(), checkpoint=checkpoint)
    return run, path


def failure_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_failure_is_written_with_its_line_record_and_one_line_error(
    tmp_path: Path,
) -> None:
    def action(record: Record) -> None:
        if record.line == 3:
            raise pe.BadRequestException("bad\nthing", status_code=400, request_id="r-3")

    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    run, path = runner(tmp_path, action, checkpoint=cp)
    items = [*records(4), Record(5, "{broken", error="not JSON: x")]
    summary = run.run(items)
    run._failures.close()
    cp.close()
    assert (summary.succeeded, summary.failed, summary.interrupted) == (3, 2, False)
    assert sorted(failure_lines(path), key=lambda f: str(f["line"])) == [
        {"line": 3, "record": "raw 3",
         "error": "BadRequestException (400): bad thing [request r-3]"},
        {"line": 5, "record": "{broken", "error": "not JSON: x"},
    ]
    reopened = Checkpoint.open(tmp_path / "ck", {"t": 1})
    assert reopened.done == {1, 2, 4}  # failures are not marked done: a rerun retries them
    reopened.close()


def test_lines_in_the_checkpoint_are_skipped(tmp_path: Path) -> None:
    seen: list[int] = []
    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    cp.mark(2)
    cp.mark(3)
    cp.commit()
    cp.close()
    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    run, _ = runner(tmp_path, lambda r: seen.append(r.line), checkpoint=cp)
    summary = run.run(records(4))
    run._failures.close()
    cp.close()
    assert sorted(seen) == [1, 4] and summary.skipped == 2


def test_records_of_one_endpoint_run_in_file_order(tmp_path: Path) -> None:
    finished: list[int] = []

    def action(record: Record) -> None:
        if record.line == 1:
            time.sleep(0.1)  # the first write of "a" is slow; later ones must wait for it
        finished.append(record.line)

    run, _ = runner(tmp_path, action, concurrency=4)
    run.run(records(5, ["a", "b", "A", "c", "a"]))  # ids are case insensitive
    run._failures.close()
    assert [n for n in finished if n in (1, 3, 5)] == [1, 3, 5]


def test_stop_starts_nothing_new_and_keeps_what_finished(tmp_path: Path) -> None:
    started: list[int] = []

    def action(record: Record) -> None:
        started.append(record.line)
        if record.line == 10:
            run.stop()

    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    run, _ = runner(tmp_path, action, checkpoint=cp, concurrency=1)
    summary = run.run(records(100))
    run._failures.close()
    cp.close()
    assert summary.interrupted and summary.failed == 0
    assert len(started) < 100
    reopened = Checkpoint.open(tmp_path / "ck", {"t": 1})
    assert reopened.done == set(started)
    reopened.close()


def test_a_cancelled_record_is_neither_done_nor_failed(tmp_path: Path) -> None:
    def action(record: Record) -> None:
        run.stop()
        run.sleep(5.0)  # a retry sleep: cut short

    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    run, path = runner(tmp_path, action, checkpoint=cp, concurrency=1)
    summary = run.run(records(3))
    run._failures.close()
    cp.close()
    assert (summary.succeeded, summary.failed, summary.interrupted) == (0, 0, True)
    assert path.read_text() == ""


def test_no_credentials_stops_the_run(tmp_path: Path) -> None:
    def action(record: Record) -> None:
        raise pe.CredentialsError("no AWS credentials found")

    run, _ = runner(tmp_path, action, concurrency=1)
    summary = run.run(records(50))
    run._failures.close()
    assert isinstance(summary.fatal, pe.CredentialsError)
    assert summary.failed < 50 and not summary.interrupted


def test_sigint_stops_the_run_cleanly_and_restores_the_handler(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    done: list[int] = []

    def action(record: Record) -> None:
        if record.line == 5:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while requests are in flight
            time.sleep(0.05)
        done.append(record.line)

    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    run, _ = runner(tmp_path, action, checkpoint=cp, concurrency=2)
    summary = run.run(records(1000))
    run._failures.close()
    cp.close()
    assert summary.interrupted and 5 in done and len(done) < 1000
    assert signal.getsignal(signal.SIGINT) is before
    reopened = Checkpoint.open(tmp_path / "ck", {"t": 1})
    assert reopened.done == set(done)  # in-flight requests finished and were saved
    reopened.close()


def test_output_lines_and_their_size_are_committed_together(tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    cp = Checkpoint.open(tmp_path / "ck", {"t": 1})
    with out_path.open("wb") as handle:
        run = Runner(each(lambda r: f'{{"Id": "{r.endpoint_id}"}}'), concurrency=2,
                     failures=Failures(None), progress=Notes(), checkpoint=cp,
                     output=Output(handle, seekable=True))
        run.run(records(3))
    cp.close()
    reopened = Checkpoint.open(tmp_path / "ck", {"t": 1})
    assert reopened.out_size == out_path.stat().st_size
    assert sorted(json.loads(x)["Id"] for x in out_path.read_text().splitlines()) == [
        "e1", "e2", "e3"]
    reopened.close()


def test_retry_stats_count_by_cause() -> None:
    stats = RetryStats()
    for status in (429, 429, 500, None):
        stats.record(pe.RetryEvent(operation="UpdateEndpoint", attempt=1, delay=0.0,
                                   status_code=status, request_id=None, error="x"))
    assert str(stats) == "retries: 2 throttled, 1 server errors, 1 connection errors"


def test_plain_progress_lines_show_done_failed_rate_and_eta() -> None:
    now = [0.0]
    lines: list[str] = []

    class Stream:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    progress = PlainProgress("import", 1000, Stream(), start=100, interval=2.0,  # type: ignore[arg-type]
                             clock=lambda: now[0])
    now[0] = 1.0
    progress.update(done=10, failed=0)
    assert lines == []  # not yet: one line every interval
    now[0] = 4.0
    progress.update(done=396, failed=4)
    assert "".join(lines).strip() == "import: 496/1000 done, 4 failed, 100/s, ETA 0:00:05"


def test_retry_sleep_is_cut_short_once_stopping() -> None:
    run = Runner(each(lambda r: None), concurrency=1, failures=Failures(None), progress=Notes(),
                 stop=threading.Event())
    run.sleep(0.0)
    run.stop()
    with pytest.raises(Cancelled):
        run.sleep(1.0)


def test_a_terminal_gets_a_rich_bar_and_a_pipe_gets_plain_lines() -> None:
    import io

    from pinpoint_endpoints.cli._progress import make_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    bar = make_progress("import", 10, tty)
    bar.update(done=4, failed=1)
    bar.note("line 3: [bold]not markup[/bold]")
    bar.close()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty.getvalue())  # drop colours
    assert "5/10" in shown and "1 failed" in shown and "ETA" in shown
    assert "[bold]not markup[/bold]" in shown  # notes are printed as they are
    assert isinstance(make_progress("import", 10, io.StringIO()), PlainProgress)


def test_failures_are_written_in_input_order_not_completion_order(tmp_path: Path) -> None:
    def action(record: Record) -> None:
        if record.line == 1:
            time.sleep(0.2)  # the first record fails last
        if record.line in (1, 4, 9):
            raise pe.BadRequestException("no", status_code=400)

    run, path = runner(tmp_path, action, concurrency=4)
    run.run([*records(10), Record(11, "{x", error="not JSON")])
    run._failures.close()
    assert [f["line"] for f in failure_lines(path)] == [1, 4, 9, 11]


def test_a_batch_reports_each_record_and_waits_for_earlier_batches_of_its_ids(
    tmp_path: Path,
) -> None:
    sent: list[list[int]] = []

    def batch(unit: Sequence[Record]) -> list[str | Exception | None]:
        if unit[0].line == 1:
            time.sleep(0.1)
        sent.append([r.line for r in unit])
        return [pe.BadRequestException("bad", status_code=400) if r.line == 2 else None
                for r in unit]

    path = tmp_path / "failures.jsonl"
    run = Runner(batch, concurrency=4, batch_size=3, progress=Notes(),
                 failures=Failures(path.open("w", encoding="utf-8")))
    summary = run.run(records(8, ["a", "b", "c", "d", "a", "e", "f", "g"]))
    run._failures.close()
    assert (summary.succeeded, summary.failed) == (7, 1)
    assert [f["line"] for f in failure_lines(path)] == [2]
    assert sorted(map(tuple, sent)) == [(1, 2, 3), (4, 5, 6), (7, 8)]
    assert sent.index([4, 5, 6]) > sent.index([1, 2, 3])  # "a" again: after the first batch
