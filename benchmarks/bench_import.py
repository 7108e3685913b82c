"""Bulk import with UpdateEndpointsBatch: ``pinpoint-endpoints import`` against the emulator
served by ``pinpoint-endpoints serve`` in its own process, and the client's CPU per record.

Rows: records/s under ``serve --rate-limit UpdateEndpointsBatch=5`` (the quota's 500 records/s);
records/s of batches of 100 against ``--batch-size 1`` with no limit, in the same run (the
median ratio of three pairs of runs); client CPU per record of ``update_endpoints_batch``
(100 items) against boto3's with the same records, and against one ``update_endpoint`` per
record (fixed-reply server, as for the other CPU rows).

Run alone: ``python benchmarks/bench_import.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import clients
import servers
from payloads import ENDPOINT_REQUEST
from run import clean_env, med, row

CLI = [sys.executable, "-m", "pinpoint_endpoints.cli"]
BATCH = 100
QUOTA_BATCHES = 5  # UpdateEndpointsBatch requests a second: 500 records/s


def _record(i: int) -> dict[str, Any]:
    """Every field set; an address and a user of its own (the service allows 15 endpoints a
    user, and an address shared makes every write revisit the others that have it)."""
    return {**ENDPOINT_REQUEST, "Id": f"bulk-{i}", "Address": f"+1206{i:07d}",
            "User": {**ENDPOINT_REQUEST["User"], "UserId": f"bulk-user-{i}"}}


@contextmanager
def _serve(env: dict[str, str], *options: str) -> Iterator[dict[str, str]]:
    """``pinpoint-endpoints serve --port 0 OPTIONS`` in its own process: the environment its
    banner exports (URL and key pair)."""
    proc = subprocess.Popen([*CLI, "serve", "--port", "0", *options], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None
        exported: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export "):].strip().partition("=")
                exported[name] = value
            if "Press Ctrl-C" in line:
                break
        if "AWS_ENDPOINT_URL_PINPOINT" not in exported:
            raise RuntimeError("serve did not start")
        yield exported
    finally:
        proc.terminate()  # SIGTERM: a background job may have SIGINT ignored
        proc.wait(timeout=10)


def _import(env: dict[str, str], path: Path, app: str, *options: str) -> tuple[float, float]:
    """Run ``import``; its records/s (wall) and the CPU seconds its process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*CLI, "import", app, str(path), *options], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    lines = sum(1 for _ in path.open())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return lines / seconds, cpu


def _cpu_per_record(url: str, *, rounds: int, calls: int) -> dict[str, list[float]]:
    """Client CPU µs per record: ours and boto3's UpdateEndpointsBatch of 100 items, and our
    UpdateEndpoint per record, alternating round by round."""
    import pinpoint_endpoints as pe

    records = [_record(i) for i in range(BATCH)]
    items = [pe.EndpointBatchItem.from_dict(r) for r in records]
    request = pe.EndpointRequest.from_dict(ENDPOINT_REQUEST)
    ours, boto3 = clients.ours(url), clients.boto3_client(url)
    app = clients.APP
    ops: dict[str, tuple[Any, int]] = {
        "batch": (lambda: ours.update_endpoints_batch(app, items), BATCH),
        "boto3 batch": (lambda: boto3.update_endpoints_batch(
            ApplicationId=app, EndpointBatchRequest={"Item": records}), BATCH),
        "single": (lambda: ours.update_endpoint(app, "device-1", request), 1),
    }
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for call, _ in ops.values():
        for _ in range(max(calls // 10, 3)):
            call()  # warm-up
    for r in range(rounds):
        for name, (call, per_call) in (ops.items() if r % 2 == 0 else reversed(ops.items())):
            n = max(calls // per_call, 3)
            started = time.process_time()
            for _ in range(n):
                call()
            samples[name].append((time.process_time() - started) / (n * per_call) * 1e6)
    ours.close()
    boto3.close()
    return samples


def import_rows(quick: bool = False, env: dict[str, str] | None = None) -> list[list[str]]:
    """The import rows of the benchmark table."""
    env = env if env is not None else clean_env(os.environ.get("TMPDIR", "/tmp"))
    records, rounds, calls, pairs = (2000, 2, 500, 1) if quick else (20_000, 5, 3000, 3)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "endpoints.jsonl"
        path.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(records)))
        with _serve(env, "--rate-limit", f"UpdateEndpointsBatch={QUOTA_BATCHES}") as served:
            limited, _ = _import({**env, **served}, path, "limited")
        quota = QUOTA_BATCHES * BATCH
        rows.append(row(f"import {records:,} records, serve --rate-limit "
                        f"UpdateEndpointsBatch={QUOTA_BATCHES} ({quota} records/s quota) "
                        "(records/s)", limited, None, ".0f", f"≥ {0.8 * quota:.0f}",
                        0.8 * quota, higher_is_better=True))
        # pairs of runs, each on a fresh emulator (its upserts slow down as it fills); the
        # ratio is the median of each pair's, as a slow spell of a shared machine hits both
        batched, single, cpu = [], [], []
        for _ in range(pairs):
            with _serve(env) as served:
                rate, seconds = _import({**env, **served}, path, "batched")
            batched.append(rate)
            cpu.append(seconds)
            with _serve(env) as served:
                single.append(_import({**env, **served}, path, "single", "--batch-size", "1")[0])
        rows.append(row(f"import {records:,} records, no limit: batches of {BATCH} vs "
                        f"--batch-size 1, median of {pairs} pairs of runs (records/s)",
                        med(batched), med(single), ".0f", "≥ 10", 10.0, higher_is_better=True,
                        ratio=med([b / s for b, s in zip(batched, single, strict=True)])))
        rows.append(row("import: the CLI process's CPU per record, batches of 100 (µs)",
                        med(cpu) / records * 1e6, None, ".0f"))
    with servers.fixed_server(env) as url:
        cpu_samples = _cpu_per_record(url, rounds=rounds, calls=calls)
    batch = med(cpu_samples["batch"])
    rows.append(row(f"update_endpoints_batch of {BATCH}: client CPU per record vs boto3 (µs)",
                    batch, med(cpu_samples["boto3 batch"]), ".1f", "≤ 0.50", 0.5))
    rows.append(row(f"client CPU per record: batch of {BATCH} vs one update_endpoint each "
                    "(µs)", batch, med(cpu_samples["single"]), ".1f"))
    return rows


if __name__ == "__main__":
    for line in import_rows(quick="--quick" in sys.argv):
        print(" | ".join(line))
