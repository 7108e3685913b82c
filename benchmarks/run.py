"""`make bench`: pinpoint-endpoints and boto3 side by side against the same loopback servers.

Prints one table of medians with ratios (ours / boto3) and writes it, with the machine and the
versions, to ``benchmarks/RESULTS.md``. ``--quick`` runs fewer rounds (a smoke test).
Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_async
import bench_cold_start
import bench_emulator
import clients
import measure
import servers

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PACKAGES = ("pinpoint-endpoints", "boto3", "botocore", "requests", "urllib3", "attrs", "cattrs")


def clean_env(tmp: str) -> dict[str, str]:
    """The same environment for both libraries: keys and region from variables, no config
    files, no instance metadata, no proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_")) and k.lower() not in ("http_proxy",
                                                                         "https_proxy")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=f"{tmp}/no-aws-config", AWS_SHARED_CREDENTIALS_FILE=f"{tmp}/no-aws-creds",
        AWS_ACCESS_KEY_ID="AKIDBENCHEXAMPLE", AWS_SECRET_ACCESS_KEY="bench/secret/EXAMPLEKEY",
        AWS_DEFAULT_REGION="us-east-1", NO_PROXY="127.0.0.1,localhost",
    )
    return env


def med(values: list[float]) -> float:
    return statistics.median(values)


def row(name: str, ours: float | None, theirs: float | None, fmt: str, target: str = "",
        limit: float | None = None, higher_is_better: bool = False,
        ratio: float | None = None) -> list[str]:
    """A table row; ``ratio`` defaults to ours / theirs (give it when measured otherwise)."""
    if ratio is None:
        ratio = ours / theirs if ours is not None and theirs else None
    met = ""
    if limit is not None:
        value = ratio if theirs else ours
        if value is not None:
            met = "yes" if (value >= limit if higher_is_better else value <= limit) else "**no**"
    return [name, "—" if ours is None else format(ours, fmt),
            "—" if theirs is None else format(theirs, fmt),
            "—" if ratio is None else f"{ratio:.2f}", target, met]


def table(rows: list[list[str]]) -> str:
    head = ["measure (median)", "pinpoint-endpoints", "boto3", "ours / boto3", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke test")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    q = args.quick
    rounds, calls, warmup = (2, 300, 100) if q else (5, 2000, 300)
    cold_samples = 3 if q else 21
    threads, seconds, t_rounds = 4, (1.0 if q else 3.0), (1 if q else 3)
    records, concurrency, b_rounds = (300, 4, 1) if q else (2000, 4, 3)

    tmp = os.environ.get("TMPDIR", "/tmp")
    env = clean_env(tmp)
    os.environ.clear()
    os.environ.update(env)
    started = time.perf_counter()
    rows: list[list[str]] = []
    step = lambda text: print(f"[{time.perf_counter() - started:5.1f}s] {text}", flush=True)  # noqa: E731

    with servers.fixed_server(env) as url:
        step(f"client CPU per call: {rounds} rounds x {calls} calls, fixed-reply server")
        cpu = measure.cpu_per_call(url, rounds=rounds, calls=calls, warmup=warmup)
        for op, s in cpu.items():
            rows.append(row(f"{op}: client CPU per call (µs)", med(s["ours"]), med(s["boto3"]),
                            ".0f", "≤ 0.50", 0.5))
        step("floor: unsigned prepared requests send")
        floor = measure.floors(url, rounds=rounds, calls=calls, warmup=warmup)
        for name, s in floor.items():
            rows.append(row(f"floor, GET via {name}, no signing or parsing (µs)", med(s),
                            med(cpu["GetEndpoint"]["boto3"]), ".0f"))
        step("async: AsyncClient vs aiobotocore and capo-pinpoint, a process each")
        rows += bench_async.rows(url, row, quick=q)
        step(f"cold start and peak RSS: {cold_samples} fresh processes each")
        cold = measure.cold_start({k: clients.COLD_START[k].format(url=url)
                                   for k in (*measure.LIBS, "deps")}, env, samples=cold_samples)
        # twice the samples: a process's CPU time here moves by up to 30 % from one to the
        # next, and these ratios are read against a line 15 % above 1
        step(f"cold start in four setups against the floor: {2 * cold_samples} processes each")
        cold_setups = bench_cold_start.rows(url, env, samples=2 * cold_samples)
    rows.append(row("cold start: import, client, one call (ms)", med(cold["wall"]["ours"]) * 1e3,
                    med(cold["wall"]["boto3"]) * 1e3, ".0f", "≤ 0.50", 0.5))
    rows.append(row("peak RSS of that process (MiB)", med(cold["rss"]["ours"]),
                    med(cold["rss"]["boto3"]), ".1f", "≤ 0.75", 0.75))
    rows.append(row("floor, a process that only imports attrs, cattrs, requests, "
                    "botocore.auth, botocore.credentials (ms)", med(cold["wall"]["deps"]) * 1e3,
                    med(cold["wall"]["boto3"]) * 1e3, ".0f"))
    rows.append(row("peak RSS of that import-only process (MiB)", med(cold["rss"]["deps"]),
                    med(cold["rss"]["boto3"]), ".1f"))
    rows += cold_setups
    step("models alone")
    model = measure.models(rounds=5, number=2000 if q else 20000)
    for name, s in model.items():
        rows.append(row(f"EndpointResponse.{name}, every field set (µs)", med(s), None, ".1f",
                        "< 30 µs", 30.0))
    step("emulator store in a process of its own: upserts at 0 and 100,000 endpoints")
    # its own process: this one holds every earlier benchmark's heap, which the collector
    # scans, and which is not the store's
    done = subprocess.run([sys.executable, str(HERE / "bench_store.py"), "--json",
                           *(["--quick"] if q else [])], capture_output=True, text=True,
                          check=True)
    rows += json.loads(done.stdout)
    step("bulk import with UpdateEndpointsBatch, and client CPU per batched record")
    import bench_import
    rows += bench_import.import_rows(q, env)
    with servers.emulator(env) as (emu_url, access, secret):
        step(f"emulator throughput: {threads} threads x {seconds:.0f} s x {t_rounds} rounds")
        tput = measure.throughput(emu_url, access, secret, threads=threads, seconds=seconds,
                                  rounds=t_rounds)
        rows.append(row(f"emulator throughput, GetEndpoint, {threads} threads (req/s)",
                        med(tput["ours"]), med(tput["boto3"]), ".0f"))
        step(f"bulk import: {records} records, concurrency {concurrency}")
        bulk = measure.bulk_import(emu_url, access, secret, env, records=records,
                                   concurrency=concurrency, rounds=b_rounds)
        if bulk is None:
            rows.append(row("bulk import vs boto3 thread pool (records/s)", None, None, ".0f",
                            "CLI `import` not available in this build"))
        else:
            rows.append(row(f"bulk import, CLI vs boto3 pool of {concurrency} (records/s)",
                            med(bulk["ours"]), med(bulk["boto3"]), ".0f"))
    step("emulator stores: serve --db against in memory, at 100 and 100,000 endpoints")
    rows += bench_emulator.rows(q)
    step("done")

    text = table(rows)
    print()
    print(text)
    if not args.no_write and not q:
        RESULTS.write_text(report(text, rounds, calls, cold_samples, threads, records))
        print(f"\nwritten to {RESULTS}")
    return 0


def report(text: str, rounds: int, calls: int, cold: int, threads: int, records: int) -> str:
    cpu = _cpu_model()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    versions = ", ".join(f"{p} {version(p)}" for p in PACKAGES)
    return f"""# Benchmark results

Written by `make bench` (`python benchmarks/run.py`) on {when}.

- Machine: {platform.system()} {platform.release()}, {platform.machine()}, {cpu},
  {os.cpu_count()} CPUs
- Python {platform.python_version()} ({platform.python_implementation()}); {versions}
- Client CPU: `time.process_time()` of the client process over {calls} calls, {rounds} rounds,
  ours and boto3 alternating, after a warm-up; the fixed-reply server runs in its own process.
- Cold start and RSS: {cold} fresh `python -c` processes each, alternating; wall time around
  the process, peak RSS from the child's `VmHWM`, our package run from bytecode (as pip
  installs it). Same clean environment for both (keys and region in variables, no config
  files, no instance metadata). The four setups against the floor: {2 * cold} processes each,
  the ratio the median of each process's to the floor process run next to it (CPU time).
- Import, batches against `--batch-size 1`: the median ratio of three pairs of runs, each run
  against a fresh `serve`.
- boto3 in `standard` retry mode, ours with its default `RetryPolicy()`; neither retries here.
- Throughput: {threads} threads sharing one client, against the emulator (signatures checked,
  no rate limits) in its own process. Bulk import: {records} records.
- Emulator stores (`serve --db` / `serve`): 4 keep-alive connections from
  `benchmarks/loadgen.py`, requests signed beforehand, every reply's status checked.

{text}
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
