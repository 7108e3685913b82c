"""The measurements. Each returns per-library samples; the runner takes medians."""

from __future__ import annotations

import compileall
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import clients
from payloads import ENDPOINT_REQUEST, ENDPOINT_RESPONSE

LIBS = ("ours", "boto3")
Samples = dict[str, list[float]]


def cpu_per_call(url: str, *, rounds: int, calls: int, warmup: int) -> dict[str, Samples]:
    """Process CPU µs per call for each operation, ours and boto3 alternating round by round."""
    made = {"ours": clients.ours(url), "boto3": clients.boto3_client(url)}
    ops = {lib: clients.calls(made[lib], lib) for lib in LIBS}
    out: dict[str, Samples] = {}
    for op in clients.OPERATIONS:
        samples: Samples = {lib: [] for lib in LIBS}
        for lib in LIBS:
            _repeat(ops[lib][op], warmup)
        for r in range(rounds):
            order = LIBS if r % 2 == 0 else LIBS[::-1]
            for lib in order:
                samples[lib].append(_cpu_us(ops[lib][op], calls))
        out[op] = samples
    made["ours"].close()
    made["boto3"].close()
    return out


def floors(url: str, *, rounds: int, calls: int, warmup: int) -> Samples:
    """CPU µs of an unsigned GetEndpoint through `requests`, prepared once, body read, no
    parsing: through a `Session` (the usual way) and through the adapter alone (ours)."""
    import requests
    import requests.adapters

    from pinpoint_endpoints._core import _USER_AGENT

    target = f"{url}/v1/apps/{clients.APP}/endpoints/{clients.ENDPOINT}"
    headers = {"User-Agent": _USER_AGENT, "amz-sdk-invocation-id": "0" * 36,
               "amz-sdk-request": "attempt=1; max=3", "X-Amz-Date": "20260101T000000Z"}
    prepared = requests.Request("GET", target, headers=headers).prepare()
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(max_retries=0)
    timeout = (10.0, 60.0)
    sends: dict[str, Callable[[], Any]] = {
        "requests Session.send": lambda: session.send(prepared, timeout=timeout).content,
        "requests HTTPAdapter.send": lambda: adapter.send(prepared, timeout=timeout).content,
    }
    samples: Samples = {name: [] for name in sends}
    for send in sends.values():
        _repeat(send, warmup)
    for _ in range(rounds):
        for name, send in sends.items():
            samples[name].append(_cpu_us(send, calls))
    session.close()
    adapter.close()
    return samples


def models(*, rounds: int, number: int) -> Samples:
    """µs per `from_dict` / `to_dict` of an EndpointResponse with every field set, nested ones
    included (process CPU time, one thread, so other load on the machine does not count)."""
    import attrs

    import pinpoint_endpoints as pe

    model = pe.EndpointResponse.from_dict(ENDPOINT_RESPONSE, strict=True)
    assert model.to_dict() == ENDPOINT_RESPONSE
    parts = (model, model.location, model.demographic, model.user)
    unset = [f"{type(p).__name__}.{f.name}" for p in parts for f in attrs.fields(type(p))
             if getattr(p, f.name) is None]
    assert not unset, f"the payload leaves {unset} unset"
    runs = {
        "from_dict": lambda: pe.EndpointResponse.from_dict(ENDPOINT_RESPONSE),
        "to_dict": model.to_dict,
    }
    return {name: [t / number * 1e6 for t in timeit.repeat(f, number=number, repeat=rounds,
                                                           timer=time.process_time)]
            for name, f in runs.items()}


def cold_start(codes: Mapping[str, str], env: dict[str, str], *,
               samples: int) -> dict[str, Samples]:
    """Wall seconds, CPU seconds (user + system: steadier than wall on a busy machine) and
    peak RSS (MiB) of fresh processes running each of ``codes`` (kind -> Python source), the
    kinds alternating, our package from bytecode as installed; a first round warms the OS
    page cache."""
    import pinpoint_endpoints

    # Installed packages run from bytecode (pip compiles what it installs); an editable
    # install has none, and with PYTHONDONTWRITEBYTECODE set each start would compile our
    # source (about 30 ms here).
    compileall.compile_dir(Path(pinpoint_endpoints.__file__).parent, quiet=1)
    out: dict[str, Samples] = {m: {k: [] for k in codes} for m in ("wall", "cpu", "rss")}
    for i in range(samples + 1):
        order = list(codes) if i % 2 == 0 else list(codes)[::-1]
        for kind in order:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", codes[kind] + _REPORT_PEAK], env=env,
                                  capture_output=True, text=True)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"the {kind} cold-start process failed:\n{done.stderr}")
            if i == 0:
                continue
            out["wall"][kind].append(wall)
            out["cpu"][kind].append(after.ru_utime + after.ru_stime
                                    - before.ru_utime - before.ru_stime)
            out["rss"][kind].append(int(done.stdout.split()[-1]) / 1024)
    return out


# The child's own peak: VmHWM belongs to the process's memory map, which exec starts afresh
# (getrusage's ru_maxrss would also count the parent's pages copied by fork before exec).
_REPORT_PEAK = (
    "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
)


def throughput(url: str, access: str, secret: str, *, threads: int, seconds: float,
               rounds: int) -> Samples:
    """GetEndpoint calls a second against the emulator from ``threads`` threads sharing one
    client (each library's clients are thread-safe)."""
    made = {"ours": clients.ours(url, access, secret, max_pool_connections=threads),
            "boto3": clients.boto3_client(url, access, secret, max_pool_connections=threads)}
    ops = {lib: clients.calls(made[lib], lib) for lib in LIBS}
    ops["ours"]["UpdateEndpoint"]()
    samples: Samples = {lib: [] for lib in LIBS}
    for r in range(rounds):
        order = LIBS if r % 2 == 0 else LIBS[::-1]
        for lib in order:
            samples[lib].append(_rate(ops[lib]["GetEndpoint"], threads, seconds))
    made["ours"].close()
    made["boto3"].close()
    return samples


def bulk_import(url: str, access: str, secret: str, env: dict[str, str], *, records: int,
                concurrency: int, rounds: int) -> Samples | None:
    """Records a second: ``pinpoint-endpoints import`` of a JSON Lines file, against a boto3
    thread pool doing the same UpdateEndpoint calls. ``None`` if the CLI has no import."""
    cli = [sys.executable, "-m", "pinpoint_endpoints.cli"]
    probe = subprocess.run([*cli, "import", "--help"], env=env, capture_output=True)
    if probe.returncode != 0:
        return None
    child_env = {**env, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret}
    samples: Samples = {lib: [] for lib in LIBS}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "endpoints.jsonl"
        with path.open("w") as f:
            for i in range(records):
                # one user per record: the service allows 15 endpoints per UserId
                user = {**ENDPOINT_REQUEST["User"], "UserId": f"bulk-user-{i}"}
                f.write(json.dumps({**ENDPOINT_REQUEST, "Id": f"bulk-{i}", "User": user}) + "\n")
        for r in range(rounds):
            order = LIBS if r % 2 == 0 else LIBS[::-1]
            for lib in order:
                app = f"bulk-{lib}-{r}"
                started = time.perf_counter()
                if lib == "ours":
                    done = subprocess.run([*cli, "--endpoint-url", url, "import", app, str(path),
                                           "--concurrency", str(concurrency)],
                                          env=child_env, capture_output=True, text=True)
                    if done.returncode != 0:
                        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr}")
                else:
                    _boto3_bulk(url, access, secret, app, path, concurrency)
                samples[lib].append(records / (time.perf_counter() - started))
    return samples


def _boto3_bulk(url: str, access: str, secret: str, app: str, path: Path,
                concurrency: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = clients.boto3_client(url, access, secret, max_pool_connections=concurrency)

    def put(line: str) -> None:
        record = json.loads(line)
        endpoint_id = record.pop("Id")
        client.update_endpoint(ApplicationId=app, EndpointId=endpoint_id, EndpointRequest=record)

    with ThreadPoolExecutor(concurrency) as pool, path.open() as lines:
        list(pool.map(put, (line for line in lines if line.strip())))
    client.close()


def _repeat(f: Callable[[], Any], n: int) -> None:
    for _ in range(n):
        f()


def _cpu_us(f: Callable[[], Any], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        f()
    return (time.process_time() - started) / n * 1e6


def _rate(f: Callable[[], Any], threads: int, seconds: float) -> float:
    stop = threading.Event()
    counts = [0] * threads

    def work(i: int) -> None:
        while not stop.is_set():
            f()
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)
