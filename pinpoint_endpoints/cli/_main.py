"""Argument parsing and dispatch: a small registry of command modules.

Each command module exposes ``add_parser(subparsers)`` (which sets ``func=run`` on its parser)
and ``run(args) -> int``. To add a command, write a module and list it in `COMMANDS`.

Exit codes: 0 success, 1 the service answered an error, 2 usage or validation error,
3 credentials or connection problem, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from types import ModuleType

from pinpoint_endpoints._version import __version__
from pinpoint_endpoints.cli import _demo, _serve

COMMANDS: list[ModuleType] = [_serve, _demo]


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="pinpoint-endpoints",
        description="Amazon Pinpoint endpoints from the command line, and a local emulator.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Example:
        >>> main(["demo"])  # doctest: +SKIP
        0
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.func
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
