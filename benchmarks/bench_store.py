"""The emulator's store in process: UpdateEndpoint upserts a second on an empty store and with
100,000 endpoints stored (the indexes keep a write from scanning the application).

Run alone: ``python benchmarks/bench_store.py [--quick] [--json]``; ``make bench`` runs it in a
process of its own.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from run import row

from pinpoint_endpoints import EndpointRequest, EndpointUser
from pinpoint_endpoints.testing._store import Store

STORED = 100_000


def _request(i: int) -> EndpointRequest:
    """An endpoint as an app writes it: an address, a user (a few endpoints each), attributes."""
    return EndpointRequest(
        channel_type="EMAIL", address=f"user{i}@example.com",
        attributes={"Plan": ["gold"], "Team": [f"t{i % 7}"]}, metrics={"visits": float(i)},
        user=EndpointUser(user_id=f"u{i // 3}", user_attributes={"Name": [f"N{i}"]}),
    )


def upserts_per_second(store: Store, first: int, count: int) -> float:
    """Create ``count`` endpoints numbered from ``first``; the rate."""
    requests = [(f"ep-{i}", _request(i)) for i in range(first, first + count)]
    started = time.perf_counter()
    for endpoint_id, request in requests:
        store.update("app", endpoint_id, request)
    return count / (time.perf_counter() - started)


def store_rows(quick: bool = False) -> list[list[str]]:
    """Rows: upserts/s at 0 and at 100,000 stored endpoints, medians of a few rounds."""
    count, rounds = (500, 3) if quick else (3000, 5)
    empty: list[float] = []
    full: list[float] = []
    big = Store(seed=1)
    for i in range(STORED):
        big.update("app", f"ep-{i}", _request(i))
    for r in range(rounds):
        empty.append(upserts_per_second(Store(seed=1), 0, count))
        full.append(upserts_per_second(big, STORED + r * count, count))
    at_0, at_full = statistics.median(empty), statistics.median(full)
    # the median of each round's ratio: a slow spell of a shared machine hits both of a round
    paired = statistics.median(f / e for f, e in zip(full, empty, strict=True))
    return [
        row("store upserts in process, 0 endpoints stored (upserts/s)", at_0, None, ".0f"),
        row(f"store upserts in process, {STORED:,} stored, vs 0 stored (upserts/s)",
            at_full, at_0, ".0f", "≥ 0.80", 0.8, higher_is_better=True, ratio=paired),
    ]


if __name__ == "__main__":
    found = store_rows(quick="--quick" in sys.argv)
    print(json.dumps(found) if "--json" in sys.argv else "\n".join(" | ".join(r) for r in found))
