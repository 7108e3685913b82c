"""Bulk commands: ``import``, ``delete-many`` and ``export``: their options, their input (a
file or standard input), and a run of the `_bulk` runner over `_actions`.

Example:
    $ pinpoint-endpoints import my-app people.csv --failures failed.jsonl --checkpoint run.ckpt
    $ pinpoint-endpoints export my-app --ids ids.txt --out endpoints.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import pinpoint_endpoints as pe
from pinpoint_endpoints._operations import (
    DELETE_ENDPOINT,
    GET_ENDPOINT,
    GET_USER_ENDPOINTS,
    MAX_BATCH_ITEMS,
    UPDATE_ENDPOINT,
    UPDATE_ENDPOINTS_BATCH,
    Operation,
)
from pinpoint_endpoints.cli import _actions
from pinpoint_endpoints.cli._bulk import (
    Action,
    Cancelled,
    Failures,
    Output,
    RetryStats,
    Runner,
    Summary,
)
from pinpoint_endpoints.cli._checkpoint import Checkpoint
from pinpoint_endpoints.cli._common import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    UsageError,
    build_client,
    exit_code_for,
    global_options,
    positive_int,
    print_error,
    whole_number,
)
from pinpoint_endpoints.cli._progress import make_progress
from pinpoint_endpoints.cli._records import (
    Record,
    Unreadable,
    csv_header,
    csv_records,
    detect_format,
    id_records,
    jsonl_records,
    read_lines,
    scan,
)

__all__ = ["add_parser", "run"]

BULK_ATTEMPTS: Final = 8
STDIN: Final = Path("-")
_RESUME_HELP: Final = (
    "With --checkpoint FILE, finished lines are saved as the run goes; run the same command "
    "again (after Ctrl-C, a crash or failures) and it skips them and does the rest. A line in "
    "flight when the run stopped is done again, which is safe: upserts and deletes are "
    "idempotent. Failed lines are not marked finished, so a rerun retries them. Throttling is "
    "expected: the client slows to the rate the service allows and retries (--max-attempts, "
    f"default {BULK_ATTEMPTS}); a record that still fails goes to --failures as "
    '{"line": N, "record": "<the line>", "error": "<why>"}.'
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``import``, ``delete-many`` and ``export``."""
    bulk = argparse.ArgumentParser(add_help=False)
    group = bulk.add_argument_group("bulk options")
    group.add_argument("--concurrency", type=positive_int, default=8, metavar="N",
                       help="requests in flight at once (default 8)")
    group.add_argument("--failures", type=Path, metavar="FILE",
                       help="write every record that did not succeed here, one JSON a line")
    group.add_argument("--checkpoint", type=Path, metavar="FILE",
                       help="save finished lines here and resume from them on a rerun")
    parents = [global_options(suppress=True), bulk]
    imp = subparsers.add_parser(
        "import", parents=parents, help="upsert endpoints from JSON Lines or CSV",
        description=f"{_names(UPDATE_ENDPOINTS_BATCH)} for the records of FILE (- reads standard "
                    f"input), --batch-size a request; with --batch-size 1, "
                    f"{_names(UPDATE_ENDPOINT)} for each. A batch the service refuses is split "
                    "until exactly the bad records go to --failures; the others land. "
                    "JSON Lines: one EndpointRequest object a line plus its \"Id\" "
                    "(the output of export, and lines of Pinpoint's export jobs, import as "
                    "they are: ApplicationId, CohortId and CreationDate are ignored). CSV: a "
                    "header of JSON paths (Id,ChannelType,Address,Location.Latitude,"
                    "Attributes.Interests,User.UserId,User.UserAttributes.Plan,Metrics.score); "
                    "an empty cell leaves the field unset; list cells are split on "
                    "--list-separator; one record a physical line. Blank lines are skipped. "
                    "When lines share an endpoint id, the last one wins, as in a sequential "
                    "run.",
        epilog=_RESUME_HELP)
    imp.add_argument("app", metavar="APP", help="the application (project) id")
    imp.add_argument("file", metavar="FILE", type=Path, help="JSON Lines or CSV; - for stdin")
    imp.add_argument("--format", choices=("auto", "jsonl", "csv"), default="auto",
                     help="auto (default): .csv is CSV, .jsonl/.ndjson/.json is JSON Lines, "
                          "else a first line starting with { is JSON Lines")
    imp.add_argument("--list-separator", default=";", metavar="SEP",
                     help="separates the values of a CSV list cell (default ;)")
    imp.add_argument("--batch-size", type=whole_number(1, MAX_BATCH_ITEMS),
                     default=MAX_BATCH_ITEMS, metavar="N",
                     help=f"records a request, 1 to {MAX_BATCH_ITEMS} (default "
                          f"{MAX_BATCH_ITEMS}; 1 sends {UPDATE_ENDPOINT.name} per record)")
    dele = subparsers.add_parser(
        "delete-many", parents=parents, help="delete the endpoints listed in a file",
        description=f"{_names(DELETE_ENDPOINT)} for every id of FILE (one a line, taken exactly "
                    "as written; - reads standard input). An id that does not exist counts as "
                    "deleted (reported as 'already absent'), so a resumed run does not fail on "
                    "what it deleted before.", epilog=_RESUME_HELP)
    dele.add_argument("app", metavar="APP", help="the application (project) id")
    dele.add_argument("file", metavar="FILE", type=Path, help="endpoint ids, one a line")
    exp = subparsers.add_parser(
        "export", parents=parents, help="write the listed endpoints (or users') as JSON Lines",
        description=f"{_names(GET_ENDPOINT)} for every id of --ids, or "
                    f"{_names(GET_USER_ENDPOINTS)} for every user id of --users: one "
                    "endpoint's JSON a line, in the order the requests finish (- reads the "
                    "ids from standard input). With --checkpoint and --out, a resumed run "
                    "appends without repeating a line.", epilog=_RESUME_HELP)
    exp.add_argument("app", metavar="APP", help="the application (project) id")
    which = exp.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", type=Path, dest="file", metavar="FILE",
                       help="endpoint ids, one a line")
    which.add_argument("--users", type=Path, metavar="FILE", help="user ids, one a line")
    exp.add_argument("--out", type=Path, metavar="FILE", help="where to write (default stdout)")


def _names(op: Operation[Any]) -> str:
    return f"{op.name} ({op.method} {op.path})"


def run(args: argparse.Namespace) -> int:
    """Run one bulk command; prints a summary line and returns the exit code."""
    try:
        return _run(args)
    except (pe.PinpointError, UsageError) as exc:
        print_error(exc)
        return exit_code_for(exc)


def _records(args: argparse.Namespace) -> tuple[Iterator[Record], int | None, dict[str, Any]]:
    """The records, their count (``None`` for standard input) and what identifies the run
    (for the checkpoint)."""
    users: Path | None = getattr(args, "users", None)
    path: Path = args.file if users is None else users
    run_id: dict[str, Any] = {"command": args.command, "app": args.app}
    if users is not None:
        run_id["by"] = "users"
    count: int | None = None
    if path == STDIN and args.checkpoint:
        raise UsageError("--checkpoint needs FILE to be a file: standard input cannot be read "
                         "again to resume (save it to a file first)")
    try:
        if path != STDIN:
            # the file's hash identifies a run only for its checkpoint
            run_id["input"], count = scan(path, digest=bool(args.checkpoint))
        lines = read_lines(sys.stdin.buffer if path == STDIN else path)
        first = next(lines, None)  # opens the file: a failure to is reported here
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = itertools.chain([first] if first else [], lines)
    if args.command != "import":
        return id_records(lines), count, run_id
    fmt = args.format if args.format != "auto" else detect_format(path, first[1] if first else None)
    run_id.update(format=fmt, list_separator=args.list_separator)
    if fmt == "jsonl":
        return jsonl_records(lines), count, run_id
    if first is not None:
        if isinstance(first[1], Unreadable):
            raise UsageError(f"{path}: the CSV header is not valid UTF-8")
        csv_header(first[1])  # an unknown column stops the run before anything is sent
    rows = None if count is None else max(count - 1, 0)  # the header is not a record
    return csv_records(lines, args.list_separator), rows, run_id


def _open_output(path: Path | None, checkpoint: Checkpoint | None) -> Output:
    if path is None:
        return Output(sys.stdout.buffer, seekable=False)
    keep = checkpoint.out_size if checkpoint is not None else None
    try:
        if keep is None:
            handle: IO[bytes] = path.open("wb")
        else:
            handle = path.open("r+b")
            if handle.seek(0, 2) < keep:
                handle.close()
                raise UsageError(f"{path} is shorter than the checkpoint says: it was changed "
                                 "since the earlier run; remove the checkpoint to start afresh")
            handle.truncate(keep)  # lines written after the last checkpoint batch are redone
            handle.seek(keep)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return Output(handle, seekable=True)


def _run(args: argparse.Namespace) -> int:
    records, total, run_id = _records(args)
    checkpoint = Checkpoint.open(args.checkpoint, run_id) if args.checkpoint else None
    handles: list[Any] = [checkpoint] if checkpoint else []
    try:
        output = None
        if args.command == "export":
            output = _open_output(args.out, checkpoint)
            if args.out is not None:
                handles.append(output)
        try:
            failures = Failures(args.failures.open("w", encoding="utf-8")
                                if args.failures else None)
        except OSError as exc:
            raise UsageError(f"cannot write {args.failures}: {exc.strerror or exc}") from exc
        handles.append(failures)
        stats, stop = RetryStats(), threading.Event()
        start = len(checkpoint.done) if checkpoint else 0
        with build_client(args, default_attempts=BULK_ATTEMPTS, adaptive=True,
                          pool=args.concurrency, on_retry=stats.record,
                          sleep=lambda s: _cancellable(stop, s)) as client:
            action, absent = _action(args, client)
            progress = make_progress(args.command, total, start=start)
            runner = Runner(action, concurrency=args.concurrency, failures=failures,
                            progress=progress, checkpoint=checkpoint, output=output, stop=stop,
                            batch_size=getattr(args, "batch_size", 1))
            try:
                summary = runner.run(records)
            finally:
                progress.close()
    finally:
        for handle in handles:
            handle.close()
    _report(args, summary, stats, absent)
    if summary.fatal is not None:
        print_error(summary.fatal)
        return EXIT_CREDENTIALS
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if summary.unreachable and not summary.succeeded:
        print(f"{PROG}: error: the service could not be reached; nothing succeeded",
              file=sys.stderr)
        return EXIT_CREDENTIALS
    return EXIT_FAILED if summary.failed else EXIT_OK


def _cancellable(stop: threading.Event, seconds: float) -> None:
    if stop.wait(seconds):
        raise Cancelled


def _action(args: argparse.Namespace, client: pe.Client) -> tuple[Action, list[str]]:
    absent: list[str] = []
    if args.command == "import":
        return _actions.upsert(client, args.app, batch_size=args.batch_size), absent
    if args.command == "delete-many":
        return _actions.delete(client, args.app, absent), absent
    return _actions.export(client, args.app, users=args.users is not None), absent


def _report(args: argparse.Namespace, summary: Summary, stats: RetryStats,
            absent: list[str]) -> None:
    rate = (summary.succeeded + summary.failed) / max(summary.seconds, 1e-9)
    parts = [f"{summary.succeeded} succeeded"]
    if absent:
        parts[0] += f" ({len(absent)} already absent)"
    parts.append(f"{summary.failed} failed")
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped (finished by an earlier run)")
    line = (f"{args.command}: {', '.join(parts)} in {summary.seconds:.1f} s ({rate:.0f}/s); "
            f"{stats}")
    print(line, file=sys.stderr)
    if summary.failed and args.failures:
        print(f"{PROG}: the records that failed are in {args.failures}", file=sys.stderr)
    if summary.interrupted:
        if args.checkpoint:
            print(f"{PROG}: interrupted; progress saved in {args.checkpoint}: run the same "
                  "command again to resume", file=sys.stderr)
        else:
            print(f"{PROG}: interrupted; without --checkpoint a rerun starts from the "
                  "beginning (safe: every operation is idempotent)", file=sys.stderr)
