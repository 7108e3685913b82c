"""``pinpoint-endpoints serve``: run the emulator until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from pinpoint_endpoints.testing._emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
    LOOPBACK,
    Emulator,
)
from pinpoint_endpoints.testing._sqlite import StateFileError

OPERATIONS = ("GetEndpoint", "UpdateEndpoint", "DeleteEndpoint")


def _rate(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or name not in OPERATIONS:
        raise argparse.ArgumentTypeError(f"expected OPERATION=RPS with OPERATION in {OPERATIONS}")
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError("the rate must be > 0")
    return name, rate


def add_parser(subparsers: Any) -> None:
    """Register ``serve``."""
    p = subparsers.add_parser(
        "serve", help="run the local Pinpoint endpoint emulator",
        description="Run the emulator until interrupted. It prints its URL and key pair.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (default 8080; 0 = any)")
    p.add_argument("--region", dest="serve_region", default="us-east-1",
                   help="region signatures must be scoped to (default us-east-1)")
    p.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help="accepted access key id")
    p.add_argument("--secret-key", default=DEFAULT_SECRET_KEY, help="its secret key")
    p.add_argument("--no-verify-signatures", action="store_true",
                   help="accept requests without checking their SigV4 signature")
    p.add_argument("--propagation-delay", type=float, default=0.0, metavar="SECONDS",
                   help="GetEndpoint shows the old state this long after a change")
    p.add_argument("--rate-limit", type=_rate, action="append", default=[],
                   metavar="OPERATION=RPS", help="throttle an operation (repeatable)")
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
    2 on a usage error."""
    if args.host not in LOOPBACK and not args.allow_remote:
        print(f"error: refusing to bind {args.host!r}, which is not loopback; pass "
              "--allow-remote if you mean it", file=sys.stderr)
        return 2
    try:
        emulator = Emulator(
            host=args.host, port=args.port, region=args.serve_region,
            keys={args.access_key: args.secret_key},
            verify_signatures=not args.no_verify_signatures,
            propagation_delay=args.propagation_delay,
            rate_limits=dict(args.rate_limit), seed=args.seed, db=args.db, load=args.load,
        )
    except StateFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}, reachable from other machines; the emulator "
              "has no TLS and a well-known key pair", file=sys.stderr)
    stop = threading.Event()
    status = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with emulator:
            print(f"Pinpoint endpoint emulator listening on {emulator.endpoint_url}")
            print(f"  region:            {emulator.region}")
            print(f"  access key id:     {args.access_key}")
            print(f"  secret access key: {args.secret_key}")
            print(f"  state:             {emulator.db} (SQLite)" if emulator.db else
                  "  state:             in memory, gone when it stops (--db FILE keeps it)")
            if args.no_verify_signatures:
                print("  signatures:        not verified")
            print(f"  try: AWS_ENDPOINT_URL_PINPOINT={emulator.endpoint_url} "
                  "pinpoint-endpoints get APP ENDPOINT")
            print("Press Ctrl-C to stop.", flush=True)
            try:
                while not stop.wait(0.2):
                    pass
            except KeyboardInterrupt:
                status = 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped", flush=True)
    return status
