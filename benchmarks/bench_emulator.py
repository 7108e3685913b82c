"""The emulator's stores side by side: ``serve --db FILE`` (SQLite) against ``serve`` (in
memory), each in its own process, seeded with ``--load`` to 100 and to 100,000 endpoints.

Rows: GetEndpoint, UpdateEndpoint and GetUserEndpoints a second from 4 client connections, at
both sizes, SQLite in the first column and memory in the second, driven by `loadgen` (requests
signed up front, so the figure is the server's); GetEndpoint driven by 4 threads of our own
client, for comparison (a Python client on the same 2 cores is the limit there); and the
seconds ``--load`` takes.
Run alone: ``python benchmarks/bench_emulator.py [--quick]``.
"""

from __future__ import annotations

import functools
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import clients
import loadgen
import measure

from pinpoint_endpoints.testing import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY

APP = "bench-app"
SIZES = (100, 100_000)
THREADS = 4
STORES = ("sqlite", "memory")
OPERATIONS = ("GetEndpoint", "UpdateEndpoint", "GetUserEndpoints")
SIGNED = 2000  # distinct signed requests an operation, sent round-robin


def write_seed(path: Path, count: int) -> None:
    """``count`` endpoints as an export job writes them: five a user, one address each."""
    with path.open("w") as f:
        for i in range(count):
            f.write(json.dumps({
                "ApplicationId": APP, "Id": f"ep-{i}", "ChannelType": "SMS",
                "Address": f"+1206{i:07d}", "CohortId": str(i % 100),
                "CreationDate": "2026-01-28T23:55:11.534Z", "Attributes": {"Tier": ["gold"]},
                "User": {"UserId": f"user-{i // 5}", "UserAttributes": {"Plan": ["gold"]}},
            }) + "\n")


@contextmanager
def serve(store: str, seed: Path, tmp: Path) -> Iterator[tuple[str, float]]:
    """``pinpoint-endpoints serve`` loading ``seed``: its URL and the seconds until it served."""
    db = ["--db", str(tmp / f"{seed.stem}.sqlite")] if store == "sqlite" else []
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinpoint_endpoints.cli", "serve", "--port", "0",
         "--load", str(seed), *db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        if not found:
            raise RuntimeError(f"serve did not start: {proc.communicate()[1]}")
        yield found.group(0), time.perf_counter() - started
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _requests(url: str, size: int) -> dict[str, list[bytes]]:
    """Signed requests for each operation, to random endpoints and users."""
    pick = random.Random(size)
    body = {"Attributes": {"Tier": ["silver"]}, "OptOut": "NONE"}
    base = f"/v1/apps/{APP}"

    def signed(method: str, path: str, payload: object | None = None) -> bytes:
        return loadgen.signed(url, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, method, path, payload)

    return {
        "GetEndpoint": [signed("GET", f"{base}/endpoints/ep-{pick.randrange(size)}")
                        for _ in range(SIGNED)],
        "UpdateEndpoint": [signed("PUT", f"{base}/endpoints/ep-{pick.randrange(size)}", body)
                           for _ in range(SIGNED)],
        "GetUserEndpoints": [signed("GET", f"{base}/users/user-{pick.randrange(size) // 5}")
                             for _ in range(SIGNED)],
    }


def _client_get(client: Any, size: int) -> Callable[[], Any]:
    local = threading.local()

    def call() -> Any:
        if not hasattr(local, "random"):
            local.random = random.Random(threading.get_ident())
        return client.get_endpoint(APP, f"ep-{local.random.randrange(size)}")

    return call


def rows(quick: bool) -> list[list[str]]:
    """Measure both stores at both sizes; the finished table rows."""
    from run import row  # run imports this module

    seconds, rounds = (1.0, 2) if quick else (3.0, 4)
    samples: dict[tuple[str, str, int], list[float]] = {}
    load: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for size in SIZES:
            seed = tmp / f"seed-{size}.jsonl"
            write_seed(seed, size)
            with ExitStack() as stack:  # both servers up, measured in turns (the load drifts)
                rates: dict[str, dict[str, Callable[[], float]]] = {}
                for store in STORES:
                    url, load[store, size] = stack.enter_context(serve(store, seed, tmp))
                    signed = _requests(url, size)
                    client = clients.ours(url, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,
                                          max_pool_connections=THREADS)
                    stack.callback(client.close)
                    get = _client_get(client, size)
                    get()
                    rates[store] = {
                        op: functools.partial(loadgen.rate, url, signed[op], threads=THREADS,
                                              seconds=seconds) for op in OPERATIONS}
                    rates[store]["client"] = functools.partial(measure._rate, get, THREADS,
                                                               seconds)
                for r in range(rounds):
                    for store in STORES if r % 2 == 0 else STORES[::-1]:
                        for op, measured in rates[store].items():
                            samples.setdefault((op, store, size), []).append(measured())
    rate = {key: statistics.median(values) for key, values in samples.items()}
    out = []
    big = SIZES[-1]
    for op, floor in zip(OPERATIONS, (2000.0, 1000.0, None), strict=True):
        for size in SIZES:
            out.append(row(f"emulator {op}, {THREADS} connections, {size:,} endpoints: serve "
                           "--db / in memory (req/s)", rate[op, "sqlite", size],
                           rate[op, "memory", size], ".0f",
                           "≥ 0.70" if op == "GetEndpoint" and size == big else "",
                           0.7 if op == "GetEndpoint" and size == big else None,
                           higher_is_better=True))
        if floor is not None:
            out.append(row(f"emulator {op} via serve --db at {big:,} endpoints (req/s)",
                           rate[op, "sqlite", big], None, ".0f", f"≥ {floor:,.0f}",
                           floor, higher_is_better=True))
    out.append(row(f"emulator GetEndpoint at {big:,} endpoints driven by our client, "
                   f"{THREADS} threads: serve --db / in memory (req/s)",
                   rate["client", "sqlite", big], rate["client", "memory", big], ".0f"))
    out.append(row(f"serve --load {big:,} endpoints until serving: --db / in memory (s)",
                   load["sqlite", big], load["memory", big], ".1f"))
    return out


if __name__ == "__main__":
    from run import table

    print(table(rows("--quick" in sys.argv)))
