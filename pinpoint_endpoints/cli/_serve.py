"""``pinpoint-endpoints serve``: run the emulator until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import errno
import math
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from pinpoint_endpoints._config import DEFAULT_SIGNING_REGION
from pinpoint_endpoints._operations import OPERATIONS
from pinpoint_endpoints.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    print_error,
    whole_number,
)

if TYPE_CHECKING:
    from pinpoint_endpoints.testing import Emulator

def _rate(text: str) -> tuple[str, float]:
    """argparse type: ``OPERATION=RPS``, OPERATION a name of the operations table."""
    name, sep, value = text.partition("=")
    if not sep or name not in OPERATIONS:
        raise argparse.ArgumentTypeError(
            f"expected OPERATION=RPS with OPERATION one of {', '.join(OPERATIONS)}")
    rate = _seconds(value)
    if rate == 0:
        raise argparse.ArgumentTypeError("the rate must be > 0")
    return name, rate


def _seconds(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    """Register ``serve``."""
    p = subparsers.add_parser(
        "serve", help="run the local Pinpoint endpoint emulator",
        description="Run the emulator until interrupted. It prints the export lines that point "
                    "a shell at it (its URL and key pair), ready to paste.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=whole_number(0, 65535), default=8080,
                   help="TCP port (default 8080; 0 = any)")
    p.add_argument("--region", dest="serve_region", default="us-east-1", metavar="REGION",
                   help="region signatures must be scoped to (default us-east-1)")
    p.add_argument("--access-key", help="the access key id to accept (default: the "
                                        "emulator's well-known AKIAEMULATOREXAMPLE1)")
    p.add_argument("--secret-key", help="its secret key (default: the emulator's well-known one)")
    p.add_argument("--no-verify-signatures", action="store_true",
                   help="accept requests without checking their SigV4 signature")
    p.add_argument("--propagation-delay", type=_seconds, default=0.0, metavar="SECONDS",
                   help="GetEndpoint shows the old state this long after a change")
    p.add_argument("--rate-limit", type=_rate, action="append", default=[],
                   metavar="OPERATION=RPS",
                   help="answer more than RPS requests a second of OPERATION with 429 "
                        f"(repeatable); OPERATION is one of {', '.join(OPERATIONS)}")
    p.add_argument("--seed", type=int, default=None, help="seed for CohortId draws")
    p.add_argument("--db", metavar="FILE", default=None,
                   help="keep the state in this SQLite file (created if missing), so it "
                        "survives restarts and kill -9; default: in memory")
    p.add_argument("--load", metavar="JSONL", default=None,
                   help="load these endpoints (one EndpointResponse a line, as an export job "
                        "wrote them) before serving")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow binding a non-loopback host (anyone who can reach it can use it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted: 130 after Ctrl-C (SIGINT), as every command; 0 after SIGTERM;
    2 on a usage error or when the address cannot be bound (a port in use)."""
    # the emulator is imported only to serve: the other commands start faster without it
    from pinpoint_endpoints.testing._emulator import (
        DEFAULT_ACCESS_KEY,
        DEFAULT_SECRET_KEY,
        LOOPBACK,
        Emulator,
    )
    from pinpoint_endpoints.testing._sqlite import StateFileError

    access_key = args.access_key or DEFAULT_ACCESS_KEY
    secret_key = args.secret_key or DEFAULT_SECRET_KEY
    if args.host not in LOOPBACK and not args.allow_remote:
        print_error(f"refusing to bind {args.host!r}, which is not loopback; pass "
                    "--allow-remote if you mean it")
        return EXIT_USAGE
    try:
        emulator = Emulator(
            host=args.host, port=args.port, region=args.serve_region,
            keys={access_key: secret_key},
            verify_signatures=not args.no_verify_signatures,
            propagation_delay=args.propagation_delay,
            rate_limits=dict(args.rate_limit), seed=args.seed, db=args.db, load=args.load,
        )
    except StateFileError as exc:
        print_error(exc)
        return EXIT_USAGE
    try:
        emulator.start()
    except OSError as exc:
        emulator.close()
        print_error(_bind_error(args.host, args.port, exc))
        return EXIT_USAGE
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}, reachable from other machines; the emulator "
              "has no TLS and a well-known key pair", file=sys.stderr)
    stop = threading.Event()
    status = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        print("\n".join(banner(emulator, access_key, secret_key,
                               verified=not args.no_verify_signatures)), flush=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            status = EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.close()
    print("# stopped", flush=True)
    return status


def banner(emulator: Emulator, access_key: str, secret_key: str, *, verified: bool) -> list[str]:
    """What ``serve`` prints: every line pastes into a shell (a comment or an ``export``), and
    the example command then reaches this emulator.

    Example:
        >>> banner(emu, "AKIA...", "secret", verified=True)[1]  # doctest: +SKIP
        'export AWS_ENDPOINT_URL_PINPOINT=http://127.0.0.1:8080'
    """
    env = {"AWS_ENDPOINT_URL_PINPOINT": emulator.endpoint_url,
           "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    if emulator.region != DEFAULT_SIGNING_REGION:
        env["AWS_REGION"] = emulator.region
    return [
        f"# Pinpoint endpoint emulator listening on {emulator.endpoint_url}",
        f"# region {emulator.region}; signatures "
        f"{'verified' if verified else 'not verified'}. Paste these lines into a shell:",
        f"# state: {emulator.db} (SQLite)" if emulator.db else
        "# state: in memory, gone when it stops (--db FILE keeps it)",
        *(f"export {name}={shlex.quote(value)}" for name, value in env.items()),
        f"{PROG} get APP ENDPOINT",
        "# Press Ctrl-C to stop.",
    ]


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use: pick another with --port "
                "(--port 0 takes any free one)")
    return f"cannot serve on {host} port {port}: {exc.strerror or exc}"
