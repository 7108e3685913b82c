"""Argument parsing and dispatch: a small registry of command modules.

Each command module exposes ``add_parser(subparsers) -> None`` and ``run(args) -> int``; to add
a command, write a module and list it in `COMMANDS`. Every parser a module adds is dispatched
to that module's ``run``.

Example:
    >>> main(["get", "my-app", "device-1", "--endpoint-url", URL])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Final, NoReturn

from pinpoint_endpoints._version import __version__
from pinpoint_endpoints.cli import _bulk_commands, _commands, _demo, _serve
from pinpoint_endpoints.cli._common import (
    EXIT_FAILED,
    EXIT_USAGE,
    PROG,
    global_options,
    print_error,
)

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: Final[tuple[ModuleType, ...]] = (_commands, _bulk_commands, _serve, _demo)


def build_parser() -> argparse.ArgumentParser:
    """The full parser: global options, then one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[global_options(suppress=False)],
        description="Read, write and bulk-load Amazon Pinpoint endpoints.",
        epilog="Exit codes: 0 all succeeded; 1 some records failed or the service answered an "
               "error; 2 usage or validation error; 3 credentials or connection problem; "
               "130 interrupted (after the checkpoint is saved).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        before = set(subparsers.choices)
        module.add_parser(subparsers)
        run: Callable[[argparse.Namespace], int] = module.run
        for name, sub in subparsers.choices.items():
            if name not in before:
                sub.set_defaults(_run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace], int] = args._run
    try:
        return run(args)
    except BrokenPipeError:  # `... | head`: the reader went away; not our error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130


def script() -> NoReturn:
    """The ``pinpoint-endpoints`` command: `main` in a process of its own, which it tunes.

    The garbage collector runs its young generation every 50,000 allocations instead of 700:
    a bulk command allocates millions of short-lived objects and keeps few, and ``serve``
    holds a store of millions that every older-generation pass would walk (measured: 10 % of
    a bulk import's CPU in the CLI, 15 % of the emulator's). Call `main` to run a command
    without touching your process's settings.
    """
    gc.set_threshold(50_000, 20, 20)
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    script()
